//! Services, databases and jobs: their pods (hardened containers, probes, resources,
//! environment with secrets kept in Secrets, mounts and volumes), the controller that
//! runs them (Deployment, StatefulSet, Job, CronJob), and what keeps them reachable and
//! available (ServiceAccount, Services, HorizontalPodAutoscaler, PodDisruptionBudget,
//! PersistentVolumeClaims, backups, network and mesh policy).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment, StatefulSet,
    StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec,
};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HPAScalingRules, HorizontalPodAutoscaler,
    HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapKeySelector, ConfigMapVolumeSource, Container, ContainerPort,
    EmptyDirVolumeSource, EnvVar, EnvVarSource, EphemeralVolumeSource, ExecAction, GRPCAction,
    HTTPGetAction, PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimTemplate,
    PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SeccompProfile, SecretKeySelector, SecretVolumeSource, SecurityContext,
    Service, ServiceAccount, ServicePort, ServiceSpec, TCPSocketAction, TopologySpreadConstraint,
    Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::labels::{Cx, VERSION, backup_name};
use super::{Group, Object, Origin, Part, network};
use crate::check::model::{
    self as m, Disruption, EnvValue, IntOrPct, JobRun, MountSource, ProbeAction, Protocol,
    Replicas, Rotation, TextPart, Workload,
};
use crate::schema::Kind;

/// Defaults for a workload that sets no CPU or memory: every container gets requests
/// and limits, so that scheduling and eviction are predictable.
const DEFAULT_CPU: (&str, &str) = ("100m", "1");
const DEFAULT_MEMORY: (&str, &str) = ("128Mi", "512Mi");

/// Where the writable scratch directory is mounted in every container.
const TMP: &str = "/tmp";
/// Where a backup job finds its volume.
pub const BACKUP_DIR: &str = "/backup";

pub fn group(cx: &Cx, w: &Workload) -> Group {
    Group {
        file: file(w),
        origin: Origin::Decl(w.name.clone()),
        comment: Vec::new(),
        objects: objects(cx, w, |_| true)
            .into_iter()
            .map(|(_, o)| o)
            .collect(),
    }
}

/// The file of a workload's group.
pub fn file(w: &Workload) -> String {
    format!("{}-{}.yaml", w.kind.as_str(), w.name)
}

/// The objects of a workload's group that belong to the parts `want` takes, in the
/// group's order, each with its place: the objects of every part, sorted by place, are
/// the group. What each part reads is written at [`Part`]; no place holds objects of two
/// parts.
pub fn objects(cx: &Cx, w: &Workload, want: impl Fn(Part) -> bool) -> Vec<(u8, Object)> {
    let kind = w.kind.as_str();
    let mut objects = Vec::new();
    if want(Part::Fixed) {
        objects.push((0, Object::from(service_account(cx, &w.name, kind))));
        for v in w.volumes.iter().filter(|v| v.persistent) {
            objects.push((0, Object::from(persistent_claim(cx, w, v))));
        }
    }
    if want(Part::Replicas) {
        let pod = pod_template(cx, w);
        let workload = match (w.kind, &w.schedule) {
            (Kind::Database, _) => Object::from(stateful_set(cx, w, pod)),
            (Kind::Job, Some(schedule)) => Object::from(cron_job(cx, w, pod, schedule)),
            (Kind::Job, None) => Object::from(job(cx, w, pod)),
            _ => Object::from(deployment(cx, w, pod)),
        };
        objects.push((1, workload));
    }
    if want(Part::Fixed) {
        match w.kind {
            Kind::Database => {
                objects.push((2, Object::from(service(cx, w, &w.name, false))));
                let headless = headless_name(&w.name);
                objects.push((2, Object::from(service(cx, w, &headless, true))));
            }
            Kind::Job => {}
            _ if !w.ports.is_empty() => {
                objects.push((2, Object::from(service(cx, w, &w.name, false))));
            }
            _ => {}
        }
    }
    if want(Part::Replicas) {
        if let Replicas::Auto(s) = &w.replicas
            && !matches!(w.kind, Kind::Database | Kind::Job)
        {
            objects.push((3, Object::from(hpa(cx, w, s))));
        }
        if let Some(pdb) = pdb(cx, w) {
            objects.push((3, Object::from(pdb)));
        }
    }
    if want(Part::Mesh) {
        objects.push((4, Object::from(network::workload_policy(cx, w))));
        objects.extend(network::mesh_policies(cx, w).into_iter().map(|o| (4, o)));
    }
    if let (Some(backup), Some(dump)) = (&w.backup, &w.dump) {
        if want(Part::Fixed) {
            objects.extend(
                backup_objects(cx, w, backup, dump)
                    .into_iter()
                    .map(|o| (5, o)),
            );
        }
        if want(Part::Mesh) {
            let policy = network::backup_policy(cx, &backup_name(&w.name));
            objects.push((6, Object::from(policy)));
        }
    }
    objects
}

