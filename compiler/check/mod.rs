//! Resolved program -> typed model, once for the base program and once per environment
//! (with that environment's overrides in place, type-checked like the original). Every
//! expression gets a type; every platform rule of LANGUAGE.md §7 is checked.
//!
//! An environment re-checks only what its overrides can change: the declarations it
//! patches and those that refer to them. The rest of its model is shared with the base.

mod block;
mod build;
mod calls;
pub mod eval;
pub mod model;
pub mod names;
mod refs;
pub mod reuse;
pub mod rules;
pub mod value;

use std::collections::BTreeSet;
use std::sync::Arc;

use block::Evaluated;
use eval::{Cx, PortInfo, Tables, Val, View};
use model::Built;
pub use model::Model;
use reuse::Entry;
pub use reuse::{Memo, Reuse};

use crate::diag::{Diagnostics, Label};
use crate::resolve::{DeclId, MKey, Program, REnv, Reference};
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
    /// Every name use bound by the checker (and the resolver), for the editor: gathered
    /// only by a check that keeps what the language server needs (`keep`, as
    /// [`crate::compile_after`] asks); empty otherwise.
    pub references: Vec<Reference>,
}

/// What checking one declaration gives.
#[derive(Clone)]
struct Result {
    built: Built,
    uses: Vec<rules::Use>,
    deps: BTreeSet<DeclId>,
}

/// Checks the program in every environment.
pub fn check(p: &Program, diags: &mut Diagnostics) -> Checked {
    check_reusing(p, diags, None, false).0
}

/// Checks the program in every environment, reusing what an earlier check found for
/// declarations an edit did not reach (see [`reuse`]); with `keep`, also returns what
/// this check found, for the next one.
pub fn check_reusing(
    p: &Program,
    diags: &mut Diagnostics,
    reuse: Option<&Reuse>,
    keep: bool,
) -> (Checked, Option<Memo>) {
    let names: Arc<Vec<String>> = Arc::new(p.decls.iter().map(|d| d.name.name.clone()).collect());
    let base_view = View {
        program: p,
        decls: p.decls.iter().collect(),
    };
    let mut references = if keep {
        p.references.clone()
    } else {
        Vec::new()
    };
    // Declarations' ports and keys depend on their own text only: after an edit, the
    // rows of the declarations it changed are built again.
    let tables = match reuse {
        Some(r) => {
            let mut t = r.tables().clone();
            t.update(&build_tables(&base_view, r.changed().iter().copied()));
            t
        }
        None => build_tables(&base_view, p.decl_ids()),
    };
    let platform = platform_of(&base_view, &tables, diags, keep.then_some(&mut references));
    let ids: Vec<DeclId> = p.decl_ids().collect();
    let prev = |id: DeclId| reuse.and_then(|r| r.take_base(id));
    // The base check records what it evaluates of the declarations an environment
    // patches, entry by entry: the environment's re-check takes the entries it left as
    // they were instead of evaluating them again (not for the language server, which
    // keeps every entry's name uses and re-checks only what an edit reaches).
    let mut record = vec![false; if keep { 0 } else { p.decls.len() }];
    for (id, _) in p.envs.iter().flat_map(|e| &e.patched) {
        if let Some(r) = record.get_mut(id.0 as usize) {
            *r = true;
        }
    }
    let (entries, evaluated): (Vec<Entry>, Vec<Option<Evaluated>>) =
        check_decls(&base_view, &tables, &platform, &ids, &prev, keep, &record)
            .into_iter()
            .unzip();
    let mut memo = keep.then(|| Memo::after(reuse.map(Reuse::edit).unwrap_or_default()));
    let results = settle(
        entries,
        diags,
        &mut references,
        memo.as_mut().map(|m| &mut m.base),
        &ids,
    );
    // The base model is assembled and held to the rules while the environments work
    // out what they must check again.
    let (mut base, plans) = crate::par::join(
        || {
            assemble(
                "base",
                platform.clone(),
                results.iter().map(|r| &**r),
                &names,
                None,
                diags,
            )
        },
        || {
            p.envs
                .iter()
                .map(|e| plan_env(p, e, &tables, &platform, &results))
                .collect::<Vec<EnvPlan>>()
        },
    );
    let envs = if p.envs.is_empty() {
        base.env = "default".to_string();
        vec![base.clone()]
    } else {
        // Environments are independent of each other: what each re-checks is checked
        // on all cores in one pass (an environment re-checks a fifth of a program, say,
        // too little to keep the cores busy alone), then each is assembled.
        let jobs: Vec<(usize, DeclId)> = plans
            .iter()
            .enumerate()
            .flat_map(|(i, plan)| plan.ids.iter().map(move |id| (i, *id)))
            .collect();
        let mut entries = check_each(&jobs, |&(i, id)| {
            reuse.and_then(|r| r.take_env(i, id)).unwrap_or_else(|| {
                let plan = &plans[i];
                let taken = evaluated
                    .get(id.0 as usize)
                    .and_then(Option::as_ref)
                    .filter(|_| plan.may_take(p, &results, id));
                fresh_entry(
                    &plan.view,
                    &plan.tables,
                    &plan.platform,
                    id,
                    keep,
                    taken,
                    false,
                )
                .0
            })
        })
        .into_iter();
        // What the base check recorded is not needed once the environments have taken it.
        drop(evaluated);
        let plans: Vec<(EnvPlan, Vec<Entry>)> = plans
            .into_iter()
            .map(|plan| {
                let own = entries.by_ref().take(plan.ids.len()).collect();
                (plan, own)
            })
            .collect();
        let checked = crate::par::each_owned(plans, |(plan, own)| {
            finish_env(plan, own, &results, &base, &names, keep)
        });
        let mut envs = Vec::with_capacity(checked.len());
        for ((m, kept, env_diags, env_refs), e) in checked.into_iter().zip(&p.envs) {
            if let Some(memo) = memo.as_mut() {
                memo.envs.push(kept);
            }
            if keep {
                references.extend(env_refs);
            }
            for mut d in env_diags.into_sorted() {
                if !diags.contains(&d) {
                    d.labels.push(Label {
                        span: e.name.span,
                        message: format!("in environment `{}`", e.name.name),
                    });
                }
                diags.push(d);
            }
            envs.push(m);
        }
        envs
    };
    if let Some(memo) = memo.as_mut() {
        memo.tables = tables;
    }
    references.sort_by_key(|r| (r.span.source, r.span.start, r.span.end));
    references.dedup_by(|a, b| a.span == b.span && a.target == b.target);
    let checked = Checked {
        base,
        envs,
        references,
    };
    (checked, memo)
}

