//! Evaluated values and the units of the language. A number's meaning comes from the
//! type the context expects: `5m` is 5 millicores for CPU and 5 minutes for a duration.
//! Quantities are exact integers (bytes, millicores, milliseconds), parsed the way
//! Kubernetes reads them, and keep a canonical text form for the output.

use crate::resolve::DeclId;
use crate::syntax::ast::NumLit;

/// A byte quantity: exact bytes and the canonical text written to manifests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bytes {
    pub bytes: u64,
    pub text: String,
}

/// CPU in millicores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Millicores(pub u64);

impl Millicores {
    /// Kubernetes' canonical form: whole cores as `1`, otherwise `250m`.
    pub fn text(self) -> String {
        if self.0 % 1000 == 0 {
            (self.0 / 1000).to_string()
        } else {
            format!("{}m", self.0)
        }
    }
}

/// `request..limit` of a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Res<T> {
    pub request: T,
    pub limit: T,
}

/// An integer or a percentage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntOrPct {
    Int(i64),
    Pct(u32),
}

/// One piece of a string: literal text, or a key that is only known in the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TextPart {
    Lit(String),
    /// A secret key: never written out; compiled to a dependent environment variable.
    Secret {
        secret: DeclId,
        key: String,
    },
    /// A config key, read from the ConfigMap in the cluster.
    Config {
        config: DeclId,
        key: String,
    },
}

/// A string that may hold secret or config keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Text {
    pub parts: Vec<TextPart>,
}

impl Text {
    pub fn lit(s: impl Into<String>) -> Text {
        Text {
            parts: vec![TextPart::Lit(s.into())],
        }
    }

    pub fn push_lit(&mut self, s: &str) {
        if let Some(TextPart::Lit(t)) = self.parts.last_mut() {
            t.push_str(s);
        } else if !s.is_empty() {
            self.parts.push(TextPart::Lit(s.to_string()));
        }
    }

    pub fn append(&mut self, other: Text) {
        for p in other.parts {
            match p {
                TextPart::Lit(s) => self.push_lit(&s),
                other => self.parts.push(other),
            }
        }
    }

    /// The text when it holds only literal parts.
    pub fn as_literal(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                TextPart::Lit(t) => s.push_str(t),
                _ => return None,
            }
        }
        Some(s)
    }

    pub fn has_secret(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, TextPart::Secret { .. }))
    }
}

/// Why a number cannot have the expected type, in words for a diagnostic.
pub type UnitError = String;

/// The exact value of a literal's mantissa as `digits / 10^scale`.
fn mantissa(n: &NumLit) -> Result<(u128, u32), UnitError> {
    let frac = n.frac().unwrap_or("");
    let too_large = || format!("`{}` is too large", n.text());
    let mut v: u128 = 0;
    for d in n.int().bytes().chain(frac.bytes()) {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(d - b'0')))
            .ok_or_else(too_large)?;
    }
    Ok((v, frac.len() as u32))
}

/// `mantissa * mult`, which must be a whole number that fits in u64.
fn scaled(n: &NumLit, mult: u128, what: &str) -> Result<u64, UnitError> {
    let (m, scale) = mantissa(n)?;
    let div = 10u128
        .checked_pow(scale)
        .ok_or_else(|| format!("`{}` has too many decimals", n.text()))?;
    let prod = m
        .checked_mul(mult)
        .ok_or_else(|| format!("`{}` is too large", n.text()))?;
    if prod % div != 0 {
        return Err(format!("`{}` is not a whole number of {what}", n.text()));
    }
    u64::try_from(prod / div).map_err(|_| format!("`{}` is too large", n.text()))
}

pub const BYTE_UNITS: &[(&str, u128)] = &[
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("Pi", 1 << 50),
    ("Ei", 1 << 60),
    ("k", 1_000),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
    ("P", 1_000_000_000_000_000),
    ("E", 1_000_000_000_000_000_000),
];

pub const DURATION_UNITS: &[(&str, u128)] = &[
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
];

/// A byte quantity: `512Mi`, `20Gi`, `1G`, `1.5Gi`, or a plain number of bytes.
pub fn bytes(n: &NumLit) -> Result<Bytes, UnitError> {
    let unit = n.unit().unwrap_or("");
    let mult = if unit.is_empty() {
        1
    } else {
        match BYTE_UNITS.iter().find(|(u, _)| *u == unit) {
            Some((_, m)) => *m,
            None => {
                return Err(if unit == "m" {
                    format!(
                        "`{}` would be millibytes; memory uses `Mi` (mebibytes) or `M` (megabytes)",
                        n.text()
                    )
                } else {
                    format!(
                        "`{unit}` is not a size unit; use `Ki`, `Mi`, `Gi`, `Ti` (or `k`, `M`, `G`, `T`)"
                    )
                });
            }
        }
    };
    let b = scaled(n, mult, "bytes")?;
    // Canonical text: as written when the mantissa is whole, otherwise in the largest
    // unit of the same family that holds it exactly.
    let text = if n.frac().is_none() {
        n.text().to_string()
    } else {
        canonical_bytes(b, unit.ends_with('i'))
    };
    Ok(Bytes { bytes: b, text })
}

