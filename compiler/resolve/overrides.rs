//! Environment overrides: `env prod { wallet.scale { max = 20 } }`. Each override names a
//! path from a declaration; the path must exist in the base program — written there, or a
//! key with a default (E0701 otherwise). The overridden declarations are copied and
//! patched per environment; the checker type-checks them like the original.

use foldhash::{HashMap, HashMapExt};

use super::merge::{MBlock, MEntry, MKey};
use super::{DeclId, OverridePath, Program, RDecl, REnv, Reference, Target};
use crate::diag::suggest::did_you_mean;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::schema::{Schema, Shape};
use crate::source::Span;
use crate::syntax::ast::{self, EntryKind, Expr, KeySeg};

/// The value an override gives: a new value, or a block of keys to change.
enum Value<'a> {
    Expr(&'a Expr),
    Block(&'a ast::Block),
}

struct Ctx<'a> {
    diags: &'a mut Diagnostics,
    decl: DeclId,
    decl_name: String,
    paths: Vec<OverridePath>,
    entry_span: Span,
    doc: Option<String>,
}

pub(super) fn apply(p: &mut Program, envs: Vec<ast::Decl>, diags: &mut Diagnostics) {
    // Environments are independent of each other: patched on all cores, then added in
    // order with what each found.
    let done = crate::par::each(&envs, |env| patch_env(p, env));
    for (env, found, refs) in done {
        diags.extend(found.into_sorted());
        p.references.extend(refs);
        p.envs.push(env);
    }
}

/// One environment: copies of the declarations it overrides, patched.
fn patch_env(p: &Program, env: &ast::Decl) -> (REnv, Diagnostics, Vec<Reference>) {
    let mut diags = Diagnostics::new();
    let mut refs = Vec::new();
    let mut patched: HashMap<DeclId, RDecl> = HashMap::new();
    let mut order: Vec<DeclId> = Vec::new();
    let mut paths = Vec::new();
    for e in &env.body.entries {
        let (key, value) = match &e.kind {
            EntryKind::Field { key, value } => (key, Value::Expr(value)),
            EntryKind::Block { key, block } => (key, Value::Block(block)),
            _ => {
                diags.push(
                    Diagnostic::new(
                        Code::UNKNOWN_KEY,
                        e.span,
                        "an env block holds overrides by path",
                    )
                    .with_help("write `wallet.replicas = 3` or `wallet.scale { max = 20 }`"),
                );
                continue;
            }
        };
        let Some(first) = key.segments.first() else {
            continue;
        };
        let Some(id) = find_decl(p, first, &mut diags) else {
            continue;
        };
        refs.push(Reference {
            span: first.span,
            target: Target::Decl(id),
        });
        let decl = patched.entry(id).or_insert_with(|| {
            order.push(id);
            p.decl(id).clone()
        });
        let mut ctx = Ctx {
            diags: &mut diags,
            decl: id,
            decl_name: decl.name.name.clone(),
            paths: Vec::new(),
            entry_span: e.span,
            doc: e.doc.clone(),
        };
        override_decl(decl, &key.segments[1..], &value, &mut ctx);
        paths.append(&mut ctx.paths);
    }
    let env = REnv {
        name: env.name.clone(),
        doc: env.doc.clone(),
        span: env.span,
        patched: order
            .into_iter()
            .filter_map(|id| patched.remove(&id).map(|d| (id, d)))
            .collect(),
        paths,
    };
    (env, diags, refs)
}

fn find_decl(p: &Program, seg: &KeySeg, diags: &mut Diagnostics) -> Option<DeclId> {
    if seg.name == "platform"
        && let Some(id) = p.platform
    {
        return Some(id);
    }
    if let Some(id) = p.lookup(&seg.name) {
        return Some(id);
    }
    let mut names: Vec<&str> = p.by_name.keys().map(String::as_str).collect();
    names.push("platform");
    names.sort_unstable();
    diags.push(
        Diagnostic::new(
            Code::UNKNOWN_OVERRIDE,
            seg.span,
            format!("there is no declaration `{}` to override", seg.name),
        )
        .with_help_opt(did_you_mean(&seg.name, names)),
    );
    None
}

