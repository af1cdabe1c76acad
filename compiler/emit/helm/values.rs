//! The chart's values: what an operator turns, read from a model. One list of leaves
//! (path, value, type, what it does) gives `values.yaml` with its comments, the JSON
//! Schema, and each environment's `values-<env>.yaml` (only what it changes).

use foldhash::{HashMap, HashSet, HashSetExt};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use crate::check::Model;
use crate::check::model::{Mesh, Replicas, SecretSource, Tls, Workload};
use crate::ir::workload::resource_texts;
use crate::schema::Kind;

/// The type of a value, for the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// A whole number of at least this much.
    Int(i64),
    /// A whole number in a range.
    IntIn(i64, i64),
    /// This boolean only.
    BoolConst(bool),
    Str,
    /// A Kubernetes quantity (`250m`, `512Mi`).
    Quantity,
    Bool,
    /// One of the meshes.
    Mesh,
    /// A map of strings (a config's entries).
    Strings,
    /// A secret value: a string, empty until the operator supplies it.
    Secret,
    /// The name of one of the program's environments, or empty.
    Environment,
}

/// One value of the chart.
#[derive(Clone, Debug)]
pub struct Leaf {
    pub path: Vec<String>,
    pub value: Value,
    pub ty: Ty,
    pub doc: String,
}

/// `wallet-service` -> `walletService`: value keys are camelCase, without hyphens.
pub fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '-' || c == '.' || c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Where a workload's values live: `services.walletService`.
pub fn workload_path(w: &Workload) -> Vec<String> {
    let group = match w.kind {
        Kind::Database => "databases",
        Kind::Job => "jobs",
        _ => "services",
    };
    vec![group.to_string(), camel(&w.name)]
}

/// An image reference split into repository and tag (none with a digest or no tag).
pub fn split_image(image: &str) -> Option<(&str, &str)> {
    if image.contains('@') {
        return None;
    }
    let (repo, tag) = image.rsplit_once(':')?;
    (!tag.contains('/') && !tag.is_empty()).then_some((repo, tag))
}

pub fn mesh_name(m: Mesh) -> &'static str {
    match m {
        Mesh::None => "none",
        Mesh::Linkerd => "linkerd",
        Mesh::Istio => "istio",
    }
}

