//! An object as plain data, as `serde_json::to_value` gives it, for comparing with what
//! a template renders. A map is kept as its entries in order rather than as serde_json's
//! order-keeping map, so making one hashes no key, and the names of a struct's fields are
//! borrowed rather than copied: every object of every environment is compared this way,
//! and only one that differs is made into a `serde_json::Value`.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible};
use serde_json::{Number, Value};

/// Plain data, as serde_json's `Value` holds it.
#[derive(Clone, Debug, PartialEq)]
pub enum Tree {
    Null,
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// An integer above `i64::MAX`.
    UInt(u64),
    /// A finite float (serde_json makes the others null).
    Float(f64),
    Str(String),
    List(Vec<Tree>),
    /// The entries in the order they were written; the keys of one map are distinct, as
    /// they are in every object serialised here.
    Map(Vec<(Cow<'static, str>, Tree)>),
}

/// Why a value cannot be plain data (a map key that is not text, say).
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error(msg.to_string())
    }
}

impl Tree {
    /// The tree of a value, as `serde_json::to_value` would give it.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Result<Tree, Error> {
        value.serialize(Ser)
    }

    /// Where the entry for `key` is among a map's entries (a map's, or entries taken
    /// from one); `hint` is where to look first (the entries of objects of one kind
    /// nearly always come in the same order).
    pub fn entry<V>(entries: &[(Cow<'static, str>, V)], key: &str, hint: usize) -> Option<usize> {
        match entries.get(hint) {
            Some((k, _)) if k == key => Some(hint),
            _ => entries.iter().position(|(k, _)| k == key),
        }
    }

    /// A map's value for `key`.
    pub fn get(&self, key: &str) -> Option<&Tree> {
        match self {
            Tree::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A map's value for `key`, to change.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Tree> {
        match self {
            Tree::Map(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a path of map keys.
    pub fn at(&self, path: &[&str]) -> Option<&Tree> {
        path.iter().try_fold(self, |t, k| t.get(k))
    }

    /// The value at a path of map keys, to change.
    pub fn at_mut(&mut self, path: &[&str]) -> Option<&mut Tree> {
        path.iter().try_fold(self, |t, k| t.get_mut(k))
    }

    /// Sets a map's value for `key`: in the place of the one it had, or last (as
    /// serde_json's order-keeping map does). Does nothing to what is not a map.
    pub fn insert(&mut self, key: impl Into<Cow<'static, str>>, value: Tree) {
        if let Tree::Map(entries) = self {
            let key = key.into();
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => *v = value,
                None => entries.push((key, value)),
            }
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Tree::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether two trees are the same data, as `==` on their `Value`s would say: maps
    /// are compared key by key in order first, and as sets of entries when their keys
    /// come in another order.
    pub fn same(&self, other: &Tree) -> bool {
        match (self, other) {
            (Tree::Map(a), Tree::Map(b)) => {
                if a.len() != b.len() {
                    return false;
                }
                let in_order = a.iter().zip(b).all(|((ka, _), (kb, _))| ka == kb);
                if in_order {
                    a.iter().zip(b).all(|((_, x), (_, y))| x.same(y))
                } else {
                    a.iter()
                        .all(|(k, x)| other.get(k).is_some_and(|y| x.same(y)))
                }
            }
            (Tree::List(a), Tree::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
            }
            (a, b) => a == b,
        }
    }

    /// A scalar as JSON writes it (`null`, `true`, `8080`, `"text"`).
    pub fn json_text(&self) -> String {
        match self {
            Tree::Null => "null".into(),
            Tree::Bool(b) => b.to_string(),
            Tree::Int(i) => i.to_string(),
            Tree::UInt(u) => u.to_string(),
            other => other.to_value().to_string(),
        }
    }

    /// Whether this is the same data as `v`, as `==` on two `Value`s would say (a map's
    /// order does not matter; an integer is never equal to a float).
    pub fn same_as(&self, v: &Value) -> bool {
        match (self, v) {
            (Tree::Null, Value::Null) => true,
            (Tree::Bool(a), Value::Bool(b)) => a == b,
            (Tree::Int(i), Value::Number(n)) => !n.is_f64() && n.as_i64() == Some(*i),
            (Tree::UInt(u), Value::Number(n)) => !n.is_f64() && n.as_u64() == Some(*u),
            (Tree::Float(f), Value::Number(n)) => n.is_f64() && n.as_f64() == Some(*f),
            (Tree::Str(a), Value::String(b)) => a == b,
            (Tree::List(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(y))
            }
            (Tree::Map(a), Value::Object(b)) => {
                if a.len() != b.len() {
                    return false;
                }
                let in_order = a.iter().zip(b).all(|((ka, _), (kb, _))| ka == kb);
                if in_order {
                    a.iter().zip(b).all(|((_, x), (_, y))| x.same_as(y))
                } else {
                    a.iter()
                        .all(|(k, x)| b.get(k.as_ref()).is_some_and(|y| x.same_as(y)))
                }
            }
            _ => false,
        }
    }

    /// The same data as a `Value`.
    pub fn to_value(&self) -> Value {
        match self {
            Tree::Null => Value::Null,
            Tree::Bool(b) => Value::Bool(*b),
            Tree::Int(i) => Value::Number(Number::from(*i)),
            Tree::UInt(u) => Value::Number(Number::from(*u)),
            Tree::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Tree::Str(s) => Value::String(s.clone()),
            Tree::List(items) => Value::Array(items.iter().map(Tree::to_value).collect()),
            Tree::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

fn int<T: Into<i128>>(n: T) -> Tree {
    let wide: i128 = n.into();
    match i64::try_from(wide) {
        Ok(i) => Tree::Int(i),
        Err(_) => u64::try_from(wide).map_or(Tree::Null, Tree::UInt),
    }
}

fn float(f: f64) -> Tree {
    if f.is_finite() {
        Tree::Float(f)
    } else {
        Tree::Null
    }
}

/// The serializer that makes a [`Tree`].
struct Ser;

/// A list being made.
struct SeqOf {
    items: Vec<Tree>,
    /// The variant a tuple variant is wrapped in.
    variant: Option<&'static str>,
}

/// A map or struct being made.
struct MapOf {
    entries: Vec<(Cow<'static, str>, Tree)>,
    /// The key written last, waiting for its value.
    key: Option<String>,
    /// The variant a struct variant is wrapped in.
    variant: Option<&'static str>,
}

fn wrap(variant: Option<&'static str>, inner: Tree) -> Tree {
    match variant {
        Some(v) => Tree::Map(vec![(Cow::Borrowed(v), inner)]),
        None => inner,
    }
}

/// Serializer methods that take a scalar and give `$body` of it (`v`).
macro_rules! scalars {
    ($ok:ty; $($method:ident: $t:ty),*; |$v:ident| $body:expr) => {
        $(fn $method(self, $v: $t) -> Result<$ok, Error> {
            Ok($body)
        })*
    };
}

impl ser::Serializer for Ser {
    type Ok = Tree;
    type Error = Error;
    type SerializeSeq = SeqOf;
    type SerializeTuple = SeqOf;
    type SerializeTupleStruct = SeqOf;
    type SerializeTupleVariant = SeqOf;
    type SerializeMap = MapOf;
    type SerializeStruct = MapOf;
    type SerializeStructVariant = MapOf;

    scalars!(Tree; serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64; |v| int(v));
    scalars!(Tree; serialize_f32: f32; |v| float(f64::from(v)));
    scalars!(Tree; serialize_f64: f64; |v| float(v));
    scalars!(Tree; serialize_bool: bool; |v| Tree::Bool(v));
    scalars!(Tree; serialize_char: char; |v| Tree::Str(v.to_string()));
    scalars!(Tree; serialize_str: &str; |v| Tree::Str(v.to_string()));
    scalars!(Tree; serialize_bytes: &[u8]; |v| {
        Tree::List(v.iter().map(|b| Tree::Int(i64::from(*b))).collect())
    });

    fn serialize_none(self) -> Result<Tree, Error> {
        Ok(Tree::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Tree, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Tree, Error> {
        Ok(Tree::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Tree, Error> {
        Ok(Tree::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Tree, Error> {
        Ok(Tree::Str(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Tree, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Tree, Error> {
        Ok(wrap(Some(variant), value.serialize(self)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqOf, Error> {
        Ok(SeqOf::new(len.unwrap_or(0), None))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqOf, Error> {
        Ok(SeqOf::new(len, None))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqOf, Error> {
        Ok(SeqOf::new(len, None))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqOf, Error> {
        Ok(SeqOf::new(len, Some(variant)))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapOf, Error> {
        Ok(MapOf::new(len.unwrap_or(0), None))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<MapOf, Error> {
        Ok(MapOf::new(len, None))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<MapOf, Error> {
        Ok(MapOf::new(len, Some(variant)))
    }
}

impl SeqOf {
    fn new(len: usize, variant: Option<&'static str>) -> SeqOf {
        SeqOf {
            items: Vec::with_capacity(len),
            variant,
        }
    }
}

/// The four kinds of list serde has, made alike: `$add` adds an element.
macro_rules! seq_of {
    ($($kind:ident :: $add:ident),*) => {
        $(impl ser::$kind for SeqOf {
            type Ok = Tree;
            type Error = Error;
            fn $add<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.items.push(value.serialize(Ser)?);
                Ok(())
            }
            fn end(self) -> Result<Tree, Error> {
                Ok(wrap(self.variant, Tree::List(self.items)))
            }
        })*
    };
}

seq_of!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl MapOf {
    fn new(len: usize, variant: Option<&'static str>) -> MapOf {
        MapOf {
            entries: Vec::with_capacity(len),
            key: None,
            variant,
        }
    }

    fn done(self) -> Tree {
        wrap(self.variant, Tree::Map(self.entries))
    }
}

impl ser::SerializeMap for MapOf {
    type Ok = Tree;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(KeySer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("a map value without its key".into()))?;
        self.entries.push((Cow::Owned(key), value.serialize(Ser)?));
        Ok(())
    }
    fn end(self) -> Result<Tree, Error> {
        Ok(self.done())
    }
}

/// A struct and a struct variant: fields named by static text.
macro_rules! struct_of {
    ($($kind:ident),*) => {
        $(impl ser::$kind for MapOf {
            type Ok = Tree;
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.entries.push((Cow::Borrowed(key), value.serialize(Ser)?));
                Ok(())
            }
            fn end(self) -> Result<Tree, Error> {
                Ok(self.done())
            }
        })*
    };
}

struct_of!(SerializeStruct, SerializeStructVariant);

/// Map keys: text, and what serde_json writes as text (numbers, booleans, characters,
/// unit variants).
struct KeySer;

fn not_text() -> Error {
    Error("a map key must be text".into())
}

/// Serializer methods that refuse what they are given (`$args`) as a map key.
macro_rules! not_text {
    ($($method:ident($($arg:ty),*) -> $ok:ty),*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ok, Error> {
            Err(not_text())
        })*
    };
}

impl ser::Serializer for KeySer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = Impossible<String, Error>;
    type SerializeTuple = Impossible<String, Error>;
    type SerializeTupleStruct = Impossible<String, Error>;
    type SerializeTupleVariant = Impossible<String, Error>;
    type SerializeMap = Impossible<String, Error>;
    type SerializeStruct = Impossible<String, Error>;
    type SerializeStructVariant = Impossible<String, Error>;

    scalars!(String; serialize_bool: bool, serialize_i8: i8, serialize_i16: i16,
        serialize_i32: i32, serialize_i64: i64, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_char: char, serialize_str: &str;
        |v| v.to_string());
    not_text!(
        serialize_f32(f32) -> String,
        serialize_f64(f64) -> String,
        serialize_bytes(&[u8]) -> String,
        serialize_none() -> String,
        serialize_unit() -> String,
        serialize_unit_struct(&'static str) -> String,
        serialize_seq(Option<usize>) -> Self::SerializeSeq,
        serialize_tuple(usize) -> Self::SerializeTuple,
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct,
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant,
        serialize_map(Option<usize>) -> Self::SerializeMap,
        serialize_struct(&'static str, usize) -> Self::SerializeStruct,
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant
    );

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, Error> {
        Err(not_text())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, Error> {
        Ok(variant.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Error> {
        Err(not_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A tree is what `to_value` gives, and compares with a `Value` as `==` does.
    #[test]
    fn trees_are_what_serde_json_makes_of_a_value() {
        let values = [
            json!(null),
            json!(true),
            json!(0),
            json!(-7),
            json!(u64::MAX),
            json!(1.5),
            json!("text"),
            json!([1, "a", [null], {"k": 2}]),
            json!({"b": 1, "a": {"x": [1.0, 2]}, "c": ""}),
            // The same map in other orders, at the top and inside; near misses.
            json!({"a": {"x": [1.0, 2]}, "c": "", "b": 1}),
            json!({"b": 1, "a": {"x": [1.0, 2]}, "c": "", "d": null}),
            json!({"b": 1, "a": {"x": [1.0, 2], "y": 0}, "c": ""}),
            json!({"b": 1, "a": {"x": [1.0, 3]}, "c": ""}),
            json!({"b": 1, "d": {"x": [1.0, 2]}, "c": ""}),
            json!({}),
            json!([]),
        ];
        for v in &values {
            let t = Tree::of(v).unwrap();
            assert_eq!(t.to_value(), *v);
            for w in &values {
                assert_eq!(t.same_as(w), v == w, "{v} against {w}");
                assert_eq!(t.same(&Tree::of(w).unwrap()), v == w, "{v} against {w}");
            }
        }
        // A float is never an integer, and a map's order does not matter.
        assert!(!Tree::of(&json!(1)).unwrap().same_as(&json!(1.0)));
        let ab = Tree::of(&json!({"a": 1, "b": 2})).unwrap();
        assert!(ab.same_as(&json!({"b": 2, "a": 1})));
        assert!(!ab.same_as(&json!({"b": 2, "a": 2})));
        assert!(!ab.same_as(&json!({"a": 1})));
    }

    /// The typed objects the compiler makes come out as `to_value` has them: struct
    /// fields, maps with text keys, optional fields left out, quantities and numbers
    /// that are either.
    #[test]
    fn objects_are_what_serde_json_makes_of_them() {
        use k8s_openapi::api::core::v1::{Container, ContainerPort, ResourceRequirements};
        use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
        use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
        use std::collections::BTreeMap;

        let c = Container {
            name: "api".into(),
            ports: Some(vec![ContainerPort {
                container_port: 8080,
                name: Some("http".into()),
                ..Default::default()
            }]),
            resources: Some(ResourceRequirements {
                limits: Some(BTreeMap::from([("cpu".to_string(), Quantity("1".into()))])),
                ..Default::default()
            }),
            ..Default::default()
        };
        let t = Tree::of(&c).unwrap();
        let v = serde_json::to_value(&c).unwrap();
        assert!(t.same_as(&v));
        assert_eq!(t.to_value(), v);
        for p in [IntOrString::Int(80), IntOrString::String("http".into())] {
            assert_eq!(
                Tree::of(&p).unwrap().to_value(),
                serde_json::to_value(&p).unwrap()
            );
        }
        // Every object of every environment of the examples.
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
        let mut objects = 0;
        for example in ["sorcha", "three-tier", "queue-worker"] {
            let path = format!("{root}/{example}/platform.sorcha");
            let c = crate::compile(&path, &crate::cli::fs::FsLoader).unwrap();
            assert!(!c.has_errors(), "{example}");
            for m in &c.checked.envs {
                for o in crate::ir::lower(m).iter() {
                    let v = serde_json::to_value(o).unwrap();
                    let t = Tree::of(o).unwrap();
                    assert!(t.same_as(&v), "{example}: {}", o.name());
                    assert_eq!(t.to_value(), v, "{example}: {}", o.name());
                    objects += 1;
                }
            }
        }
        assert!(objects > 300, "{objects} objects");
        // A key that is not text is refused, as serde_json refuses it.
        let odd = BTreeMap::from([((1, 2), "x")]);
        assert!(Tree::of(&odd).is_err());
        assert!(serde_json::to_value(&odd).is_err());
    }
}
