//! Where values go in the output, found by lowering the base model with a unique marker
//! (a sentinel) in the place of every value: each marker that comes out of the lowering
//! shows a field the chart's templates fill from that value. The structural settings —
//! the mesh, and whether a workload runs one replica, a fixed number, or autoscales —
//! are sampled instead: the model is lowered once for every combination, and the
//! templates choose between what differs.

use foldhash::HashMap;
use std::sync::Arc;

use crate::check::Model;
use crate::check::model::{Bytes, Mesh, Millicores, Replicas, Res, Scale, Tls};
use crate::ir::labels::config_hash;
use crate::schema::Kind;

use super::values::{camel, split_image, workload_path};

/// How a workload's replica count is settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Regime {
    /// One replica, no autoscaler.
    Single,
    /// A fixed count of two or more.
    Fixed,
    /// A HorizontalPodAutoscaler.
    Range,
}

pub const REGIMES: [Regime; 3] = [Regime::Single, Regime::Fixed, Regime::Range];
pub const MESHES: [Mesh; 3] = [Mesh::None, Mesh::Linkerd, Mesh::Istio];

/// What a marker in the output stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Knob {
    /// A value of the chart; `int` when the field is a number.
    Value { path: Vec<String>, int: bool },
    /// The release's namespace.
    Namespace,
    /// The release's name (the instance label).
    Instance,
    /// Who manages the objects (the managed-by label).
    Service,
    /// The chart label.
    Chart,
    /// The name of a config's ConfigMap, with its content hash.
    ConfigName { config: String },
    /// Text only the chart has (hook annotations).
    HelmOnly(String),
    /// The checksum of a deploy-time secret's values, which rolls the pods that read it.
    SecretChecksum(String),
}

/// The markers, and what each stands for.
#[derive(Default)]
pub struct Markers {
    /// Text markers (also numbers written as text), each with the knob it stands for:
    /// added by [`Markers::insert`] only, which keeps `other_lengths`.
    by_text: HashMap<String, Knob>,
    /// The lengths (as bits; 63 for any longer) of the text markers that neither hold
    /// [`TEXT`] nor start with a digit, as a config's name does: no string of another
    /// length that is neither is one ([`Markers::may_be`]).
    other_lengths: u64,
    /// Number markers.
    pub number: HashMap<i64, Knob>,
    next: i64,
    pub namespace: String,
    pub env: String,
    /// The marker text of the instance label.
    pub instance: String,
}

/// Text markers: lower-case letters and digits, so that they are valid wherever a name
/// is, and never a part of one another.
pub const TEXT: &str = "zq7k";
/// Whether a string holds a text marker: most hold not even the marker's first letter,
/// which is found faster than a word.
pub fn holds_text_marker(s: &str) -> bool {
    TEXT.as_bytes()
        .first()
        .is_none_or(|first| s.as_bytes().contains(first))
        && s.contains(TEXT)
}

/// Whether a string is shaped as most markers are, and is looked up for that alone: it
/// starts with a digit (a number marker's text) or holds the marker text.
fn evidently_marker_like(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_digit) || holds_text_marker(s)
}

/// Number markers: large, and never a multiple of 1000 (so a CPU marker keeps its `m`).
const NUMBER: i64 = 1_700_000_007;

impl Markers {
    pub fn text(&mut self, knob: Knob) -> String {
        self.next += 1;
        let t = format!("{TEXT}{:06}x", self.next);
        self.insert(t.clone(), knob);
        t
    }

    /// Makes `text` a marker for `knob`.
    pub(super) fn insert(&mut self, text: String, knob: Knob) {
        if !evidently_marker_like(&text) {
            self.other_lengths |= 1 << text.len().min(63);
        }
        self.by_text.insert(text, knob);
    }

    /// The knob that `text` is the marker of.
    pub fn knob(&self, text: &str) -> Option<&Knob> {
        self.by_text.get(text)
    }

    /// Whether `s` may be a text marker or hold one; most strings are neither, and
    /// are told so without being looked up.
    pub fn may_be(&self, s: &str) -> bool {
        self.other_lengths & (1 << s.len().min(63)) != 0 || evidently_marker_like(s)
    }

    /// Every text marker.
    #[cfg(test)]
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.by_text.keys().map(String::as_str)
    }

    pub(super) fn number(&mut self, knob: Knob) -> i64 {
        self.next += 1;
        let n = NUMBER + 1000 * self.next;
        self.number.insert(n, knob.clone());
        self.insert(n.to_string(), knob);
        n
    }
}

fn value(path: &[String], rest: &[&str], int: bool) -> Knob {
    let mut p = path.to_vec();
    p.extend(rest.iter().map(|s| (*s).to_string()));
    Knob::Value { path: p, int }
}