/// Takes the declarations' diagnostics, and their references with a copy of each entry
/// in `memo` when asked to keep them, and returns their results, in order.
fn settle(
    entries: Vec<Entry>,
    diags: &mut Diagnostics,
    refs: &mut Vec<Reference>,
    memo: Option<&mut Vec<Option<Entry>>>,
    ids: &[DeclId],
) -> Vec<Arc<Result>> {
    match memo {
        Some(memo) => {
            refs.reserve(entries.iter().map(|e| e.refs.len()).sum());
            let mut out = Vec::with_capacity(entries.len());
            for (e, id) in entries.into_iter().zip(ids) {
                diags.extend(e.diags.iter().cloned());
                refs.extend(e.refs.iter().cloned());
                out.push(Arc::clone(&e.result));
                let i = id.0 as usize;
                if memo.len() <= i {
                    memo.resize(i + 1, None);
                }
                memo[i] = Some(e);
            }
            out
        }
        // Not kept: the references are for the language server only.
        None => entries
            .into_iter()
            .map(|e| {
                diags.extend(e.diags);
                e.result
            })
            .collect(),
    }
}

/// What an environment re-checks, and with what: its declarations (the patched ones in
/// place of the base's), their tables and its platform.
struct EnvPlan<'p> {
    name: &'p str,
    view: View<'p>,
    tables: Tables,
    platform: model::Platform,
    /// The declarations to check again, in order.
    ids: Vec<DeclId>,
    /// What checking the platform again found, when the environment patches it.
    diags: Diagnostics,
    refs: Vec<Reference>,
    /// Declarations whose outside (ports, keys) the overrides change.
    changed: BTreeSet<DeclId>,
}

impl EnvPlan<'_> {
    /// Whether the re-check of `id` may take the entries the environment did not patch
    /// from the base check's ([`Evaluated`]): nothing they read changes but the entries
    /// themselves — not the outside (ports, keys) of the declaration or of one it
    /// refers to, not the template parameters it is given. (An entry never reads the
    /// platform: what the platform changes of a declaration, its image registry, is
    /// applied after its entries are evaluated.)
    fn may_take(&self, p: &Program, base: &[Arc<Result>], id: DeclId) -> bool {
        let Some(b) = base.get(id.0 as usize) else {
            return false;
        };
        let (theirs, ours) = (p.decl(id), self.view.decl(id));
        !self.changed.contains(&id)
            && !b.deps.iter().any(|d| self.changed.contains(d))
            && theirs.params.len() == ours.params.len()
            && theirs
                .params
                .iter()
                .zip(&ours.params)
                .all(|(a, b)| a.set_at == b.set_at)
    }
}