/// Every container image the groups of a model's workloads run, as [`group`] writes
/// them: each workload's own, and its backup's dump.
pub fn images(m: &crate::check::Model) -> impl Iterator<Item = &str> {
    m.workloads.iter().flat_map(|w| {
        let dump = match (&w.backup, &w.dump) {
            (Some(_), Some(dump)) => Some(dump.image.as_deref().unwrap_or(&w.image)),
            _ => None,
        };
        std::iter::once(w.image.as_str()).chain(dump)
    })
}

pub fn headless_name(db: &str) -> String {
    format!("{db}-headless")
}

fn service_account(cx: &Cx, name: &str, component: &str) -> ServiceAccount {
    ServiceAccount {
        metadata: cx.meta(name, name, component),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    }
}

fn selector(cx: &Cx, name: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(cx.selector(name)),
        ..LabelSelector::default()
    }
}

fn q(s: &str) -> Quantity {
    Quantity(s.to_string())
}

/// A workload's CPU and memory as `(request, limit)` texts, defaults applied.
pub fn resource_texts(w: &Workload) -> ((String, String), (String, String)) {
    let cpu = w.cpu.as_ref().map_or(
        (DEFAULT_CPU.0.to_string(), DEFAULT_CPU.1.to_string()),
        |r| (r.request.text(), r.limit.text()),
    );
    let mem = w.memory.as_ref().map_or(
        (DEFAULT_MEMORY.0.to_string(), DEFAULT_MEMORY.1.to_string()),
        |r| (r.request.text.clone(), r.limit.text.clone()),
    );
    (cpu, mem)
}

fn resources(w: &Workload) -> ResourceRequirements {
    let (cpu, mem) = resource_texts(w);
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), q(&cpu.0)),
            ("memory".to_string(), q(&mem.0)),
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".to_string(), q(&cpu.1)),
            ("memory".to_string(), q(&mem.1)),
        ])),
        ..ResourceRequirements::default()
    }
}

/// Kubernetes expands `$(VAR)` in env values, commands and arguments; a literal `$` that
/// could start such a reference (or is itself doubled) is written doubled.
pub fn escape_dollars(s: &str) -> String {
    if !s.contains('$') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 4);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' && matches!(chars.peek(), Some('(') | Some('$')) {
            out.push('$');
        }
    }
    out
}

/// The name of the variable that carries a secret or config key for interpolation.
fn helper_var(kind: &str, name: &str, key: &str) -> String {
    let mut v = String::with_capacity(9 + kind.len() + name.len() + key.len());
    for part in ["SORCHA", kind, name, key] {
        if !v.is_empty() {
            v.push('_');
        }
        v.extend(part.chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        }));
    }
    v
}

fn secret_ref(secret: &str, key: &str) -> EnvVarSource {
    EnvVarSource {
        secret_key_ref: Some(SecretKeySelector {
            name: secret.to_string(),
            key: key.to_string(),
            optional: Some(false),
        }),
        ..EnvVarSource::default()
    }
}

