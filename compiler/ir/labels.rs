//! What every lowering step shares: the namespace, the recommended labels every object
//! carries, selectors, the call graph (who calls whom on which ports), routed ports, and
//! content hashes of configs.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use sha2::{Digest, Sha256};

use crate::check::Model;
use crate::check::model::{Config, Platform, Port, Workload};

/// Labels as Kubernetes holds them.
pub type Labels = BTreeMap<String, String>;

pub const NAME: &str = "app.kubernetes.io/name";
pub const PART_OF: &str = "app.kubernetes.io/part-of";
pub const INSTANCE: &str = "app.kubernetes.io/instance";
pub const COMPONENT: &str = "app.kubernetes.io/component";
pub const VERSION: &str = "app.kubernetes.io/version";
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// A connection the program declares: `from` calls `to` on `ports`, borrowed from the
/// model (only a backup's name is made).
#[derive(Clone, Debug, PartialEq)]
pub struct Edge<'m> {
    pub from: Cow<'m, str>,
    pub to: &'m str,
    pub ports: &'m [Port],
}

/// The lowering context of one environment.
pub struct Cx<'m> {
    pub m: &'m Model,
    pub ns: String,
    common: Labels,
    /// Every declared connection, in program order (backups included).
    pub edges: Vec<Edge<'m>>,
    /// Indices into `edges` by caller and by target.
    by_from: HashMap<Cow<'m, str>, Vec<usize>>,
    by_to: HashMap<&'m str, Vec<usize>>,
    /// Ports of each workload that a gateway routes to.
    pub routed: HashMap<String, BTreeSet<String>>,
    /// ConfigMap names by config.
    config_names: HashMap<String, String>,
}

impl<'m> Cx<'m> {
    /// Every model's context, made on all cores.
    pub fn each<M: std::borrow::Borrow<Model> + Sync>(models: &'m [M]) -> Vec<Cx<'m>> {
        crate::par::each(models, |m| Cx::new(m.borrow()))
    }

    pub fn new(m: &'m Model) -> Cx<'m> {
        Cx::standing_in(m, instance(m), m.platform.namespace.clone())
    }

    /// The context of a model whose objects have `instance` for their instance label and
    /// `ns` for their namespace, instead of the environment's own (the chart's check
    /// compares environments' objects with one another this way).
    pub fn standing_in(m: &'m Model, instance: String, ns: String) -> Cx<'m> {
        let mut common = platform_labels(m);
        common.insert(INSTANCE.into(), instance);
        let mut edges = Vec::new();
        for w in &m.workloads {
            for c in &w.calls {
                let Some(target) = m.workload(&c.target) else {
                    continue;
                };
                let ports = match &c.port {
                    Some(p) => target.port(p).map_or(&[][..], std::slice::from_ref),
                    None => &target.ports,
                };
                edges.push(Edge {
                    from: Cow::Borrowed(&w.name),
                    to: &target.name,
                    ports,
                });
            }
            if w.backup.is_some() && w.dump.is_some() {
                edges.push(Edge {
                    from: Cow::Owned(backup_name(&w.name)),
                    to: &w.name,
                    ports: &w.ports,
                });
            }
        }
        let mut routed: HashMap<String, BTreeSet<String>> = HashMap::new();
        for g in &m.gateways {
            for r in &g.routes {
                routed
                    .entry(r.target.clone())
                    .or_default()
                    .insert(r.port.clone());
            }
        }
        let mut by_from: HashMap<Cow<'m, str>, Vec<usize>> = HashMap::new();
        let mut by_to: HashMap<&'m str, Vec<usize>> = HashMap::new();
        for (i, e) in edges.iter().enumerate() {
            by_from.entry(e.from.clone()).or_default().push(i);
            by_to.entry(e.to).or_default().push(i);
        }
        let config_names = m
            .configs
            .iter()
            .map(|c| (c.name.clone(), format!("{}-{}", c.name, config_hash(c))))
            .collect();
        Cx {
            m,
            ns,
            common,
            edges,
            by_from,
            by_to,
            routed,
            config_names,
        }
    }

    /// The labels of an object that belongs to component `name`.
    pub fn labels(&self, name: &str, component: &str) -> Labels {
        let mut l = self.common.clone();
        l.insert(NAME.into(), name.into());
        l.insert(COMPONENT.into(), component.into());
        l
    }

    /// The labels that select the pods of `name`: stable across versions and environments.
    pub fn selector(&self, name: &str) -> Labels {
        let mut l = Labels::new();
        l.insert(NAME.into(), name.into());
        l.insert(PART_OF.into(), self.m.platform.name.clone());
        l
    }

    /// Metadata of a namespaced object.
    pub fn meta(&self, object: &str, owner: &str, component: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(object.into()),
            namespace: Some(self.ns.clone()),
            labels: Some(self.labels(owner, component)),
            ..ObjectMeta::default()
        }
    }

    /// The name of a config's ConfigMap: the config's name and its content hash, so that
    /// new content is a new ConfigMap and rolls the pods that use it.
    pub fn config_map_name(&self, config: &str) -> String {
        self.config_names
            .get(config)
            .cloned()
            .unwrap_or_else(|| config.to_string())
    }

    /// Connections into `to`, in program order.
    pub fn callers<'a>(&'a self, to: &str) -> impl Iterator<Item = &'a Edge<'m>> + 'a {
        self.by_to
            .get(to)
            .into_iter()
            .flatten()
            .map(|i| &self.edges[*i])
    }

