//! Type-directed evaluation of expressions. The expected type decides what a literal
//! means (`5m`), what a bare word is (an enum value, a port of this workload, or a
//! declaration), and whether a secret may appear (only in `env` bindings: E0401).
//! References are bound here (E0101, E0403, E0501) and recorded for the editor.

use std::collections::BTreeSet;

use foldhash::{HashMap, HashMapExt};
use std::sync::Arc;

use super::model::{Egress, Probe, SecretSource, Subject, Tls, VaultStore};
use super::names;
use super::value::{self, Bytes, IntOrPct, Millicores, Res, Text, TextPart};
use crate::diag::suggest::did_you_mean;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::resolve::{DeclId, ParamTy, Program, RDecl, Reference};
use crate::schema::{Resource, Ty};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, NumLit, StrLit, StrPart};

/// An evaluated value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Text(Text),
    Int(i64),
    Bool(bool),
    /// Milliseconds.
    Duration(u64),
    Bytes(Bytes),
    Cpu(Millicores),
    Percent(u32),
    IntOrPct(IntOrPct),
    CpuRes(Res<Millicores>),
    MemRes(Res<Bytes>),
    /// A replica count, or `min..max`.
    Replicas(u32, Option<u32>),
    Enum(&'static str),
    List(Vec<Val>),
    Probe(Probe),
    Workload(DeclId),
    Port(DeclId, String),
    Secret(DeclId),
    Config(DeclId),
    SecretKey(DeclId, String),
    ConfigKey(DeclId, String),
    SecretSource(SecretSource),
    Store(VaultStore),
    Tls(Tls),
    File {
        content: String,
        path: String,
    },
    Egress(Egress),
    Subject(Subject),
    KubeVersion(u32, u32),
    /// Depends on an optional template parameter that has no value: the entry is left out.
    Unset,
}

/// A port as the checker knows it before the workload is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortInfo {
    pub name: String,
    pub number: u16,
    pub expose: Option<u16>,
    pub protocol: &'static str,
}

impl PortInfo {
    pub fn service_port(&self) -> u16 {
        self.expose.unwrap_or(self.number)
    }
}

/// What every declaration can see of the others, computed before checking them.
#[derive(Debug, Default, Clone)]
pub struct Tables {
    // Shared: every environment's tables start as a copy of the base program's.
    pub ports: HashMap<DeclId, Arc<Vec<PortInfo>>>,
    pub secret_keys: HashMap<DeclId, Arc<Vec<String>>>,
    pub live_secrets: BTreeSet<DeclId>,
    pub config_keys: HashMap<DeclId, Arc<Vec<String>>>,
}

impl Tables {
    /// Whether `other` knows the same of declaration `id` as this table.
    pub fn same_outside(&self, other: &Tables, id: DeclId) -> bool {
        self.ports.get(&id) == other.ports.get(&id)
            && self.secret_keys.get(&id) == other.secret_keys.get(&id)
            && self.live_secrets.contains(&id) == other.live_secrets.contains(&id)
            && self.config_keys.get(&id) == other.config_keys.get(&id)
    }

    /// Replaces what `patch` knows (about a few declarations).
    pub fn update(&mut self, patch: &Tables) {
        for (id, p) in &patch.ports {
            self.ports.insert(*id, p.clone());
        }
        for (id, k) in &patch.secret_keys {
            self.secret_keys.insert(*id, k.clone());
            self.live_secrets.remove(id);
        }
        self.live_secrets.extend(patch.live_secrets.iter().copied());
        for (id, k) in &patch.config_keys {
            self.config_keys.insert(*id, k.clone());
        }
    }
}

/// The declarations of one environment (patched ones substituted).
pub struct View<'p> {
    pub program: &'p Program,
    pub decls: Vec<&'p RDecl>,
}

impl<'p> View<'p> {
    pub fn decl(&self, id: DeclId) -> &'p RDecl {
        self.decls[id.0 as usize]
    }
}

