//! The schema table: for every declaration kind, the keys it accepts, each with its type,
//! whether it is required or has a default, and the doc text shown on hover. The checker,
//! the resolver (env overrides), completion and hover are all driven by this one table.

mod kinds;

pub use kinds::*;

/// The declaration kinds of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Platform,
    Service,
    Database,
    Job,
    Secret,
    Config,
    Gateway,
    Env,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Platform,
        Kind::Service,
        Kind::Database,
        Kind::Job,
        Kind::Secret,
        Kind::Config,
        Kind::Gateway,
        Kind::Env,
    ];

    pub fn parse(word: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == word)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Platform => "platform",
            Kind::Service => "service",
            Kind::Database => "database",
            Kind::Job => "job",
            Kind::Secret => "secret",
            Kind::Config => "config",
            Kind::Gateway => "gateway",
            Kind::Env => "env",
        }
    }

    /// Services, databases and jobs run containers.
    pub fn is_workload(self) -> bool {
        matches!(self, Kind::Service | Kind::Database | Kind::Job)
    }

    /// The schema of the kind's body.
    pub fn schema(self) -> &'static Schema {
        match self {
            Kind::Platform => &PLATFORM,
            Kind::Service => &SERVICE,
            Kind::Database => &DATABASE,
            Kind::Job => &JOB,
            Kind::Secret => &SECRET,
            Kind::Config => &CONFIG,
            Kind::Gateway => &GATEWAY,
            Kind::Env => &ENV,
        }
    }
}

/// The type a value must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Str,
    Int,
    Bool,
    /// A port number, 1..65535.
    Port,
    /// `30s`, `5m`, `1h`, `7d`, `500ms`.
    Duration,
    /// A byte quantity: `512Mi`, `20Gi`, `1G`.
    Bytes,
    /// CPU: `250m` (millicores), `1`, `1.5`.
    Cpu,
    /// `70%`.
    Percent,
    /// An integer or a percentage (`1`, `25%`).
    IntOrPercent,
    /// One value, or `request..limit`.
    Resource(Resource),
    /// A replica count, or `min..max`.
    Replicas,
    /// A container image reference.
    Image,
    /// A five-field cron schedule.
    Cron,
    /// A DNS host name.
    Host,
    /// An absolute path (`/app/config`).
    AbsPath,
    /// A DNS-1123 label (namespace names).
    DnsLabel,
    /// A Kubernetes minor version, `"1.33"`.
    KubeVersion,
    /// A label value.
    LabelValue,
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// A list of the inner type.
    List(&'static Ty),
    /// A probe: `http(...)`, `grpc(...)`, `tcp(...)`, `exec(...)`.
    Probe,
    /// A service, database or job.
    Workload,
    /// A workload or one of its ports (`calls`).
    CallTarget,
    /// A secret declaration.
    Secret,
    /// A secret or a config (`mount`).
    Mountable,
    /// A name of one of the secret's keys.
    KeyName,
    /// What an `env` entry may be bound to: text, numbers, secret and config keys.
    EnvValue,
    /// `vault("path")` or `deploy`.
    SecretSource,
    /// `vault(addr, role:, mount:)`.
    SecretStore,
    /// `issuer("name")` or the name of an existing TLS secret.
    Tls,
    /// A config entry: text or `file("path")`.
    ConfigValue,
    /// `"host:port"` or `"cidr:port"`.
    Egress,
    /// `"group:NAME"`, `"user:NAME"` or `"serviceaccount:NS:NAME"`.
    Subject,
}

/// Which quantity a resource range holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Cpu,
    Memory,
}

