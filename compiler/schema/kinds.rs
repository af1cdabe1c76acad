//! The schema of every kind and nested block. Doc texts are shown on hover and in
//! docs/language.md; defaults here are the ones the compiler applies.

use super::{KeySpec, Resource, Schema, Shape, Ty, block, field, map, required};

const PROTOCOLS: &[&str] = &["http", "grpc", "tcp", "udp"];
pub const MESHES: &[&str] = &["none", "linkerd", "istio"];
pub const ROTATIONS: &[&str] = &["restart", "live"];
pub const GATEWAY_APIS: &[&str] = &["ingress", "gateway-api"];
pub const JOB_RUNS: &[&str] = &["once", "before-rollout"];

pub static PORT: Schema = Schema {
    name: "port",
    doc: "A named container port: `port http = 8080 { protocol = http  expose = 80 }`.",
    open: None,
    keys: &[
        field(
            "protocol",
            Ty::Enum(PROTOCOLS),
            Some("http"),
            "What the port speaks: `http`, `grpc` (HTTP/2), `tcp` or `udp`.",
        ),
        field(
            "expose",
            Ty::Port,
            None,
            "The port clients use on the Service, when it differs from the container port.",
        ),
    ],
};

pub static SCALE: Schema = Schema {
    name: "scale",
    doc: "Autoscaling between `min` and `max` replicas (a HorizontalPodAutoscaler).",
    open: None,
    keys: &[
        required("min", Ty::Int, "The fewest replicas; at least 1."),
        required("max", Ty::Int, "The most replicas; at least `min`."),
        field(
            "cpu",
            Ty::Percent,
            Some("80% (when no `memory` target is set)"),
            "Target average CPU use, as a share of the CPU request.",
        ),
        field(
            "memory",
            Ty::Percent,
            None,
            "Target average memory use, as a share of the memory request.",
        ),
        field(
            "cooldown",
            Ty::Duration,
            Some("5m"),
            "How long load must stay low before replicas are removed (scale-down stabilisation).",
        ),
    ],
};

pub static ROLLOUT: Schema = Schema {
    name: "rollout",
    doc: "How a new version replaces the old one (a rolling update gated by readiness).",
    open: None,
    keys: &[
        field(
            "max_surge",
            Ty::IntOrPercent,
            Some("25%"),
            "How many extra pods may run during a rollout.",
        ),
        field(
            "max_unavailable",
            Ty::IntOrPercent,
            Some("0"),
            "How many pods may be unavailable during a rollout; 0 keeps the ready count.",
        ),
        field(
            "deadline",
            Ty::Duration,
            Some("10m"),
            "How long a rollout may make no progress before it is reported as failed.",
        ),
    ],
};

pub static DISRUPTION: Schema = Schema {
    name: "disruption",
    doc: "The PodDisruptionBudget: how many pods voluntary evictions (node drains) must leave. \
          Without it, workloads that can run 2+ replicas get `max_unavailable = 1`.",
    open: None,
    keys: &[
        field(
            "min_available",
            Ty::IntOrPercent,
            None,
            "Pods that must stay available during evictions.",
        ),
        field(
            "max_unavailable",
            Ty::IntOrPercent,
            None,
            "Pods that may be evicted at once.",
        ),
    ],
};

pub static SECURITY: Schema = Schema {
    name: "security",
    doc: "The container's identity and filesystem. Containers always run as non-root, without \
          privilege escalation, with every capability dropped and the RuntimeDefault seccomp profile.",
    open: None,
    keys: &[
        field(
            "run_as",
            Ty::Int,
            None,
            "The user ID to run as (not 0). Default: the image's own user, which must be non-root.",
        ),
        field(
            "group",
            Ty::Int,
            None,
            "The group ID to run as; also owns mounted volumes (fsGroup).",
        ),
        field(
            "read_only_root",
            Ty::Bool,
            Some("true"),
            "Mount the root filesystem read-only; `/tmp` is always a writable emptyDir.",
        ),
    ],
};

