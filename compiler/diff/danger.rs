//! The changes `sorchac diff` calls dangerous, each with its code. `--fail-on danger`
//! makes any of them fail the command; docs/diff.md explains each.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Finding, Objects};

/// One kind of dangerous change.
pub struct Danger {
    pub code: &'static str,
    pub title: &'static str,
}

pub const DATA_LOSS: Danger = Danger {
    code: "D0101",
    title: "stored data would be orphaned or deleted",
};
pub const IMMUTABLE: Danger = Danger {
    code: "D0102",
    title: "change to a field the API server rejects as immutable",
};
pub const STORAGE_SHRINK: Danger = Danger {
    code: "D0103",
    title: "storage size decrease",
};
pub const STORAGE_CLASS: Danger = Danger {
    code: "D0104",
    title: "storage class change",
};
pub const NETWORK_OPENED: Danger = Danger {
    code: "D0105",
    title: "network policy opens a connection it did not allow before",
};
pub const SINGLE_REPLICA: Danger = Danger {
    code: "D0106",
    title: "routed service down to one replica",
};
pub const SECRET_REMOVED: Danger = Danger {
    code: "D0107",
    title: "secret removed while still referenced",
};

/// Every danger, in code order.
pub const DANGERS: &[&Danger] = &[
    &DATA_LOSS,
    &IMMUTABLE,
    &STORAGE_SHRINK,
    &STORAGE_CLASS,
    &NETWORK_OPENED,
    &SINGLE_REPLICA,
    &SECRET_REMOVED,
];

fn finding(d: &Danger, object: &str, message: String) -> Finding {
    Finding {
        code: d.code,
        title: d.title,
        object: object.to_string(),
        message,
    }
}

fn kind(v: &Value) -> &str {
    v.get("kind").and_then(Value::as_str).unwrap_or("")
}

