//! The fast YAML writer writes exactly what serde_yaml_ng (libyaml's emitter) writes: on
//! every object of every example and fixture, and on random values with every kind of
//! string libyaml treats specially.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::Serialize;
use sorchac::emit::fastyaml;

fn same<T: Serialize>(v: &T) -> Result<(), TestCaseError> {
    let reference = serde_yaml_ng::to_string(v).unwrap();
    match fastyaml::to_string(v) {
        Ok(fast) => prop_assert_eq!(fast, reference),
        Err(fastyaml::Error::Unsupported(_)) => {}
        Err(e) => return Err(TestCaseError::fail(e.to_string())),
    }
    Ok(())
}

#[test]
fn every_generated_object_is_written_by_the_fast_writer_identically() {
    let mut objects = 0;
    for p in common::programs() {
        let c = common::compile_path(&p);
        for m in &c.checked.envs {
            for o in sorchac::ir::lower(m).iter() {
                let fast = fastyaml::to_string(o)
                    .unwrap_or_else(|e| panic!("{p}: {} {}: {e}", o.type_meta().1, o.name()));
                assert_eq!(
                    fast,
                    serde_yaml_ng::to_string(o).unwrap(),
                    "{p}: {} {}",
                    o.type_meta().1,
                    o.name()
                );
                objects += 1;
            }
        }
    }
    assert!(objects > 500);
}

/// A value with the shapes objects have: maps with string keys, lists, strings, numbers
/// and booleans.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
enum V {
    S(String),
    I(i64),
    B(bool),
    L(Vec<V>),
    M(BTreeMap<String, V>),
}

fn text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a", "Z", "0", "7", "-", "--", "---", ".", "...", ":", ": ", "#", " #", "?", "? ", "[",
        "]", "{", "}", ",", "&", "*", "!", "|", ">", "'", "\"", "%", "@", "`", " ", "  ", "\t",
        "\n", "\n\n", "\r", "é", "😀", "\u{85}", "\u{a0}", "\u{2028}", "\u{feff}", "\0", "\u{7}",
        "\\", "true", "null", "~", "1.5", "0x1F", "0o7", "1e3", "+1", "-2", ".inf", "nan", "=",
        "/", "$(", "${",
    ]);
    prop::collection::vec(pieces, 0..8).prop_map(|p| p.concat())
}

fn value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        text().prop_map(V::S),
        any::<i64>().prop_map(V::I),
        any::<bool>().prop_map(V::B),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(V::L),
            prop::collection::btree_map(text(), inner, 0..4).prop_map(V::M),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_documents_are_written_identically(v in prop::collection::btree_map(text(), value(), 1..5)) {
        same(&v)?;
    }

    #[test]
    fn strings_in_every_position_are_written_identically(s in text()) {
        same(&BTreeMap::from([("key".to_string(), V::S(s.clone()))]))?;
        same(&BTreeMap::from([(s.clone(), V::I(1))]))?;
        same(&BTreeMap::from([("list".to_string(), V::L(vec![V::S(s.clone()), V::L(vec![V::S(s.clone())])]))]))?;
        same(&vec![BTreeMap::from([("a".to_string(), V::S(s))])])?;
    }
}

/// The words YAML reads as something other than a string, in every case, with the near
/// misses around them, as keys and as values; and keys that are not strings.
#[test]
fn keywords_and_odd_keys_are_written_identically() {
    let words = [
        "null",
        "Null",
        "NULL",
        "nUll",
        "nulls",
        "true",
        "True",
        "TRUE",
        "tRue",
        "false",
        "False",
        "FALSE",
        "fAlse",
        "inf",
        "Inf",
        "INF",
        "iNf",
        "in",
        "infs",
        "nan",
        "NaN",
        "NAN",
        "nAn",
        "na",
        "infinity",
        "Infinity",
        "INFINITY",
        "inFinity",
        "infinity1",
        "y",
        "yes",
        "on",
        "off",
        "no",
        "_",
        "/",
        "a.b",
        "a-",
        "a/b_c",
    ];
    for w in words {
        same(&BTreeMap::from([(w.to_string(), V::S(w.to_string()))])).unwrap();
        same(&vec![V::S(w.to_string())]).unwrap();
        assert!(
            fastyaml::to_string(&BTreeMap::from([(w.to_string(), 1)])).is_ok(),
            "{w}"
        );
    }
    same(&BTreeMap::from([(-3i64, "x"), (0, "y"), (42, "z")])).unwrap();
    same(&BTreeMap::from([('k', "x"), ('1', "y"), ('é', "z")])).unwrap();
    same(&BTreeMap::from([
        ("k", 'x'),
        ("1", '1'),
        ("é", 'é'),
        ("n", '\n'),
    ]))
    .unwrap();
}