fn config_ref(cx: &Cx, config: &str, key: &str) -> EnvVarSource {
    EnvVarSource {
        config_map_key_ref: Some(ConfigMapKeySelector {
            name: cx.config_map_name(config),
            key: key.to_string(),
            optional: Some(false),
        }),
        ..EnvVarSource::default()
    }
}

/// The container environment. Secret and config keys inside strings are bound to helper
/// variables first, and the strings refer to them as `$(VAR)`: Kubernetes assembles the
/// value in the container, so the secret never leaves its Secret.
pub fn env(cx: &Cx, vars: &[m::EnvVar], fixed: &[(&str, String)]) -> Vec<EnvVar> {
    let mut helpers: Vec<EnvVar> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(vars.len() + fixed.len());
    for (name, value) in fixed {
        out.push(EnvVar {
            name: (*name).to_string(),
            value: Some(escape_dollars(value)),
            ..EnvVar::default()
        });
    }
    for v in vars {
        let var = match &v.value {
            EnvValue::SecretKey { secret, key } => EnvVar {
                name: v.name.clone(),
                value_from: Some(secret_ref(secret, key)),
                ..EnvVar::default()
            },
            EnvValue::ConfigKey { config, key } => EnvVar {
                name: v.name.clone(),
                value_from: Some(config_ref(cx, config, key)),
                ..EnvVar::default()
            },
            EnvValue::Text(t) => {
                let mut value = String::new();
                for part in &t.parts {
                    match part {
                        TextPart::Lit(s) => value.push_str(&escape_dollars(s)),
                        TextPart::Secret { secret, key } => {
                            let name = cx.m.name(*secret);
                            let h = helper_var("SECRET", name, key);
                            if seen.insert(h.clone()) {
                                helpers.push(EnvVar {
                                    name: h.clone(),
                                    value_from: Some(secret_ref(name, key)),
                                    ..EnvVar::default()
                                });
                            }
                            value.push_str("$(");
                            value.push_str(&h);
                            value.push(')');
                        }
                        TextPart::Config { config, key } => {
                            let name = cx.m.name(*config);
                            let h = helper_var("CONFIG", name, key);
                            if seen.insert(h.clone()) {
                                helpers.push(EnvVar {
                                    name: h.clone(),
                                    value_from: Some(config_ref(cx, name, key)),
                                    ..EnvVar::default()
                                });
                            }
                            value.push_str("$(");
                            value.push_str(&h);
                            value.push(')');
                        }
                    }
                }
                EnvVar {
                    name: v.name.clone(),
                    value: Some(value),
                    ..EnvVar::default()
                }
            }
        };
        out.push(var);
    }
    helpers.extend(out);
    helpers
}

/// The secrets a list of env vars reads.
fn env_secrets(cx: &Cx, vars: &[m::EnvVar], secrets: &mut BTreeSet<String>) {
    for v in vars {
        match &v.value {
            EnvValue::SecretKey { secret, .. } => {
                secrets.insert(secret.clone());
            }
            EnvValue::ConfigKey { .. } => {}
            EnvValue::Text(t) => {
                for p in &t.parts {
                    if let TextPart::Secret { secret, .. } = p {
                        secrets.insert(cx.m.name(*secret).to_string());
                    }
                }
            }
        }
    }
}

/// Annotations that roll pods when a secret that rotates with a restart changes: the
/// Reloader annotation (a secret's content is only known in the cluster). Configs need
/// none: a ConfigMap's name carries its content hash, so new content is a new pod
/// template.
fn rollout_annotations(cx: &Cx, secrets: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    let restart: Vec<&str> = secrets
        .iter()
        .filter(|s| {
            cx.m.secret(s)
                .is_some_and(|s| s.rotation == Rotation::Restart)
        })
        .map(String::as_str)
        .collect();
    if !restart.is_empty() {
        a.insert(
            "secret.reloader.stakater.com/reload".into(),
            restart.join(","),
        );
    }
    a
}

