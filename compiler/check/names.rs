//! Validation of the names and strings Kubernetes is strict about: DNS labels, host
//! names, port names, label keys and values, image references, cron schedules, CIDRs and
//! key names. Each check returns a message and, where it helps, the byte offset of the
//! offending character so the diagnostic can underline it.

use std::net::Ipv4Addr;

/// A problem with a name: what is wrong and where (byte offset into the name).
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid {
    pub message: String,
    pub at: Option<usize>,
    /// How many bytes from `at` are at fault.
    pub len: usize,
}

fn invalid(message: impl Into<String>, at: Option<usize>) -> Invalid {
    Invalid {
        message: message.into(),
        at,
        len: 1,
    }
}

/// A DNS-1123 label: lower-case letters, digits and `-`, starting and ending with a
/// letter or digit, at most 63 characters.
pub fn dns_label(name: &str) -> Result<(), Invalid> {
    if name.is_empty() {
        return Err(invalid("a name cannot be empty", None));
    }
    if name.len() > 63 {
        return Err(invalid(
            format!(
                "`{name}` is {} characters long; a name has at most 63",
                name.len()
            ),
            Some(63),
        ));
    }
    for (i, c) in name.char_indices() {
        let ok = c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !ok {
            let what = if c.is_ascii_uppercase() {
                "upper-case letters".to_string()
            } else if c == '_' {
                "`_`".to_string()
            } else {
                format!("`{c}`")
            };
            return Err(invalid(
                format!("`{name}` is not a valid name: it contains {what}"),
                Some(i),
            ));
        }
    }
    if name.starts_with('-') {
        return Err(invalid(format!("`{name}` cannot start with `-`"), Some(0)));
    }
    if name.ends_with('-') {
        return Err(invalid(
            format!("`{name}` cannot end with `-`"),
            Some(name.len() - 1),
        ));
    }
    Ok(())
}

/// A port name (IANA service name): at most 15 characters, lower-case letters, digits
/// and single `-` between them, with at least one letter.
pub fn port_name(name: &str) -> Result<(), Invalid> {
    if name.len() > 15 {
        return Err(invalid(
            format!("port name `{name}` is longer than 15 characters"),
            Some(15),
        ));
    }
    dns_label(name)?;
    if let Some(i) = name.find("--") {
        return Err(invalid(
            format!("port name `{name}` cannot contain `--`"),
            Some(i),
        ));
    }
    if !name.chars().any(|c| c.is_ascii_lowercase()) {
        return Err(invalid(
            format!("port name `{name}` needs at least one letter"),
            None,
        ));
    }
    Ok(())
}

/// A host name: DNS labels joined by dots, at most 253 characters; a leading `*.` makes
/// a wildcard host.
pub fn host(name: &str) -> Result<(), Invalid> {
    let (offset, rest) = match name.strip_prefix("*.") {
        Some(r) => (2, r),
        None => (0, name),
    };
    if rest.is_empty() {
        return Err(invalid("a host name cannot be empty", None));
    }
    if name.len() > 253 {
        return Err(invalid(
            format!("`{name}` is longer than 253 characters"),
            Some(253),
        ));
    }
    if rest.parse::<Ipv4Addr>().is_ok() {
        return Err(invalid(
            format!("`{name}` is an IP address; a gateway host must be a name"),
            None,
        ));
    }
    let mut at = offset;
    for label in rest.split('.') {
        if let Err(e) = dns_label(label) {
            let msg = if label.is_empty() {
                format!("`{name}` has an empty label")
            } else {
                format!(
                    "`{name}` is not a valid host name: {}",
                    e.message.replace(&format!("`{label}` "), "a label ")
                )
            };
            return Err(invalid(msg, Some(at + e.at.unwrap_or(0))));
        }
        at += label.len() + 1;
    }
    Ok(())
}

