//! The typed model of one environment: every declaration fully evaluated, defaults
//! applied, references resolved to names. This is what the emitters consume; it holds
//! no syntax, only origin spans for the few diagnostics later phases raise.

use foldhash::{HashMap, HashMapExt};
use std::sync::Arc;

pub use super::value::{Bytes, IntOrPct, Millicores, Res, Text, TextPart};
use crate::resolve::DeclId;
use crate::schema::Kind;
use crate::source::{Span, Spans};

/// One environment's platform. Declarations an environment does not change are shared
/// with the other environments' models.
#[derive(Clone, Debug)]
pub struct Model {
    /// The environment's name (`default` when the program declares none).
    pub env: String,
    pub platform: Platform,
    pub workloads: Vec<Arc<Workload>>,
    pub secrets: Vec<Arc<Secret>>,
    pub configs: Vec<Arc<Config>>,
    pub gateways: Vec<Arc<Gateway>>,
    /// Every declaration by name: its kind and its place among those of its kind
    /// (shared by the models of one program's environments).
    index: Arc<HashMap<String, (Kind, usize)>>,
    /// Declaration names by id, for `TextPart` references.
    names: Arc<Vec<String>>,
}

/// One checked declaration.
#[derive(Clone, Debug)]
pub enum Built {
    Workload(Arc<Workload>),
    Secret(Arc<Secret>),
    Config(Arc<Config>),
    Gateway(Arc<Gateway>),
    /// The platform or an environment: part of the model in another way.
    None,
}

impl Model {
    /// Assembles a model from its declarations, in declaration order. `like` is a
    /// model of the same program (the base, for an environment's): when its
    /// declarations sit in the same places, its index by name is shared, not rebuilt.
    pub fn new(
        env: String,
        platform: Platform,
        decls: impl IntoIterator<Item = Built>,
        names: Arc<Vec<String>>,
        like: Option<&Model>,
    ) -> Model {
        let mut m = Model {
            env,
            platform,
            workloads: Vec::new(),
            secrets: Vec::new(),
            configs: Vec::new(),
            gateways: Vec::new(),
            index: Arc::default(),
            names,
        };
        for d in decls {
            match d {
                Built::Workload(w) => m.workloads.push(w),
                Built::Secret(s) => m.secrets.push(s),
                Built::Config(c) => m.configs.push(c),
                Built::Gateway(g) => m.gateways.push(g),
                Built::None => {}
            }
        }
        m.index = match like {
            Some(l) if m.same_places(l) => Arc::clone(&l.index),
            _ => Arc::new(m.build_index()),
        };
        m
    }

    /// Every declaration by name: its kind and its place among those of its kind.
    fn build_index(&self) -> HashMap<String, (Kind, usize)> {
        let mut index = HashMap::with_capacity(
            self.workloads.len() + self.secrets.len() + self.configs.len() + self.gateways.len(),
        );
        for (i, w) in self.workloads.iter().enumerate() {
            index.insert(w.name.clone(), (w.kind, i));
        }
        for (i, s) in self.secrets.iter().enumerate() {
            index.insert(s.name.clone(), (Kind::Secret, i));
        }
        for (i, c) in self.configs.iter().enumerate() {
            index.insert(c.name.clone(), (Kind::Config, i));
        }
        for (i, g) in self.gateways.iter().enumerate() {
            index.insert(g.name.clone(), (Kind::Gateway, i));
        }
        index
    }

    /// Whether `other` has the same declarations, of the same kinds, in the same places.
    fn same_places(&self, other: &Model) -> bool {
        fn same<T>(a: &[Arc<T>], b: &[Arc<T>], key: impl Fn(&T) -> (&str, Kind)) -> bool {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| key(x) == key(y))
        }
        same(&self.workloads, &other.workloads, |w| (&w.name, w.kind))
            && same(&self.secrets, &other.secrets, |s| (&s.name, Kind::Secret))
            && same(&self.configs, &other.configs, |c| (&c.name, Kind::Config))
            && same(&self.gateways, &other.gateways, |g| {
                (&g.name, Kind::Gateway)
            })
    }

    pub fn workload(&self, name: &str) -> Option<&Workload> {
        match self.index.get(name)? {
            (k, i) if k.is_workload() => self.workloads.get(*i).map(|w| &**w),
            _ => None,
        }
    }

    pub fn secret(&self, name: &str) -> Option<&Secret> {
        match self.index.get(name)? {
            (Kind::Secret, i) => self.secrets.get(*i).map(|s| &**s),
            _ => None,
        }
    }

    pub fn config(&self, name: &str) -> Option<&Config> {
        match self.index.get(name)? {
            (Kind::Config, i) => self.configs.get(*i).map(|c| &**c),
            _ => None,
        }
    }

    /// The name of a declaration.
    pub fn name(&self, id: DeclId) -> &str {
        self.names
            .get(id.0 as usize)
            .map(String::as_str)
            .unwrap_or("")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mesh {
    None,
    Linkerd,
    Istio,
}

/// `vault(address, role:, mount:)`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultStore {
    pub address: String,
    pub role: String,
    pub mount: String,
}

