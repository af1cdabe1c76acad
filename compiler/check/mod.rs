//! Resolved program -> typed model, once for the base program and once per environment
//! (with that environment's overrides in place, type-checked like the original). Every
//! expression gets a type; every platform rule of LANGUAGE.md §7 is checked.

mod block;
mod build;
mod calls;
pub mod eval;
pub mod model;
pub mod names;
mod refs;
pub mod rules;
pub mod value;

use std::collections::BTreeMap;

use eval::{Cx, PortInfo, Tables, Val, View};
pub use model::Model;

use crate::diag::{Diagnostics, Label};
use crate::resolve::{MKey, Program, Reference};
use crate::schema::{Kind, Ty};
use crate::syntax::ast::ExprKind;

/// The typed program: the base model and one model per environment.
#[derive(Debug)]
pub struct Checked {
    /// The program without any environment's overrides.
    pub base: Model,
    /// One model per environment, in declaration order; a program without `env`
    /// declarations has one, called `default`.
    pub envs: Vec<Model>,
    /// Every name use bound by the checker (and the resolver), for the editor.
    pub references: Vec<Reference>,
}

/// Checks the program in every environment.
pub fn check(p: &Program, diags: &mut Diagnostics) -> Checked {
    let base_view = View {
        program: p,
        decls: p.decls.iter().collect(),
    };
    let mut references = p.references.clone();
    let mut base = check_view(&base_view, "base", diags, &mut references);
    let envs = if p.envs.is_empty() {
        base.env = "default".to_string();
        vec![base.clone()]
    } else {
        p.envs
            .iter()
            .map(|e| {
                let mut decls = base_view.decls.clone();
                for (id, d) in &e.patched {
                    decls[id.0 as usize] = d;
                }
                let view = View { program: p, decls };
                let mut env_diags = Diagnostics::new();
                let m = check_view(&view, &e.name.name, &mut env_diags, &mut references);
                for mut d in env_diags.into_sorted() {
                    if !diags.contains(&d) {
                        d.labels.push(Label {
                            span: e.name.span,
                            message: format!("in environment `{}`", e.name.name),
                        });
                    }
                    diags.push(d);
                }
                m
            })
            .collect()
    };
    references.sort_by_key(|r| (r.span.source, r.span.start, r.span.end));
    references.dedup_by(|a, b| a.span == b.span && a.target == b.target);
    Checked {
        base,
        envs,
        references,
    }
}

fn check_view(view: &View, env: &str, diags: &mut Diagnostics, refs: &mut Vec<Reference>) -> Model {
    let p = view.program;
    let tables = build_tables(view);
    let platform = match p.platform {
        Some(id) => Cx::new(view, &tables, id, diags, refs).build_platform(view.decl(id)),
        None => model::Platform::fallback(),
    };
    let mut model = Model {
        env: env.to_string(),
        platform,
        workloads: Vec::new(),
        secrets: Vec::new(),
        configs: Vec::new(),
        gateways: Vec::new(),
        names: BTreeMap::new(),
    };
    let mut uses = Vec::new();
    for id in p.decl_ids() {
        let d = view.decl(id);
        model.names.insert(id, d.name.name.clone());
        let mut cx = Cx::new(view, &tables, id, diags, refs);
        match d.kind {
            k if k.is_workload() => {
                let w = cx.build_workload(d, &model.platform);
                model.workloads.push(w);
            }
            Kind::Secret => model.secrets.push(cx.build_secret(d)),
            Kind::Config => model.configs.push(cx.build_config(d)),
            Kind::Gateway => model.gateways.push(cx.build_gateway(d)),
            _ => {}
        }
        for (to, span) in cx.uses {
            uses.push(rules::Use {
                from: d.name.name.clone(),
                to: view.decl(to).name.name.clone(),
                span,
            });
        }
    }
    rules::check(&model, &uses, diags);
    model
}

/// What declarations know of each other before any is checked: ports, secret keys and
/// rotation, config keys. Computed quietly; the full check reports the problems.
fn build_tables(view: &View) -> Tables {
    let mut t = Tables::default();
    let empty = Tables::default();
    let mut quiet = Diagnostics::new();
    let mut no_refs = Vec::new();
    for id in view.program.decl_ids() {
        let d = view.decl(id);
        let mut cx = Cx::new(view, &empty, id, &mut quiet, &mut no_refs);
        match d.kind {
            k if k.is_workload() => {
                let mut ports = Vec::new();
                for e in d.body.named("port") {
                    let MKey::Named(_, name) = &e.key else {
                        continue;
                    };
                    let Some(Val::Int(n)) = e.value.as_ref().and_then(|v| cx.eval(v, Ty::Port))
                    else {
                        continue;
                    };
                    let opt = |key: &str| {
                        e.block
                            .as_ref()
                            .and_then(|b| b.field(key))
                            .and_then(|f| f.value.as_ref())
                    };
                    let protocol = match opt("protocol").map(|v| &v.kind) {
                        Some(ExprKind::Ref(p)) if p.segments.len() == 1 => {
                            match p.segments[0].name.as_str() {
                                "grpc" => "grpc",
                                "tcp" => "tcp",
                                "udp" => "udp",
                                _ => "http",
                            }
                        }
                        _ => "http",
                    };
                    let expose = match opt("expose").and_then(|v| cx.eval(v, Ty::Port)) {
                        Some(Val::Int(x)) => u16::try_from(x).ok(),
                        _ => None,
                    };
                    ports.push(PortInfo {
                        name: name.clone(),
                        number: u16::try_from(n).unwrap_or(0),
                        expose,
                        protocol,
                        span: e.name_span.unwrap_or(e.key_span),
                    });
                }
                t.ports.insert(id, ports);
            }
            Kind::Secret => {
                let keys = match d
                    .body
                    .field("keys")
                    .and_then(|e| e.value.as_ref())
                    .and_then(|v| cx.eval(v, Ty::List(&Ty::KeyName)))
                {
                    Some(Val::List(items)) => items
                        .into_iter()
                        .filter_map(|v| match v {
                            Val::Text(t) => t.as_literal(),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                t.secret_keys.insert(id, keys);
                let live = d
                    .body
                    .field("rotation")
                    .and_then(|e| e.value.as_ref())
                    .is_some_and(|v| matches!(&v.kind, ExprKind::Ref(p) if p.dotted() == "live"));
                if live {
                    t.live_secrets.insert(id);
                }
            }
            Kind::Config => {
                let keys = d
                    .body
                    .entries
                    .iter()
                    .filter_map(|e| match &e.key {
                        MKey::Field(k) => Some(k.clone()),
                        _ => None,
                    })
                    .collect();
                t.config_keys.insert(id, keys);
            }
            _ => {}
        }
    }
    t
}
