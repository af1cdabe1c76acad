//! References: `self`, template parameters, declarations and their members (`.host`,
//! `.address`, `.port.NAME`, ports, secret and config keys), bound and converted to the
//! expected type. Secrets are tracked here: a secret key reaches only `env` bindings
//! (E0401), and a live-rotated secret only mounts (E0402).

use super::eval::{Cx, PortInfo, Tables, Val, describe_val, list_words, param_ty};
use super::model::SecretSource;
use super::names;
use super::value::{IntOrPct, Res, Text};
use crate::diag::suggest::did_you_mean;
use crate::diag::{Code, Diagnostic};
use crate::resolve::{DeclId, ParamTy, Reference, Target};
use crate::schema::{Kind, Resource, Ty};
use crate::source::Span;
use crate::syntax::ast::{Ident, Path};

impl<'v> Cx<'v, '_> {
    /// Binds a reference and converts it to `ty`.
    pub fn reference(&mut self, path: &Path, ty: Ty) -> Option<Val> {
        let segs = &path.segments;
        let first = segs.first()?;
        if segs.len() == 1 {
            match ty {
                Ty::Enum(words) => {
                    if let Some(w) = words.iter().find(|w| **w == first.name) {
                        return Some(Val::Enum(w));
                    }
                    if self.lookup_head(&first.name).is_none() {
                        self.diags.push(
                            Diagnostic::new(
                                Code::TYPE_MISMATCH,
                                first.span,
                                format!("expected {}, found `{}`", ty.describe(), first.name),
                            )
                            .with_help_opt(did_you_mean(&first.name, words.iter().copied())),
                        );
                        return None;
                    }
                }
                Ty::SecretSource if first.name == "deploy" => {
                    return Some(Val::SecretSource(SecretSource::Deploy));
                }
                Ty::KeyName => {
                    return match names::data_key(&first.name) {
                        Ok(()) => Some(Val::Text(Text::lit(first.name.clone()))),
                        Err(e) => {
                            self.diags.push(Diagnostic::new(
                                Code::INVALID_VALUE,
                                first.span,
                                e.message,
                            ));
                            None
                        }
                    };
                }
                _ => {}
            }
        }
        let head = self.head(first)?;
        let val = match head {
            Head::Param(v) => {
                if segs.len() == 1 || matches!(v, Val::Unset) {
                    v
                } else {
                    match v {
                        Val::Workload(id) | Val::Secret(id) | Val::Config(id) => {
                            self.member(id, &segs[1..], path)?
                        }
                        _ => {
                            self.diags.push(Diagnostic::new(
                                Code::UNKNOWN_REFERENCE,
                                segs[1].span,
                                format!(
                                    "`{}` is a value and has no `{}`",
                                    first.name, segs[1].name
                                ),
                            ));
                            return None;
                        }
                    }
                }
            }
            Head::Decl(id) => self.member(id, &segs[1..], path)?,
        };
        self.coerce(val, ty, path.span, path)
    }

    pub(super) fn lookup_head(&self, name: &str) -> Option<()> {
        if name == "self"
            || self.decl().param(name).is_some()
            || self.program().lookup(name).is_some()
        {
            Some(())
        } else {
            None
        }
    }

    fn head(&mut self, first: &Ident) -> Option<Head> {
        let current = self.current;
        if first.name == "self" {
            self.note(|| Reference {
                span: first.span,
                target: Target::Decl(current),
            });
            return Some(Head::Decl(current));
        }
        if let Some(binding) = self.decl().param(&first.name) {
            self.note(|| Reference {
                span: first.span,
                target: Target::Param(current, first.name.clone()),
            });
            return self
                .param_value(&first.name, binding.decl.ty.clone(), first.span)
                .map(Head::Param);
        }
        if let Some(id) = self.program().lookup(&first.name) {
            self.note(|| Reference {
                span: first.span,
                target: Target::Decl(id),
            });
            self.deps.insert(id);
            return Some(Head::Decl(id));
        }
        let mut names: Vec<&str> = self.program().by_name.keys().map(String::as_str).collect();
        names.extend(self.decl().params.iter().map(|p| p.decl.name.name.as_str()));
        names.push("self");
        names.sort_unstable();
        self.diags.push(
            Diagnostic::new(
                Code::UNKNOWN_REFERENCE,
                first.span,
                format!("unknown reference `{}`", first.name),
            )
            .with_help_opt(did_you_mean(&first.name, names)),
        );
        None
    }

    /// The value of a template parameter of the current declaration.
    pub(super) fn param_value(&mut self, name: &str, ty: ParamTy, span: Span) -> Option<Val> {
        if let Some(v) = self.params.get(name) {
            return v.clone();
        }
        if self.param_stack.iter().any(|p| p == name) {
            self.diags.push(Diagnostic::new(
                Code::UNKNOWN_REFERENCE,
                span,
                format!("parameter `{name}` refers to itself"),
            ));
            return None;
        }
        let binding = self.decl().param(name)?;
        let v = match &binding.value {
            None => Some(Val::Unset),
            Some(e) => {
                self.param_stack.push(name.to_string());
                let saved = self.secret_ok;
                self.secret_ok = false;
                let v = self.eval(e, param_ty(&ty));
                self.secret_ok = saved;
                self.param_stack.pop();
                v
            }
        };
        self.params.insert(name.to_string(), v.clone());
        v
    }

    /// `decl.rest...`: ports, `host`, `address`, `port.NAME`, secret and config keys.
    pub(super) fn member(&mut self, id: DeclId, rest: &[Ident], path: &Path) -> Option<Val> {
        let decl = self.view.decl(id);
        let kind = decl.kind;
        let Some(m) = rest.first() else {
            return Some(match kind {
                Kind::Secret => Val::Secret(id),
                Kind::Config => Val::Config(id),
                k if k.is_workload() => Val::Workload(id),
                _ => {
                    self.diags.push(Diagnostic::new(
                        Code::TYPE_MISMATCH,
                        path.span,
                        format!(
                            "`{}` is a {}, which cannot be used as a value",
                            decl.name.name,
                            kind.as_str()
                        ),
                    ));
                    return None;
                }
            });
        };
        let name = &decl.name.name;
        match kind {
            Kind::Secret => {
                if rest.len() > 1 {
                    self.too_long(path, &rest[1]);
                    return None;
                }
                let tables = self.tables;
                let keys: &[String] = tables.secret_keys.get(&id).map_or(&[], |k| k.as_slice());
                if !keys.contains(&m.name) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::UNKNOWN_SECRET_KEY,
                            m.span,
                            format!("secret `{name}` has no key `{}`", m.name),
                        )
                        .with_label(
                            decl.name.span,
                            format!("`{name}` declares {}", list_words(keys)),
                        )
                        .with_help_opt(
                            did_you_mean(&m.name, keys.iter().map(String::as_str)).or_else(|| {
                                Some(format!("add `{}` to the `keys` of `{name}`", m.name))
                            }),
                        ),
                    );
                    return None;
                }
                self.note(|| Reference {
                    span: m.span,
                    target: Target::SecretKey(id, m.name.clone()),
                });
                Some(Val::SecretKey(id, m.name.clone()))
            }
            Kind::Config => {
                if rest.len() > 1 {
                    self.too_long(path, &rest[1]);
                    return None;
                }
                let tables = self.tables;
                let keys: &[String] = tables.config_keys.get(&id).map_or(&[], |k| k.as_slice());
                if !keys.contains(&m.name) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::UNKNOWN_REFERENCE,
                            m.span,
                            format!("config `{name}` has no key `{}`", m.name),
                        )
                        .with_help_opt(did_you_mean(&m.name, keys.iter().map(String::as_str))),
                    );
                    return None;
                }
                self.note(|| Reference {
                    span: m.span,
                    target: Target::ConfigKey(id, m.name.clone()),
                });
                Some(Val::ConfigKey(id, m.name.clone()))
            }
            k if k.is_workload() => self.workload_member(id, rest, path),
            _ => {
                self.diags.push(Diagnostic::new(
                    Code::UNKNOWN_REFERENCE,
                    m.span,
                    format!("{} `{name}` has no `{}`", kind.as_str(), m.name),
                ));
                None
            }
        }
    }

    pub(super) fn too_long(&mut self, path: &Path, extra: &Ident) {
        self.diags.push(Diagnostic::new(
            Code::UNKNOWN_REFERENCE,
            extra.span,
            format!(
                "`{}` goes too deep: nothing has `{}`",
                path.dotted(),
                extra.name
            ),
        ));
    }

    pub(super) fn workload_member(
        &mut self,
        id: DeclId,
        rest: &[Ident],
        path: &Path,
    ) -> Option<Val> {
        let name = self.view.decl(id).name.name.as_str();
        let ports = self.ports_of(id);
        let m = &rest[0];
        let record_use = |cx: &mut Self| {
            if id != cx.current {
                cx.uses.push((id, path.span));
            }
        };
        match (m.name.as_str(), rest.len()) {
            ("host", 1) => {
                record_use(self);
                Some(Val::Text(Text::lit(name.to_string())))
            }
            ("address", 1) => {
                record_use(self);
                match ports.first() {
                    Some(p) => Some(Val::Text(Text::lit(format!("{name}:{}", p.service_port())))),
                    None => {
                        self.no_ports(id, path.span);
                        None
                    }
                }
            }
            ("port", 2) => {
                record_use(self);
                let p = self.find_port(id, ports, &rest[1])?;
                Some(Val::Int(i64::from(p.service_port())))
            }
            (_, 1) if !matches!(m.name.as_str(), "port") => {
                let p = self.find_port(id, ports, m)?;
                Some(Val::Port(id, p.name.clone()))
            }
            _ => {
                self.diags.push(
                    Diagnostic::new(
                        Code::UNKNOWN_REFERENCE,
                        path.span,
                        format!("`{}` is not something `{name}` has", path.dotted()),
                    )
                    .with_help(format!(
                        "a workload has `{name}.host`, `{name}.address`, `{name}.port.NAME` and its ports `{name}.NAME`"
                    )),
                );
                None
            }
        }
    }

    /// The ports of a workload, as the tables know them.
    pub(super) fn ports_of(&self, id: DeclId) -> &'v [PortInfo] {
        let tables: &'v Tables = self.tables;
        tables.ports.get(&id).map_or(&[], |p| p.as_slice())
    }

    pub(super) fn find_port(
        &mut self,
        id: DeclId,
        ports: &'v [PortInfo],
        m: &Ident,
    ) -> Option<&'v PortInfo> {
        let name = self.view.decl(id).name.name.as_str();
        match ports.iter().find(|p| p.name == m.name) {
            Some(p) => {
                self.note(|| Reference {
                    span: m.span,
                    target: Target::Port(id, p.name.clone()),
                });
                Some(p)
            }
            None => {
                let mut d = Diagnostic::new(
                    Code::UNKNOWN_PORT,
                    m.span,
                    format!("`{name}` has no port `{}`", m.name),
                );
                d = if ports.is_empty() {
                    d.with_help(format!("`{name}` declares no ports"))
                } else {
                    d.with_label(
                        self.view.decl(id).name.span,
                        format!(
                            "`{name}` declares {}",
                            list_words(&ports.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
                        ),
                    )
                    .with_help_opt(did_you_mean(&m.name, ports.iter().map(|p| p.name.as_str())))
                };
                self.diags.push(d);
                None
            }
        }
    }

    pub(super) fn no_ports(&mut self, id: DeclId, span: Span) {
        let decl = self.view.decl(id);
        self.diags.push(
            Diagnostic::new(
                Code::CALL_TO_WORKER,
                span,
                format!("`{}` has no ports, so it has no address", decl.name.name),
            )
            .with_label(decl.name.span, "declared here without ports"),
        );
    }

    /// Converts a bound reference to the expected type; `written` is the reference,
    /// named in messages.
    pub(super) fn coerce(&mut self, v: Val, ty: Ty, span: Span, written: &Path) -> Option<Val> {
        if matches!(v, Val::Unset) {
            return Some(Val::Unset);
        }
        match (&v, ty) {
            (Val::SecretKey(secret, key), _) => {
                if !self.secret_ok {
                    self.diags.push(
                        Diagnostic::new(
                            Code::SECRET_OUTSIDE_ENV,
                            span,
                            format!("secret `{written}` cannot be used here"),
                        )
                        .with_help("a secret reaches a container only through an `env` binding (`NAME = secret.key`, or interpolated into one) or a `mount`"),
                    );
                    return None;
                }
                if self.tables.live_secrets.contains(secret) {
                    let sname = self.view.decl(*secret).name.name.clone();
                    self.diags.push(
                        Diagnostic::new(
                            Code::LIVE_SECRET_IN_ENV,
                            span,
                            format!("secret `{sname}` rotates live, so it cannot be bound to an environment variable"),
                        )
                        .with_label(self.view.decl(*secret).name.span, "declared with `rotation = live`")
                        .with_help(format!(
                            "environment variables never change in a running container; mount it instead: `mount {sname} at \"/run/secrets/{sname}\"`, and read the file `{key}`"
                        )),
                    );
                    return None;
                }
                match ty {
                    Ty::EnvValue => Some(v),
                    _ => {
                        self.mismatch(ty, &format!("secret key `{written}`"), span);
                        None
                    }
                }
            }
            (Val::ConfigKey(..), Ty::EnvValue) => Some(v),
            (Val::Workload(id), Ty::CallTarget) => {
                if self.tables.ports.get(id).is_none_or(|p| p.is_empty()) {
                    let decl = self.view.decl(*id);
                    self.diags.push(
                        Diagnostic::new(
                            Code::CALL_TO_WORKER,
                            span,
                            format!("`{}` has no ports, so nothing can call or route to it", decl.name.name),
                        )
                        .with_label(decl.name.span, "declared here without ports")
                        .with_help(format!(
                            "a workload without ports is a worker; remove `{written}` here, or declare the port it listens on"
                        )),
                    );
                    return None;
                }
                Some(v)
            }
            (Val::Text(t), _) => {
                let t = t.clone();
                self.string_value(t, ty, span, None)
            }
            (Val::Int(i), Ty::EnvValue | Ty::Str) => Some(Val::Text(Text::lit(i.to_string()))),
            (Val::Int(_), Ty::Int | Ty::Port) => Some(v),
            (Val::Int(i), Ty::IntOrPercent) => Some(Val::IntOrPct(IntOrPct::Int(*i))),
            (Val::Int(i), Ty::Replicas) => u32::try_from(*i).ok().map(|n| Val::Replicas(n, None)),
            (Val::Bool(b), Ty::EnvValue) => Some(Val::Text(Text::lit(b.to_string()))),
            (Val::Bool(_), Ty::Bool)
            | (Val::Duration(_), Ty::Duration)
            | (Val::Bytes(_), Ty::Bytes)
            | (Val::Cpu(_), Ty::Cpu)
            | (Val::Percent(_), Ty::Percent)
            | (Val::Workload(_), Ty::Workload)
            | (Val::Port(..), Ty::CallTarget)
            | (Val::Secret(_), Ty::Secret | Ty::Mountable)
            | (Val::Config(_), Ty::Mountable) => Some(v),
            (Val::Cpu(c), Ty::Resource(Resource::Cpu)) => Some(Val::CpuRes(Res {
                request: *c,
                limit: *c,
            })),
            (Val::Bytes(b), Ty::Resource(Resource::Memory)) => Some(Val::MemRes(Res {
                request: b.clone(),
                limit: b.clone(),
            })),
            (Val::Percent(p), Ty::IntOrPercent) => Some(Val::IntOrPct(IntOrPct::Pct(*p))),
            (Val::List(items), Ty::List(inner)) => {
                let mut out = Vec::new();
                for i in items.clone() {
                    out.push(self.coerce(i, *inner, span, written)?);
                }
                Some(Val::List(out))
            }
            _ => {
                let found = describe_val(&v, self.view, &written.dotted());
                self.mismatch(ty, &found, span);
                None
            }
        }
    }
}

enum Head {
    Decl(DeclId),
    Param(Val),
}