    /// Connections out of `from`, in program order.
    pub fn callees<'a>(&'a self, from: &str) -> impl Iterator<Item = &'a Edge<'m>> + 'a {
        self.by_from
            .get(from)
            .into_iter()
            .flatten()
            .map(|i| &self.edges[*i])
    }

    /// Whether the group of the workload at `index` is lowered from the same things in
    /// this context and in `other`, but for their namespace and instance label: the
    /// workload itself (shared by the two models, not re-checked for either), the
    /// platform's other settings, every secret and config (shared), the ports a gateway
    /// routes to it, and its connections in and out. That is everything lowering a
    /// workload reads. Some of it cannot differ today without the checker building the
    /// workload again (a secret's rotation, the ports of what it calls), or at all (an
    /// environment cannot change a route), and is compared all the same, so that this
    /// does not rest on what the checker re-checks or on what environments may change
    /// (`tests/emit.rs` holds the files written on the strength of it to each
    /// environment's own).
    pub fn reads_same_workload(&self, other: &Cx, index: usize) -> bool {
        let (Some(a), Some(b)) = (self.m.workloads.get(index), other.m.workloads.get(index)) else {
            return false;
        };
        std::sync::Arc::ptr_eq(a, b)
            && same_but_namespace(&self.m.platform, &other.m.platform)
            && same_arcs(&self.m.secrets, &other.m.secrets)
            && same_arcs(&self.m.configs, &other.m.configs)
            && self.routed.get(&a.name) == other.routed.get(&a.name)
            && self.callers(&a.name).eq(other.callers(&a.name))
            && self.callees(&a.name).eq(other.callees(&a.name))
    }

    /// The workload's routed ports.
    pub fn routed_ports<'w>(&self, w: &'w Workload) -> Vec<&'w Port> {
        match self.routed.get(&w.name) {
            Some(names) => w.ports.iter().filter(|p| names.contains(&p.name)).collect(),
            None => Vec::new(),
        }
    }
}

/// Whether two lists hold the very same declarations (not re-checked in between).
fn same_arcs<T>(a: &[std::sync::Arc<T>], b: &[std::sync::Arc<T>]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| std::sync::Arc::ptr_eq(x, y))
}