fn override_decl(decl: &mut RDecl, segs: &[KeySeg], value: &Value, ctx: &mut Ctx) {
    let schema = decl.kind.schema();
    let Some(first) = segs.first() else {
        match value {
            Value::Block(b) => merge_block(&mut decl.body, schema, b, &mut Vec::new(), ctx),
            Value::Expr(e) => {
                ctx.diags.push(
                    Diagnostic::new(
                        Code::UNKNOWN_OVERRIDE,
                        e.span,
                        format!("`{}` is a declaration, not a value", ctx.decl_name),
                    )
                    .with_help(format!(
                        "override its keys: `{} {{ … }}` or `{}.KEY = …`",
                        ctx.decl_name, ctx.decl_name
                    )),
                );
            }
        }
        return;
    };
    if segs.len() == 1
        && let Some(param) = decl
            .params
            .iter_mut()
            .find(|b| b.decl.name.name == first.name)
    {
        match value {
            Value::Expr(e) => {
                param.value = Some((*e).clone());
                param.set_at = Some(ctx.entry_span);
                ctx.paths.push(OverridePath {
                    decl: ctx.decl,
                    path: vec![first.name.clone()],
                    span: ctx.entry_span,
                });
            }
            Value::Block(b) => not_a_block(first, b.span, ctx),
        }
        return;
    }
    walk(&mut decl.body, schema, segs, value, &mut Vec::new(), ctx);
}

fn not_a_block(seg: &KeySeg, span: Span, ctx: &mut Ctx) {
    ctx.diags.push(
        Diagnostic::new(
            Code::TYPE_MISMATCH,
            span,
            format!("`{}` takes a value, not a block", seg.name),
        )
        .with_help(format!("write `{} = …`", seg.name)),
    );
}

fn missing(seg: &KeySeg, what: String, help: Option<String>, ctx: &mut Ctx) {
    ctx.diags
        .push(Diagnostic::new(Code::UNKNOWN_OVERRIDE, seg.span, what).with_help_opt(help));
}