/// Who may read the platform's Secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Group(String),
    User(String),
    ServiceAccount { namespace: String, name: String },
}

#[derive(Clone, Debug)]
pub struct Platform {
    pub name: String,
    pub doc: Option<String>,
    pub namespace: String,
    pub version: Option<String>,
    /// (major, minor)
    pub kubernetes: (u32, u32),
    pub registry: Option<String>,
    pub labels: Vec<(String, String)>,
    pub mesh: Mesh,
    /// The namespace the ingress controller runs in.
    pub ingress_from: String,
    pub secret_store: Option<VaultStore>,
    pub admins: Vec<Subject>,
    pub span: Span,
}

impl Platform {
    /// The settings of a program that declares no platform (already an error), so that
    /// the rest of the program can still be checked.
    pub fn fallback() -> Platform {
        Platform {
            name: "platform".to_string(),
            doc: None,
            namespace: "platform".to_string(),
            version: None,
            kubernetes: (1, 33),
            registry: None,
            labels: Vec::new(),
            mesh: Mesh::None,
            ingress_from: "ingress-nginx".to_string(),
            secret_store: None,
            admins: Vec::new(),
            span: Span::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Grpc,
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    /// The container port.
    pub number: u16,
    /// The Service port, when it differs.
    pub expose: Option<u16>,
    pub protocol: Protocol,
}

impl Port {
    /// The port clients connect to on the Service.
    pub fn service_port(&self) -> u16 {
        self.expose.unwrap_or(self.number)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeAction {
    Http { path: String, port: String },
    Grpc { port: String },
    Tcp { port: String },
    Exec(Vec<String>),
}

/// A probe and its timings (seconds; `None` leaves the Kubernetes default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub action: ProbeAction,
    pub delay: Option<u32>,
    pub period: Option<u32>,
    pub timeout: Option<u32>,
    pub failures: Option<u32>,
}

/// Autoscaling bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scale {
    pub min: u32,
    pub max: u32,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    /// Scale-down stabilisation window, seconds.
    pub cooldown: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replicas {
    Fixed(u32),
    Auto(Scale),
}

impl Replicas {
    /// The fewest replicas the workload runs with.
    pub fn min(&self) -> u32 {
        match self {
            Replicas::Fixed(n) => *n,
            Replicas::Auto(s) => s.min,
        }
    }

    /// The most replicas the workload may run with.
    pub fn max(&self) -> u32 {
        match self {
            Replicas::Fixed(n) => *n,
            Replicas::Auto(s) => s.max,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rollout {
    pub max_surge: IntOrPct,
    pub max_unavailable: IntOrPct,
    /// progressDeadlineSeconds
    pub deadline: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disruption {
    MinAvailable(IntOrPct),
    MaxUnavailable(IntOrPct),
}

/// What an environment variable is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvValue {
    Text(Text),
    SecretKey { secret: String, key: String },
    ConfigKey { config: String, key: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: EnvValue,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MountSource {
    Secret(String),
    Config(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub source: MountSource,
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Volume {
    pub name: String,
    pub at: String,
    pub size: Option<Bytes>,
    pub class: Option<String>,
    pub persistent: bool,
    pub shared: bool,
}

/// A declared connection: to a workload, on one port or all of its ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub target: String,
    pub port: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Egress {
    /// An IPv4 network and port.
    Cidr { network: String, port: u16 },
    /// A host name and port: allowed to every public address on that port.
    Host { host: String, port: u16 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Security {
    pub run_as: Option<i64>,
    pub group: Option<i64>,
    pub read_only_root: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Storage {
    pub size: Bytes,
    pub class: Option<String>,
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backup {
    pub schedule: String,
    pub keep: u32,
    pub size: Bytes,
    pub class: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dump {
    pub command: Vec<String>,
    pub env: Vec<EnvVar>,
    pub image: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobRun {
    Once,
    BeforeRollout,
}

/// A service, database or job.
#[derive(Clone, Debug)]
pub struct Workload {
    pub id: DeclId,
    pub name: String,
    pub kind: Kind,
    pub doc: Option<String>,
    /// The name as written.
    pub span: Span,
    /// The template it was made from, as written (`std.postgres`).
    pub template: Option<String>,
    pub image: String,
    pub ports: Vec<Port>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub ready: Option<Probe>,
    pub live: Option<Probe>,
    pub startup: Option<Probe>,
    pub cpu: Option<Res<Millicores>>,
    pub memory: Option<Res<Bytes>>,
    pub replicas: Replicas,
    pub rollout: Rollout,
    pub disruption: Option<Disruption>,
    pub env: Vec<EnvVar>,
    pub mounts: Vec<Mount>,
    pub volumes: Vec<Volume>,
    pub calls: Vec<Call>,
    pub egress: Vec<Egress>,
    pub security: Security,
    pub storage: Option<Storage>,
    pub backup: Option<Backup>,
    pub dump: Option<Dump>,
    pub schedule: Option<String>,
    pub run: JobRun,
    pub retries: u32,
    /// activeDeadlineSeconds
    pub deadline: Option<u32>,
    /// Spans of values by path (`scale.min`), for diagnostics raised by platform rules.
    pub spans: ValueSpans,
}

/// The spans of a workload's values by path (`scale.min`, `volume.cache.at`), in the
/// order they were written. Read only to place a diagnostic, so a list: it is made for
/// every workload and looked up for a few. The paths are written one after another into
/// one text, so a workload's paths take two allocations, not one each.
#[derive(Clone, Debug, Default)]
pub struct ValueSpans {
    paths: String,
    /// Where each path ends in `paths` (it starts where the one before ends), and its span.
    ends: Vec<(usize, Span)>,
}

impl ValueSpans {
    pub fn push(&mut self, path: &str, span: Span) {
        self.push_with(span, |t| t.push_str(path));
    }

    /// Adds a path that `write` appends to the text.
    pub fn push_with(&mut self, span: Span, write: impl FnOnce(&mut String)) {
        write(&mut self.paths);
        self.ends.push((self.paths.len(), span));
    }

    pub fn get(&self, path: &str) -> Option<Span> {
        (0..self.ends.len()).rev().find_map(|i| {
            let start = i.checked_sub(1).map_or(0, |before| self.ends[before].0);
            let (end, span) = self.ends[i];
            (self.paths.get(start..end) == Some(path)).then_some(span)
        })
    }

    pub fn contains(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    pub fn values(&self) -> impl Iterator<Item = &Span> {
        self.ends.iter().map(|(_, s)| s)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Span> {
        self.ends.iter_mut().map(|(_, s)| s)
    }
}

impl Workload {
    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name == name)
    }

    /// The span of the value at `path`, or the workload's name.
    pub fn span_of(&self, path: &str) -> Span {
        self.spans.get(path).unwrap_or(self.span)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    Vault { path: String },
    Deploy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    Restart,
    Live,
}

#[derive(Clone, Debug)]
pub struct Secret {
    pub id: DeclId,
    pub name: String,
    pub doc: Option<String>,
    pub keys: Vec<String>,
    pub source: SecretSource,
    /// Seconds between reads of the secret store.
    pub refresh: u64,
    pub rotation: Rotation,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigEntry {
    pub key: String,
    pub value: String,
    /// The file it was read from, as written in `file("...")`.
    pub file: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub id: DeclId,
    pub name: String,
    pub doc: Option<String>,
    pub entries: Vec<ConfigEntry>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tls {
    Issuer(String),
    Secret(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatewayApi {
    Ingress,
    GatewayApi,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub path: String,
    pub target: String,
    pub port: String,
    /// Seconds.
    pub timeout: Option<u64>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Gateway {
    pub id: DeclId,
    pub name: String,
    pub doc: Option<String>,
    pub host: String,
    pub tls: Option<Tls>,
    pub class: Option<String>,
    pub api: GatewayApi,
    pub routes: Vec<Route>,
    pub span: Span,
    pub host_span: Span,
}

impl Built {
    /// Reads every span held (see [`Spans`], which changes them).
    pub fn each_span_read(&self, f: &mut impl FnMut(Span)) {
        match self {
            Built::Workload(w) => {
                f(w.span);
                w.calls.iter().for_each(|c| f(c.span));
                w.spans.values().for_each(|s| f(*s));
            }
            Built::Secret(s) => f(s.span),
            Built::Config(c) => f(c.span),
            Built::Gateway(g) => {
                f(g.span);
                f(g.host_span);
                g.routes.iter().for_each(|r| f(r.span));
            }
            Built::None => {}
        }
    }
}

impl Spans for Built {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        match self {
            Built::Workload(w) => w.each_span(f),
            Built::Secret(s) => s.each_span(f),
            Built::Config(c) => c.each_span(f),
            Built::Gateway(g) => g.each_span(f),
            Built::None => {}
        }
    }
}

impl Spans for Workload {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        f(&mut self.span);
        for c in &mut self.calls {
            f(&mut c.span);
        }
        for s in self.spans.values_mut() {
            f(s);
        }
    }
}

impl Spans for Secret {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        f(&mut self.span);
    }
}

impl Spans for Config {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        f(&mut self.span);
    }
}

impl Spans for Gateway {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        f(&mut self.span);
        f(&mut self.host_span);
        for r in &mut self.routes {
            f(&mut r.span);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(n: usize) -> Span {
        Span::new(crate::source::SourceId(0), n, n + 1)
    }

    #[test]
    fn value_spans_find_the_last_path_written_whole() {
        let mut spans = ValueSpans::default();
        spans.push("scale", at(1));
        spans.push_with(at(2), |t| t.push_str("scale.min"));
        spans.push("a", at(3));
        spans.push("b", at(4));
        spans.push("scale", at(5));
        assert_eq!(spans.get("scale"), Some(at(5)));
        assert_eq!(spans.get("scale.min"), Some(at(2)));
        assert_eq!(spans.get("b"), Some(at(4)));
        // Paths written next to each other are still told apart.
        assert_eq!(spans.get("ab"), None);
        assert_eq!(spans.get("scalescale.min"), None);
        assert_eq!(spans.get(""), None);
        assert!(!spans.contains("scale.max"));
        assert_eq!(spans.values().count(), 5);
    }
}