/// The state of checking one declaration.
pub struct Cx<'v, 'p> {
    pub view: &'v View<'p>,
    pub tables: &'v Tables,
    pub current: DeclId,
    pub diags: &'v mut Diagnostics,
    /// Where name uses go, when this check gathers them (for the language server).
    refs: Option<&'v mut Vec<Reference>>,
    /// Uses of another workload's `.host`, `.address` or `.port` (for W0005).
    pub uses: Vec<(DeclId, Span)>,
    /// Declarations this one refers to.
    pub deps: BTreeSet<DeclId>,
    /// True while evaluating an `env` binding, where secrets may appear.
    pub secret_ok: bool,
    pub(super) params: HashMap<String, Option<Val>>,
    pub(super) param_stack: Vec<String>,
    /// What the base check of this declaration evaluated, entry by entry: an
    /// environment's re-check takes the entries it did not patch from there instead of
    /// evaluating them again ([`super::block::Evaluated`]).
    pub(super) taken: Option<&'v super::block::Evaluated<'p>>,
    /// Where the base check records what it evaluates, entry by entry, for the
    /// environments that patch this declaration.
    pub(super) record: Option<super::block::Evaluated<'p>>,
}

impl<'v, 'p> Cx<'v, 'p> {
    pub fn new(
        view: &'v View<'p>,
        tables: &'v Tables,
        current: DeclId,
        diags: &'v mut Diagnostics,
        refs: Option<&'v mut Vec<Reference>>,
    ) -> Cx<'v, 'p> {
        Cx {
            view,
            tables,
            current,
            diags,
            refs,
            uses: Vec::new(),
            deps: BTreeSet::new(),
            secret_ok: false,
            params: HashMap::new(),
            param_stack: Vec::new(),
            taken: None,
            record: None,
        }
    }

    /// Records a use of a name, when this check gathers them.
    pub(super) fn note(&mut self, reference: impl FnOnce() -> Reference) {
        if let Some(refs) = self.refs.as_deref_mut() {
            refs.push(reference());
        }
    }