/// A label value: at most 63 characters of letters, digits, `-`, `_` and `.`, starting
/// and ending with a letter or digit (or empty).
pub fn label_value(v: &str) -> Result<(), Invalid> {
    if v.len() > 63 {
        return Err(invalid(
            format!("label value `{v}` is longer than 63 characters"),
            Some(63),
        ));
    }
    for (i, c) in v.char_indices() {
        if !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
            return Err(invalid(
                format!("label value `{v}` contains `{c}`"),
                Some(i),
            ));
        }
    }
    if let Some(c) = v.chars().next()
        && !c.is_ascii_alphanumeric()
    {
        return Err(invalid(
            format!("label value `{v}` must start with a letter or digit"),
            Some(0),
        ));
    }
    if let Some(c) = v.chars().last()
        && !c.is_ascii_alphanumeric()
    {
        return Err(invalid(
            format!("label value `{v}` must end with a letter or digit"),
            Some(v.len() - 1),
        ));
    }
    Ok(())
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63
/// characters like a label value (not empty).
pub fn label_key(k: &str) -> Result<(), Invalid> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix {
        if p.len() > 253 || p.split('.').any(|l| dns_label(l).is_err()) {
            return Err(invalid(
                format!("label key prefix `{p}` is not a DNS subdomain"),
                Some(0),
            ));
        }
        if p == "kubernetes.io"
            || p.ends_with(".kubernetes.io")
            || p == "k8s.io"
            || p.ends_with(".k8s.io")
        {
            return Err(invalid(
                format!("label key prefix `{p}` is reserved for Kubernetes"),
                Some(0),
            ));
        }
    }
    if name.is_empty() {
        return Err(invalid("a label key needs a name", None));
    }
    let base = k.len() - name.len();
    label_value(name).map_err(|e| Invalid {
        message: e.message.replace("label value", "label key"),
        at: e.at.map(|a| a + base),
        len: e.len,
    })
}

/// A key of a Secret or ConfigMap: letters, digits, `-`, `_` and `.`.
pub fn data_key(k: &str) -> Result<(), Invalid> {
    if k.is_empty() {
        return Err(invalid("a key cannot be empty", None));
    }
    if k.len() > 253 {
        return Err(invalid(
            format!("key `{k}` is longer than 253 characters"),
            Some(253),
        ));
    }
    for (i, c) in k.char_indices() {
        if !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
            return Err(invalid(format!("key `{k}` contains `{c}`"), Some(i)));
        }
    }
    if k == "." || k == ".." {
        return Err(invalid(format!("`{k}` is not a valid key"), None));
    }
    Ok(())
}

/// An environment variable name: printable ASCII without `=`.
pub fn env_name(k: &str) -> Result<(), Invalid> {
    if k.is_empty() {
        return Err(invalid("an environment variable needs a name", None));
    }
    for (i, c) in k.char_indices() {
        if c == '=' || !(' '..='~').contains(&c) {
            return Err(invalid(
                format!("environment variable `{k}` contains `{c}`"),
                Some(i),
            ));
        }
    }
    Ok(())
}

/// A parsed image reference.
#[derive(Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry host, when the reference names one.
    pub registry: Option<String>,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// Parses `[host[:port]/]path[:tag][@sha256:hex]` as container runtimes do: the first
/// path component is a registry host when it holds a `.` or a `:`, or is `localhost`.
pub fn image(reference: &str) -> Result<ImageRef, Invalid> {
    if reference.is_empty() {
        return Err(invalid("an image reference cannot be empty", None));
    }
    if let Some(i) = reference.find(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            format!("image reference `{reference}` contains whitespace"),
            Some(i),
        ));
    }
    let (rest, digest) = match reference.split_once('@') {
        Some((r, d)) => {
            let ok = d.split_once(':').is_some_and(|(alg, hex)| {
                !alg.is_empty() && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
            });
            if !ok {
                return Err(invalid(
                    format!("`@{d}` is not a digest like `@sha256:…`"),
                    Some(r.len()),
                ));
            }
            (r, Some(d.to_string()))
        }
        None => (reference, None),
    };
    let (registry, path) = match rest.split_once('/') {
        Some((first, p)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            (Some(first.to_string()), p)
        }
        _ => (None, rest),
    };
    let (repository, tag) = match path.rsplit_once(':') {
        Some((r, t)) => (r.to_string(), Some(t.to_string())),
        None => (path.to_string(), None),
    };
    let base = reference.len() - rest.len() + rest.len() - path.len();
    for (i, c) in repository.char_indices() {
        if !(c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c)) {
            return Err(invalid(
                format!(
                    "image repository `{repository}` may hold only lower-case letters, digits, `.`, `_`, `-` and `/`"
                ),
                Some(base + i),
            ));
        }
    }
    if repository.is_empty() || repository.starts_with('/') || repository.ends_with('/') {
        return Err(invalid(format!("`{reference}` has no image name"), None));
    }
    if let Some(t) = &tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            && !t.starts_with(['.', '-']);
        if !ok {
            return Err(invalid(
                format!("`{t}` is not a valid image tag"),
                Some(base + repository.len() + 1),
            ));
        }
    }
    Ok(ImageRef {
        registry,
        repository,
        tag,
        digest,
    })
}

