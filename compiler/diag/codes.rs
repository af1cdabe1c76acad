//! The registry of stable diagnostic codes. Each code has a constant, a one-line title and
//! a long explanation in `codes/CODE.md` (shown by `sorchac explain CODE`). A test checks
//! that every code has an explanation with a wrong and a fixed example, and a ui fixture.

use super::Severity;

/// A stable diagnostic code such as `E0201`. The letter gives the severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(&'static str);

/// What the registry knows about one code.
#[derive(Debug)]
pub struct CodeInfo {
    pub code: Code,
    pub title: &'static str,
    pub explanation: &'static str,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        self.0
    }

    pub fn severity(self) -> Severity {
        match self.0.as_bytes().first() {
            Some(b'W') => Severity::Warning,
            Some(b'I') => Severity::Info,
            _ => Severity::Error,
        }
    }

    pub fn info(self) -> Option<&'static CodeInfo> {
        REGISTRY.iter().find(|i| i.code == self)
    }

    /// Looks a code up by its text, case-insensitively (`e0201` works too).
    pub fn parse(text: &str) -> Option<Code> {
        let t = text.trim();
        REGISTRY
            .iter()
            .find(|i| i.code.0.eq_ignore_ascii_case(t))
            .map(|i| i.code)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

macro_rules! codes {
    ($($name:ident = $code:literal, $title:literal;)*) => {
        impl Code {
            $(#[doc = $title] pub const $name: Code = Code($code);)*
        }
        /// Every code, in order.
        pub static REGISTRY: &[CodeInfo] = &[
            $(CodeInfo {
                code: Code($code),
                title: $title,
                explanation: include_str!(concat!("codes/", $code, ".md")),
            },)*
        ];
    };
}

codes! {
    SYNTAX = "E0001", "syntax error";
    UNKNOWN_REFERENCE = "E0101", "unknown reference";
    DUPLICATE = "E0102", "duplicate declaration or entry";
    UNKNOWN_KEY = "E0103", "unknown key for this kind";
    MISSING_FIELD = "E0104", "missing required field";
    UNKNOWN_KIND = "E0105", "unknown declaration kind";
    TYPE_MISMATCH = "E0201", "type mismatch";
    INVALID_VALUE = "E0202", "invalid value";
    NAME_TOO_LONG = "E0203", "generated object name too long";
    INVALID_LABEL = "E0204", "invalid label key or value";
    INVALID_HOST = "E0205", "invalid host name";
    INVALID_PATH = "E0206", "invalid path";
    UNSUPPORTED_KUBERNETES = "E0207", "unsupported Kubernetes version";
    SCALE_BOUNDS = "E0301", "invalid scaling bounds";
    AUTOSCALE_WITHOUT_REQUEST = "E0302", "autoscaling on a resource without a request";
    BLOCKING_DISRUPTION_BUDGET = "E0303", "disruption budget that blocks every eviction";
    CONFLICTING_FIELDS = "E0304", "conflicting fields";
    REQUEST_ABOVE_LIMIT = "E0305", "resource request above its limit";
    SECRET_OUTSIDE_ENV = "E0401", "secret used outside an env binding";
    LIVE_SECRET_IN_ENV = "E0402", "live-rotated secret consumed through env";
    UNKNOWN_SECRET_KEY = "E0403", "secret key not declared";
    UNKNOWN_PORT = "E0501", "route or call to an undeclared port";
    DUPLICATE_ROUTE = "E0502", "two routes with the same host and path";
    CALL_TO_WORKER = "E0503", "call or route to a workload without ports";
    SINGLE_ATTACH_VOLUME = "E0601", "single-attach volume on a replicated workload";
    MOUNT_CONFLICT = "E0602", "two mounts at the same path";
    UNKNOWN_OVERRIDE = "E0701", "override of a path that does not exist";
    MISSING_PARAM = "E0702", "template parameter without a value";
    TEMPLATE_CYCLE = "E0703", "template that extends itself";
    IMPORT = "E0801", "import cycle or missing import file";
    FILE_NOT_FOUND = "E0802", "file read at compile time not found";
    NOT_TEXT = "E0803", "source is not UTF-8 text";
    LIMIT = "E0804", "program exceeds a compiler limit";
    UNPINNED_IMAGE = "W0001", "image without a pinned tag";
    ROUTED_WITHOUT_READINESS = "W0002", "routed service without a readiness probe";
    EGRESS_TO_HOSTNAME = "W0003", "egress to a host name";
    STORE_WITHOUT_CREDENTIALS = "W0004", "store without credentials";
    ADDRESS_WITHOUT_CALL = "W0005", "address used without a matching call";
    DISRUPTION_AT_MINIMUM = "W0006", "disruption budget that blocks evictions at the minimum replica count";
    RECREATE_ROLLOUT = "W0007", "rollouts that recreate the pod";
}