pub static VOLUME: Schema = Schema {
    name: "volume",
    doc: "A volume mounted into the container: `volume cache { size = 1Gi  at = \"/cache\" }`.",
    open: None,
    keys: &[
        required(
            "at",
            Ty::AbsPath,
            "Where the volume is mounted in the container.",
        ),
        field(
            "size",
            Ty::Bytes,
            None,
            "Its size. Without a size the volume is an emptyDir; with one, a volume of that size \
             that lives as long as the pod.",
        ),
        field(
            "class",
            Ty::Str,
            None,
            "The StorageClass of a sized volume; the cluster default when omitted.",
        ),
        field(
            "persistent",
            Ty::Bool,
            Some("false"),
            "Keep the data when pods are replaced: one PersistentVolumeClaim shared by the workload.",
        ),
        field(
            "shared",
            Ty::Bool,
            Some("false"),
            "A persistent volume that many pods mount at once (ReadWriteMany); needs a storage \
             class that supports it.",
        ),
    ],
};

pub static STORAGE: Schema = Schema {
    name: "storage",
    doc: "The database's data volume: one PersistentVolumeClaim per replica, kept when pods, \
          the StatefulSet or replicas are removed.",
    open: None,
    keys: &[
        required("size", Ty::Bytes, "The size of each replica's volume."),
        field(
            "class",
            Ty::Str,
            None,
            "The StorageClass; the cluster default when omitted.",
        ),
        required("at", Ty::AbsPath, "Where the data volume is mounted."),
    ],
};

pub static BACKUP: Schema = Schema {
    name: "backup",
    doc: "Scheduled dumps of the database to their own volume (a CronJob running the template's \
          `dump` command). `keep` dumps are kept.",
    open: None,
    keys: &[
        required(
            "schedule",
            Ty::Cron,
            "When to take a dump (five-field cron, cluster time zone).",
        ),
        field("keep", Ty::Int, Some("7"), "How many dumps to keep."),
        required("size", Ty::Bytes, "The size of the backup volume."),
        field(
            "class",
            Ty::Str,
            None,
            "The StorageClass of the backup volume; the cluster default when omitted.",
        ),
    ],
};

pub static DUMP: Schema = Schema {
    name: "dump",
    doc: "How to dump the database, used by `backup`; the standard-library stores define it.",
    open: None,
    keys: &[
        required(
            "command",
            Ty::List(&Ty::Str),
            "The dump command. It writes to the directory in `$BACKUP_DIR` and keeps the newest \
             `$BACKUP_KEEP` dumps.",
        ),
        map(
            "env",
            Ty::EnvValue,
            "Environment of the dump command (host, credentials).",
        ),
        field(
            "image",
            Ty::Image,
            None,
            "The image that runs the dump; the database's own image when omitted.",
        ),
    ],
};

pub static INGRESS_FROM: Schema = Schema {
    name: "ingress_from",
    doc: "Where the ingress controller runs; only it may reach routed ports from outside the \
          namespace.",
    open: None,
    keys: &[field(
        "namespace",
        Ty::DnsLabel,
        Some("\"ingress-nginx\""),
        "The namespace of the ingress or gateway controller.",
    )],
};

pub static ROUTE: Schema = Schema {
    name: "route",
    doc: "A path of the gateway's host sent to a workload's port: `route \"/api\" -> api.http`.",
    open: None,
    keys: &[field(
        "timeout",
        Ty::Duration,
        None,
        "How long a request on this route may take (long-lived connections need more).",
    )],
};