fn probe(w: &Workload, p: &m::Probe) -> Probe {
    let port_name = |name: &str| IntOrString::String(name.to_string());
    let mut out = Probe {
        initial_delay_seconds: p.delay.map(|s| s as i32),
        period_seconds: p.period.map(|s| s as i32),
        timeout_seconds: p.timeout.map(|s| s as i32),
        failure_threshold: p.failures.map(|s| s as i32),
        ..Probe::default()
    };
    match &p.action {
        ProbeAction::Http { path, port } => {
            out.http_get = Some(HTTPGetAction {
                path: Some(path.clone()),
                port: port_name(port),
                scheme: Some("HTTP".into()),
                ..HTTPGetAction::default()
            })
        }
        ProbeAction::Grpc { port } => {
            out.grpc = Some(GRPCAction {
                port: w.port(port).map_or(0, |p| i32::from(p.number)),
                service: None,
            })
        }
        ProbeAction::Tcp { port } => {
            out.tcp_socket = Some(TCPSocketAction {
                port: port_name(port),
                host: None,
            })
        }
        ProbeAction::Exec(argv) => {
            out.exec = Some(ExecAction {
                command: Some(argv.clone()),
            })
        }
    }
    out
}

fn protocol(p: Protocol) -> &'static str {
    if p == Protocol::Udp { "UDP" } else { "TCP" }
}

/// The hardened container security context; `NET_BIND_SERVICE` only for ports below 1024.
fn container_security(w: &Workload, low_port: bool) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        read_only_root_filesystem: Some(w.security.read_only_root),
        run_as_non_root: Some(true),
        run_as_user: w.security.run_as,
        run_as_group: w.security.group,
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: low_port.then(|| vec!["NET_BIND_SERVICE".into()]),
        }),
        seccomp_profile: Some(runtime_default()),
        ..SecurityContext::default()
    }
}

fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".into(),
        localhost_profile: None,
    }
}

fn pod_security(w: &Workload) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: w.security.run_as,
        run_as_group: w.security.group,
        fs_group: w.security.group,
        fs_group_change_policy: w.security.group.map(|_| "OnRootMismatch".into()),
        seccomp_profile: Some(runtime_default()),
        ..PodSecurityContext::default()
    }
}

fn tmp_volume() -> (Volume, VolumeMount) {
    (
        Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        },
        VolumeMount {
            name: "tmp".into(),
            mount_path: TMP.into(),
            ..VolumeMount::default()
        },
    )
}

/// A volume name: DNS label, at most 63 characters.
fn volume_name(prefix: &str, name: &str) -> String {
    let n = format!("{prefix}-{name}");
    if n.len() <= 63 {
        return n;
    }
    let hash: u32 = n.bytes().fold(2166136261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16777619)
    });
    format!("{}-{:08x}", &n[..54].trim_end_matches('-'), hash)
}

pub fn persistent_claim_name(w: &Workload, v: &m::Volume) -> String {
    format!("{}-{}", w.name, v.name)
}

fn claim_spec(size: &str, class: Option<&String>, shared: bool) -> PersistentVolumeClaimSpec {
    PersistentVolumeClaimSpec {
        access_modes: Some(vec![
            if shared {
                "ReadWriteMany"
            } else {
                "ReadWriteOnce"
            }
            .into(),
        ]),
        storage_class_name: class.cloned(),
        resources: Some(VolumeResourceRequirements {
            requests: Some(BTreeMap::from([("storage".to_string(), q(size))])),
            ..VolumeResourceRequirements::default()
        }),
        ..PersistentVolumeClaimSpec::default()
    }
}

fn persistent_claim(cx: &Cx, w: &Workload, v: &m::Volume) -> PersistentVolumeClaim {
    let size = v
        .size
        .as_ref()
        .map_or("1Gi".to_string(), |s| s.text.clone());
    PersistentVolumeClaim {
        metadata: cx.meta(&persistent_claim_name(w, v), &w.name, w.kind.as_str()),
        spec: Some(claim_spec(&size, v.class.as_ref(), v.shared)),
        ..PersistentVolumeClaim::default()
    }
}