    pub(super) fn program(&self) -> &'p Program {
        self.view.program
    }

    pub(super) fn decl(&self) -> &'p RDecl {
        self.view.decl(self.current)
    }

    pub(super) fn mismatch(&mut self, ty: Ty, found: &str, span: Span) {
        let d = Diagnostic::new(
            Code::TYPE_MISMATCH,
            span,
            format!("expected {}, found {found}", ty.describe()),
        );
        let d = match (ty, found) {
            (Ty::Str | Ty::Image | Ty::Host | Ty::AbsPath | Ty::Cron, "a number") => {
                d.with_help("quote it to make it a string")
            }
            _ => d,
        };
        self.diags.push(d);
    }

    /// Evaluates `e` as a value of type `ty`. `None` after a diagnostic.
    pub fn eval(&mut self, e: &Expr, ty: Ty) -> Option<Val> {
        match &e.kind {
            ExprKind::Str(s) => match self.text(s)? {
                Some(text) => self.string_value(text, ty, e.span, Some(s)),
                None => Some(Val::Unset),
            },
            ExprKind::Num(n) => self.number(n, ty, e.span),
            ExprKind::Bool(b) => match ty {
                Ty::Bool => Some(Val::Bool(*b)),
                Ty::EnvValue => Some(Val::Text(Text::lit(b.to_string()))),
                _ => {
                    self.mismatch(ty, &format!("`{b}`"), e.span);
                    None
                }
            },
            ExprKind::Range(lo, hi) => self.range(lo, hi, ty, e.span),
            ExprKind::List(items) => match ty {
                Ty::List(inner) => {
                    let mut out = Vec::with_capacity(items.len());
                    let mut ok = true;
                    for i in items {
                        match self.eval(i, *inner) {
                            Some(Val::Unset) => {}
                            Some(v) => out.push(v),
                            None => ok = false,
                        }
                    }
                    ok.then_some(Val::List(out))
                }
                _ => {
                    self.mismatch(ty, "a list", e.span);
                    None
                }
            },
            ExprKind::Ref(path) => self.reference(path, ty),
            ExprKind::Call { name, args } => self.call(name, args, ty, e.span),
        }
    }

    /// A string literal with its interpolations evaluated; `Some(None)` when it
    /// interpolates an optional parameter that has no value.
    pub(super) fn text(&mut self, s: &StrLit) -> Option<Option<Text>> {
        let mut out = Text::default();
        let mut ok = true;
        for part in &s.parts {
            match part {
                StrPart::Text(t, _) => out.push_lit(t),
                StrPart::Interp(e) => match self.eval(e, Ty::EnvValue) {
                    Some(Val::Text(t)) => out.append(t),
                    Some(Val::SecretKey(secret, key)) => {
                        out.parts.push(TextPart::Secret { secret, key })
                    }
                    Some(Val::ConfigKey(config, key)) => {
                        out.parts.push(TextPart::Config { config, key })
                    }
                    Some(Val::Unset) => return Some(None),
                    Some(_) => {}
                    None => ok = false,
                },
            }
        }
        ok.then_some(Some(out))
    }

    /// Checks a string against a string-like type.
    pub(super) fn string_value(
        &mut self,
        text: Text,
        ty: Ty,
        span: Span,
        lit: Option<&StrLit>,
    ) -> Option<Val> {
        if let Ty::EnvValue = ty {
            return Some(Val::Text(text));
        }
        let Some(s) = text.as_literal() else {
            self.diags.push(
                Diagnostic::new(
                    Code::TYPE_MISMATCH,
                    span,
                    "a config key can only be used in an `env` binding",
                )
                .with_help("bind the config key to an environment variable, or mount the config"),
            );
            return None;
        };
        // The offending characters, when the literal is written exactly as its value.
        let underline = |e: &names::Invalid| -> Span {
            match (e.at, lit) {
                (Some(at), Some(l)) if l.as_plain().as_deref() == Some(s.as_str()) => {
                    let raw = &self.program().sources.text(l.span);
                    if raw.len() == s.len() + 2 {
                        return span.sub(1 + at, e.len);
                    }
                    span
                }
                _ => span,
            }
        };
        match ty {
            Ty::Str => Some(Val::Text(Text::lit(s))),
            Ty::Image => match names::image(&s) {
                Ok(r) => {
                    if r.digest.is_none() && r.tag.as_deref().is_none_or(|t| t == "latest") {
                        let what = if r.tag.is_none() {
                            "has no tag"
                        } else {
                            "uses the `latest` tag"
                        };
                        self.diags.push(
                            Diagnostic::new(
                                Code::UNPINNED_IMAGE,
                                span,
                                format!("image `{s}` {what}"),
                            )
                            .with_help("pin a version (`:1.4.0`) or a digest (`@sha256:…`) so every node runs the same image and rollbacks mean something"),
                        );
                    }
                    Some(Val::Text(Text::lit(s)))
                }
                Err(e) => {
                    let sp = underline(&e);
                    self.diags
                        .push(Diagnostic::new(Code::INVALID_VALUE, sp, e.message));
                    None
                }
            },
            Ty::Cron => match names::cron(&s) {
                Ok(()) => Some(Val::Text(Text::lit(s))),
                Err(e) => {
                    let sp = underline(&e);
                    self.diags.push(
                        Diagnostic::new(Code::INVALID_VALUE, sp, e.message)
                            .with_help("five fields: minute hour day-of-month month day-of-week, like `\"0 2 * * *\"`"),
                    );
                    None
                }
            },
            Ty::Host => match names::host(&s) {
                Ok(()) => Some(Val::Text(Text::lit(s))),
                Err(e) => {
                    let sp = underline(&e);
                    self.diags
                        .push(Diagnostic::new(Code::INVALID_HOST, sp, e.message));
                    None
                }
            },
            Ty::AbsPath => {
                if s.starts_with('/') && !s.split('/').any(|seg| seg == "..") {
                    Some(Val::Text(Text::lit(s)))
                } else {
                    self.diags.push(
                        Diagnostic::new(
                            Code::INVALID_PATH,
                            span,
                            format!("`{s}` is not an absolute path"),
                        )
                        .with_help(format!(
                            "paths start with `/`, like `\"/{}\"`",
                            s.trim_start_matches(['.', '/'])
                        )),
                    );
                    None
                }
            }
            Ty::DnsLabel => match names::dns_label(&s) {
                Ok(()) => Some(Val::Text(Text::lit(s))),
                Err(e) => {
                    let sp = underline(&e);
                    self.diags
                        .push(Diagnostic::new(Code::INVALID_VALUE, sp, e.message));
                    None
                }
            },
            Ty::LabelValue => match names::label_value(&s) {
                Ok(()) => Some(Val::Text(Text::lit(s))),
                Err(e) => {
                    let sp = underline(&e);
                    self.diags
                        .push(Diagnostic::new(Code::INVALID_LABEL, sp, e.message));
                    None
                }
            },
            Ty::KubeVersion => self.kube_version(&s, span),
            Ty::Egress => self.egress(&s, span),
            Ty::Subject => self.subject(&s, span),
            Ty::Tls => match names::dns_label(&s) {
                Ok(()) => Some(Val::Tls(Tls::Secret(s))),
                Err(e) => {
                    let sp = underline(&e);
                    self.diags.push(
                        Diagnostic::new(Code::INVALID_VALUE, sp, format!("`{s}` is not a valid secret name: {}", e.message))
                            .with_help("name an existing TLS secret, or use `issuer(\"name\")` for a cert-manager certificate"),
                    );
                    None
                }
            },
            Ty::ConfigValue => Some(Val::File {
                content: s,
                path: String::new(),
            }),
            Ty::KeyName => match names::data_key(&s) {
                Ok(()) => Some(Val::Text(Text::lit(s))),
                Err(e) => {
                    self.diags
                        .push(Diagnostic::new(Code::INVALID_VALUE, span, e.message));
                    None
                }
            },
            Ty::Enum(words) => {
                if let Some(w) = words.iter().find(|w| **w == s) {
                    Some(Val::Enum(w))
                } else {
                    self.diags.push(
                        Diagnostic::new(
                            Code::TYPE_MISMATCH,
                            span,
                            format!("expected {}, found `\"{s}\"`", ty.describe()),
                        )
                        .with_help_opt(did_you_mean(&s, words.iter().copied())),
                    );
                    None
                }
            }
            _ => {
                self.mismatch(ty, "a string", span);
                None
            }
        }
    }

    pub(super) fn kube_version(&mut self, s: &str, span: Span) -> Option<Val> {
        let parsed = s
            .strip_prefix('v')
            .unwrap_or(s)
            .split_once('.')
            .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)));
        match parsed {
            None => {
                self.diags.push(
                    Diagnostic::new(
                        Code::INVALID_VALUE,
                        span,
                        format!("`{s}` is not a Kubernetes version"),
                    )
                    .with_help("write the minor version, like `\"1.33\"`"),
                );
                None
            }
            Some((major, minor)) if (major, minor) < (1, 33) => {
                self.diags.push(
                    Diagnostic::new(
                        Code::UNSUPPORTED_KUBERNETES,
                        span,
                        format!("Kubernetes {major}.{minor} is not supported; the lowest supported version is 1.33"),
                    )
                    .with_help("sorchac emits APIs served by Kubernetes 1.33 and later; upgrade the cluster, or set `kubernetes = \"1.33\"`"),
                );
                None
            }
            Some((major, minor)) => Some(Val::KubeVersion(major, minor)),
        }
    }

    pub(super) fn egress(&mut self, s: &str, span: Span) -> Option<Val> {
        let Some((dest, port)) = s.rsplit_once(':') else {
            self.diags.push(
                Diagnostic::new(
                    Code::INVALID_VALUE,
                    span,
                    format!("egress `{s}` has no port"),
                )
                .with_help(format!("write `\"{s}:443\"`")),
            );
            return None;
        };
        let port = match port.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                self.diags.push(Diagnostic::new(
                    Code::INVALID_VALUE,
                    span,
                    format!("`{port}` is not a port number (1..65535)"),
                ));
                return None;
            }
        };
        if let Some((ip, bits)) = names::cidr(dest) {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            let net = std::net::Ipv4Addr::from(u32::from(ip) & mask);
            if net != ip {
                self.diags.push(
                    Diagnostic::new(
                        Code::INVALID_VALUE,
                        span,
                        format!("`{dest}` has host bits set"),
                    )
                    .with_help(format!("the network is `{net}/{bits}`")),
                );
                return None;
            }
            return Some(Val::Egress(Egress::Cidr {
                network: format!("{net}/{bits}"),
                port,
            }));
        }
        if dest.contains('/') {
            self.diags.push(Diagnostic::new(
                Code::INVALID_VALUE,
                span,
                format!("`{dest}` is not an IPv4 network"),
            ));
            return None;
        }
        if let Err(e) = names::host(dest) {
            self.diags
                .push(Diagnostic::new(Code::INVALID_HOST, span, e.message));
            return None;
        }
        self.diags.push(
            Diagnostic::new(
                Code::EGRESS_TO_HOSTNAME,
                span,
                format!("egress to host name `{dest}` is allowed to every public address on port {port}"),
            )
            .with_help("NetworkPolicies match addresses, not names: list the provider's address ranges (`\"203.0.113.0/24:443\"`) to allow less, or send the traffic through an egress gateway"),
        );
        Some(Val::Egress(Egress::Host {
            host: dest.to_string(),
            port,
        }))
    }

    pub(super) fn subject(&mut self, s: &str, span: Span) -> Option<Val> {
        let parsed = match s.split_once(':') {
            Some(("group", n)) if !n.is_empty() => Some(Subject::Group(n.to_string())),
            Some(("user", n)) if !n.is_empty() => Some(Subject::User(n.to_string())),
            Some(("serviceaccount", rest)) => rest.split_once(':').and_then(|(ns, n)| {
                (names::dns_label(ns).is_ok() && names::dns_label(n).is_ok()).then(|| {
                    Subject::ServiceAccount {
                        namespace: ns.to_string(),
                        name: n.to_string(),
                    }
                })
            }),
            _ => None,
        };
        match parsed {
            Some(sub) => Some(Val::Subject(sub)),
            None => {
                self.diags.push(
                    Diagnostic::new(
                        Code::INVALID_VALUE,
                        span,
                        format!("`{s}` is not a subject"),
                    )
                    .with_help("write `\"group:NAME\"`, `\"user:NAME\"` or `\"serviceaccount:NAMESPACE:NAME\"`"),
                );
                None
            }
        }
    }

    pub(super) fn number(&mut self, n: &NumLit, ty: Ty, span: Span) -> Option<Val> {
        let bad = |cx: &mut Self, msg: String| {
            cx.diags
                .push(Diagnostic::new(Code::INVALID_VALUE, span, msg));
            None
        };
        match ty {
            Ty::Int => match value::integer(n) {
                Ok(i) => Some(Val::Int(i)),
                Err(m) => bad(self, m),
            },
            Ty::Port => match value::integer(n) {
                Ok(i) if (1..=65535).contains(&i) => Some(Val::Int(i)),
                Ok(i) => bad(self, format!("port {i} is out of range 1..65535")),
                Err(m) => bad(self, m),
            },
            Ty::Duration => match value::duration(n) {
                Ok(ms) => Some(Val::Duration(ms)),
                Err(m) => bad(self, m),
            },
            Ty::Bytes => match value::bytes(n) {
                Ok(b) => Some(Val::Bytes(b)),
                Err(m) => bad(self, m),
            },
            Ty::Cpu => match value::cpu(n) {
                Ok(c) => Some(Val::Cpu(c)),
                Err(m) => bad(self, m),
            },
            Ty::Percent => match value::percent(n) {
                Ok(p) => Some(Val::Percent(p)),
                Err(m) => bad(self, m),
            },
            Ty::IntOrPercent => {
                if n.unit() == Some("%") {
                    match value::percent(n) {
                        Ok(p) if p <= 100 => Some(Val::IntOrPct(IntOrPct::Pct(p))),
                        Ok(p) => bad(self, format!("{p}% is more than 100%")),
                        Err(m) => bad(self, m),
                    }
                } else {
                    match value::integer(n) {
                        Ok(i) => Some(Val::IntOrPct(IntOrPct::Int(i))),
                        Err(m) => bad(self, m),
                    }
                }
            }
            Ty::Resource(Resource::Cpu) => match value::cpu(n) {
                Ok(c) => Some(Val::CpuRes(Res {
                    request: c,
                    limit: c,
                })),
                Err(m) => bad(self, m),
            },
            Ty::Resource(Resource::Memory) => match value::bytes(n) {
                Ok(b) => Some(Val::MemRes(Res {
                    request: b.clone(),
                    limit: b,
                })),
                Err(m) => bad(self, m),
            },
            Ty::Replicas => match value::integer(n) {
                Ok(i) if i >= 0 && i <= u32::MAX as i64 => Some(Val::Replicas(i as u32, None)),
                Ok(i) => bad(self, format!("{i} is not a replica count")),
                Err(m) => bad(self, m),
            },
            Ty::EnvValue => Some(Val::Text(Text::lit(n.text()))),
            _ => {
                self.mismatch(ty, "a number", span);
                None
            }
        }
    }

    pub(super) fn range(&mut self, lo: &Expr, hi: &Expr, ty: Ty, span: Span) -> Option<Val> {
        let single = match ty {
            Ty::Resource(Resource::Cpu) => Ty::Cpu,
            Ty::Resource(Resource::Memory) => Ty::Bytes,
            Ty::Replicas => Ty::Int,
            _ => {
                self.diags.push(
                    Diagnostic::new(
                        Code::TYPE_MISMATCH,
                        span,
                        format!("expected {}, found a range", ty.describe()),
                    )
                    .with_help("ranges are for resources (`cpu = 250m..1`) and replicas (`replicas = 2..10`)"),
                );
                return None;
            }
        };
        let a = self.eval(lo, single)?;
        let b = self.eval(hi, single)?;
        let above = |what: &str, cx: &mut Self| {
            let text = |e: &Expr| cx.program().sources.text(e.span).to_string();
            let (r, l) = (text(lo), text(hi));
            cx.diags.push(
                Diagnostic::new(
                    Code::REQUEST_ABOVE_LIMIT,
                    span,
                    format!("the {what} request `{r}` is above its limit `{l}`"),
                )
                .with_help(format!(
                    "write `request..limit` with the smaller value first: `{l}..{r}`"
                )),
            );
        };
        match (a, b) {
            (Val::Cpu(r), Val::Cpu(l)) => {
                if r > l {
                    above("CPU", self);
                    return None;
                }
                Some(Val::CpuRes(Res {
                    request: r,
                    limit: l,
                }))
            }
            (Val::Bytes(r), Val::Bytes(l)) => {
                if r.bytes > l.bytes {
                    above("memory", self);
                    return None;
                }
                Some(Val::MemRes(Res {
                    request: r,
                    limit: l,
                }))
            }
            (Val::Int(min), Val::Int(max)) => {
                let to_u32 = |i: i64| u32::try_from(i).ok();
                match (to_u32(min), to_u32(max)) {
                    (Some(a), Some(b)) => Some(Val::Replicas(a, Some(b))),
                    _ => {
                        self.diags.push(Diagnostic::new(
                            Code::INVALID_VALUE,
                            span,
                            "replica counts cannot be negative",
                        ));
                        None
                    }
                }
            }
            _ => None,
        }
    }
}