/// Whether two platforms have the same settings but for their namespace (and where
/// they were written). Every field is named, so that a new one is compared too.
fn same_but_namespace(a: &Platform, b: &Platform) -> bool {
    let Platform {
        name,
        doc,
        namespace: _,
        version,
        kubernetes,
        registry,
        labels,
        mesh,
        ingress_from,
        secret_store,
        admins,
        span: _,
    } = a;
    *name == b.name
        && *doc == b.doc
        && *version == b.version
        && *kubernetes == b.kubernetes
        && *registry == b.registry
        && *labels == b.labels
        && *mesh == b.mesh
        && *ingress_from == b.ingress_from
        && *secret_store == b.secret_store
        && *admins == b.admins
}

/// The labels every object of the platform carries, whatever the environment: the
/// platform's own `labels`, `part-of`, `managed-by` and `version`.
pub fn platform_labels(m: &Model) -> Labels {
    let p = &m.platform;
    let mut l: Labels = p.labels.iter().cloned().collect();
    l.insert(PART_OF.into(), p.name.clone());
    l.insert(MANAGED_BY.into(), "sorchac".into());
    if let Some(v) = &p.version {
        l.insert(VERSION.into(), v.clone());
    }
    l
}

/// The `app.kubernetes.io/instance` label of an environment's objects.
pub fn instance(m: &Model) -> String {
    format!("{}-{}", m.platform.name, m.env)
}

/// The name of a database's backup objects.
pub fn backup_name(db: &str) -> String {
    format!("{db}-backup")
}

/// The content hash of a config, exactly as Kustomize's `configMapGenerator` computes it
/// for the name suffix: SHA-256 of `{"data":{…},"kind":"ConfigMap","name":""}` written as
/// Go's `encoding/json` writes it (keys sorted, HTML characters escaped; Kustomize's
/// lookup of the name finds nothing, hence the empty name), its first ten hex digits with
/// `0 1 3 a e` spelled `g h k m t` so that it never reads as a number or a word.
pub fn config_hash(c: &Config) -> String {
    config_hash_of(c.entries.iter().map(|e| (e.key.as_str(), e.value.as_str())))
}

/// The same hash, of any entries.
pub fn config_hash_of<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let sorted: BTreeMap<&str, &str> = entries.into_iter().collect();
    let mut json = String::from("{\"data\":");
    if sorted.is_empty() {
        json.push_str("\"\"");
    } else {
        json.push('{');
        for (i, (k, v)) in sorted.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            go_json_string(k, &mut json);
            json.push(':');
            go_json_string(v, &mut json);
        }
        json.push('}');
    }
    json.push_str(",\"kind\":\"ConfigMap\",\"name\":\"\"}");
    let digest = Sha256::digest(json.as_bytes());
    digest
        .iter()
        .take(5)
        .flat_map(|b| [b >> 4, b & 0xf])
        .map(|nibble| match nibble {
            0 => 'g',
            1 => 'h',
            3 => 'k',
            0xa => 'm',
            0xe => 't',
            n => char::from_digit(u32::from(n), 16).unwrap_or('g'),
        })
        .collect()
}

/// A JSON string as Go's `json.Marshal` writes it (HTML characters escaped).
fn go_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::ConfigEntry;

    fn config(entries: &[(&str, &str)]) -> Config {
        Config {
            id: crate::resolve::DeclId(0),
            name: "node".into(),
            doc: None,
            entries: entries
                .iter()
                .map(|(k, v)| ConfigEntry {
                    key: (*k).into(),
                    value: (*v).into(),
                    file: None,
                })
                .collect(),
            span: Default::default(),
        }
    }

    #[test]
    fn config_hashes_are_kustomizes_name_suffixes() {
        // The suffixes `kubectl kustomize` (Kustomize v5.5) gives a configMapGenerator
        // named `node` with these literals; tests/kustomize.rs checks every example too.
        assert_eq!(config_hash(&config(&[("A", "1")])), "89g4tffbfk");
        assert_eq!(
            config_hash(&config(&[("B", "<x>&"), ("A", "1")])),
            "5gch97b56c"
        );
        let h = config_hash(&config(&[("k", "\u{8}\u{c}\u{1}\u{2028}")]));
        assert_eq!(h.len(), 10);
        assert!(h.chars().all(|c| "2456789bcdfghkmt".contains(c)), "{h}");
    }
}