/// The pod of a workload: one hardened container and its volumes.
fn pod_template(cx: &Cx, w: &Workload) -> PodTemplateSpec {
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    let (tv, tm) = tmp_volume();
    volumes.push(tv);
    mounts.push(tm);
    let mut secrets = BTreeSet::new();
    for mnt in &w.mounts {
        let volume = match &mnt.source {
            MountSource::Config(c) => Volume {
                name: volume_name("config", c),
                config_map: Some(ConfigMapVolumeSource {
                    name: cx.config_map_name(c),
                    ..ConfigMapVolumeSource::default()
                }),
                ..Volume::default()
            },
            MountSource::Secret(s) => {
                secrets.insert(s.clone());
                Volume {
                    name: volume_name("secret", s),
                    secret: Some(SecretVolumeSource {
                        secret_name: Some(s.clone()),
                        default_mode: Some(0o440),
                        ..SecretVolumeSource::default()
                    }),
                    ..Volume::default()
                }
            }
        };
        mounts.push(VolumeMount {
            name: volume.name.clone(),
            mount_path: mnt.at.clone(),
            read_only: Some(true),
            ..VolumeMount::default()
        });
        volumes.push(volume);
    }
    for v in &w.volumes {
        let name = volume_name("volume", &v.name);
        let mut vol = Volume {
            name: name.clone(),
            ..Volume::default()
        };
        if v.persistent {
            vol.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                claim_name: persistent_claim_name(w, v),
                read_only: None,
            });
        } else if let Some(size) = &v.size {
            vol.ephemeral = Some(EphemeralVolumeSource {
                volume_claim_template: Some(PersistentVolumeClaimTemplate {
                    metadata: Some(ObjectMeta {
                        labels: Some(cx.labels(&w.name, w.kind.as_str())),
                        ..ObjectMeta::default()
                    }),
                    spec: claim_spec(&size.text, v.class.as_ref(), false),
                }),
            });
        } else {
            vol.empty_dir = Some(EmptyDirVolumeSource::default());
        }
        volumes.push(vol);
        mounts.push(VolumeMount {
            name,
            mount_path: v.at.clone(),
            ..VolumeMount::default()
        });
    }
    if let Some(s) = &w.storage {
        mounts.push(VolumeMount {
            name: "data".into(),
            mount_path: s.at.clone(),
            ..VolumeMount::default()
        });
    }
    env_secrets(cx, &w.env, &mut secrets);
    let low_port = w.ports.iter().any(|p| p.number < 1024);
    let container = Container {
        name: w.name.clone(),
        image: Some(w.image.clone()),
        image_pull_policy: Some("Always".into()),
        command: w
            .command
            .as_ref()
            .map(|c| c.iter().map(|s| escape_dollars(s)).collect()),
        args: w
            .args
            .as_ref()
            .map(|c| c.iter().map(|s| escape_dollars(s)).collect()),
        ports: (!w.ports.is_empty()).then(|| {
            w.ports
                .iter()
                .map(|p| ContainerPort {
                    name: Some(p.name.clone()),
                    container_port: i32::from(p.number),
                    protocol: Some(protocol(p.protocol).into()),
                    ..ContainerPort::default()
                })
                .collect()
        }),
        env: (!w.env.is_empty()).then(|| env(cx, &w.env, &[])),
        resources: Some(resources(w)),
        readiness_probe: w.ready.as_ref().map(|p| probe(w, p)),
        liveness_probe: w.live.as_ref().map(|p| probe(w, p)),
        startup_probe: w.startup.as_ref().map(|p| probe(w, p)),
        security_context: Some(container_security(w, low_port)),
        volume_mounts: Some(mounts),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Container::default()
    };
    // Jobs read their configuration when they start, and a Job's pod template cannot
    // change after it is created: only long-running workloads get rollout annotations.
    let annotations = if w.kind == Kind::Job {
        BTreeMap::new()
    } else {
        rollout_annotations(cx, &secrets)
    };
    let mut labels = cx.labels(&w.name, w.kind.as_str());
    labels.extend(cx.selector(&w.name));
    // A Job's template cannot change once it exists: it does not carry the version, so
    // that a new release does not make the Job impossible to apply.
    if w.kind == Kind::Job && w.schedule.is_none() {
        labels.remove(VERSION);
    }
    let spread = w.kind != Kind::Job && w.replicas.max() >= 2;
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            service_account_name: Some(w.name.clone()),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            security_context: Some(pod_security(w)),
            containers: vec![container],
            volumes: Some(volumes),
            restart_policy: (w.kind == Kind::Job).then(|| "Never".into()),
            topology_spread_constraints: spread.then(|| {
                ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
                    .iter()
                    .map(|key| TopologySpreadConstraint {
                        max_skew: 1,
                        topology_key: (*key).into(),
                        when_unsatisfiable: "ScheduleAnyway".into(),
                        label_selector: Some(selector(cx, &w.name)),
                        ..TopologySpreadConstraint::default()
                    })
                    .collect()
            }),
            ..PodSpec::default()
        }),
    }
}