fn name(v: &Value) -> &str {
    v.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// A Kubernetes quantity in bytes (`10Gi`, `500M`, `1024`).
pub fn bytes(q: &str) -> Option<f64> {
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(q.len());
    let (n, unit) = q.split_at(split);
    let n: f64 = n.parse().ok()?;
    let m = match unit {
        "" => 1.0,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => return None,
    };
    Some(n * m)
}

/// The claims of an object: a PVC's own spec, or a StatefulSet's claim templates.
fn claims(v: &Value) -> Vec<(String, &Value)> {
    match kind(v) {
        "PersistentVolumeClaim" => v
            .get("spec")
            .map(|s| vec![(name(v).to_string(), s)])
            .unwrap_or_default(),
        "StatefulSet" => v
            .pointer("/spec/volumeClaimTemplates")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| Some((name(c).to_string(), c.get("spec")?)))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn storage(spec: &Value) -> Option<&str> {
    spec.pointer("/resources/requests/storage")
        .and_then(Value::as_str)
}

/// Every dangerous change from `a` to `b`.
pub fn findings(a: &Objects, b: &Objects) -> Vec<Finding> {
    let mut out = Vec::new();
    for (k, old) in a {
        let new = b.get(k);
        // Data: a store or a claim that goes away.
        if new.is_none() {
            match kind(old) {
                "StatefulSet" if !claims(old).is_empty() => out.push(finding(
                    &DATA_LOSS,
                    k,
                    format!(
                        "the StatefulSet `{}` goes away; its volumes ({}) would be orphaned, and deleted with their claims",
                        name(old),
                        claims(old).iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )),
                "PersistentVolumeClaim" => out.push(finding(
                    &DATA_LOSS,
                    k,
                    format!("the claim `{}` goes away, and with it the data on its volume", name(old)),
                )),
                _ => {}
            }
            continue;
        }
        let Some(new) = new else {
            continue;
        };
        immutable(k, old, new, &mut out);
        // Storage sizes and classes.
        let before: BTreeMap<String, &Value> = claims(old).into_iter().collect();
        for (claim, spec) in claims(new) {
            let Some(was) = before.get(&claim) else {
                continue;
            };
            if let (Some(x), Some(y)) = (storage(was), storage(spec))
                && let (Some(bx), Some(by)) = (bytes(x), bytes(y))
                && by < bx
            {
                out.push(finding(
                    &STORAGE_SHRINK,
                    k,
                    format!("`{claim}` shrinks from {x} to {y}: a volume cannot be made smaller"),
                ));
            }
            let class = |s: &Value| {
                s.get("storageClassName")
                    .and_then(Value::as_str)
                    .unwrap_or("(default)")
                    .to_string()
            };
            if class(was) != class(spec) {
                out.push(finding(
                    &STORAGE_CLASS,
                    k,
                    format!(
                        "`{claim}` moves from storage class {} to {}: existing volumes keep the old one",
                        class(was),
                        class(spec)
                    ),
                ));
            }
        }
        if kind(old) == "NetworkPolicy" {
            let before = allowed(old);
            let opened: Vec<String> = allowed(new).difference(&before).cloned().collect();
            if !opened.is_empty() {
                out.push(finding(
                    &NETWORK_OPENED,
                    k,
                    format!("now allows {}", opened.join("; ")),
                ));
            }
        }
    }
    availability(a, b, &mut out);
    secrets(a, b, &mut out);
    out
}

/// Fields the API server will not change in place.
fn immutable(k: &str, old: &Value, new: &Value, out: &mut Vec<Finding>) {
    let paths: &[&str] = match kind(old) {
        "Deployment" => &["/spec/selector"],
        "StatefulSet" => &[
            "/spec/selector",
            "/spec/serviceName",
            "/spec/volumeClaimTemplates",
            "/spec/podManagementPolicy",
        ],
        "Job" => &["/spec/template", "/spec/selector", "/spec/completions"],
        "Service" => &["/spec/clusterIP"],
        "PersistentVolumeClaim" => &[
            "/spec/storageClassName",
            "/spec/accessModes",
            "/spec/volumeMode",
        ],
        _ => &[],
    };
    for p in paths {
        if old.pointer(p) != new.pointer(p) {
            let field = p.trim_start_matches('/').replace('/', ".");
            out.push(finding(
                &IMMUTABLE,
                k,
                format!(
                    "`{field}` of {} `{}` cannot change in place: the apply is rejected until the object is deleted and created again",
                    kind(old),
                    name(old)
                ),
            ));
        }
    }
}

/// What a NetworkPolicy lets through, one line per peer and port.
fn allowed(v: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let target = v
        .pointer("/spec/podSelector/matchLabels")
        .map(selector)
        .unwrap_or_else(|| "every pod".into());
    for (dir, peers_key, word) in [("ingress", "from", "from"), ("egress", "to", "to")] {
        for rule in v
            .pointer(&format!("/spec/{dir}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let peers: Vec<String> = match rule.get(peers_key).and_then(Value::as_array) {
                Some(ps) => ps.iter().map(peer).collect(),
                None => vec!["anywhere".into()],
            };
            let ports: Vec<String> = match rule.get("ports").and_then(Value::as_array) {
                Some(ps) => ps
                    .iter()
                    .map(|p| {
                        format!(
                            "{}/{}",
                            p.get("port").map_or_else(
                                || "any".into(),
                                |x| x.to_string().trim_matches('"').to_string()
                            ),
                            p.get("protocol").and_then(Value::as_str).unwrap_or("TCP")
                        )
                    })
                    .collect(),
                None => vec!["any port".into()],
            };
            for pe in &peers {
                for po in &ports {
                    out.insert(format!("{dir} {word} {pe} on {po} ({target})"));
                }
            }
        }
    }
    out
}

fn selector(labels: &Value) -> String {
    labels
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn peer(p: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(ns) = p.pointer("/namespaceSelector/matchLabels") {
        parts.push(format!("namespaces {}", selector(ns)));
    } else if p.get("namespaceSelector").is_some() {
        parts.push("every namespace".into());
    }
    if let Some(pods) = p.pointer("/podSelector/matchLabels") {
        parts.push(format!("pods {}", selector(pods)));
    }
    if let Some(cidr) = p.pointer("/ipBlock/cidr").and_then(Value::as_str) {
        parts.push(format!("addresses {cidr}"));
    }
    if parts.is_empty() {
        "anywhere".into()
    } else {
        parts.join(" ")
    }
}

/// The services a gateway routes to.
fn routed(objects: &Objects) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut walk = |v: &Value| {
        fn collect(v: &Value, out: &mut BTreeSet<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(n) = m
                        .get("service")
                        .and_then(|s| s.get("name"))
                        .and_then(Value::as_str)
                    {
                        out.insert(n.to_string());
                    }
                    if m.get("kind")
                        .and_then(Value::as_str)
                        .is_none_or(|k| k == "Service")
                        && m.contains_key("port")
                        && let Some(n) = m.get("name").and_then(Value::as_str)
                        && m.get("group").is_none()
                    {
                        out.insert(n.to_string());
                    }
                    m.values().for_each(|c| collect(c, out));
                }
                Value::Array(a) => a.iter().for_each(|c| collect(c, out)),
                _ => {}
            }
        }
        match kind(v) {
            "Ingress" => collect(v.pointer("/spec/rules").unwrap_or(&Value::Null), &mut out),
            "HTTPRoute" => collect(v.pointer("/spec/rules").unwrap_or(&Value::Null), &mut out),
            _ => {}
        }
    };
    objects.values().for_each(&mut walk);
    out
}

/// The fewest replicas a workload runs with.
fn min_replicas(objects: &Objects, workload: &str) -> Option<i64> {
    let find = |kind_: &str| {
        objects
            .values()
            .find(|v| kind(v) == kind_ && name(v) == workload)
    };
    if let Some(h) = find("HorizontalPodAutoscaler") {
        return h
            .pointer("/spec/minReplicas")
            .and_then(Value::as_i64)
            .or(Some(1));
    }
    let d = find("Deployment").or_else(|| find("StatefulSet"))?;
    Some(
        d.pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1),
    )
}

