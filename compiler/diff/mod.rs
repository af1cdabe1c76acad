//! `sorchac diff`: what changes between two versions of a platform's output, object by
//! object, and which of those changes are dangerous to apply (data loss, fields the API
//! server rejects as immutable, connections opened, availability lost). Cluster-free:
//! both sides are compiled (or read from a build directory) and compared as objects.

mod danger;
pub mod render;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

pub use danger::{DANGERS, Danger};

/// The objects of one environment, by `apiVersion kind namespace/name`.
pub type Objects = BTreeMap<String, Value>;

/// One side of a diff: the objects of each environment.
#[derive(Default)]
pub struct Side {
    pub envs: BTreeMap<String, Objects>,
}

/// The identity of an object, as the API server knows it.
pub fn key(v: &Value) -> String {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("");
    let ns = s("/metadata/namespace");
    format!(
        "{} {} {}{}",
        s("/apiVersion"),
        s("/kind"),
        if ns.is_empty() {
            String::new()
        } else {
            format!("{ns}/")
        },
        s("/metadata/name")
    )
}

impl Side {
    /// A side from lowered environments.
    pub fn from_objects<'a>(
        envs: impl IntoIterator<Item = (String, &'a crate::ir::Objects)>,
    ) -> Side {
        let mut side = Side::default();
        for (env, objects) in envs {
            let o = side.envs.entry(env).or_default();
            for obj in objects.iter() {
                if let Ok(v) = serde_json::to_value(obj) {
                    o.insert(key(&v), v);
                }
            }
        }
        side
    }
}

/// One changed field.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Field {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// What happens to one object.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum Change {
    Added { object: String },
    Removed { object: String },
    Changed { object: String, fields: Vec<Field> },
}

impl Change {
    pub fn object(&self) -> &str {
        match self {
            Change::Added { object }
            | Change::Removed { object }
            | Change::Changed { object, .. } => object,
        }
    }
}

/// A change that would lose data, be rejected, open a connection or lose availability.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Finding {
    pub code: &'static str,
    pub title: &'static str,
    pub object: String,
    pub message: String,
}

/// What changes in one environment.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EnvDiff {
    pub env: String,
    pub changes: Vec<Change>,
    pub findings: Vec<Finding>,
}

/// The whole comparison.
#[derive(Clone, Debug, Serialize, PartialEq, Default)]
pub struct Report {
    pub envs: Vec<EnvDiff>,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.envs.iter().all(|e| e.changes.is_empty())
    }

    pub fn findings(&self) -> usize {
        self.envs.iter().map(|e| e.findings.len()).sum()
    }
}

/// Compares two sides, environment by environment (only `only` when given).
pub fn diff(old: &Side, new: &Side, only: Option<&str>) -> Report {
    let mut names: Vec<&String> = old.envs.keys().chain(new.envs.keys()).collect();
    names.sort();
    names.dedup();
    let empty = Objects::new();
    let mut report = Report::default();
    for env in names {
        if only.is_some_and(|o| o != env) {
            continue;
        }
        let a = old.envs.get(env).unwrap_or(&empty);
        let b = new.envs.get(env).unwrap_or(&empty);
        let mut changes = Vec::new();
        for (k, va) in a {
            match b.get(k) {
                None => changes.push(Change::Removed { object: k.clone() }),
                Some(vb) if va != vb => {
                    let mut fields = Vec::new();
                    fields_of(va, vb, &mut String::new(), &mut fields);
                    changes.push(Change::Changed {
                        object: k.clone(),
                        fields,
                    });
                }
                Some(_) => {}
            }
        }
        for k in b.keys().filter(|k| !a.contains_key(*k)) {
            changes.push(Change::Added { object: k.clone() });
        }
        changes.sort_by(|x, y| x.object().cmp(y.object()));
        let findings = danger::findings(a, b);
        report.envs.push(EnvDiff {
            env: env.clone(),
            changes,
            findings,
        });
    }
    report
}

/// The label of a list item in a path: its `name` when it has one.
fn item_label(v: &Value, i: usize) -> String {
    match v.get("name").and_then(Value::as_str) {
        Some(n) => format!("[{n}]"),
        None => format!("[{i}]"),
    }
}

/// Every changed leaf between two values: maps key by key, lists item by item when
/// their items are the same in number (by name when they have names), whole otherwise.
fn fields_of(a: &Value, b: &Value, path: &mut String, out: &mut Vec<Field>) {
    if a == b {
        return;
    }
    let len = path.len();
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                push_key(path, k);
                match y.get(k) {
                    Some(vb) => fields_of(va, vb, path, out),
                    None => out.push(Field {
                        path: path.clone(),
                        old: Some(va.clone()),
                        new: None,
                    }),
                }
                path.truncate(len);
            }
            for (k, vb) in y.iter().filter(|(k, _)| !x.contains_key(*k)) {
                push_key(path, k);
                out.push(Field {
                    path: path.clone(),
                    old: None,
                    new: Some(vb.clone()),
                });
                path.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y))
            if x.len() == y.len()
                && x.iter().zip(y).all(|(i, j)| i.get("name") == j.get("name")) =>
        {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                path.push_str(&item_label(va, i));
                fields_of(va, vb, path, out);
                path.truncate(len);
            }
        }
        _ => out.push(Field {
            path: path.clone(),
            old: Some(a.clone()),
            new: Some(b.clone()),
        }),
    }
}

fn push_key(path: &mut String, k: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    if k.contains(['.', '/']) {
        path.push_str(&format!("\"{k}\""));
    } else {
        path.push_str(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn side(objects: &[Value]) -> Side {
        let mut s = Side::default();
        s.envs.insert(
            "default".into(),
            objects.iter().map(|v| (key(v), v.clone())).collect(),
        );
        s
    }

    #[test]
    fn changes_are_listed_by_object_and_field() {
        let a = side(&[
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "n"}, "spec": {"ports": [{"name": "http", "port": 80}]}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gone", "namespace": "n"}}),
        ]);
        let b = side(&[
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "n", "labels": {"app.kubernetes.io/name": "a"}}, "spec": {"ports": [{"name": "http", "port": 8080}]}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "new", "namespace": "n"}}),
        ]);
        let r = diff(&a, &b, None);
        assert_eq!(
            r.envs[0].changes,
            vec![
                Change::Removed {
                    object: "v1 ConfigMap n/gone".into()
                },
                Change::Added {
                    object: "v1 ConfigMap n/new".into()
                },
                Change::Changed {
                    object: "v1 Service n/a".into(),
                    fields: vec![
                        Field {
                            path: "metadata.labels".into(),
                            old: None,
                            new: Some(json!({"app.kubernetes.io/name": "a"})),
                        },
                        Field {
                            path: "spec.ports[http].port".into(),
                            old: Some(json!(80)),
                            new: Some(json!(8080)),
                        },
                    ],
                },
            ]
        );
        assert!(diff(&a, &a, None).is_empty());
    }
}