fn canonical_bytes(b: u64, binary: bool) -> String {
    let family: Vec<&(&str, u128)> = BYTE_UNITS
        .iter()
        .filter(|(u, _)| u.ends_with('i') == binary)
        .collect();
    for (u, m) in family.iter().rev() {
        if b as u128 % m == 0 && b as u128 >= *m {
            return format!("{}{u}", b as u128 / m);
        }
    }
    b.to_string()
}

/// CPU: `250m` (millicores), `1`, `0.5`, `1.5` (cores).
pub fn cpu(n: &NumLit) -> Result<Millicores, UnitError> {
    match n.unit() {
        None => scaled(n, 1000, "millicores").map(Millicores),
        Some("m") => scaled(n, 1, "millicores").map(Millicores),
        Some(u) => Err(format!(
            "`{u}` is not a CPU unit; write cores (`1`, `0.5`) or millicores (`250m`)"
        )),
    }
}

/// A duration in milliseconds: `500ms`, `30s`, `5m`, `1h`, `7d`.
pub fn duration(n: &NumLit) -> Result<u64, UnitError> {
    match n.unit() {
        None => Err(format!(
            "`{}` has no unit; write `{}s`, `{}m` or `{}h`",
            n.text(),
            n.text(),
            n.text(),
            n.text()
        )),
        Some(u) => match DURATION_UNITS.iter().find(|(d, _)| *d == u) {
            Some((_, m)) => scaled(n, *m, "milliseconds"),
            None => Err(format!(
                "`{u}` is not a duration unit; use `ms`, `s`, `m`, `h` or `d`"
            )),
        },
    }
}

/// A whole number without a unit.
pub fn integer(n: &NumLit) -> Result<i64, UnitError> {
    if n.frac().is_some() || n.unit().is_some() {
        return Err(format!("`{}` is not a whole number", n.text()));
    }
    n.int()
        .parse()
        .map_err(|_| format!("`{}` is too large", n.text()))
}

/// A percentage: `70%`.
pub fn percent(n: &NumLit) -> Result<u32, UnitError> {
    if n.unit() != Some("%") {
        return Err(format!(
            "`{}` is not a percentage; write it like `70%`",
            n.text()
        ));
    }
    if n.frac().is_some() {
        return Err(format!("`{}` must be a whole percentage", n.text()));
    }
    n.int()
        .parse()
        .map_err(|_| format!("`{}` is too large", n.text()))
}

/// Go-style duration text (`1h`, `90s`) as Kubernetes and External Secrets read it.
pub fn go_duration(ms: u64) -> String {
    if ms % 3_600_000 == 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms % 60_000 == 0 {
        format!("{}m", ms / 60_000)
    } else if ms % 1_000 == 0 {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

/// Human text for a duration in milliseconds, for hovers and messages.
pub fn describe_duration(ms: u64) -> String {
    go_duration(ms)
}

/// `536870912` -> `536,870,912`.
pub fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> NumLit {
        NumLit::new(s)
    }

    #[test]
    fn the_expected_type_gives_the_unit_its_meaning() {
        assert_eq!(cpu(&num("5m")).unwrap(), Millicores(5));
        assert_eq!(duration(&num("5m")).unwrap(), 300_000);
        assert!(bytes(&num("5m")).is_err());
    }

    #[test]
    fn quantities_are_exact() {
        assert_eq!(bytes(&num("512Mi")).unwrap().bytes, 536_870_912);
        assert_eq!(bytes(&num("1G")).unwrap().bytes, 1_000_000_000);
        let b = bytes(&num("1.5Gi")).unwrap();
        assert_eq!((b.bytes, b.text.as_str()), (1_610_612_736, "1536Mi"));
        assert!(bytes(&num("0.3Ki")).is_err());
        assert_eq!(cpu(&num("1.5")).unwrap().text(), "1500m");
        assert_eq!(cpu(&num("2")).unwrap().text(), "2");
        assert!(cpu(&num("0.5m")).is_err());
        assert!(integer(&num("99999999999999999999")).is_err());
        assert_eq!(group_digits(536_870_912), "536,870,912");
        assert_eq!(go_duration(3_600_000), "1h");
        assert_eq!(go_duration(90_000), "90s");
    }
}