/// A five-field cron schedule as Kubernetes CronJobs accept it (or `@daily` and the
/// other macros). Parsed by the croner crate; the Quartz extensions (`L`, `W`, `#`)
/// and time zones in the schedule are refused because Kubernetes refuses them.
pub fn cron(s: &str) -> Result<(), Invalid> {
    let t = s.trim();
    if t.starts_with("TZ=") || t.starts_with("CRON_TZ=") {
        return Err(invalid(
            "a time zone cannot be part of the schedule; CronJobs run in the cluster's time zone",
            Some(0),
        ));
    }
    if let Some(macro_) = t.strip_prefix('@') {
        let known = [
            "yearly", "annually", "monthly", "weekly", "daily", "midnight", "hourly",
        ];
        return if known.contains(&macro_) {
            Ok(())
        } else {
            Err(invalid(
                format!(
                    "`{t}` is not a schedule macro; use @yearly, @monthly, @weekly, @daily or @hourly"
                ),
                Some(0),
            ))
        };
    }
    if let Some(i) = quartz_extension(t) {
        return Err(invalid(
            format!("`{t}` uses `L`, `W` or `#`, which Kubernetes does not support"),
            Some(i),
        ));
    }
    let fields = t.split_whitespace().count();
    if fields != 5 {
        return Err(invalid(
            format!(
                "`{t}` has {fields} fields; a schedule has five: minute hour day-of-month month day-of-week"
            ),
            None,
        ));
    }
    // Every environment checks a database's backup again, with the same schedule:
    // schedules found valid once are remembered (a few, each a line of text).
    static VALID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    if VALID.lock().is_ok_and(|v| v.iter().any(|s| s == t)) {
        return Ok(());
    }
    let parser = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Disallowed)
        .year(croner::parser::Year::Disallowed)
        .build();
    let Err(e) = parser.parse(t) else {
        if let Ok(mut v) = VALID.lock() {
            if v.len() >= 256 {
                v.clear();
            }
            v.push(t.to_string());
        }
        return Ok(());
    };
    // Find the field at fault by parsing it alone, the others left as `*`.
    const FIELDS: [&str; 5] = [
        "minute (0-59)",
        "hour (0-23)",
        "day of the month (1-31)",
        "month (1-12 or JAN-DEC)",
        "day of the week (0-7 or SUN-SAT)",
    ];
    let fields: Vec<&str> = t.split_whitespace().collect();
    for (i, f) in fields.iter().enumerate() {
        let alone: Vec<&str> = (0..5).map(|j| if j == i { *f } else { "*" }).collect();
        if parser.parse(&alone.join(" ")).is_err() {
            let at = t
                .find(f)
                .filter(|_| fields.iter().filter(|x| *x == f).count() == 1);
            return Err(Invalid {
                len: f.len(),
                ..invalid(format!("`{f}` is not a valid {}", FIELDS[i]), at)
            });
        }
    }
    Err(invalid(
        format!("`{t}` is not a valid schedule: {}", cron_reason(&e)),
        None,
    ))
}