/// The schema type a template parameter's values are checked against.
pub fn param_ty(t: &ParamTy) -> Ty {
    match t {
        ParamTy::Str => Ty::Str,
        ParamTy::Int => Ty::Int,
        ParamTy::Bool => Ty::Bool,
        ParamTy::Duration => Ty::Duration,
        ParamTy::Bytes => Ty::Bytes,
        ParamTy::Cpu => Ty::Cpu,
        ParamTy::Percent => Ty::Percent,
        ParamTy::Secret => Ty::Secret,
        ParamTy::Config => Ty::Mountable,
        ParamTy::Workload => Ty::Workload,
        ParamTy::List(inner) => Ty::List(match param_ty(inner) {
            Ty::Int => &Ty::Int,
            Ty::Bool => &Ty::Bool,
            Ty::Duration => &Ty::Duration,
            Ty::Bytes => &Ty::Bytes,
            Ty::Cpu => &Ty::Cpu,
            Ty::Percent => &Ty::Percent,
            Ty::Secret => &Ty::Secret,
            Ty::Mountable => &Ty::Mountable,
            Ty::Workload => &Ty::Workload,
            _ => &Ty::Str,
        }),
    }
}

pub(super) fn describe_val(v: &Val, view: &View, written: &str) -> String {
    let decl_kind = |id: &DeclId| view.decl(*id).kind.as_str();
    match v {
        Val::Workload(id) | Val::Secret(id) | Val::Config(id) => {
            format!("{} `{written}`", decl_kind(id))
        }
        Val::Port(..) => format!("port `{written}`"),
        Val::ConfigKey(..) => format!("config key `{written}`"),
        Val::Int(_) => format!("an integer (`{written}`)"),
        Val::Bool(_) => format!("a bool (`{written}`)"),
        Val::Duration(_) => format!("a duration (`{written}`)"),
        Val::Bytes(_) => format!("a size (`{written}`)"),
        Val::Cpu(_) => format!("a CPU amount (`{written}`)"),
        Val::Percent(_) => format!("a percentage (`{written}`)"),
        Val::List(_) => format!("a list (`{written}`)"),
        _ => format!("`{written}`"),
    }
}

pub(super) fn list_words(words: &[String]) -> String {
    let w: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match w.split_last() {
        None => "nothing".to_string(),
        Some((last, [])) => last.clone(),
        Some((last, init)) => format!("{} and {last}", init.join(", ")),
    }
}