/// Every value of a model, in the order `values.yaml` lists them; `per_env` adds the
/// environment's name, which the parts of the chart no other value describes select on.
pub fn leaves(m: &Model, per_env: bool) -> Vec<Leaf> {
    let mut out = Vec::new();
    if per_env {
        out.push(Leaf {
            path: vec!["environment".into()],
            value: json!(if m.env == "base" { "" } else { m.env.as_str() }),
            ty: Ty::Environment,
            doc: "The environment this release is (its values-ENV.yaml sets it): what an environment changes that no other value describes is chosen by it.".into(),
        });
    }
    let mut leaf = |path: Vec<String>, value: Value, ty: Ty, doc: &str| {
        out.push(Leaf {
            path,
            value,
            ty,
            doc: doc.to_string(),
        });
    };
    leaf(
        vec!["mesh".into()],
        json!(mesh_name(m.platform.mesh)),
        Ty::Mesh,
        "Service mesh whose policy the chart includes: none, linkerd or istio.",
    );
    for w in &m.workloads {
        let base = workload_path(w);
        let at = |rest: &[&str]| {
            let mut p = base.clone();
            p.extend(rest.iter().map(|s| (*s).to_string()));
            p
        };
        if let Some((repo, tag)) = split_image(&w.image) {
            leaf(
                at(&["image", "repository"]),
                json!(repo),
                Ty::Str,
                "Image repository.",
            );
            leaf(at(&["image", "tag"]), json!(tag), Ty::Str, "Image tag.");
        }
        if w.kind != Kind::Job {
            let (count, auto) = match &w.replicas {
                Replicas::Fixed(n) => (*n, None),
                Replicas::Auto(s) => (s.min, Some(s)),
            };
            // A volume one pod at a time can attach keeps the workload at one replica
            // (E0601 in the language); the schema holds the chart to the same.
            let single =
                w.kind == Kind::Service && w.volumes.iter().any(|v| v.persistent && !v.shared);
            leaf(
                at(&["replicaCount"]),
                json!(count),
                if single { Ty::IntIn(1, 1) } else { Ty::Int(1) },
                if single {
                    "Replicas when autoscaling is off: one, as its volume attaches to one pod at a time."
                } else {
                    "Replicas when autoscaling is off."
                },
            );
            leaf(
                at(&["autoscaling", "enabled"]),
                json!(auto.is_some()),
                if single {
                    Ty::BoolConst(false)
                } else {
                    Ty::Bool
                },
                "Scale with a HorizontalPodAutoscaler between minReplicas and maxReplicas.",
            );
            leaf(
                at(&["autoscaling", "minReplicas"]),
                json!(auto.map_or(count, |s| s.min)),
                Ty::Int(1),
                "Fewest replicas.",
            );
            leaf(
                at(&["autoscaling", "maxReplicas"]),
                json!(auto.map_or(count.max(2), |s| s.max)),
                Ty::Int(1),
                "Most replicas.",
            );
            let (cpu, memory) = match auto {
                Some(s) => (s.cpu, s.memory),
                None => (Some(80), None),
            };
            if let Some(c) = cpu {
                leaf(
                    at(&["autoscaling", "targetCPUUtilizationPercentage"]),
                    json!(c),
                    Ty::Int(1),
                    "Average CPU use, as a share of the request, to scale at.",
                );
            }
            if let Some(mem) = memory {
                leaf(
                    at(&["autoscaling", "targetMemoryUtilizationPercentage"]),
                    json!(mem),
                    Ty::Int(1),
                    "Average memory use, as a share of the request, to scale at.",
                );
            }
            leaf(
                at(&["autoscaling", "scaleDownStabilizationSeconds"]),
                json!(auto.map_or(300, |s| s.cooldown)),
                Ty::Int(0),
                "How long load must stay low before replicas are removed, in seconds.",
            );
        }
        if let Some(s) = &w.schedule {
            leaf(
                at(&["schedule"]),
                json!(s),
                Ty::Str,
                "When the job runs (cron syntax, UTC).",
            );
        }
        let ((cpu_req, cpu_lim), (mem_req, mem_lim)) = resource_texts(w);
        leaf(
            at(&["resources", "requests", "cpu"]),
            json!(cpu_req),
            Ty::Quantity,
            "CPU reserved for each replica.",
        );
        leaf(
            at(&["resources", "requests", "memory"]),
            json!(mem_req),
            Ty::Quantity,
            "Memory reserved for each replica.",
        );
        leaf(
            at(&["resources", "limits", "cpu"]),
            json!(cpu_lim),
            Ty::Quantity,
            "Most CPU a replica may use.",
        );
        leaf(
            at(&["resources", "limits", "memory"]),
            json!(mem_lim),
            Ty::Quantity,
            "Most memory a replica may use.",
        );
        if let Some(s) = &w.storage {
            leaf(
                at(&["storage", "size"]),
                json!(s.size.text),
                Ty::Quantity,
                "Size of each replica's data volume.",
            );
            if let Some(c) = &s.class {
                leaf(
                    at(&["storage", "storageClass"]),
                    json!(c),
                    Ty::Str,
                    "Storage class of the data volumes.",
                );
            }
        }
        for v in &w.volumes {
            if let Some(size) = &v.size {
                leaf(
                    at(&["volumes", &camel(&v.name), "size"]),
                    json!(size.text),
                    Ty::Quantity,
                    &format!("Size of the `{}` volume.", v.name),
                );
            }
        }
        if let (Some(b), Some(_)) = (&w.backup, &w.dump) {
            leaf(
                at(&["backup", "schedule"]),
                json!(b.schedule),
                Ty::Str,
                "When backups run (cron syntax, UTC).",
            );
            leaf(
                at(&["backup", "keep"]),
                json!(b.keep),
                Ty::Int(1),
                "How many backups to keep.",
            );
            leaf(
                at(&["backup", "size"]),
                json!(b.size.text),
                Ty::Quantity,
                "Size of the backup volume.",
            );
        }
    }
    for g in &m.gateways {
        let at = |k: &str| vec!["gateways".to_string(), camel(&g.name), k.to_string()];
        leaf(
            at("host"),
            json!(g.host),
            Ty::Str,
            "Host name it answers on.",
        );
        match &g.tls {
            Some(Tls::Issuer(i)) => leaf(
                vec![
                    "gateways".into(),
                    camel(&g.name),
                    "tls".into(),
                    "issuer".into(),
                ],
                json!(i),
                Ty::Str,
                "cert-manager ClusterIssuer of its certificate.",
            ),
            Some(Tls::Secret(s)) => leaf(
                vec![
                    "gateways".into(),
                    camel(&g.name),
                    "tls".into(),
                    "secretName".into(),
                ],
                json!(s),
                Ty::Str,
                "Secret holding its certificate.",
            ),
            None => {}
        }
    }
    for c in &m.configs {
        let data: Map<String, Value> = c
            .entries
            .iter()
            .map(|e| (e.key.clone(), json!(e.value)))
            .collect();
        leaf(
            vec!["configs".into(), camel(&c.name)],
            Value::Object(data),
            Ty::Strings,
            &format!("Entries of the `{}` config.", c.name),
        );
    }
    for s in m
        .secrets
        .iter()
        .filter(|s| s.source == SecretSource::Deploy)
    {
        for k in &s.keys {
            leaf(
                vec!["secrets".into(), camel(&s.name), k.clone()],
                json!(""),
                Ty::Secret,
                "Required at install: supply it with -f or --set, never in this file.",
            );
        }
    }
    out
}