fn availability(a: &Objects, b: &Objects, out: &mut Vec<Finding>) {
    for svc in routed(b) {
        if let (Some(x), Some(y)) = (min_replicas(a, &svc), min_replicas(b, &svc))
            && x >= 2
            && y < 2
        {
            let k = b
                .iter()
                .find(|(_, v)| matches!(kind(v), "Deployment" | "StatefulSet") && name(v) == svc)
                .map_or(svc.clone(), |(k, _)| k.clone());
            out.push(finding(
                &SINGLE_REPLICA,
                &k,
                format!(
                    "`{svc}` takes outside traffic and now runs as few as {y} replica (was {x}): a restart or a node drain takes it offline"
                ),
            ));
        }
    }
}

/// Secret names an object reads.
fn secret_refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                let n = match k.as_str() {
                    "secretKeyRef" | "secretRef" => c.get("name").and_then(Value::as_str),
                    "secret" => c.get("secretName").and_then(Value::as_str),
                    _ => None,
                };
                if let Some(n) = n {
                    out.insert(n.to_string());
                }
                secret_refs(c, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| secret_refs(c, out)),
        _ => {}
    }
}

fn secrets(a: &Objects, b: &Objects, out: &mut Vec<Finding>) {
    let made = |objects: &Objects| -> BTreeMap<String, String> {
        objects
            .iter()
            .filter(|(_, v)| matches!(kind(v), "ExternalSecret" | "Secret"))
            .map(|(k, v)| {
                let target = v
                    .pointer("/spec/target/name")
                    .and_then(Value::as_str)
                    .unwrap_or(name(v));
                (target.to_string(), k.clone())
            })
            .collect()
    };
    let before = made(a);
    let after = made(b);
    let mut used = BTreeSet::new();
    for v in b.values() {
        secret_refs(v, &mut used);
    }
    for (secret, k) in &before {
        if !after.contains_key(secret) && used.contains(secret) {
            out.push(finding(
                &SECRET_REMOVED,
                k,
                format!("the secret `{secret}` is no longer provided, but pods still read it: they would not start"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_compare_across_units() {
        assert!(bytes("10Gi").unwrap() > bytes("10G").unwrap());
        assert_eq!(bytes("1Ki"), Some(1024.0));
        assert_eq!(bytes("5x"), None);
    }
}
