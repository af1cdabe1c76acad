//! The built-in functions: probes (`http`, `grpc`, `tcp`, `exec` with their timings),
//! `vault`, `file`, `issuer` and `if_unset`, with their arguments matched by position and
//! name.

use foldhash::{HashMap, HashMapExt};

use super::eval::{Cx, Val};
use super::model::{Probe, ProbeAction, SecretSource, Tls, VaultStore};
use super::names;
use super::value;
use crate::diag::suggest::did_you_mean;
use crate::diag::{Code, Diagnostic};
use crate::resolve::{FileRead, Reference, Target};
use crate::schema::Ty;
use crate::source::Span;
use crate::syntax::ast::{Arg, Expr, ExprKind, Ident};

const FUNCTIONS: &[&str] = &[
    "http", "grpc", "tcp", "exec", "vault", "file", "issuer", "if_unset",
];

impl<'v> Cx<'v, '_> {
    pub(super) fn call(&mut self, name: &Ident, args: &[Arg], ty: Ty, span: Span) -> Option<Val> {
        match name.name.as_str() {
            "if_unset" => self.if_unset(args, ty, span),
            "http" | "grpc" | "tcp" | "exec" => {
                if ty != Ty::Probe {
                    self.mismatch(ty, &format!("the probe `{}(…)`", name.name), span);
                    return None;
                }
                self.probe(name, args, span)
            }
            "vault" => match ty {
                Ty::SecretSource => {
                    let a = self.args(name, args, &["path"], &[])?;
                    let path = self.plain_string(a.get("path").copied(), "the Vault path", span)?;
                    if path.is_empty() || path.starts_with('/') {
                        self.diags.push(Diagnostic::new(
                            Code::INVALID_VALUE,
                            span,
                            format!("`{path}` is not a Vault path; write it like `\"sorcha/jwt\"`"),
                        ));
                        return None;
                    }
                    Some(Val::SecretSource(SecretSource::Vault { path }))
                }
                Ty::SecretStore => {
                    let a = self.args(name, args, &["address"], &["role", "mount"])?;
                    let address =
                        self.plain_string(a.get("address").copied(), "the Vault address", span)?;
                    if !(address.starts_with("https://") || address.starts_with("http://")) {
                        self.diags.push(
                            Diagnostic::new(
                                Code::INVALID_VALUE,
                                a.get("address").map_or(span, |e| e.span),
                                format!("`{address}` is not a Vault address"),
                            )
                            .with_help("write the URL, like `\"https://vault.example.com:8200\"`"),
                        );
                        return None;
                    }
                    let role = match a.get("role") {
                        Some(e) => self.plain_string(Some(e), "the role", span)?,
                        None => self.missing_arg(name, "role", span)?,
                    };
                    let mount = match a.get("mount") {
                        Some(e) => self.plain_string(Some(e), "the mount", span)?,
                        None => "secret".to_string(),
                    };
                    Some(Val::Store(VaultStore {
                        address,
                        role,
                        mount,
                    }))
                }
                _ => {
                    self.mismatch(ty, "`vault(…)`", span);
                    None
                }
            },
            "file" => {
                if ty != Ty::ConfigValue {
                    self.mismatch(ty, "the contents of `file(…)`", span);
                    return None;
                }
                let a = self.args(name, args, &["path"], &[])?;
                let path = self.plain_string(a.get("path").copied(), "the file path", span)?;
                let source = span.source;
                match self.program().file_reads.get(&(source, path.clone())) {
                    Some(FileRead::Text(content)) => Some(Val::File {
                        content: content.clone(),
                        path,
                    }),
                    Some(FileRead::NotText) => {
                        self.diags.push(
                            Diagnostic::new(
                                Code::NOT_TEXT,
                                span,
                                format!("`{path}` is not UTF-8 text"),
                            )
                            .with_help("a config holds text; ship binary files in the image"),
                        );
                        None
                    }
                    Some(FileRead::Missing(reason)) => {
                        self.diags.push(
                            Diagnostic::new(
                                Code::FILE_NOT_FOUND,
                                span,
                                format!("cannot read `{path}`: {reason}"),
                            )
                            .with_help("`file()` paths are relative to the file that calls it"),
                        );
                        None
                    }
                    None => {
                        self.diags.push(Diagnostic::new(
                            Code::FILE_NOT_FOUND,
                            span,
                            format!("cannot read `{path}`"),
                        ));
                        None
                    }
                }
            }
            "issuer" => {
                if ty != Ty::Tls {
                    self.mismatch(ty, "`issuer(…)`", span);
                    return None;
                }
                let a = self.args(name, args, &["name"], &[])?;
                let issuer = self.plain_string(a.get("name").copied(), "the issuer name", span)?;
                if let Err(e) = names::dns_label(&issuer) {
                    self.diags
                        .push(Diagnostic::new(Code::INVALID_VALUE, span, e.message));
                    return None;
                }
                Some(Val::Tls(Tls::Issuer(issuer)))
            }
            other => {
                self.diags.push(
                    Diagnostic::new(
                        Code::UNKNOWN_REFERENCE,
                        name.span,
                        format!("unknown function `{other}`"),
                    )
                    .with_help_opt(
                        did_you_mean(other, FUNCTIONS.iter().copied()).or_else(|| {
                            Some(format!(
                                "the functions are {}",
                                FUNCTIONS
                                    .iter()
                                    .map(|f| format!("`{f}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))
                        }),
                    ),
                );
                None
            }
        }
    }

    pub(super) fn missing_arg(&mut self, f: &Ident, arg: &str, span: Span) -> Option<String> {
        self.diags.push(
            Diagnostic::new(
                Code::MISSING_FIELD,
                span,
                format!("`{}` needs the argument `{arg}`", f.name),
            )
            .with_help(format!("add `{arg}: …`")),
        );
        None
    }

    /// `if_unset(param, value)`: `value` when the optional parameter has no value;
    /// otherwise the entry is left out.
    pub(super) fn if_unset(&mut self, args: &[Arg], ty: Ty, span: Span) -> Option<Val> {
        let (Some(p), Some(v), None) = (args.first(), args.get(1), args.get(2)) else {
            self.diags.push(
                Diagnostic::new(
                    Code::TYPE_MISMATCH,
                    span,
                    "`if_unset` takes a parameter and a value",
                )
                .with_help("write `if_unset(credentials, \"trust\")`"),
            );
            return None;
        };
        let ExprKind::Ref(path) = &p.value.kind else {
            self.diags.push(Diagnostic::new(
                Code::TYPE_MISMATCH,
                p.value.span,
                "the first argument of `if_unset` must be a template parameter",
            ));
            return None;
        };
        let pname = path
            .segments
            .first()
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let Some(binding) = (path.segments.len() == 1)
            .then(|| self.decl().param(&pname))
            .flatten()
        else {
            self.diags.push(Diagnostic::new(
                Code::UNKNOWN_REFERENCE,
                p.value.span,
                format!("`{}` is not a parameter of this template", path.dotted()),
            ));
            return None;
        };
        let current = self.current;
        self.note(|| Reference {
            span: path.span,
            target: Target::Param(current, pname),
        });
        if binding.value.is_some() {
            Some(Val::Unset)
        } else {
            self.eval(&v.value, ty)
        }
    }

    /// Matches arguments to a signature of positional and named parameters.
    pub(super) fn args<'e>(
        &mut self,
        f: &Ident,
        args: &'e [Arg],
        positional: &[&'static str],
        named: &[&'static str],
    ) -> Option<HashMap<&'static str, &'e Expr>> {
        let mut out: HashMap<&'static str, &'e Expr> = HashMap::new();
        let mut pos = 0usize;
        let mut ok = true;
        for a in args {
            match &a.name {
                None => {
                    if let Some(p) = positional.get(pos) {
                        out.insert(p, &a.value);
                        pos += 1;
                    } else {
                        self.diags.push(Diagnostic::new(
                            Code::TYPE_MISMATCH,
                            a.value.span,
                            format!(
                                "`{}` takes {} positional argument{}",
                                f.name,
                                positional.len(),
                                if positional.len() == 1 { "" } else { "s" }
                            ),
                        ));
                        ok = false;
                    }
                }
                Some(n) => {
                    let all = positional.iter().chain(named.iter());
                    match all.clone().find(|p| **p == n.name) {
                        Some(p) => {
                            if out.insert(p, &a.value).is_some() {
                                self.diags.push(Diagnostic::new(
                                    Code::DUPLICATE,
                                    n.span,
                                    format!("argument `{}` is given twice", n.name),
                                ));
                                ok = false;
                            }
                        }
                        None => {
                            self.diags.push(
                                Diagnostic::new(
                                    Code::UNKNOWN_KEY,
                                    n.span,
                                    format!("`{}` has no argument `{}`", f.name, n.name),
                                )
                                .with_help_opt(
                                    did_you_mean(&n.name, all.copied()).or_else(|| {
                                        (!named.is_empty()).then(|| {
                                            format!(
                                                "its named arguments are {}",
                                                named
                                                    .iter()
                                                    .map(|n| format!("`{n}`"))
                                                    .collect::<Vec<_>>()
                                                    .join(", ")
                                            )
                                        })
                                    }),
                                ),
                            );
                            ok = false;
                        }
                    }
                }
            }
        }
        ok.then_some(out)
    }

    pub(super) fn plain_string(
        &mut self,
        e: Option<&Expr>,
        what: &str,
        span: Span,
    ) -> Option<String> {
        let Some(e) = e else {
            self.diags.push(Diagnostic::new(
                Code::MISSING_FIELD,
                span,
                format!("{what} is missing"),
            ));
            return None;
        };
        match self.eval(e, Ty::Str)? {
            Val::Text(t) => t.as_literal(),
            _ => None,
        }
    }

    pub(super) fn probe(&mut self, f: &Ident, args: &[Arg], span: Span) -> Option<Val> {
        const TIMINGS: [&str; 4] = ["delay", "period", "timeout", "failures"];
        let (positional, named): (&[&'static str], Vec<&'static str>) = match f.name.as_str() {
            "http" => (&["path"], [&["port"][..], &TIMINGS].concat()),
            "exec" => (&["command"], TIMINGS.to_vec()),
            _ => (&["port"], TIMINGS.to_vec()),
        };
        let a = self.args(f, args, positional, &named)?;
        let action = match f.name.as_str() {
            "http" => {
                let path = self.plain_string(a.get("path").copied(), "the probe path", span)?;
                if !path.starts_with('/') {
                    self.diags.push(
                        Diagnostic::new(
                            Code::INVALID_PATH,
                            a.get("path").map_or(span, |e| e.span),
                            format!("probe path `{path}` does not start with `/`"),
                        )
                        .with_help(format!("write `\"/{path}\"`")),
                    );
                    return None;
                }
                let port = self.probe_port(a.get("port").copied(), None, span)?;
                ProbeAction::Http { path, port }
            }
            "grpc" => ProbeAction::Grpc {
                port: self.probe_port(a.get("port").copied(), Some("grpc"), span)?,
            },
            "tcp" => ProbeAction::Tcp {
                port: self.probe_port(a.get("port").copied(), None, span)?,
            },
            _ => {
                let Some(cmd) = a.get("command") else {
                    self.missing_arg(f, "command", span);
                    return None;
                };
                let Val::List(items) = self.eval(cmd, Ty::List(&Ty::Str))? else {
                    return None;
                };
                let argv: Vec<String> = items
                    .into_iter()
                    .filter_map(|v| match v {
                        Val::Text(t) => t.as_literal(),
                        _ => None,
                    })
                    .collect();
                if argv.is_empty() {
                    self.diags.push(Diagnostic::new(
                        Code::INVALID_VALUE,
                        cmd.span,
                        "an `exec` probe needs a command",
                    ));
                    return None;
                }
                ProbeAction::Exec(argv)
            }
        };
        let seconds = |cx: &mut Self, key: &str, min: u64| -> Option<Option<u32>> {
            let Some(e) = a.get(key) else {
                return Some(None);
            };
            let Val::Duration(ms) = cx.eval(e, Ty::Duration)? else {
                return None;
            };
            if ms % 1000 != 0 || ms / 1000 < min {
                cx.diags.push(Diagnostic::new(
                    Code::INVALID_VALUE,
                    e.span,
                    format!(
                        "probe `{key}` must be a whole number of seconds{}",
                        if min > 0 {
                            format!(", at least {min}s")
                        } else {
                            String::new()
                        }
                    ),
                ));
                return None;
            }
            Some(Some(u32::try_from(ms / 1000).unwrap_or(u32::MAX)))
        };
        let delay = seconds(self, "delay", 0)?;
        let period = seconds(self, "period", 1)?;
        let timeout = seconds(self, "timeout", 1)?;
        let failures = match a.get("failures") {
            None => None,
            Some(e) => match self.eval(e, Ty::Int)? {
                Val::Int(n) if n >= 1 => Some(u32::try_from(n).unwrap_or(u32::MAX)),
                _ => {
                    self.diags.push(Diagnostic::new(
                        Code::INVALID_VALUE,
                        e.span,
                        "`failures` must be at least 1",
                    ));
                    return None;
                }
            },
        };
        Some(Val::Probe(Probe {
            action,
            delay,
            period,
            timeout,
            failures,
        }))
    }

    /// The port a probe targets: a port of this workload by name (or number), or the
    /// first port (the first of `protocol` when given) when none is named.
    pub(super) fn probe_port(
        &mut self,
        e: Option<&Expr>,
        protocol: Option<&str>,
        span: Span,
    ) -> Option<String> {
        let ports = self.ports_of(self.current);
        let me = self.decl().name.name.clone();
        let Some(e) = e else {
            let found = ports
                .iter()
                .find(|p| protocol.is_none_or(|pr| p.protocol == pr));
            return match found {
                Some(p) => Some(p.name.clone()),
                None => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::UNKNOWN_PORT,
                            span,
                            match protocol {
                                Some(pr) => format!("`{me}` has no {pr} port for this probe"),
                                None => format!("`{me}` has no port for this probe"),
                            },
                        )
                        .with_help("declare the port (`port http = 8080`) or name it in the probe"),
                    );
                    None
                }
            };
        };
        match &e.kind {
            ExprKind::Ref(p) if p.segments.len() == 1 => {
                let seg = &p.segments[0];
                self.find_port(self.current, ports, seg)
                    .map(|p| p.name.clone())
            }
            ExprKind::Num(n) => {
                let Ok(num) = value::integer(n) else {
                    self.mismatch(Ty::Port, "a number with a unit", e.span);
                    return None;
                };
                match ports.iter().find(|p| i64::from(p.number) == num) {
                    Some(p) => Some(p.name.clone()),
                    None => {
                        self.diags.push(
                            Diagnostic::new(
                                Code::UNKNOWN_PORT,
                                e.span,
                                format!("`{me}` declares no port {num}"),
                            )
                            .with_help(
                                "probes target declared ports; declare it with `port NAME = …`",
                            ),
                        );
                        None
                    }
                }
            }
            _ => {
                self.diags.push(
                    Diagnostic::new(
                        Code::TYPE_MISMATCH,
                        e.span,
                        "expected the name of one of this workload's ports",
                    )
                    .with_help("write `port: http`"),
                );
                None
            }
        }
    }
}