/// The leaves as one tree of maps.
pub fn tree(leaves: &[Leaf]) -> Value {
    let mut root = Value::Object(Map::new());
    for l in leaves {
        put(&mut root, l.path.iter().cloned(), l.value.clone());
    }
    root
}

/// The leaves as one tree of maps, their paths and values moved into it.
pub fn into_tree(leaves: Vec<Leaf>) -> Value {
    let mut root = Value::Object(Map::new());
    for l in leaves {
        put(&mut root, l.path.into_iter(), l.value);
    }
    root
}

/// Sets the value at a path of keys, making the maps on the way.
fn put(root: &mut Value, path: impl Iterator<Item = String>, value: Value) {
    let mut path = path.peekable();
    let mut cur = root;
    while let Some(k) = path.next() {
        let Value::Object(m) = cur else {
            return;
        };
        if path.peek().is_none() {
            m.insert(k, value);
            return;
        }
        cur = m.entry(k).or_insert_with(|| Value::Object(Map::new()));
    }
}

/// What `b` changes of `a`: changed leaves, maps key by key, removed keys as null
/// (which deletes them in Helm's merge).
pub fn changes(a: &Value, b: &Value) -> Option<Value> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut out = Map::new();
            // Both maps are made alike, so a key is nearly always where it is in the
            // other: looked up (hashed) only when it is not.
            let mut in_order = x.iter();
            let mut found = 0;
            for (k, vb) in y {
                let va = match in_order.next() {
                    Some((xk, xv)) if xk == k => Some(xv),
                    _ => x.get(k),
                };
                match va {
                    Some(va) => {
                        found += 1;
                        if let Some(d) = changes(va, vb) {
                            out.insert(k.clone(), d);
                        }
                    }
                    None => {
                        out.insert(k.clone(), vb.clone());
                    }
                }
            }
            // Every key of `a` is one of `b`'s when all of them were found.
            if found < x.len() {
                for k in x.keys().filter(|k| !y.contains_key(*k)) {
                    out.insert(k.clone(), Value::Null);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        _ if a == b => None,
        _ => Some(b.clone()),
    }
}

/// A JSON Schema (draft 7) of the values: every key typed, no unknown keys. It is
/// serialised as it is written: the leaves are arranged by path, and each leaf's own
/// schema is made when it is written, so that no tree of JSON values is held for it.
pub struct Schema<'a> {
    root: Properties<'a>,
    envs: &'a [&'a str],
}