fn int_or_pct(v: IntOrPct) -> IntOrString {
    match v {
        IntOrPct::Int(i) => IntOrString::Int(i as i32),
        IntOrPct::Pct(p) => IntOrString::String(format!("{p}%")),
    }
}

/// Whether the workload mounts a volume one pod at a time can use.
fn single_attach(w: &Workload) -> bool {
    w.volumes.iter().any(|v| v.persistent && !v.shared)
}

fn deployment(cx: &Cx, w: &Workload, template: PodTemplateSpec) -> Deployment {
    Deployment {
        metadata: cx.meta(&w.name, &w.name, w.kind.as_str()),
        spec: Some(DeploymentSpec {
            replicas: match &w.replicas {
                Replicas::Fixed(n) => Some(*n as i32),
                Replicas::Auto(_) => None,
            },
            selector: selector(cx, &w.name),
            strategy: Some(if single_attach(w) {
                // The new pod could not mount the volume beside the old one (W0007).
                DeploymentStrategy {
                    type_: Some("Recreate".into()),
                    rolling_update: None,
                }
            } else {
                DeploymentStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: Some(int_or_pct(w.rollout.max_surge)),
                        max_unavailable: Some(int_or_pct(w.rollout.max_unavailable)),
                    }),
                }
            }),
            progress_deadline_seconds: Some(w.rollout.deadline as i32),
            revision_history_limit: Some(10),
            template,
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

fn stateful_set(cx: &Cx, w: &Workload, template: PodTemplateSpec) -> StatefulSet {
    let claims = w.storage.as_ref().map(|s| {
        vec![PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some("data".into()),
                // Claim templates cannot change: no version label, which every release
                // would change.
                labels: Some({
                    let mut l = cx.labels(&w.name, w.kind.as_str());
                    l.remove(VERSION);
                    l
                }),
                ..ObjectMeta::default()
            },
            spec: Some(claim_spec(&s.size.text, s.class.as_ref(), false)),
            ..PersistentVolumeClaim::default()
        }]
    });
    StatefulSet {
        metadata: cx.meta(&w.name, &w.name, w.kind.as_str()),
        spec: Some(StatefulSetSpec {
            replicas: Some(w.replicas.min() as i32),
            selector: selector(cx, &w.name),
            service_name: Some(headless_name(&w.name)),
            pod_management_policy: Some("OrderedReady".into()),
            persistent_volume_claim_retention_policy: Some(
                StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some("Retain".into()),
                    when_scaled: Some("Retain".into()),
                },
            ),
            revision_history_limit: Some(10),
            template,
            volume_claim_templates: claims,
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

fn job_spec(w: &Workload, template: PodTemplateSpec) -> JobSpec {
    JobSpec {
        backoff_limit: Some(w.retries as i32),
        active_deadline_seconds: w.deadline.map(i64::from),
        template,
        ..JobSpec::default()
    }
}

fn job(cx: &Cx, w: &Workload, template: PodTemplateSpec) -> Job {
    let mut meta = cx.meta(&w.name, &w.name, w.kind.as_str());
    if w.run == JobRun::BeforeRollout {
        meta.annotations = Some(BTreeMap::from([(
            "sorcha.dev/run".to_string(),
            "before-rollout".to_string(),
        )]));
    }
    Job {
        metadata: meta,
        spec: Some(job_spec(w, template)),
        ..Job::default()
    }
}

fn cron_job(cx: &Cx, w: &Workload, template: PodTemplateSpec, schedule: &str) -> CronJob {
    CronJob {
        metadata: cx.meta(&w.name, &w.name, w.kind.as_str()),
        spec: Some(CronJobSpec {
            schedule: schedule.into(),
            concurrency_policy: Some("Forbid".into()),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(1),
            job_template: JobTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(cx.labels(&w.name, w.kind.as_str())),
                    ..ObjectMeta::default()
                }),
                spec: Some(job_spec(w, template)),
            },
            ..CronJobSpec::default()
        }),
        ..CronJob::default()
    }
}