fn plan_env<'p>(
    p: &'p Program,
    e: &'p REnv,
    base_tables: &Tables,
    base_platform: &model::Platform,
    base: &[Arc<Result>],
) -> EnvPlan<'p> {
    let mut decls: Vec<_> = p.decls.iter().collect();
    let patched: BTreeSet<DeclId> = e.patched.iter().map(|(id, _)| *id).collect();
    for (id, d) in &e.patched {
        decls[id.0 as usize] = d;
    }
    let view = View { program: p, decls };
    let patch = build_tables(&view, patched.iter().copied());
    // Declarations whose outside (ports, keys) the overrides change; only those who
    // refer to them see a difference.
    let changed: BTreeSet<DeclId> = patched
        .iter()
        .copied()
        .filter(|id| !base_tables.same_outside(&patch, *id))
        .collect();
    let mut tables = base_tables.clone();
    tables.update(&patch);
    let mut diags = Diagnostics::new();
    let mut refs = Vec::new();
    let platform = match p.platform {
        Some(id) if patched.contains(&id) => {
            platform_of(&view, &tables, &mut diags, Some(&mut refs))
        }
        _ => base_platform.clone(),
    };
    // What the overrides can change: the patched declarations, those that refer to one
    // whose outside changed, and every workload when the image registry changes.
    let registry_changed = platform.registry != base_platform.registry;
    let ids: Vec<DeclId> = p
        .decl_ids()
        .filter(|&id| {
            patched.contains(&id)
                || base[id.0 as usize].deps.iter().any(|d| changed.contains(d))
                || (registry_changed && view.decl(id).kind.is_workload())
        })
        .collect();
    EnvPlan {
        name: &e.name.name,
        view,
        tables,
        platform,
        ids,
        diags,
        refs,
        changed,
    }
}

/// An environment's model from its re-checked declarations (`entries`, in the order
/// of `plan.ids`) and the base's for the rest, with its diagnostics and references and
/// (with `keep`) its entries for the next check.
fn finish_env(
    plan: EnvPlan,
    entries: Vec<Entry>,
    base: &[Arc<Result>],
    base_model: &Model,
    names: &Arc<Vec<String>>,
    keep: bool,
) -> (Model, Vec<Option<Entry>>, Diagnostics, Vec<Reference>) {
    let EnvPlan {
        name,
        view,
        platform,
        ids,
        mut diags,
        mut refs,
        ..
    } = plan;
    let mut kept = Vec::new();
    let fresh = settle(
        entries,
        &mut diags,
        &mut refs,
        keep.then_some(&mut kept),
        &ids,
    );
    // The environment's declarations: the ones checked here, the base's for the rest.
    let mut fresh = fresh.iter();
    let mut next = ids.iter().copied().peekable();
    let results: Vec<&Result> = view
        .program
        .decl_ids()
        .zip(base)
        .map(|(id, b)| match next.next_if_eq(&id) {
            Some(_) => fresh.next().map_or(&**b, |r| &**r),
            None => &**b,
        })
        .collect();
    let model = assemble(
        name,
        platform,
        results.into_iter(),
        names,
        Some(base_model),
        &mut diags,
    );
    (model, kept, diags, refs)
}

fn assemble<'r>(
    env: &str,
    platform: model::Platform,
    results: impl Iterator<Item = &'r Result> + Clone,
    names: &Arc<Vec<String>>,
    like: Option<&Model>,
    diags: &mut Diagnostics,
) -> Model {
    let m = Model::new(
        env.to_string(),
        platform,
        results.clone().map(|r| r.built.clone()),
        names.clone(),
        like,
    );
    let uses: Vec<&rules::Use> = results.flat_map(|r| r.uses.iter()).collect();
    rules::check(&m, &uses, diags);
    m
}

fn platform_of(
    view: &View,
    tables: &Tables,
    diags: &mut Diagnostics,
    refs: Option<&mut Vec<Reference>>,
) -> model::Platform {
    match view.program.platform {
        Some(id) => Cx::new(view, tables, id, diags, refs).build_platform(view.decl(id)),
        None => model::Platform::fallback(),
    }
}

