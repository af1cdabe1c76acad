//! Platform rules that look across declarations or at a whole workload: scaling bounds
//! (E0301, E0302), disruption budgets (E0303, W0006), routes (E0502, W0002), volumes and mounts
//! (E0601, E0602), generated name lengths (E0203), secret stores, and traffic a workload
//! would send without declaring it (W0005).

use std::collections::BTreeMap;

use super::model::*;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::schema::Kind;
use crate::source::Span;

/// Longest name of a CronJob (its Jobs append an 11-character suffix).
pub const MAX_CRONJOB_NAME: usize = 52;
/// Longest name of a StatefulSet (its pods get a `controller-revision-hash` label of the
/// name plus an 11-character suffix, which must fit in 63).
pub const MAX_STATEFULSET_NAME: usize = 52;

/// One workload's use of another's `.host`, `.address` or `.port`.
#[derive(Clone, Debug)]
pub struct Use {
    pub from: String,
    pub to: String,
    pub span: Span,
}

impl crate::source::Spans for Use {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        f(&mut self.span);
    }
}

pub fn check(m: &Model, uses: &[&Use], diags: &mut Diagnostics) {
    for w in &m.workloads {
        if w.kind != Kind::Job {
            scaling(w, diags);
            disruption(w, diags);
            volumes(w, diags);
        }
        mount_paths(w, diags);
        name_lengths(w, diags);
    }
    routes(m, diags);
    secret_store(m, diags);
    undeclared_traffic(m, uses, diags);
}

fn scaling(w: &Workload, diags: &mut Diagnostics) {
    let Replicas::Auto(s) = &w.replicas else {
        return;
    };
    let implied = !w.spans.contains("scale");
    let at = |path: &str| {
        if implied {
            w.span_of("replicas")
        } else {
            w.spans.get(path).unwrap_or_else(|| w.span_of("scale"))
        }
    };
    if s.min < 1 {
        diags.push(
            Diagnostic::new(
                Code::SCALE_BOUNDS,
                at("scale.min"),
                format!("`{}` would scale to {} replicas", w.name, s.min),
            )
            .with_help(
                "the autoscaler needs at least one replica to measure; set `min = 1` or more",
            ),
        );
    } else if s.min > s.max {
        diags.push(
            Diagnostic::new(
                Code::SCALE_BOUNDS,
                at("scale.min"),
                format!(
                    "`{}` has a minimum of {} replicas above its maximum of {}",
                    w.name, s.min, s.max
                ),
            )
            .with_label(at("scale.max"), "maximum set here")
            .with_help("make `min` at most `max`"),
        );
    }
    let checks = [
        ("cpu", s.cpu, w.cpu.is_some(), "CPU"),
        ("memory", s.memory, w.memory.is_some(), "memory"),
    ];
    for (key, target, has_request, what) in checks {
        let Some(pct) = target else { continue };
        if has_request {
            continue;
        }
        let path = format!("scale.{key}");
        let span = if w.spans.contains(&path) {
            at(&path)
        } else {
            at("scale")
        };
        diags.push(
            Diagnostic::new(
                Code::AUTOSCALE_WITHOUT_REQUEST,
                span,
                format!(
                    "`{}` autoscales on {what} at {pct}% of its request, but has no {what} request",
                    w.name
                ),
            )
            .with_help(format!(
                "utilisation is measured against the request: add `{key} = {}` to `{}`",
                if key == "cpu" {
                    "250m..1"
                } else {
                    "256Mi..512Mi"
                },
                w.name
            )),
        );
    }
}

/// Whether the budget lets no pod be evicted while the workload runs `n` replicas.
fn blocks_at(d: &Disruption, n: u32) -> bool {
    match d {
        Disruption::MinAvailable(IntOrPct::Int(k)) => *k >= i64::from(n),
        // Kubernetes rounds a percentage of pods that must stay up upwards.
        Disruption::MinAvailable(IntOrPct::Pct(p)) => {
            u64::from(n) * u64::from(*p) > u64::from(n.saturating_sub(1)) * 100
        }
        Disruption::MaxUnavailable(IntOrPct::Int(k)) => *k <= 0,
        Disruption::MaxUnavailable(IntOrPct::Pct(p)) => *p == 0,
    }
}