/// Walks `segs` down from `block` (whose keys `schema` describes) and applies `value`.
fn walk(
    block: &mut MBlock,
    schema: &'static Schema,
    segs: &[KeySeg],
    value: &Value,
    prefix: &mut Vec<String>,
    ctx: &mut Ctx,
) {
    let Some(seg) = segs.first() else {
        if let Value::Block(b) = value {
            merge_block(block, schema, b, prefix, ctx);
        }
        return;
    };
    let rest = &segs[1..];
    let here = display_path(ctx, prefix, &seg.name);
    if schema.open.is_some() {
        let key = MKey::Field(seg.name.clone());
        let names: Vec<&str> = block.entries.iter().map(|e| e.key.word()).collect();
        let help = did_you_mean(&seg.name, names);
        match block.get_mut(&key) {
            Some(entry) if rest.is_empty() => set_value(entry, seg, value, prefix, ctx),
            Some(_) => missing(&rest[0], format!("`{here}` has no keys"), None, ctx),
            None => missing(
                seg,
                format!("`{here}` is not set in the base program"),
                help,
                ctx,
            ),
        }
        return;
    }
    let Some(spec) = schema.key(&seg.name) else {
        missing(
            seg,
            format!(
                "`{}` has no key `{}`",
                display_path(ctx, prefix, ""),
                seg.name
            ),
            did_you_mean(&seg.name, schema.names()),
            ctx,
        );
        return;
    };
    let key = MKey::Field(seg.name.clone());
    match spec.shape {
        Shape::Field(_) => {
            if let Some(next) = rest.first() {
                missing(
                    next,
                    format!("`{here}` is a value and has no keys"),
                    None,
                    ctx,
                );
                return;
            }
            if block.get(&key).is_none() {
                if spec.default.is_none() {
                    missing(
                        seg,
                        format!("`{here}` is not set in the base program"),
                        Some(format!(
                            "set `{}` in `{}` first; an environment can only change values the base program has",
                            seg.name, ctx.decl_name
                        )),
                        ctx,
                    );
                    return;
                }
                block
                    .entries
                    .push(std::sync::Arc::new(new_entry(key.clone(), seg.span, ctx)));
            }
            if let Some(entry) = block.get_mut(&key) {
                set_value(entry, seg, value, prefix, ctx);
            }
        }
        Shape::Block(sub) => {
            if block.get(&key).is_none() {
                if sub.keys.iter().any(|k| k.required) {
                    missing(
                        seg,
                        format!("`{here}` is not set in the base program"),
                        Some(format!(
                            "add a `{}` block to `{}` first; an environment can only change what the base program has",
                            seg.name, ctx.decl_name
                        )),
                        ctx,
                    );
                    return;
                }
                let mut e = new_entry(key.clone(), seg.span, ctx);
                e.block = Some(MBlock::default());
                block.entries.push(std::sync::Arc::new(e));
            }
            let Some(entry) = block.get_mut(&key) else {
                return;
            };
            if rest.is_empty() && matches!(value, Value::Expr(_)) {
                if let Value::Expr(e) = value {
                    ctx.diags.push(
                        Diagnostic::new(
                            Code::TYPE_MISMATCH,
                            e.span,
                            format!("`{here}` is a block, not a value"),
                        )
                        .with_help(format!("write `{here} {{ KEY = … }}`")),
                    );
                }
                return;
            }
            prefix.push(seg.name.clone());
            let inner = entry.block.get_or_insert_with(MBlock::default);
            walk(inner, sub, rest, value, prefix, ctx);
            prefix.pop();
        }
        Shape::Map(_) => {
            let Some(entry) = block.get_mut(&key) else {
                missing(
                    seg,
                    format!("`{here}` is not set in the base program"),
                    None,
                    ctx,
                );
                return;
            };
            let inner = entry.block.get_or_insert_with(MBlock::default);
            match rest {
                [] => {
                    if let Value::Block(b) = value {
                        prefix.push(seg.name.clone());
                        merge_block(inner, &MAP_SCHEMA, b, prefix, ctx);
                        prefix.pop();
                    } else if let Value::Expr(e) = value {
                        ctx.diags.push(Diagnostic::new(
                            Code::TYPE_MISMATCH,
                            e.span,
                            format!("`{here}` is a block, not a value"),
                        ));
                    }
                }
                [name] => {
                    let k = MKey::Field(name.name.clone());
                    let names: Vec<&str> = inner.entries.iter().map(|e| e.key.word()).collect();
                    let help = did_you_mean(&name.name, names);
                    prefix.push(seg.name.clone());
                    match inner.get_mut(&k) {
                        Some(e) => set_value(e, name, value, prefix, ctx),
                        None => missing(
                            name,
                            format!(
                                "`{}` is not set in the base program",
                                display_path(ctx, prefix, &name.name)
                            ),
                            help.or_else(|| {
                                Some(
                                    "an environment can only change entries the base program has"
                                        .to_string(),
                                )
                            }),
                            ctx,
                        ),
                    }
                    prefix.pop();
                }
                [_, extra, ..] => missing(extra, "an env entry has no keys".to_string(), None, ctx),
            }
        }
        Shape::Named { block: sub, .. } => {
            let Some(name) = rest.first() else {
                missing(
                    seg,
                    format!("say which `{}` to override", seg.name),
                    Some(format!("write `{}.{}.NAME = …`", ctx.decl_name, seg.name)),
                    ctx,
                );
                return;
            };
            let k = MKey::Named(seg.name.clone(), name.name.clone());
            let names: Vec<String> = block
                .named(&seg.name)
                .filter_map(|e| match &e.key {
                    MKey::Named(_, n) => Some(n.clone()),
                    _ => None,
                })
                .collect();
            let Some(entry) = block.get_mut(&k) else {
                missing(
                    name,
                    format!("`{}` has no {} `{}`", ctx.decl_name, seg.name, name.name),
                    did_you_mean(&name.name, names.iter().map(String::as_str)),
                    ctx,
                );
                return;
            };
            prefix.push(seg.name.clone());
            if rest.len() == 1 {
                match value {
                    Value::Expr(_) if entry.value.is_some() => {
                        set_value(entry, name, value, prefix, ctx)
                    }
                    Value::Block(b) => {
                        if let Some(sub) = sub {
                            prefix.push(name.name.clone());
                            let inner = entry.block.get_or_insert_with(MBlock::default);
                            merge_block(inner, sub, b, prefix, ctx);
                            prefix.pop();
                        }
                    }
                    Value::Expr(e) => ctx.diags.push(Diagnostic::new(
                        Code::TYPE_MISMATCH,
                        e.span,
                        format!("`{} {}` is a block, not a value", seg.name, name.name),
                    )),
                }
            } else if let Some(sub) = sub {
                prefix.push(name.name.clone());
                let inner = entry.block.get_or_insert_with(MBlock::default);
                walk(inner, sub, &rest[1..], value, prefix, ctx);
                prefix.pop();
            }
            prefix.pop();
        }
        Shape::Route(_) | Shape::Mount => missing(
            seg,
            format!("{}s cannot be overridden per environment", seg.name),
            None,
            ctx,
        ),
    }
}