fn service(cx: &Cx, w: &Workload, name: &str, headless: bool) -> Service {
    Service {
        metadata: cx.meta(name, &w.name, w.kind.as_str()),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: headless.then(|| "None".into()),
            selector: Some(cx.selector(&w.name)),
            ports: Some(
                w.ports
                    .iter()
                    .map(|p| ServicePort {
                        name: Some(p.name.clone()),
                        port: i32::from(if headless { p.number } else { p.service_port() }),
                        target_port: Some(IntOrString::String(p.name.clone())),
                        protocol: Some(protocol(p.protocol).into()),
                        app_protocol: match p.protocol {
                            Protocol::Http => Some("http".into()),
                            Protocol::Grpc => Some("grpc".into()),
                            _ => None,
                        },
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

fn hpa(cx: &Cx, w: &Workload, s: &m::Scale) -> HorizontalPodAutoscaler {
    let metric = |name: &str, pct: u32| MetricSpec {
        type_: "Resource".into(),
        resource: Some(ResourceMetricSource {
            name: name.into(),
            target: MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(pct as i32),
                ..MetricTarget::default()
            },
        }),
        ..MetricSpec::default()
    };
    let mut metrics = Vec::new();
    if let Some(c) = s.cpu {
        metrics.push(metric("cpu", c));
    }
    if let Some(mm) = s.memory {
        metrics.push(metric("memory", mm));
    }
    HorizontalPodAutoscaler {
        metadata: cx.meta(&w.name, &w.name, w.kind.as_str()),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: w.name.clone(),
            },
            min_replicas: Some(s.min as i32),
            max_replicas: s.max as i32,
            metrics: Some(metrics),
            behavior: Some(HorizontalPodAutoscalerBehavior {
                scale_down: Some(HPAScalingRules {
                    stabilization_window_seconds: Some(s.cooldown as i32),
                    ..HPAScalingRules::default()
                }),
                ..HorizontalPodAutoscalerBehavior::default()
            }),
        }),
        ..HorizontalPodAutoscaler::default()
    }
}

/// The disruption budget: as written, or `max_unavailable = 1` for a workload that can
/// run two or more replicas. Unhealthy pods may always be evicted, so a drain never waits
/// on a pod that is not serving anyway. A single-replica workload gets none: a budget
/// could only block its drain.
fn pdb(cx: &Cx, w: &Workload) -> Option<PodDisruptionBudget> {
    if w.kind == Kind::Job {
        return None;
    }
    let (min_available, max_unavailable) = match &w.disruption {
        Some(Disruption::MinAvailable(v)) => (Some(int_or_pct(*v)), None),
        Some(Disruption::MaxUnavailable(v)) => (None, Some(int_or_pct(*v))),
        None if w.replicas.max() >= 2 => (None, Some(IntOrString::Int(1))),
        None => return None,
    };
    Some(PodDisruptionBudget {
        metadata: cx.meta(&w.name, &w.name, w.kind.as_str()),
        spec: Some(PodDisruptionBudgetSpec {
            selector: Some(selector(cx, &w.name)),
            min_available,
            max_unavailable,
            unhealthy_pod_eviction_policy: Some("AlwaysAllow".into()),
        }),
        ..PodDisruptionBudget::default()
    })
}

/// A database's backups: a CronJob running the template's dump command with the backup
/// volume at `/backup`, its own ServiceAccount and volume. Its network access, to the
/// database alone, is [`network::backup_policy`] (which reads the mesh).
fn backup_objects(cx: &Cx, w: &Workload, b: &m::Backup, dump: &m::Dump) -> Vec<Object> {
    let name = backup_name(&w.name);
    let component = "backup";
    let (tv, tm) = tmp_volume();
    let mut secrets = BTreeSet::new();
    env_secrets(cx, &dump.env, &mut secrets);
    let container = Container {
        name: "dump".into(),
        image: Some(dump.image.clone().unwrap_or_else(|| w.image.clone())),
        image_pull_policy: Some("Always".into()),
        command: Some(dump.command.iter().map(|s| escape_dollars(s)).collect()),
        env: Some(env(
            cx,
            &dump.env,
            &[
                ("BACKUP_DIR", BACKUP_DIR.to_string()),
                ("BACKUP_KEEP", b.keep.to_string()),
            ],
        )),
        resources: Some(ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".to_string(), q("100m")),
                ("memory".to_string(), q("128Mi")),
            ])),
            limits: Some(BTreeMap::from([
                ("cpu".to_string(), q("1")),
                ("memory".to_string(), q("1Gi")),
            ])),
            ..ResourceRequirements::default()
        }),
        security_context: Some(container_security(w, false)),
        volume_mounts: Some(vec![
            tm,
            VolumeMount {
                name: "backup".into(),
                mount_path: BACKUP_DIR.into(),
                ..VolumeMount::default()
            },
        ]),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Container::default()
    };
    let mut labels = cx.labels(&name, component);
    labels.extend(cx.selector(&name));
    let template = PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            service_account_name: Some(name.clone()),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            security_context: Some(pod_security(w)),
            restart_policy: Some("Never".into()),
            containers: vec![container],
            volumes: Some(vec![
                tv,
                Volume {
                    name: "backup".into(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: name.clone(),
                        read_only: None,
                    }),
                    ..Volume::default()
                },
            ]),
            ..PodSpec::default()
        }),
    };
    let cron = CronJob {
        metadata: cx.meta(&name, &name, component),
        spec: Some(CronJobSpec {
            schedule: b.schedule.clone(),
            concurrency_policy: Some("Forbid".into()),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(cx.labels(&name, component)),
                    ..ObjectMeta::default()
                }),
                spec: Some(JobSpec {
                    backoff_limit: Some(2),
                    template,
                    ..JobSpec::default()
                }),
            },
            ..CronJobSpec::default()
        }),
        ..CronJob::default()
    };
    let claim = PersistentVolumeClaim {
        metadata: cx.meta(&name, &name, component),
        spec: Some(claim_spec(&b.size.text, b.class.as_ref(), false)),
        ..PersistentVolumeClaim::default()
    };
    vec![
        Object::from(service_account(cx, &name, component)),
        Object::from(claim),
        Object::from(cron),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_that_kubernetes_would_expand_are_doubled() {
        assert_eq!(escape_dollars("plain"), "plain");
        assert_eq!(escape_dollars("$HOME and $(date)"), "$HOME and $$(date)");
        assert_eq!(escape_dollars("a$$b"), "a$$$b");
        assert_eq!(escape_dollars("$((1 + 2))"), "$$((1 + 2))");
    }

    #[test]
    fn helper_variables_are_valid_names() {
        assert_eq!(
            helper_var("SECRET", "db-admin", "pass.word"),
            "SORCHA_SECRET_DB_ADMIN_PASS_WORD"
        );
    }

    #[test]
    fn long_volume_names_stay_dns_labels() {
        let n = volume_name("config", &"x".repeat(63));
        assert!(n.len() <= 63, "{n}");
        assert!(crate::check::names::dns_label(&n).is_ok(), "{n}");
    }
}