/// E0303 when the budget blocks evictions at every replica count the workload may run
/// with (a drain would wait forever); W0006 when it blocks them only at the low end.
fn disruption(w: &Workload, diags: &mut Diagnostics) {
    let Some(d) = &w.disruption else { return };
    let path = match d {
        Disruption::MinAvailable(_) => "disruption.min_available",
        Disruption::MaxUnavailable(_) => "disruption.max_unavailable",
    };
    let (min, max) = (w.replicas.min(), w.replicas.max());
    let plural = |n: u32| if n == 1 { "" } else { "s" };
    if blocks_at(d, max) {
        diags.push(
            Diagnostic::new(
                Code::BLOCKING_DISRUPTION_BUDGET,
                w.span_of(path),
                format!(
                    "this disruption budget lets no pod of `{}` be evicted, even at {max} replica{}",
                    w.name,
                    plural(max)
                ),
            )
            .with_help("node drains would wait forever; allow one eviction (`max_unavailable = 1`) or run more replicas"),
        );
    } else if blocks_at(d, min) {
        diags.push(
            Diagnostic::new(
                Code::DISRUPTION_AT_MINIMUM,
                w.span_of(path),
                format!(
                    "this disruption budget lets no pod of `{}` be evicted while it runs {min} replica{}",
                    w.name,
                    plural(min)
                ),
            )
            .with_help(format!(
                "a node drain stalls until `{}` scales up; raise the minimum to {} or allow one eviction (`max_unavailable = 1`)",
                w.name,
                min + 1
            )),
        );
    }
}

fn volumes(w: &Workload, diags: &mut Diagnostics) {
    let max = w.replicas.max();
    if max <= 1 {
        if w.kind == Kind::Service
            && let Some(v) = w.volumes.iter().find(|v| v.persistent && !v.shared)
        {
            diags.push(
                Diagnostic::new(
                    Code::RECREATE_ROLLOUT,
                    w.span_of(&format!("volume.{}", v.name)),
                    format!(
                        "`{}` is rolled out by stopping the old pod before starting the new one",
                        w.name
                    ),
                )
                .with_help(format!(
                    "volume `{}` can be mounted by one pod at a time, so a new pod cannot start beside the old one: every rollout has a short downtime. Use storage many pods can mount (`shared = true`) to roll without it",
                    v.name
                )),
            );
        }
        return;
    }
    for v in &w.volumes {
        if v.persistent && !v.shared {
            diags.push(
                Diagnostic::new(
                    Code::SINGLE_ATTACH_VOLUME,
                    w.span_of(&format!("volume.{}", v.name)),
                    format!(
                        "volume `{}` can be mounted by one pod at a time, but `{}` may run {max} replicas",
                        v.name, w.name
                    ),
                )
                .with_help("run one replica, make the volume `shared = true` (ReadWriteMany storage), or drop `persistent` to give each pod its own volume"),
            );
        }
    }
}

fn mount_paths(w: &Workload, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    let mut paths: Vec<(&str, Span)> = Vec::new();
    for m in &w.mounts {
        paths.push((&m.at, w.span_of(&format!("mount {}", m.at))));
    }
    for v in &w.volumes {
        paths.push((&v.at, w.span_of(&format!("volume.{}.at", v.name))));
    }
    if let Some(s) = &w.storage {
        paths.push((&s.at, w.span_of("storage.at")));
    }
    for (p, span) in paths {
        let norm = p.trim_end_matches('/');
        if norm == "/tmp" {
            diags.push(
                Diagnostic::new(
                    Code::MOUNT_CONFLICT,
                    span,
                    format!("`{p}` is already mounted"),
                )
                .with_help(
                    "every container gets a writable emptyDir at `/tmp`; choose another path",
                ),
            );
            continue;
        }
        if let Some(first) = seen.get(norm) {
            diags.push(
                Diagnostic::new(Code::MOUNT_CONFLICT, span, format!("two mounts at `{p}`"))
                    .with_label(*first, "first mounted here"),
            );
            continue;
        }
        seen.insert(norm, span);
    }
}