/// The offset of a Quartz extension (`L`, `5L`, `15W`, `LW`, `5#2`) in a schedule.
fn quartz_extension(t: &str) -> Option<usize> {
    if let Some(i) = t.find('#') {
        return Some(i);
    }
    let mut start = 0;
    for token in t.split([' ', ',', '-', '/']) {
        let digits = token.trim_end_matches(['L', 'W']);
        let suffix = &token[digits.len()..];
        if !suffix.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            return Some(start);
        }
        start += token.len() + 1;
    }
    None
}

fn cron_reason(e: &croner::errors::CronError) -> String {
    let text = e.to_string();
    let lower = text.trim_end_matches('.');
    let mut chars = lower.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().collect::<String>() + chars.as_str(),
        None => "unknown reason".to_string(),
    }
}

/// An IPv4 network: `10.0.0.0/8`, or one address (a `/32`).
pub fn cidr(s: &str) -> Option<(Ipv4Addr, u8)> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, b.parse::<u8>().ok()?),
        None => (s, 32),
    };
    let ip: Ipv4Addr = addr.parse().ok()?;
    if bits > 32 {
        return None;
    }
    Some((ip, bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels_underline_the_offending_character() {
        assert!(dns_label("wallet-service").is_ok());
        assert_eq!(dns_label("Wallet").unwrap_err().at, Some(0));
        assert_eq!(dns_label("wal_let").unwrap_err().at, Some(3));
        assert!(dns_label(&"a".repeat(64)).is_err());
        assert!(dns_label("-a").is_err());
    }

    #[test]
    fn images_know_their_registry() {
        let i = image("ghcr.io/sorcha/wallet:1.4.0").unwrap();
        assert_eq!(i.registry.as_deref(), Some("ghcr.io"));
        assert_eq!(i.tag.as_deref(), Some("1.4.0"));
        assert_eq!(image("wallet-service:1.4").unwrap().registry, None);
        assert_eq!(
            image("localhost:5000/x").unwrap().registry.as_deref(),
            Some("localhost:5000")
        );
        assert_eq!(
            image("docker.io/library/postgres:17-alpine")
                .unwrap()
                .repository,
            "library/postgres"
        );
        assert!(image("Wallet:1").is_err());
        assert!(image("x:").is_err());
        assert!(image("x@sha256:12").is_err());
    }

    #[test]
    fn cron_schedules_follow_kubernetes() {
        assert!(cron("0 2 * * *").is_ok());
        assert!(cron("*/15 * * * *").is_ok());
        assert!(cron("0 2 * * MON-FRI").is_ok());
        assert!(cron("@daily").is_ok());
        assert!(cron("0 2 * *").is_err());
        assert!(cron("61 2 * * *").is_err());
        assert!(cron("0 0 L * *").is_err());
        assert!(cron("0 0 15W * *").is_err());
        assert!(cron("0 0 * * 5#2").is_err());
        assert!(cron("0 0 * JUL WED").is_ok());
        assert!(cron("0 0 0 2 * * *").is_err());
        assert!(cron("TZ=UTC 0 2 * * *").is_err());
    }

    #[test]
    fn hosts_labels_and_keys() {
        assert!(host("api.sorcha.dev").is_ok());
        assert!(host("*.sorcha.dev").is_ok());
        assert!(host("api..dev").is_err());
        assert!(host("API.dev").is_err());
        assert!(host("10.0.0.1").is_err());
        assert!(label_key("team").is_ok());
        assert!(label_key("example.com/team").is_ok());
        assert!(label_key("kubernetes.io/x").is_err());
        assert!(label_value("ledger_1.0").is_ok());
        assert!(label_value("a b").is_err());
        assert!(port_name("http").is_ok());
        assert!(port_name("metrics-exporter-x").is_err());
        assert!(port_name("8080").is_err());
        assert_eq!(
            cidr("10.20.0.0/16"),
            Some((Ipv4Addr::new(10, 20, 0, 0), 16))
        );
        assert_eq!(cidr("10.20.0.1"), Some((Ipv4Addr::new(10, 20, 0, 1), 32)));
        assert_eq!(cidr("login.example.com"), None);
    }
}