/// The free-key schema used for env and label maps.
static MAP_SCHEMA: Schema = Schema {
    name: "map",
    doc: "",
    keys: &[],
    open: Some(crate::schema::Ty::Str),
};

fn merge_block(
    block: &mut MBlock,
    schema: &'static Schema,
    over: &ast::Block,
    prefix: &mut Vec<String>,
    ctx: &mut Ctx,
) {
    for e in &over.entries {
        let saved_span = ctx.entry_span;
        let saved_doc = ctx.doc.take();
        ctx.entry_span = e.span;
        ctx.doc = e.doc.clone();
        match &e.kind {
            EntryKind::Field { key, value } => walk(
                block,
                schema,
                &key.segments,
                &Value::Expr(value),
                prefix,
                ctx,
            ),
            EntryKind::Block { key, block: b } => {
                walk(block, schema, &key.segments, &Value::Block(b), prefix, ctx)
            }
            EntryKind::NamedField {
                key, name, value, ..
            } => {
                let segs = [seg_of(key), seg_of(name)];
                walk(block, schema, &segs, &Value::Expr(value), prefix, ctx)
            }
            EntryKind::NamedBlock {
                key,
                name,
                block: b,
            } => {
                let segs = [seg_of(key), seg_of(name)];
                walk(block, schema, &segs, &Value::Block(b), prefix, ctx)
            }
            _ => ctx.diags.push(Diagnostic::new(
                Code::UNKNOWN_OVERRIDE,
                e.span,
                "routes, mounts and parameters cannot be added by an environment",
            )),
        }
        ctx.entry_span = saved_span;
        ctx.doc = saved_doc;
    }
}

fn seg_of(i: &ast::Ident) -> KeySeg {
    KeySeg {
        name: i.name.clone(),
        span: i.span,
        quoted: false,
    }
}

fn new_entry(key: MKey, key_span: Span, ctx: &Ctx) -> MEntry {
    MEntry {
        key,
        key_span,
        name_span: None,
        doc: ctx.doc.clone(),
        value: None,
        block: None,
        span: ctx.entry_span,
        dotted: None,
        is_param: false,
    }
}

fn set_value(entry: &mut MEntry, seg: &KeySeg, value: &Value, prefix: &[String], ctx: &mut Ctx) {
    match value {
        Value::Expr(e) => {
            entry.value = Some((*e).clone());
            if !matches!(entry.key, MKey::Named(..)) {
                entry.block = None;
            }
            entry.key_span = seg.span;
            entry.span = ctx.entry_span;
            let mut path = prefix.to_vec();
            path.push(seg.name.clone());
            ctx.paths.push(OverridePath {
                decl: ctx.decl,
                path,
                span: ctx.entry_span,
            });
        }
        Value::Block(b) => not_a_block(seg, b.span, ctx),
    }
}

/// `wallet.scale.max`: the path being overridden, as a message names it. Written out
/// only when a message is.
struct DisplayPath<'a> {
    decl: &'a str,
    prefix: &'a [String],
    last: &'a str,
}

impl std::fmt::Display for DisplayPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.decl)?;
        for p in self.prefix {
            write!(f, ".{p}")?;
        }
        if !self.last.is_empty() {
            write!(f, ".{}", self.last)?;
        }
        Ok(())
    }
}

fn display_path<'a>(ctx: &'a Ctx, prefix: &'a [String], last: &'a str) -> DisplayPath<'a> {
    DisplayPath {
        decl: &ctx.decl_name,
        prefix,
        last,
    }
}