fn name_lengths(w: &Workload, diags: &mut Diagnostics) {
    let too_long = |object: &str, name: String, limit: usize, diags: &mut Diagnostics| {
        if name.len() > limit {
            diags.push(
                Diagnostic::new(
                    Code::NAME_TOO_LONG,
                    w.span,
                    format!(
                        "the {object} `{name}` would be {} characters long; Kubernetes allows {limit}",
                        name.len()
                    ),
                )
                .with_help(format!("shorten `{}` by {} characters", w.name, name.len() - limit)),
            );
        }
    };
    if w.kind == Kind::Database {
        too_long("StatefulSet", w.name.clone(), MAX_STATEFULSET_NAME, diags);
        if w.backup.is_some() {
            too_long(
                "backup CronJob",
                format!("{}-backup", w.name),
                MAX_CRONJOB_NAME,
                diags,
            );
        }
    }
    if w.kind == Kind::Job && w.schedule.is_some() {
        too_long("CronJob", w.name.clone(), MAX_CRONJOB_NAME, diags);
    }
}

fn routes(m: &Model, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<(&str, &str), Span> = BTreeMap::new();
    for g in &m.gateways {
        for r in &g.routes {
            if let Some(first) = seen.get(&(g.host.as_str(), r.path.as_str())) {
                diags.push(
                    Diagnostic::new(
                        Code::DUPLICATE_ROUTE,
                        r.span,
                        format!("`{}{}` is routed twice", g.host, r.path),
                    )
                    .with_label(*first, "first routed here"),
                );
            } else {
                seen.insert((&g.host, &r.path), r.span);
            }
            if let Some(w) = m.workload(&r.target)
                && w.ready.is_none()
            {
                diags.push(
                    Diagnostic::new(
                        Code::ROUTED_WITHOUT_READINESS,
                        r.span,
                        format!("`{}` is routed but has no readiness probe", w.name),
                    )
                    .with_label(w.span, "declared here")
                    .with_help("without `ready`, new pods get traffic before they can serve it and rollouts drop requests; add `ready = http(\"/health\")` or `tcp(PORT)`"),
                );
            }
        }
    }
}

fn secret_store(m: &Model, diags: &mut Diagnostics) {
    if m.platform.secret_store.is_some() {
        return;
    }
    for s in &m.secrets {
        if let SecretSource::Vault { path } = &s.source {
            diags.push(
                Diagnostic::new(
                    Code::MISSING_FIELD,
                    s.span,
                    format!("secret `{}` reads `{path}` from Vault, but the platform has no `secret_store`", s.name),
                )
                .with_label(m.platform.span, "the platform")
                .with_help("add `secret_store = vault(\"https://vault.example:8200\", role: \"NAME\", mount: \"kv\")` to the platform"),
            );
        }
    }
}

fn undeclared_traffic(m: &Model, uses: &[&Use], diags: &mut Diagnostics) {
    for u in uses {
        let Some(from) = m.workload(&u.from) else {
            continue;
        };
        if from.calls.iter().any(|c| c.target == u.to) {
            continue;
        }
        diags.push(
            Diagnostic::new(
                Code::ADDRESS_WITHOUT_CALL,
                u.span,
                format!(
                    "`{}` connects to `{}` but does not list it in `calls`",
                    u.from, u.to
                ),
            )
            .with_help(format!(
                "network policies allow only declared calls: add `{}` to `calls` of `{}`",
                u.to, u.from
            )),
        );
    }
}