/// Checks declarations on several threads, or takes them from `prev` (an earlier check
/// the edit did not reach); entries come back in declaration order, each with what was
/// evaluated of it when `record` asks for it (see [`fresh_entry`]).
fn check_decls<'p>(
    view: &View<'p>,
    tables: &Tables,
    platform: &model::Platform,
    ids: &[DeclId],
    prev: &(dyn Fn(DeclId) -> Option<Entry> + Sync),
    keep: bool,
    record: &[bool],
) -> Vec<(Entry, Option<Evaluated<'p>>)> {
    check_each(ids, |&id| match prev(id) {
        Some(e) => (e, None),
        None => {
            let record = record.get(id.0 as usize).copied().unwrap_or(false);
            fresh_entry(view, tables, platform, id, keep, None, record)
        }
    })
}

/// Applies `f` to every job on several threads; the results come back in job order.
fn check_each<J: Sync, T: Send>(jobs: &[J], f: impl Fn(&J) -> T + Sync) -> Vec<T> {
    let runs = crate::par::runs(jobs, |_, run| run.iter().map(&f).collect::<Vec<_>>());
    runs.into_iter().flatten().collect()
}

/// Checks one declaration afresh; its name uses are gathered when `keep` (for the
/// language server). With `taken`, the entries of its body that the base check
/// evaluated as they are here are taken from there; with `record`, what is evaluated
/// of its body is returned, entry by entry, for environments to take.
fn fresh_entry<'p>(
    view: &View<'p>,
    tables: &Tables,
    platform: &model::Platform,
    id: DeclId,
    keep: bool,
    taken: Option<&Evaluated<'p>>,
    record: bool,
) -> (Entry, Option<Evaluated<'p>>) {
    let mut d = Diagnostics::new();
    let mut refs = Vec::new();
    let (result, evaluated) = check_decl(
        view,
        tables,
        platform,
        id,
        &mut d,
        keep.then_some(&mut refs),
        (taken, record),
    );
    let entry = Entry {
        result: Arc::new(result),
        diags: d.into_sorted(),
        refs,
    };
    (entry, evaluated)
}

fn check_decl<'p>(
    view: &View<'p>,
    tables: &Tables,
    platform: &model::Platform,
    id: DeclId,
    diags: &mut Diagnostics,
    refs: Option<&mut Vec<Reference>>,
    (taken, record): (Option<&Evaluated<'p>>, bool),
) -> (Result, Option<Evaluated<'p>>) {
    let d = view.decl(id);
    let mut cx = Cx::new(view, tables, id, diags, refs);
    cx.taken = taken;
    cx.record = record.then(Evaluated::default);
    let built = match d.kind {
        k if k.is_workload() => cx.build_body(d, |cx, ev| {
            Built::Workload(Arc::new(cx.build_workload(d, ev, platform)))
        }),
        Kind::Secret => cx.build_body(d, |cx, ev| Built::Secret(Arc::new(cx.build_secret(d, ev)))),
        Kind::Config => cx.build_body(d, |cx, ev| Built::Config(Arc::new(cx.build_config(d, ev)))),
        Kind::Gateway => cx.build_body(d, |cx, ev| {
            Built::Gateway(Arc::new(cx.build_gateway(d, ev)))
        }),
        _ => Built::None,
    };
    let uses = cx
        .uses
        .iter()
        .map(|(to, span)| rules::Use {
            from: d.name.name.clone(),
            to: view.decl(*to).name.name.clone(),
            span: *span,
        })
        .collect();
    let result = Result {
        built,
        uses,
        deps: std::mem::take(&mut cx.deps),
    };
    (result, cx.record.take())
}

/// What declarations know of each other before any is checked: ports, secret keys and
/// rotation, config keys. Computed quietly; the full check reports the problems.
fn build_tables(view: &View, ids: impl Iterator<Item = DeclId>) -> Tables {
    let mut t = Tables::default();
    let empty = Tables::default();
    let mut quiet = Diagnostics::new();
    for id in ids {
        let d = view.decl(id);
        let mut cx = Cx::new(view, &empty, id, &mut quiet, None);
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
                    });
                }
                t.ports.insert(id, Arc::new(ports));
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
                t.secret_keys.insert(id, Arc::new(keys));
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
                t.config_keys.insert(id, Arc::new(keys));
            }
            _ => {}
        }
    }
    t
}