/// The properties of an object of the values, in the order they were first given, and
/// which of them are required.
#[derive(Default)]
struct Properties<'a> {
    props: Vec<(&'a str, Prop<'a>)>,
    at: HashMap<&'a str, usize>,
    required: Vec<&'a str>,
}

enum Prop<'a> {
    Leaf(&'a Leaf),
    Object(Properties<'a>),
}

/// The schema of the values `leaves` (`envs`: the environments' names).
pub fn schema<'a>(leaves: &'a [Leaf], envs: &'a [&'a str]) -> Schema<'a> {
    let mut root = Properties::default();
    // The paths already listed as required where they sit (a list of a thousand
    // services is not searched for each of their values).
    let mut required: HashSet<&[String]> = HashSet::new();
    for l in leaves {
        let mut cur = &mut root;
        for (i, k) in l.path.iter().enumerate() {
            if l.ty != Ty::Secret && required.insert(&l.path[..=i]) {
                cur.required.push(k);
            }
            if i + 1 == l.path.len() {
                cur.set(k, Prop::Leaf(l));
                break;
            }
            let at = match cur.at.get(k.as_str()) {
                Some(at) => *at,
                None => {
                    cur.set(k, Prop::Object(Properties::default()));
                    cur.props.len() - 1
                }
            };
            // A leaf has no properties of its own.
            match cur.props.get_mut(at) {
                Some((_, Prop::Object(o))) => cur = o,
                _ => break,
            }
        }
    }
    Schema { root, envs }
}

impl<'a> Properties<'a> {
    /// Sets the property `k`: in the place of the one it had, or last.
    fn set(&mut self, k: &'a str, p: Prop<'a>) {
        match self.at.get(k) {
            Some(&at) => {
                if let Some(slot) = self.props.get_mut(at) {
                    slot.1 = p;
                }
            }
            None => {
                self.at.insert(k, self.props.len());
                self.props.push((k, p));
            }
        }
    }

    /// An object's schema, the root's with the meta-schema first.
    fn serialize_with<S: Serializer>(
        &self,
        s: S,
        envs: &[&str],
        root: bool,
    ) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if root {
            m.serialize_entry("$schema", "http://json-schema.org/draft-07/schema#")?;
        }
        m.serialize_entry("type", "object")?;
        m.serialize_entry("additionalProperties", &false)?;
        m.serialize_entry("properties", &PropsOf(self, envs))?;
        m.serialize_entry("required", &self.required)?;
        m.end()
    }
}

/// The `properties` map of an object's schema.
struct PropsOf<'p, 'a>(&'p Properties<'a>, &'p [&'p str]);

impl Serialize for PropsOf<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let PropsOf(p, envs) = self;
        let mut m = s.serialize_map(Some(p.props.len()))?;
        for (k, prop) in &p.props {
            match prop {
                Prop::Leaf(l) => m.serialize_entry(k, &LeafSchema(l, envs))?,
                Prop::Object(o) => m.serialize_entry(k, &ObjectOf(o, envs))?,
            }
        }
        m.end()
    }
}

/// The schema of an object below the root.
struct ObjectOf<'p, 'a>(&'p Properties<'a>, &'p [&'p str]);

impl Serialize for ObjectOf<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_with(s, self.1, false)
    }
}

impl Serialize for Schema<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.root.serialize_with(s, self.envs, true)
    }
}

/// JSON as `serde_json::to_writer_pretty` writes it (two spaces a level), each line's
/// indentation written at once: the schema of a large program is millions of bytes,
/// nested ten levels deep, and its indentation was written a level at a time.
#[derive(Default)]
pub struct Pretty {
    level: usize,
    has_value: bool,
}

impl Pretty {
    /// A line break after `lead`, then the indentation of the current level.
    fn newline<W: ?Sized + std::io::Write>(&self, w: &mut W, lead: &[u8]) -> std::io::Result<()> {
        w.write_all(lead)?;
        crate::emit::fastyaml::spaces(self.level * 2, |run| w.write_all(run.as_bytes()))
    }