fn small(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The base model with markers, ready to be lowered for any mesh and regime.
pub struct Sampler {
    model: Model,
    /// Per workload: its markers for the fixed count and for autoscaling.
    fixed: Vec<u32>,
    range: Vec<Scale>,
    pub markers: Markers,
}

impl Sampler {
    pub fn new(base: &Model) -> Sampler {
        let mut mk = Markers::default();
        let mut m = base.clone();
        mk.namespace = mk.text(Knob::Namespace);
        mk.env = mk.text(Knob::Instance);
        m.platform.namespace = mk.namespace.clone();
        m.env = mk.env.clone();
        // The instance label is the platform's name and the environment's.
        mk.instance = crate::ir::labels::instance(&m);
        mk.insert(mk.instance.clone(), Knob::Instance);
        let mut fixed = Vec::new();
        let mut range = Vec::new();
        for w in &mut m.workloads {
            let w = Arc::make_mut(w);
            let path = workload_path(w);
            if let Some((_, _)) = split_image(&w.image) {
                let repo = mk.text(value(&path, &["image", "repository"], false));
                let tag = mk.text(value(&path, &["image", "tag"], false));
                w.image = format!("{repo}:{tag}");
            }
            let auto = match &w.replicas {
                Replicas::Auto(s) => Some(s.clone()),
                Replicas::Fixed(_) => None,
            };
            fixed.push(small(mk.number(value(&path, &["replicaCount"], true))));
            let (cpu, memory) = match &auto {
                Some(s) => (s.cpu, s.memory),
                None => (Some(80), None),
            };
            range.push(Scale {
                min: small(mk.number(value(&path, &["autoscaling", "minReplicas"], true))),
                max: small(mk.number(value(&path, &["autoscaling", "maxReplicas"], true))),
                cpu: cpu.map(|_| {
                    small(mk.number(value(
                        &path,
                        &["autoscaling", "targetCPUUtilizationPercentage"],
                        true,
                    )))
                }),
                memory: memory.map(|_| {
                    small(mk.number(value(
                        &path,
                        &["autoscaling", "targetMemoryUtilizationPercentage"],
                        true,
                    )))
                }),
                cooldown: small(mk.number(value(
                    &path,
                    &["autoscaling", "scaleDownStabilizationSeconds"],
                    true,
                ))),
            });
            if w.schedule.is_some() {
                w.schedule = Some(mk.text(value(&path, &["schedule"], false)));
            }
            let cpu_req = mk.number(value(&path, &["resources", "requests", "cpu"], false));
            let cpu_lim = mk.number(value(&path, &["resources", "limits", "cpu"], false));
            w.cpu = Some(Res {
                request: Millicores(cpu_req.unsigned_abs()),
                limit: Millicores(cpu_lim.unsigned_abs()),
            });
            // The checker's own Millicores text of a marker number is `{n}m`.
            for (n, rest) in [(cpu_req, "requests"), (cpu_lim, "limits")] {
                mk.insert(
                    format!("{n}m"),
                    value(&path, &["resources", rest, "cpu"], false),
                );
            }
            let bytes = |mk: &mut Markers, rest: &[&str]| Bytes {
                bytes: 1,
                text: mk.text(value(&path, rest, false)),
            };
            w.memory = Some(Res {
                request: bytes(&mut mk, &["resources", "requests", "memory"]),
                limit: bytes(&mut mk, &["resources", "limits", "memory"]),
            });
            if let Some(s) = &mut w.storage {
                s.size = bytes(&mut mk, &["storage", "size"]);
                if s.class.is_some() {
                    s.class = Some(mk.text(value(&path, &["storage", "storageClass"], false)));
                }
            }
            for v in &mut w.volumes {
                if v.size.is_some() {
                    let name = camel(&v.name);
                    v.size = Some(bytes(&mut mk, &["volumes", &name, "size"]));
                }
            }
            if let (Some(b), Some(_)) = (&mut w.backup, &w.dump) {
                b.schedule = mk.text(value(&path, &["backup", "schedule"], false));
                b.keep = small(mk.number(value(&path, &["backup", "keep"], true)));
                b.size = bytes(&mut mk, &["backup", "size"]);
            }
            if w.kind == Kind::Job {
                // Jobs have no replicas to sample.
                continue;
            }
        }
        for g in &mut m.gateways {
            let g = Arc::make_mut(g);
            let path = vec!["gateways".to_string(), camel(&g.name)];
            g.host = mk.text(value(&path, &["host"], false));
            g.tls = match &g.tls {
                Some(Tls::Issuer(_)) => Some(Tls::Issuer(mk.text(value(
                    &path,
                    &["tls", "issuer"],
                    false,
                )))),
                Some(Tls::Secret(_)) => Some(Tls::Secret(mk.text(value(
                    &path,
                    &["tls", "secretName"],
                    false,
                )))),
                None => None,
            };
        }
        for c in &mut m.configs {
            let c = Arc::make_mut(c);
            let path = vec!["configs".to_string(), camel(&c.name)];
            for e in &mut c.entries {
                e.value = mk.text(value(&path, &[e.key.as_str()], false));
            }
            mk.insert(
                format!("{}-{}", c.name, config_hash(c)),
                Knob::ConfigName {
                    config: c.name.clone(),
                },
            );
        }
        Sampler {
            model: m,
            fixed,
            range,
            markers: mk,
        }
    }

    /// The marked model with every workload in this regime. The samples of one regime
    /// differ only in their mesh, so they share its workloads ([`with_mesh`]).
    pub fn regime(&self, regime: Regime) -> Model {
        let mut m = self.model.clone();
        for (i, w) in m.workloads.iter_mut().enumerate() {
            if w.kind == Kind::Job {
                continue;
            }
            let w = Arc::make_mut(w);
            w.replicas = match regime {
                Regime::Single => Replicas::Fixed(1),
                Regime::Fixed => Replicas::Fixed(self.fixed.get(i).copied().unwrap_or(2)),
                Regime::Range => Replicas::Auto(self.range.get(i).cloned().unwrap_or(Scale {
                    min: 1,
                    max: 2,
                    cpu: Some(80),
                    memory: None,
                    cooldown: 300,
                })),
            };
        }
        m
    }
}

/// A sample: the model of a regime with this mesh, sharing its declarations.
pub fn with_mesh(regime: &Model, mesh: Mesh) -> Model {
    let mut m = regime.clone();
    m.platform.mesh = mesh;
    m
}