const IMAGE: KeySpec = required(
    "image",
    Ty::Image,
    "The container image. A name without a registry host gets the platform `registry` prefix.",
);
const COMMAND: KeySpec = field(
    "command",
    Ty::List(&Ty::Str),
    None,
    "The program to run, replacing the image's entrypoint.",
);
const ARGS: KeySpec = field(
    "args",
    Ty::List(&Ty::Str),
    None,
    "Arguments, replacing the image's default arguments.",
);
const ENV_KEY: KeySpec = map(
    "env",
    Ty::EnvValue,
    "Environment variables. Secret keys become secretKeyRefs; strings that interpolate secrets \
     become dependent variables, so no secret value is ever written out.",
);
const MOUNT: KeySpec = KeySpec {
    name: "mount",
    shape: Shape::Mount,
    required: false,
    default: None,
    doc: "`mount NAME at \"/path\"` mounts a config or a secret as files. Mounted secrets are \
          refreshed in place when they rotate.",
};
const VOLUMES: KeySpec = KeySpec {
    name: "volume",
    shape: Shape::Named {
        value: None,
        block: Some(&VOLUME),
    },
    required: false,
    default: None,
    doc: "`volume NAME { at = \"/path\"  size = 1Gi }`: scratch or persistent storage.",
};
const CPU: KeySpec = field(
    "cpu",
    Ty::Resource(Resource::Cpu),
    None,
    "CPU as `request..limit` (`250m..1`); one value sets both.",
);
const MEMORY: KeySpec = field(
    "memory",
    Ty::Resource(Resource::Memory),
    None,
    "Memory as `request..limit` (`256Mi..512Mi`); one value sets both.",
);
const SECURITY_KEY: KeySpec = block(
    "security",
    &SECURITY,
    "The user to run as and whether the root filesystem is read-only.",
);
const CALLS: KeySpec = field(
    "calls",
    Ty::List(&Ty::CallTarget),
    None,
    "The workloads (or single ports) this one connects to. Network policies allow exactly these \
     connections.",
);
const EGRESS: KeySpec = field(
    "egress",
    Ty::List(&Ty::Egress),
    None,
    "Destinations outside the cluster: `\"10.0.0.0/8:5432\"` or `\"api.example.com:443\"`.",
);
const PORTS: KeySpec = KeySpec {
    name: "port",
    shape: Shape::Named {
        value: Some(Ty::Port),
        block: Some(&PORT),
    },
    required: false,
    default: None,
    doc: "`port NAME = 8080 [{ protocol = grpc  expose = 80 }]`: a port the workload listens on. \
          A workload without ports is a worker that nothing may call.",
};
const READY: KeySpec = field(
    "ready",
    Ty::Probe,
    None,
    "The readiness probe: traffic and rollouts wait until it passes.",
);
const LIVE: KeySpec = field(
    "live",
    Ty::Probe,
    None,
    "The liveness probe: the container is restarted when it keeps failing.",
);
const STARTUP: KeySpec = field(
    "startup",
    Ty::Probe,
    None,
    "The startup probe: holds the other probes back until the application has started.",
);
const REPLICAS: KeySpec = field(
    "replicas",
    Ty::Replicas,
    Some("1"),
    "A fixed replica count, or `min..max` to autoscale on CPU.",
);
const SCALE_KEY: KeySpec = block(
    "scale",
    &SCALE,
    "Autoscaling bounds and targets; replaces `replicas`.",
);
const DISRUPTION_KEY: KeySpec = block(
    "disruption",
    &DISRUPTION,
    "The disruption budget that node drains respect.",
);

macro_rules! workload_schema {
    ($name:ident, $kind:literal, $doc:literal, [$($extra:expr),* $(,)?]) => {
        pub static $name: Schema = Schema {
            name: $kind,
            doc: $doc,
            open: None,
            keys: &[
                IMAGE, COMMAND, ARGS, ENV_KEY, MOUNT, VOLUMES, CPU, MEMORY, SECURITY_KEY, CALLS,
                EGRESS, $($extra),*
            ],
        };
    };
}

workload_schema!(
    SERVICE,
    "service",
    "A stateless workload: a Deployment with its Service, autoscaler and disruption budget.",
    [
        PORTS,
        READY,
        LIVE,
        STARTUP,
        REPLICAS,
        SCALE_KEY,
        block("rollout", &ROLLOUT, "How rolling updates proceed."),
        DISRUPTION_KEY,
    ]
);

workload_schema!(
    DATABASE,
    "database",
    "A stateful store: a StatefulSet whose data survives pod restarts, with optional backups.",
    [
        PORTS,
        READY,
        LIVE,
        STARTUP,
        REPLICAS,
        DISRUPTION_KEY,
        block("storage", &STORAGE, "The data volume."),
        block("backup", &BACKUP, "Scheduled dumps."),
        block("dump", &DUMP, "How to dump the database."),
    ]
);

