//! Builds the typed model of each kind from its checked block: defaults applied,
//! references turned into names, and the rules that concern one declaration alone
//! (conflicting keys, a backup without a dump command, stores without credentials).

use std::collections::BTreeMap;

use super::block::{Ev, Owner};
use super::eval::{Cx, Val};
use super::model::*;
use super::names;
use crate::diag::{Code, Diagnostic};
use crate::resolve::{MBlock, MKey, RDecl};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, StrPart};

impl<'p> Cx<'_, 'p> {
    /// A declaration's body, evaluated against its kind's schema.
    fn eval_decl(&mut self, decl: &'p RDecl) -> Ev<'p> {
        let owner = Owner {
            kind: decl.kind.as_str(),
            name: &decl.name.name,
            parent: None,
            span: decl.name.span,
        };
        let schema = decl.kind.schema();
        match (self.taken, &self.record) {
            (None, None) => self.eval_block(&decl.body, schema, &owner),
            _ => self.eval_body(&decl.body, schema, &owner),
        }
    }

    /// A declaration built by `build` from its evaluated body, which is then kept when
    /// this check records it ([`Cx::keep_evaluated`]).
    pub fn build_body<T>(
        &mut self,
        decl: &'p RDecl,
        build: impl FnOnce(&mut Self, &Ev<'p>) -> T,
    ) -> T {
        let ev = self.eval_decl(decl);
        let built = build(self, &ev);
        self.keep_evaluated(ev);
        built
    }

    /// The platform declaration.
    pub fn build_platform(&mut self, decl: &'p RDecl) -> Platform {
        let ev = self.eval_decl(decl);
        let name = decl.name.name.clone();
        let kubernetes = match ev.val("kubernetes") {
            Some(Val::KubeVersion(a, b)) => (*a, *b),
            _ => (1, 33),
        };
        let labels = ev
            .block("labels")
            .map(|b| {
                b.entries
                    .iter()
                    .filter_map(|e| match (&e.key, &e.val) {
                        (MKey::Field(k), Some(Val::Text(t))) => Some((k.clone(), t.as_literal()?)),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let admins = match ev.val("admins") {
            Some(Val::List(items)) => items
                .iter()
                .filter_map(|v| match v {
                    Val::Subject(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Platform {
            namespace: ev.text("namespace").unwrap_or_else(|| name.clone()),
            name,
            doc: decl.doc.clone(),
            version: ev.text("version"),
            kubernetes,
            registry: ev
                .text("registry")
                .map(|r| r.trim_end_matches('/').to_string()),
            labels,
            mesh: match ev.word("mesh") {
                Some("linkerd") => Mesh::Linkerd,
                Some("istio") => Mesh::Istio,
                _ => Mesh::None,
            },
            ingress_from: ev
                .block("ingress_from")
                .and_then(|b| b.text("namespace"))
                .unwrap_or_else(|| "ingress-nginx".to_string()),
            secret_store: match ev.val("secret_store") {
                Some(Val::Store(s)) => Some(s.clone()),
                _ => None,
            },
            admins,
            span: decl.name.span,
        }
    }

    /// A service, database or job.
    pub fn build_workload(
        &mut self,
        decl: &'p RDecl,
        ev: &Ev<'p>,
        platform: &Platform,
    ) -> Workload {
        if let Err(e) = names::dns_label(&decl.name.name) {
            let sp = e.at.map_or(decl.name.span, |at| decl.name.span.sub(at, 1));
            self.diags
                .push(Diagnostic::new(Code::INVALID_VALUE, sp, e.message));
        }
        let mut spans = ValueSpans::default();
        record_spans(ev, "", &mut spans);
        let template = decl
            .template
            .map(|(t, _)| self.view.program.template(t).qualified_name());
        let image = ev
            .text("image")
            .map(|i| with_registry(&i, platform.registry.as_deref()))
            .unwrap_or_default();
        let ports = self.ports(ev);
        let replicas = self.replicas(decl, ev);
        let rollout = ev.block("rollout");
        let rollout = Rollout {
            max_surge: rollout
                .and_then(|r| int_or_pct(r.val("max_surge")))
                .unwrap_or(IntOrPct::Pct(25)),
            max_unavailable: rollout
                .and_then(|r| int_or_pct(r.val("max_unavailable")))
                .unwrap_or(IntOrPct::Int(0)),
            deadline: rollout
                .and_then(|r| r.duration("deadline"))
                .map_or(600, secs),
        };
        let disruption = ev.block("disruption").and_then(|d| {
            match (int_or_pct(d.val("min_available")), int_or_pct(d.val("max_unavailable"))) {
                (Some(_), Some(_)) => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::CONFLICTING_FIELDS,
                            d.span("max_unavailable").unwrap_or(decl.name.span),
                            "a disruption budget sets `min_available` or `max_unavailable`, not both",
                        )
                        .with_label(d.span("min_available").unwrap_or(decl.name.span), "`min_available` set here"),
                    );
                    None
                }
                (Some(m), None) => Some(Disruption::MinAvailable(m)),
                (None, Some(m)) => Some(Disruption::MaxUnavailable(m)),
                (None, None) => None,
            }
        });
        let security = ev.block("security");
        let security = Security {
            run_as: security.and_then(|s| s.int("run_as")),
            group: security.and_then(|s| s.int("group")),
            read_only_root: security
                .and_then(|s| s.bool("read_only_root"))
                .unwrap_or(true),
        };
        if let Some(uid) = security.run_as.filter(|u| *u <= 0) {
            self.diags.push(
                Diagnostic::new(
                    Code::INVALID_VALUE,
                    spans.get("security.run_as").unwrap_or(decl.name.span),
                    format!("`run_as = {uid}` would run the container as root"),
                )
                .with_help("containers run as a non-root user; use the image's user ID (often 1000 or above)"),
            );
        }
        let storage = ev.block("storage").map(|s| Storage {
            size: bytes_of(s.val("size")),
            class: s.text("class"),
            at: s.text("at").unwrap_or_default(),
        });
        let backup = ev.block("backup").map(|b| Backup {
            schedule: b.text("schedule").unwrap_or_default(),
            keep: b.int("keep").map_or(7, |k| u32::try_from(k).unwrap_or(7)),
            size: bytes_of(b.val("size")),
            class: b.text("class"),
        });
        if let Some(k) = ev
            .block("backup")
            .and_then(|b| b.int("keep"))
            .filter(|k| *k < 1)
        {
            self.diags.push(Diagnostic::new(
                Code::INVALID_VALUE,
                spans.get("backup.keep").unwrap_or(decl.name.span),
                format!("`keep = {k}` would delete every dump; keep at least 1"),
            ));
        }
        let dump = ev.block("dump").map(|d| Dump {
            command: d.strings("command").unwrap_or_default(),
            env: d.block("env").map(|e| self.env_vars(e)).unwrap_or_default(),
            image: d
                .text("image")
                .map(|i| with_registry(&i, platform.registry.as_deref())),
        });
        if backup.is_some() && dump.is_none() {
            self.diags.push(
                Diagnostic::new(
                    Code::MISSING_FIELD,
                    spans.get("backup").unwrap_or(decl.name.span),
                    format!("`{}` has `backup` but no `dump` command", decl.name.name),
                )
                .with_help("use a standard-library store (`database db : std.postgres`), or add `dump { command = [...] }`"),
            );
        }
        let schedule = ev.text("schedule");
        let run = match ev.word("run") {
            Some("before-rollout") => JobRun::BeforeRollout,
            _ => JobRun::Once,
        };
        if schedule.is_some() && run == JobRun::BeforeRollout {
            self.diags.push(
                Diagnostic::new(
                    Code::CONFLICTING_FIELDS,
                    ev.span("run").unwrap_or(decl.name.span),
                    "a scheduled job cannot also run before rollouts",
                )
                .with_label(
                    ev.span("schedule").unwrap_or(decl.name.span),
                    "scheduled here",
                )
                .with_help("make two jobs: one with `schedule`, one with `run = before-rollout`"),
            );
        }
        self.store_credentials(decl);
        Workload {
            id: self.current,
            name: decl.name.name.clone(),
            kind: decl.kind,
            doc: decl.doc.clone(),
            span: decl.name.span,
            template,
            image,
            ports,
            command: ev.strings("command"),
            args: ev.strings("args"),
            ready: probe(ev.val("ready")),
            live: probe(ev.val("live")),
            startup: probe(ev.val("startup")),
            cpu: match ev.val("cpu") {
                Some(Val::CpuRes(r)) => Some(r.clone()),
                _ => None,
            },
            memory: match ev.val("memory") {
                Some(Val::MemRes(r)) => Some(r.clone()),
                _ => None,
            },
            replicas,
            rollout,
            disruption,
            env: ev
                .block("env")
                .map(|e| self.env_vars(e))
                .unwrap_or_default(),
            mounts: self.mounts(ev),
            volumes: ev
                .named("volume")
                .filter_map(|(name, e)| {
                    let b = e.block.as_ref()?;
                    Some(Volume {
                        name: name.to_string(),
                        at: b.text("at")?,
                        size: match b.val("size") {
                            Some(Val::Bytes(s)) => Some(s.clone()),
                            _ => None,
                        },
                        class: b.text("class"),
                        persistent: b.bool("persistent").unwrap_or(false),
                        shared: b.bool("shared").unwrap_or(false),
                    })
                })
                .collect(),
            calls: self.calls(ev),
            egress: match ev.val("egress") {
                Some(Val::List(items)) => items
                    .iter()
                    .filter_map(|v| match v {
                        Val::Egress(e) => Some(e.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            },
            security,
            storage,
            backup,
            dump,
            schedule,
            run,
            retries: ev
                .int("retries")
                .map_or(3, |r| u32::try_from(r).unwrap_or(3)),
            deadline: ev.duration("deadline").map(secs),
            spans,
        }
    }

    fn ports(&mut self, ev: &Ev<'_>) -> Vec<Port> {
        let mut ports: Vec<Port> = Vec::new();
        let mut by_number: BTreeMap<u16, (String, Span)> = BTreeMap::new();
        for (name, e) in ev.named("port") {
            let Some(Val::Int(n)) = e.val else { continue };
            let number = u16::try_from(n).unwrap_or(0);
            let opts = e.block.as_ref();
            let protocol = match opts.and_then(|b| b.word("protocol")) {
                Some("grpc") => Protocol::Grpc,
                Some("tcp") => Protocol::Tcp,
                Some("udp") => Protocol::Udp,
                _ => Protocol::Http,
            };
            if let Some((other, span)) = by_number.get(&number)
                && ports.iter().any(|p| {
                    p.name == *other && (p.protocol == Protocol::Udp) == (protocol == Protocol::Udp)
                })
            {
                self.diags.push(
                    Diagnostic::new(
                        Code::DUPLICATE,
                        e.value_span,
                        format!("port {number} is declared twice, as `{other}` and `{name}`"),
                    )
                    .with_label(*span, "first declared here"),
                );
                continue;
            }
            by_number.insert(number, (name.to_string(), e.value_span));
            ports.push(Port {
                name: name.to_string(),
                number,
                expose: opts
                    .and_then(|b| b.int("expose"))
                    .and_then(|x| u16::try_from(x).ok()),
                protocol,
            });
        }
        ports
    }

    fn replicas(&mut self, decl: &RDecl, ev: &Ev<'_>) -> Replicas {
        if let (Some(scale), Some(r)) = (ev.entry("scale"), ev.entry("replicas")) {
            self.diags.push(
                Diagnostic::new(
                    Code::CONFLICTING_FIELDS,
                    r.value_span,
                    format!("`{}` sets both `replicas` and `scale`", decl.name.name),
                )
                .with_label(scale.key_span, "autoscaling set here")
                .with_help("`scale` lets an autoscaler choose the count between `min` and `max`; remove `replicas`"),
            );
        }
        if let Some(s) = ev.block("scale") {
            let n = |k: &str| s.int(k).and_then(|v| u32::try_from(v).ok());
            let pct = |k: &str| match s.val(k) {
                Some(Val::Percent(p)) => Some(*p),
                _ => None,
            };
            let memory = pct("memory");
            // Without a target, autoscaling follows CPU at 80% of the request, as the
            // HorizontalPodAutoscaler itself defaults to; written out so it is visible.
            let cpu = pct("cpu").or(if memory.is_none() { Some(80) } else { None });
            return Replicas::Auto(Scale {
                min: n("min").unwrap_or(1),
                max: n("max").unwrap_or(1),
                cpu,
                memory,
                cooldown: s.duration("cooldown").map_or(300, secs),
            });
        }
        match ev.val("replicas") {
            Some(Val::Replicas(min, Some(max))) => Replicas::Auto(Scale {
                min: *min,
                max: *max,
                cpu: Some(80),
                memory: None,
                cooldown: 300,
            }),
            Some(Val::Replicas(n, None)) => Replicas::Fixed(*n),
            _ => Replicas::Fixed(1),
        }
    }

    pub fn env_vars(&mut self, ev: &Ev<'_>) -> Vec<EnvVar> {
        let names = |cx: &Self, id| cx.view.decl(id).name.name.clone();
        ev.entries
            .iter()
            .filter_map(|e| {
                let MKey::Field(k) = &e.key else { return None };
                let value = match e.val.as_ref()? {
                    Val::Text(t) => EnvValue::Text(t.clone()),
                    Val::SecretKey(id, key) => EnvValue::SecretKey {
                        secret: names(self, *id),
                        key: key.clone(),
                    },
                    Val::ConfigKey(id, key) => EnvValue::ConfigKey {
                        config: names(self, *id),
                        key: key.clone(),
                    },
                    _ => return None,
                };
                Some(EnvVar {
                    name: k.clone(),
                    value,
                })
            })
            .collect()
    }

    fn mounts(&mut self, ev: &Ev<'_>) -> Vec<Mount> {
        ev.entries
            .iter()
            .filter_map(|e| {
                let MKey::Mount(at) = &e.key else { return None };
                let source = match e.val.as_ref()? {
                    Val::Secret(id) => MountSource::Secret(self.view.decl(*id).name.name.clone()),
                    Val::Config(id) => MountSource::Config(self.view.decl(*id).name.name.clone()),
                    _ => return None,
                };
                Some(Mount {
                    source,
                    at: at.clone(),
                })
            })
            .collect()
    }

    fn calls(&mut self, ev: &Ev<'_>) -> Vec<Call> {
        let Some(entry) = ev.entry("calls") else {
            return Vec::new();
        };
        let Some(Val::List(items)) = &entry.val else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for v in items {
            let (id, port) = match v {
                Val::Workload(id) => (*id, None),
                Val::Port(id, p) => (*id, Some(p.clone())),
                _ => continue,
            };
            let target = self.view.decl(id).name.name.clone();
            out.push(Call {
                target,
                port,
                span: entry.value_span,
            });
        }
        out
    }

    /// W0004: a standard-library store whose `credentials` parameter is not set.
    fn store_credentials(&mut self, decl: &RDecl) {
        let Some((tid, tspan)) = decl.template else {
            return;
        };
        let t = self.view.program.template(tid);
        if t.module.is_none() {
            return;
        }
        if let Some(b) = decl.param("credentials")
            && b.value.is_none()
        {
            let mut keys = std::collections::BTreeSet::new();
            param_members(&t.body, "credentials", &mut keys);
            let keys = if keys.is_empty() {
                "username, password".to_string()
            } else {
                keys.into_iter().collect::<Vec<_>>().join(", ")
            };
            self.diags.push(
                Diagnostic::new(
                    Code::STORE_WITHOUT_CREDENTIALS,
                    decl.name.span,
                    format!("`{}` runs without authentication", decl.name.name),
                )
                .with_label(tspan, format!("`{}` takes `credentials`", t.qualified_name()))
                .with_help(format!(
                    "declare a secret (`secret {n}-credentials {{ keys = [{keys}]  from = deploy }}`) and set `credentials = {n}-credentials`",
                    n = decl.name.name
                )),
            );
        }
    }

    /// A secret declaration.
    pub fn build_secret(&mut self, decl: &'p RDecl, ev: &Ev<'p>) -> Secret {
        let keys = match ev.val("keys") {
            Some(Val::List(items)) => items
                .iter()
                .filter_map(|v| match v {
                    Val::Text(t) => t.as_literal(),
                    _ => None,
                })
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        let mut seen = std::collections::BTreeSet::new();
        for k in &keys {
            if !seen.insert(k) {
                self.diags.push(Diagnostic::new(
                    Code::DUPLICATE,
                    ev.span("keys").unwrap_or(decl.name.span),
                    format!("key `{k}` is listed twice"),
                ));
            }
        }
        if ev.entry("keys").is_some() && keys.is_empty() {
            self.diags.push(Diagnostic::new(
                Code::INVALID_VALUE,
                ev.span("keys").unwrap_or(decl.name.span),
                format!("secret `{}` has no keys", decl.name.name),
            ));
        }
        Secret {
            id: self.current,
            name: decl.name.name.clone(),
            doc: decl.doc.clone(),
            keys,
            source: match ev.val("from") {
                Some(Val::SecretSource(s)) => s.clone(),
                _ => SecretSource::Deploy,
            },
            refresh: ev.duration("refresh").map_or(3600, |ms| ms.div_ceil(1000)),
            rotation: match ev.word("rotation") {
                Some("live") => Rotation::Live,
                _ => Rotation::Restart,
            },
            span: decl.name.span,
        }
    }

    /// A config declaration.
    pub fn build_config(&mut self, decl: &'p RDecl, ev: &Ev<'p>) -> Config {
        let entries = ev
            .entries
            .iter()
            .filter_map(|e| {
                let MKey::Field(k) = &e.key else { return None };
                match e.val.as_ref()? {
                    Val::File { content, path } => Some(ConfigEntry {
                        key: k.clone(),
                        value: content.clone(),
                        file: (!path.is_empty()).then(|| path.clone()),
                    }),
                    _ => None,
                }
            })
            .collect();
        Config {
            id: self.current,
            name: decl.name.name.clone(),
            doc: decl.doc.clone(),
            entries,
            span: decl.name.span,
        }
    }

    /// A gateway declaration.
    pub fn build_gateway(&mut self, decl: &'p RDecl, ev: &Ev<'p>) -> Gateway {
        let mut routes = Vec::new();
        for e in &ev.entries {
            let MKey::Route(path) = &e.key else { continue };
            let (id, port) = match &e.val {
                Some(Val::Workload(id)) => (*id, None),
                Some(Val::Port(id, p)) => (*id, Some(p.clone())),
                _ => continue,
            };
            let target = self.view.decl(id).name.name.clone();
            let ports = self.ports_of(id);
            let port = match port {
                Some(p) => {
                    if let Some(pi) = ports.iter().find(|x| x.name == p)
                        && !matches!(pi.protocol, "http" | "grpc")
                    {
                        self.diags.push(
                            Diagnostic::new(
                                Code::UNKNOWN_PORT,
                                e.value_span,
                                format!(
                                    "port `{target}.{p}` speaks {}, which a gateway cannot route",
                                    pi.protocol
                                ),
                            )
                            .with_help("routes go to `http` or `grpc` ports"),
                        );
                        continue;
                    }
                    p
                }
                None => match ports.iter().find(|p| p.protocol == "http") {
                    Some(p) => p.name.clone(),
                    None => {
                        self.diags.push(
                            Diagnostic::new(
                                Code::UNKNOWN_PORT,
                                e.value_span,
                                format!("`{target}` has no http port to route to"),
                            )
                            .with_help(format!("name the port: `-> {target}.{}`", ports[0].name)),
                        );
                        continue;
                    }
                },
            };
            routes.push(Route {
                path: path.clone(),
                target,
                port,
                timeout: e
                    .block
                    .as_ref()
                    .and_then(|b| b.duration("timeout"))
                    .map(|ms| ms.div_ceil(1000)),
                span: e.key_span,
            });
        }
        Gateway {
            id: self.current,
            name: decl.name.name.clone(),
            doc: decl.doc.clone(),
            host: ev.text("host").unwrap_or_default(),
            tls: match ev.val("tls") {
                Some(Val::Tls(t)) => Some(t.clone()),
                _ => None,
            },
            class: ev.text("class"),
            api: match ev.word("api") {
                Some("gateway-api") => GatewayApi::GatewayApi,
                _ => GatewayApi::Ingress,
            },
            routes,
            span: decl.name.span,
            host_span: ev.span("host").unwrap_or(decl.name.span),
        }
    }
}

/// The members of parameter `param` that a template's entries use (`credentials.password`).
fn param_members(block: &MBlock, param: &str, out: &mut std::collections::BTreeSet<String>) {
    fn expr(e: &Expr, param: &str, out: &mut std::collections::BTreeSet<String>) {
        match &e.kind {
            ExprKind::Ref(p) => {
                if let [head, member, ..] = p.segments.as_slice()
                    && head.name == param
                {
                    out.insert(member.name.clone());
                }
            }
            ExprKind::Str(s) => {
                for part in &s.parts {
                    if let StrPart::Interp(i) = part {
                        expr(i, param, out);
                    }
                }
            }
            ExprKind::List(items) => items.iter().for_each(|i| expr(i, param, out)),
            ExprKind::Call { args, .. } => args.iter().for_each(|a| expr(&a.value, param, out)),
            _ => {}
        }
    }
    for e in &block.entries {
        if let Some(v) = &e.value {
            expr(v, param, out);
        }
        if let Some(b) = &e.block {
            param_members(b, param, out);
        }
    }
}

/// Prefixes an image that names no registry host with the platform registry.
pub fn with_registry(image: &str, registry: Option<&str>) -> String {
    match (registry, names::image(image)) {
        (Some(r), Ok(parsed)) if parsed.registry.is_none() => format!("{r}/{image}"),
        _ => image.to_string(),
    }
}

fn secs(ms: u64) -> u32 {
    u32::try_from(ms.div_ceil(1000)).unwrap_or(u32::MAX)
}

fn int_or_pct(v: Option<&Val>) -> Option<IntOrPct> {
    match v? {
        Val::IntOrPct(x) => Some(*x),
        _ => None,
    }
}

fn probe(v: Option<&Val>) -> Option<Probe> {
    match v? {
        Val::Probe(p) => Some(p.clone()),
        _ => None,
    }
}

fn bytes_of(v: Option<&Val>) -> Bytes {
    match v {
        Some(Val::Bytes(b)) => b.clone(),
        _ => Bytes {
            bytes: 0,
            text: "0".to_string(),
        },
    }
}

/// Records the span of every value by path (`scale.min`), two levels deep.
fn record_spans(ev: &Ev<'_>, prefix: &str, out: &mut ValueSpans) {
    // The path written in one piece: `prefix.key`, or the key alone at the top.
    let write = |t: &mut String, key: &MKey| {
        t.push_str(prefix);
        if !prefix.is_empty() {
            t.push('.');
        }
        match key {
            MKey::Field(k) => t.push_str(k),
            MKey::Named(k, n) => {
                t.push_str(k);
                t.push('.');
                t.push_str(n);
            }
            MKey::Route(p) => {
                t.push_str("route ");
                t.push_str(p);
            }
            MKey::Mount(p) => {
                t.push_str("mount ");
                t.push_str(p);
            }
        }
    };
    for e in &ev.entries {
        let span = if e.val.is_some() {
            e.value_span
        } else {
            e.key_span
        };
        // Nested blocks, but not the free keys of `env`, which no rule looks at; their
        // values come before the block's own.
        if let Some(b) = &e.block
            && prefix.is_empty()
            && !matches!(&e.key, MKey::Field(k) if k == "env")
        {
            let mut key = String::new();
            write(&mut key, e.key);
            record_spans(b, &key, out);
            out.push(&key, span);
        } else {
            out.push_with(span, |t| write(t, e.key));
        }
    }
}