impl Ty {
    /// How the type is named in messages and hovers.
    pub fn describe(self) -> String {
        match self {
            Ty::Str => "a string".into(),
            Ty::Int => "an integer".into(),
            Ty::Bool => "`true` or `false`".into(),
            Ty::Port => "a port number".into(),
            Ty::Duration => "a duration like `30s`, `5m` or `1h`".into(),
            Ty::Bytes => "a size like `512Mi` or `20Gi`".into(),
            Ty::Cpu => "a CPU amount like `250m` or `1`".into(),
            Ty::Percent => "a percentage like `70%`".into(),
            Ty::IntOrPercent => "an integer or a percentage".into(),
            Ty::Resource(Resource::Cpu) => "a CPU amount or `request..limit` like `250m..1`".into(),
            Ty::Resource(Resource::Memory) => {
                "a size or `request..limit` like `256Mi..512Mi`".into()
            }
            Ty::Replicas => "a replica count or `min..max`".into(),
            Ty::Image => "an image reference like `\"ghcr.io/org/app:1.0\"`".into(),
            Ty::Cron => "a cron schedule like `\"0 2 * * *\"`".into(),
            Ty::Host => "a host name".into(),
            Ty::AbsPath => "an absolute path".into(),
            Ty::DnsLabel => "a DNS label".into(),
            Ty::KubeVersion => "a Kubernetes version like `\"1.33\"`".into(),
            Ty::LabelValue => "a label value".into(),
            Ty::Enum(words) => {
                let w: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
                match w.split_last() {
                    Some((last, init)) if !init.is_empty() => {
                        format!("one of {} or {last}", init.join(", "))
                    }
                    _ => w.join(""),
                }
            }
            Ty::List(inner) => format!("a list of {}", plural(inner.describe())),
            Ty::Probe => "a probe: `http(...)`, `grpc(...)`, `tcp(...)` or `exec(...)`".into(),
            Ty::Workload => "a service, database or job".into(),
            Ty::CallTarget => "a workload or one of its ports".into(),
            Ty::Secret => "a secret".into(),
            Ty::Mountable => "a secret or a config".into(),
            Ty::KeyName => "a key name".into(),
            Ty::EnvValue => "a string, a number, or a secret or config key".into(),
            Ty::SecretSource => "`vault(\"path\")` or `deploy`".into(),
            Ty::SecretStore => "`vault(\"https://…\", role: \"…\", mount: \"…\")`".into(),
            Ty::Tls => "`issuer(\"name\")` or the name of a TLS secret".into(),
            Ty::ConfigValue => "a string or `file(\"path\")`".into(),
            Ty::Egress => "`\"host:port\"` or `\"cidr:port\"`".into(),
            Ty::Subject => "`\"group:NAME\"` or `\"user:NAME\"`".into(),
        }
    }
}

fn plural(s: String) -> String {
    s.strip_prefix("a ")
        .or_else(|| s.strip_prefix("an "))
        .map(|r| format!("{r}s"))
        .unwrap_or(s)
}

/// How a key is written.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// `key = value`
    Field(Ty),
    /// `key { ... }` with a fixed schema.
    Block(&'static Schema),
    /// `key { ANY = value }`: free keys, one value type (env, labels).
    Map(Ty),
    /// `key NAME = value [{ ... }]` or `key NAME { ... }`, many per block.
    Named {
        value: Option<Ty>,
        block: Option<&'static Schema>,
    },
    /// `route "PATH" -> target [{ ... }]`
    Route(&'static Schema),
    /// `mount REF at "PATH"`
    Mount,
}

/// One key of a schema.
#[derive(Debug)]
pub struct KeySpec {
    pub name: &'static str,
    pub shape: Shape,
    pub required: bool,
    /// The value used when the key is absent, as written in the language (hover text;
    /// env blocks may override a defaulted key).
    pub default: Option<&'static str>,
    pub doc: &'static str,
}

/// The keys of one kind or nested block.
#[derive(Debug)]
pub struct Schema {
    pub name: &'static str,
    pub doc: &'static str,
    pub keys: &'static [KeySpec],
    /// Blocks whose keys are free (a config's entries) take values of this type.
    pub open: Option<Ty>,
}

impl Schema {
    pub fn key(&self, name: &str) -> Option<&'static KeySpec> {
        self.keys.iter().find(|k| k.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.keys.iter().map(|k| k.name)
    }
}

pub(crate) const fn field(
    name: &'static str,
    ty: Ty,
    default: Option<&'static str>,
    doc: &'static str,
) -> KeySpec {
    KeySpec {
        name,
        shape: Shape::Field(ty),
        required: false,
        default,
        doc,
    }
}

pub(crate) const fn required(name: &'static str, ty: Ty, doc: &'static str) -> KeySpec {
    KeySpec {
        name,
        shape: Shape::Field(ty),
        required: true,
        default: None,
        doc,
    }
}

pub(crate) const fn block(
    name: &'static str,
    schema: &'static Schema,
    doc: &'static str,
) -> KeySpec {
    KeySpec {
        name,
        shape: Shape::Block(schema),
        required: false,
        default: None,
        doc,
    }
}

pub(crate) const fn map(name: &'static str, ty: Ty, doc: &'static str) -> KeySpec {
    KeySpec {
        name,
        shape: Shape::Map(ty),
        required: false,
        default: None,
        doc,
    }
}