    /// An object or an array opened with `bracket`.
    fn open<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// An object or an array closed with `bracket`, on a line of its own unless empty.
    fn close<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.level = self.level.saturating_sub(1);
        if self.has_value {
            self.newline(w, b"\n")?;
        }
        w.write_all(bracket)
    }

    /// The line of an object's key or an array's value.
    fn item<W: ?Sized + std::io::Write>(&self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.newline(w, if first { b"\n" } else { b",\n" })
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// The schema of one value, written as it is serialised.
struct LeafSchema<'p>(&'p Leaf, &'p [&'p str]);

impl Serialize for LeafSchema<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        const QUANTITY: &str = "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$";
        let LeafSchema(l, envs) = self;
        let mut m = s.serialize_map(None)?;
        match l.ty {
            Ty::Int(min) => {
                m.serialize_entry("type", "integer")?;
                m.serialize_entry("minimum", &min)?;
            }
            Ty::IntIn(min, max) => {
                m.serialize_entry("type", "integer")?;
                m.serialize_entry("minimum", &min)?;
                m.serialize_entry("maximum", &max)?;
            }
            Ty::BoolConst(b) => {
                m.serialize_entry("type", "boolean")?;
                m.serialize_entry("const", &b)?;
            }
            Ty::Str => {
                m.serialize_entry("type", "string")?;
                m.serialize_entry("minLength", &1)?;
            }
            Ty::Quantity => {
                m.serialize_entry("type", "string")?;
                m.serialize_entry("pattern", QUANTITY)?;
            }
            Ty::Bool => m.serialize_entry("type", "boolean")?,
            Ty::Mesh => {
                m.serialize_entry("type", "string")?;
                m.serialize_entry("enum", &["none", "linkerd", "istio"])?;
            }
            Ty::Strings => {
                m.serialize_entry("type", "object")?;
                m.serialize_entry("additionalProperties", &json!({"type": "string"}))?;
            }
            Ty::Secret => m.serialize_entry("type", "string")?,
            Ty::Environment => {
                let mut names: Vec<&str> = vec![""];
                names.extend(envs.iter());
                m.serialize_entry("type", "string")?;
                m.serialize_entry("enum", &names)?;
            }
        }
        m.serialize_entry("description", &l.doc)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_keys_are_camel_case() {
        assert_eq!(camel("wallet-service"), "walletService");
        assert_eq!(camel("postgres"), "postgres");
        assert_eq!(camel("a-b-c"), "aBC");
    }

    /// The schema's writer writes what `serde_json::to_writer_pretty` writes.
    #[test]
    fn pretty_is_serde_json_s_pretty() {
        let deep = (0..40).fold(
            json!("leaf"),
            |v, i| json!({ format!("k{i}"): v, "n": [i] }),
        );
        for v in [
            json!({}),
            json!([]),
            json!({"a": {}, "b": [], "c": [{}, [], [1, "two", null, true, 1.5]], "d": "\"q\""}),
            deep,
        ] {
            let mut ours = Vec::new();
            let mut ser = serde_json::Serializer::with_formatter(&mut ours, Pretty::default());
            serde::Serialize::serialize(&v, &mut ser).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string_pretty(&v).unwrap()
            );
        }
    }

    #[test]
    fn changes_hold_only_what_differs() {
        let a = json!({"s": {"replicaCount": 1, "image": {"tag": "1"}}, "c": {"x": "1", "y": "2"}});
        let b = json!({"s": {"replicaCount": 3, "image": {"tag": "1"}}, "c": {"x": "1"}});
        assert_eq!(
            changes(&a, &b),
            Some(json!({"s": {"replicaCount": 3}, "c": {"y": null}}))
        );
        assert_eq!(changes(&a, &a), None);
        // Keys in another order, added and removed.
        let a = json!({"x": 1, "y": 2, "z": 3, "w": 4});
        let b = json!({"y": 2, "x": 5, "v": 6, "w": 4});
        assert_eq!(changes(&a, &b), Some(json!({"x": 5, "v": 6, "z": null})));
        assert_eq!(changes(&b, &a), Some(json!({"x": 1, "z": 3, "v": null})));
    }
}