workload_schema!(
    JOB,
    "job",
    "A run-to-completion task: a Job, or a CronJob when it has a `schedule`.",
    [
        field(
            "schedule",
            Ty::Cron,
            None,
            "Run on a schedule (five-field cron) as a CronJob.",
        ),
        field(
            "run",
            Ty::Enum(JOB_RUNS),
            Some("once"),
            "`once`: a Job; `before-rollout`: run before the workloads roll out (a Helm hook).",
        ),
        field(
            "retries",
            Ty::Int,
            Some("3"),
            "How often a failed run is retried.",
        ),
        field(
            "deadline",
            Ty::Duration,
            None,
            "How long one run may take before it is stopped.",
        ),
    ]
);

pub static SECRET: Schema = Schema {
    name: "secret",
    doc: "Credentials. Values never appear in source or output: they come from Vault (through \
          External Secrets) or are supplied at deploy time.",
    open: None,
    keys: &[
        required(
            "keys",
            Ty::List(&Ty::KeyName),
            "The keys the secret holds; consumers may use only these.",
        ),
        required(
            "from",
            Ty::SecretSource,
            "`vault(\"path\")` reads the platform's secret store; `deploy` is supplied at deploy time.",
        ),
        field(
            "refresh",
            Ty::Duration,
            Some("1h"),
            "How often the secret store is read again.",
        ),
        field(
            "rotation",
            Ty::Enum(ROTATIONS),
            Some("restart"),
            "`restart`: consumers roll when the secret changes; `live`: consumers mount it as \
             files, which are refreshed in place.",
        ),
    ],
};

pub static CONFIG: Schema = Schema {
    name: "config",
    doc: "A ConfigMap: `KEY = \"value\"` or `\"file.json\" = file(\"path\")`. A change rolls the \
          pods that use it.",
    open: Some(Ty::ConfigValue),
    keys: &[],
};

pub static GATEWAY: Schema = Schema {
    name: "gateway",
    doc: "External traffic: a host whose paths route to workloads (an Ingress, or a Gateway and \
          HTTPRoute).",
    open: None,
    keys: &[
        required("host", Ty::Host, "The public host name."),
        field(
            "tls",
            Ty::Tls,
            None,
            "`issuer(\"name\")` for a cert-manager certificate, or the name of an existing TLS secret.",
        ),
        field(
            "class",
            Ty::Str,
            None,
            "The ingress class or gateway class; the cluster default when omitted.",
        ),
        field(
            "api",
            Ty::Enum(GATEWAY_APIS),
            Some("ingress"),
            "`ingress` (networking.k8s.io/v1) or `gateway-api` (gateway.networking.k8s.io/v1).",
        ),
        KeySpec {
            name: "route",
            shape: Shape::Route(&ROUTE),
            required: false,
            default: None,
            doc: "`route \"/path\" -> workload[.port] [{ timeout = 1h }]`",
        },
    ],
};

pub static PLATFORM: Schema = Schema {
    name: "platform",
    doc: "The platform: one per program. Its settings apply to every object.",
    open: None,
    keys: &[
        field(
            "namespace",
            Ty::DnsLabel,
            Some("the platform name"),
            "The namespace everything is deployed to.",
        ),
        field(
            "version",
            Ty::Str,
            None,
            "The platform's version: the `app.kubernetes.io/version` label and the chart's appVersion.",
        ),
        field(
            "kubernetes",
            Ty::KubeVersion,
            Some("\"1.33\""),
            "The lowest Kubernetes version targeted (1.33 or later).",
        ),
        field(
            "registry",
            Ty::Str,
            None,
            "Registry prefix for images that name no registry host.",
        ),
        map("labels", Ty::LabelValue, "Labels added to every object."),
        field(
            "mesh",
            Ty::Enum(MESHES),
            Some("none"),
            "The service mesh: `none`, `linkerd` or `istio`.",
        ),
        block(
            "ingress_from",
            &INGRESS_FROM,
            "Where the ingress controller runs.",
        ),
        field(
            "secret_store",
            Ty::SecretStore,
            None,
            "The Vault that `vault(\"path\")` secrets are read from.",
        ),
        field(
            "admins",
            Ty::List(&Ty::Subject),
            None,
            "The only subjects allowed to read the platform's Secrets.",
        ),
    ],
};

pub static ENV: Schema = Schema {
    name: "env",
    doc: "An environment: overrides of any field by path (`wallet.scale { max = 20 }`).",
    open: None,
    keys: &[],
};
