//! ASTs + standard library -> resolved program. Binds every declaration-level name:
//! the one platform, declarations (E0102 for duplicates, E0105 for unknown kinds),
//! templates and their parameters (E0702), `use` and `import` (E0801), and applies each
//! environment's overrides by path (E0701). Names inside expressions are bound by the
//! checker, because what a word means (`http`: a port, an enum value or a declaration)
//! depends on the type the context expects.

pub mod load;
pub mod merge;
mod overrides;
pub mod stdlib;

use foldhash::{HashMap, HashMapExt};

pub use load::{FileRead, Loader, MemoryLoader};
pub use merge::{MBlock, MEntry, MKey};

use crate::diag::suggest::{self, did_you_mean};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::schema::Kind;
use crate::source::{SourceId, SourceMap, Span};
use crate::syntax::ast::{self, Expr, Ident, Item, TypeExpr, TypeExprKind};
use crate::syntax::keyed::Keyed;

/// Index of a declaration in [`Program::decls`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeclId(pub u32);

/// Index of a template in [`Program::templates`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TemplateId(pub u32);

/// The type of a template parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamTy {
    Str,
    Int,
    Bool,
    Duration,
    Bytes,
    Cpu,
    Percent,
    Secret,
    Config,
    Workload,
    List(Box<ParamTy>),
}

impl ParamTy {
    pub const NAMES: &'static [&'static str] = &[
        "string", "int", "bool", "duration", "bytes", "cpu", "percent", "secret", "config",
        "workload",
    ];

    fn from_name(n: &str) -> Option<ParamTy> {
        Some(match n {
            "string" => ParamTy::Str,
            "int" => ParamTy::Int,
            "bool" => ParamTy::Bool,
            "duration" => ParamTy::Duration,
            "bytes" => ParamTy::Bytes,
            "cpu" => ParamTy::Cpu,
            "percent" => ParamTy::Percent,
            "secret" => ParamTy::Secret,
            "config" => ParamTy::Config,
            "workload" => ParamTy::Workload,
            _ => return None,
        })
    }

    pub fn describe(&self) -> String {
        match self {
            ParamTy::List(t) => format!("[{}]", t.describe()),
            other => {
                let i = [
                    ParamTy::Str,
                    ParamTy::Int,
                    ParamTy::Bool,
                    ParamTy::Duration,
                    ParamTy::Bytes,
                    ParamTy::Cpu,
                    ParamTy::Percent,
                    ParamTy::Secret,
                    ParamTy::Config,
                    ParamTy::Workload,
                ]
                .iter()
                .position(|t| t == other)
                .unwrap_or(0);
                ParamTy::NAMES[i].to_string()
            }
        }
    }
}

/// A parameter a template declares.
#[derive(Clone, Debug)]
pub struct ParamDecl {
    pub name: Ident,
    pub ty: ParamTy,
    pub optional: bool,
    pub default: Option<Expr>,
    pub doc: Option<String>,
    pub span: Span,
}

/// A parameter with the value an instance gives it (or its default).
#[derive(Clone, Debug)]
pub struct ParamBinding {
    pub decl: ParamDecl,
    /// The instance's value, the default, or none (an optional parameter left unset).
    pub value: Option<Expr>,
    /// The span of the instance entry that set it.
    pub set_at: Option<Span>,
}

/// A template: its kind, parameters and entries.
#[derive(Clone, Debug)]
pub struct RTemplate {
    pub name: Ident,
    pub kind: Kind,
    pub doc: Option<String>,
    pub params: Vec<ParamDecl>,
    pub body: MBlock,
    /// The template it extends, as written; its parameters and entries are merged into
    /// `params` and `body` once every template is known.
    pub base: Option<ast::Path>,
    /// The standard-library module that holds it (`postgres` for `std.postgres`).
    pub module: Option<String>,
    pub span: Span,
}

impl RTemplate {
    /// The name used to refer to it: `dotnet-api` or `std.postgres`.
    pub fn qualified_name(&self) -> String {
        match &self.module {
            Some(m) if *m == self.name.name => format!("std.{m}"),
            Some(m) => format!("std.{m}.{}", self.name.name),
            None => self.name.name.clone(),
        }
    }
}

/// A declaration with its template merged in.
#[derive(Clone, Debug)]
pub struct RDecl {
    pub kind: Kind,
    pub name: Ident,
    pub doc: Option<String>,
    pub template: Option<(TemplateId, Span)>,
    /// The declaration names a template that could not be used (already diagnosed), so
    /// keys the template would have supplied are not reported missing.
    pub template_failed: bool,
    pub params: Vec<ParamBinding>,
    pub body: MBlock,
    pub span: Span,
}

impl RDecl {
    pub fn param(&self, name: &str) -> Option<&ParamBinding> {
        self.params.iter().find(|p| p.decl.name.name == name)
    }
}

/// One environment: the declarations its overrides change, already patched.
#[derive(Clone, Debug)]
pub struct REnv {
    pub name: Ident,
    pub doc: Option<String>,
    pub span: Span,
    /// Patched copies of the declarations the env overrides.
    pub patched: Vec<(DeclId, RDecl)>,
    /// Every overridden path (`wallet.scale.min`), for targets that emit per-env values.
    pub paths: Vec<OverridePath>,
}

/// One overridden value, by path from its declaration.
#[derive(Clone, Debug)]
pub struct OverridePath {
    pub decl: DeclId,
    pub path: Vec<String>,
    pub span: Span,
}

/// What a name in the source refers to (for go-to-definition and find-references).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Decl(DeclId),
    Template(TemplateId),
    Param(DeclId, String),
    TemplateParam(TemplateId, String),
    Port(DeclId, String),
    SecretKey(DeclId, String),
    ConfigKey(DeclId, String),
    Source(SourceId),
    Env(usize),
}

/// A use of a name.
#[derive(Clone, Debug)]
pub struct Reference {
    pub span: Span,
    pub target: Target,
}

impl crate::source::Spans for Reference {
    fn each_span<F: FnMut(&mut Span)>(&mut self, f: &mut F) {
        f(&mut self.span);
    }
}

/// The resolved program: every file, every declaration with its template merged, every
/// environment's patched declarations.
#[derive(Debug, Default)]
pub struct Program {
    pub sources: SourceMap,
    pub file_reads: HashMap<(SourceId, String), FileRead>,
    pub decls: Vec<RDecl>,
    pub by_name: HashMap<String, DeclId>,
    pub platform: Option<DeclId>,
    pub templates: Vec<RTemplate>,
    pub envs: Vec<REnv>,
    pub references: Vec<Reference>,
}

impl Program {
    pub fn decl(&self, id: DeclId) -> &RDecl {
        &self.decls[id.0 as usize]
    }

    pub fn lookup(&self, name: &str) -> Option<DeclId> {
        self.by_name.get(name).copied()
    }

    pub fn template(&self, id: TemplateId) -> &RTemplate {
        &self.templates[id.0 as usize]
    }

    pub fn decl_ids(&self) -> impl Iterator<Item = DeclId> + use<> {
        (0..self.decls.len() as u32).map(DeclId)
    }
}

/// Loads and resolves the program rooted at `root`. `Err` only when the root itself
/// cannot be read (a usage error for the CLI).
pub fn resolve(
    root: &str,
    loader: &dyn Loader,
    diags: &mut Diagnostics,
) -> Result<Program, String> {
    let loaded = load::load(root, loader, diags)?;
    let mut p = Program {
        sources: loaded.sources,
        file_reads: loaded.file_reads,
        ..Program::default()
    };
    // The syntax trees are consumed: their entries move into merged blocks.
    let mut templates = Vec::new();
    let mut decls = Vec::new();
    for (fi, file) in loaded.files.into_iter().enumerate() {
        let module = module_of(&loaded.std_modules, fi);
        for item in file.items {
            match item {
                Item::Template(t) => templates.push((module.clone(), t)),
                Item::Decl(d) => decls.push((module.is_some(), d)),
                Item::Use(_) | Item::Import(_) => {}
            }
        }
    }
    collect_templates(&mut p, templates, diags);
    extend_templates(&mut p, diags);
    let env_decls = collect_decls(&mut p, decls, diags);
    check_platform(&mut p, diags);
    overrides::apply(&mut p, env_decls, diags);
    Ok(p)
}

fn module_of(std_modules: &HashMap<String, usize>, file_index: usize) -> Option<String> {
    std_modules
        .iter()
        .find(|(_, i)| **i == file_index)
        .map(|(m, _)| m.clone())
}

fn collect_templates(
    p: &mut Program,
    templates: Vec<(Option<String>, ast::TemplateDecl)>,
    diags: &mut Diagnostics,
) {
    let mut seen: HashMap<String, Span> = HashMap::new();
    {
        for (module, t) in templates {
            let Some(kind) = kind_of(&t.kind, diags) else {
                continue;
            };
            if matches!(kind, Kind::Platform | Kind::Env) {
                diags.push(
                    Diagnostic::new(
                        Code::UNKNOWN_KIND,
                        t.kind.span,
                        format!("templates cannot be written for `{}`", kind.as_str()),
                    )
                    .with_help("templates are for services, databases, jobs, secrets, configs and gateways"),
                );
                continue;
            }
            let mut body_ast = t.body;
            let mut params = Vec::new();
            body_ast.entries.retain(|e| match &e.kind {
                ast::EntryKind::Param { name, ty, default } => {
                    if let Some(pty) = param_ty(ty, diags) {
                        params.push(ParamDecl {
                            name: name.clone(),
                            ty: pty,
                            optional: ty.optional,
                            default: default.clone(),
                            doc: e.doc.clone(),
                            span: e.span,
                        });
                    }
                    false
                }
                _ => true,
            });
            let qualified = match &module {
                Some(m) if *m == t.name.name => format!("std.{m}"),
                Some(m) => format!("std.{m}.{}", t.name.name),
                None => t.name.name.clone(),
            };
            if let Some(first) = seen.get(&qualified) {
                diags.push(
                    Diagnostic::new(
                        Code::DUPLICATE,
                        t.name.span,
                        format!("template `{qualified}` is declared twice"),
                    )
                    .with_label(*first, "first declared here"),
                );
                continue;
            }
            let mut pnames: HashMap<&str, Span> = HashMap::new();
            for pd in &params {
                if let Some(first) = pnames.insert(&pd.name.name, pd.name.span) {
                    diags.push(
                        Diagnostic::new(
                            Code::DUPLICATE,
                            pd.name.span,
                            format!("parameter `{}` is declared twice", pd.name.name),
                        )
                        .with_label(first, "first declared here"),
                    );
                }
                if kind.schema().key(&pd.name.name).is_some() {
                    diags.push(
                        Diagnostic::new(
                            Code::DUPLICATE,
                            pd.name.span,
                            format!(
                                "parameter `{}` has the name of a `{}` key",
                                pd.name.name,
                                kind.as_str()
                            ),
                        )
                        .with_help("give the parameter another name"),
                    );
                }
            }
            seen.insert(qualified, t.name.span);
            let body = MBlock::from_ast(body_ast, diags);
            p.templates.push(RTemplate {
                name: t.name.clone(),
                kind,
                doc: t.doc.clone(),
                params,
                body,
                base: t.base,
                module,
                span: t.span,
            });
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Flat {
    Pending,
    InProgress,
    Done,
}

/// Merges every template with the template it extends: the base's parameters and
/// entries first, the template's own on top. A field named like a base parameter sets
/// that parameter's default.
fn extend_templates(p: &mut Program, diags: &mut Diagnostics) {
    let mut state = vec![Flat::Pending; p.templates.len()];
    for i in 0..p.templates.len() {
        flatten(p, i, &mut state, diags);
    }
}

fn flatten(p: &mut Program, i: usize, state: &mut [Flat], diags: &mut Diagnostics) {
    match state[i] {
        Flat::Done => return,
        Flat::InProgress => {
            let t = &p.templates[i];
            diags.push(
                Diagnostic::new(
                    Code::TEMPLATE_CYCLE,
                    t.base.as_ref().map_or(t.name.span, |b| b.span),
                    format!("template `{}` extends itself", t.qualified_name()),
                )
                .with_help("a template may extend another, but the chain must end"),
            );
            p.templates[i].base = None;
            return;
        }
        Flat::Pending => {}
    }
    state[i] = Flat::InProgress;
    if let Some(path) = p.templates[i].base.clone()
        && let Some(b) = find_template(p, &path, diags)
    {
        let bi = b.0 as usize;
        flatten(p, bi, state, diags);
        p.references.push(Reference {
            span: path.span,
            target: Target::Template(b),
        });
        let base = p.templates[bi].clone();
        let t = &mut p.templates[i];
        if base.kind != t.kind {
            diags.push(
                Diagnostic::new(
                    Code::TYPE_MISMATCH,
                    path.span,
                    format!(
                        "template `{}` is for a {}, not a {}",
                        base.qualified_name(),
                        base.kind.as_str(),
                        t.kind.as_str()
                    ),
                )
                .with_label(base.name.span, "declared here"),
            );
        } else if state[i] == Flat::InProgress {
            let mut params = base.params.clone();
            for own in std::mem::take(&mut t.params) {
                params.retain(|p| p.name.name != own.name.name);
                params.push(own);
            }
            for bp in params.iter_mut() {
                let key = MKey::Field(bp.name.name.clone());
                if let Some(e) = t.body.get(&key).cloned() {
                    t.body.entries.retain(|x| x.key != key);
                    bp.default = e.value;
                    bp.optional = bp.optional || bp.default.is_none();
                }
            }
            t.params = params;
            let mut body = base.body;
            body.merge(std::mem::take(&mut t.body));
            t.body = body;
        }
    }
    state[i] = Flat::Done;
}

fn param_ty(t: &TypeExpr, diags: &mut Diagnostics) -> Option<ParamTy> {
    match &t.kind {
        TypeExprKind::List(inner) => param_ty(inner, diags).map(|i| ParamTy::List(Box::new(i))),
        TypeExprKind::Named(n) => match ParamTy::from_name(&n.name) {
            Some(ty) => Some(ty),
            None => {
                diags.push(
                    Diagnostic::new(
                        Code::UNKNOWN_REFERENCE,
                        n.span,
                        format!("unknown type `{}`", n.name),
                    )
                    .with_help_opt(
                        did_you_mean(&n.name, ParamTy::NAMES.iter().copied()).or_else(|| {
                            Some(format!(
                                "the types are {}, and lists like `[string]`",
                                ParamTy::NAMES
                                    .iter()
                                    .map(|n| format!("`{n}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))
                        }),
                    ),
                );
                None
            }
        },
    }
}

fn kind_of(word: &Ident, diags: &mut Diagnostics) -> Option<Kind> {
    match Kind::parse(&word.name) {
        Some(k) => Some(k),
        None => {
            let names = Kind::ALL.map(Kind::as_str);
            diags.push(
                Diagnostic::new(
                    Code::UNKNOWN_KIND,
                    word.span,
                    format!("unknown declaration kind `{}`", word.name),
                )
                .with_help_opt(did_you_mean(&word.name, names).or_else(|| {
                    Some(format!(
                        "a declaration is one of {}, or `template`, `use` or `import`",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })),
            );
            None
        }
    }
}

/// Collects declarations (merged with their templates) and returns the env declarations
/// for `overrides`.
fn collect_decls(
    p: &mut Program,
    mut decls: Vec<(bool, ast::Decl)>,
    diags: &mut Diagnostics,
) -> Vec<ast::Decl> {
    // The declarations' own blocks, merged on all cores (environments keep theirs).
    let own: Vec<Option<Keyed>> = crate::par::runs_mut(&mut decls, |_, run| {
        run.iter_mut()
            .map(|(in_std, d)| {
                (!*in_std && d.kind.name != Kind::Env.as_str()).then(|| {
                    // Keyed between edits (language server), or here.
                    match d.keyed.take() {
                        Some(k) => *k,
                        None => Keyed::of(&mut d.body),
                    }
                })
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    let mut envs: Vec<ast::Decl> = Vec::new();
    let mut env_names: HashMap<String, Span> = HashMap::new();
    for ((in_std, d), own) in decls.into_iter().zip(own) {
        if in_std {
            diags.push(Diagnostic::new(
                Code::UNKNOWN_KIND,
                d.kind.span,
                "the standard library holds only templates",
            ));
            continue;
        }
        let Some(kind) = kind_of(&d.kind, diags) else {
            continue;
        };
        if kind == Kind::Env {
            if let Some(t) = &d.template {
                diags.push(Diagnostic::new(
                    Code::UNKNOWN_REFERENCE,
                    t.span,
                    "an environment cannot have a template",
                ));
            }
            if let Some(first) = env_names.get(&d.name.name) {
                diags.push(
                    Diagnostic::new(
                        Code::DUPLICATE,
                        d.name.span,
                        format!("environment `{}` is declared twice", d.name.name),
                    )
                    .with_label(*first, "first declared here"),
                );
                continue;
            }
            env_names.insert(d.name.name.clone(), d.name.span);
            envs.push(d);
            continue;
        }
        if let Some(&first) = p.by_name.get(&d.name.name) {
            let other = p.decl(first);
            diags.push(
                Diagnostic::new(
                    Code::DUPLICATE,
                    d.name.span,
                    format!("`{}` is declared twice", d.name.name),
                )
                .with_label(
                    other.name.span,
                    format!("first declared here, as a {}", other.kind.as_str()),
                )
                .with_help(
                    "every service, database, job, secret, config and gateway needs its own name",
                ),
            );
            continue;
        }
        let name = d.name.name.clone();
        let rd = instantiate(p, kind, d, own, diags);
        let id = DeclId(p.decls.len() as u32);
        p.by_name.insert(name, id);
        p.decls.push(rd);
    }
    envs
}

/// Merges a declaration with its template and binds the template's parameters.
fn instantiate(
    p: &mut Program,
    kind: Kind,
    d: ast::Decl,
    own: Option<Keyed>,
    diags: &mut Diagnostics,
) -> RDecl {
    let body_span = d.body.span;
    let mut own = match own {
        Some(keyed) => {
            diags.extend(keyed.diags);
            keyed.block
        }
        None => MBlock::from_ast(d.body, diags),
    };
    let mut rd = RDecl {
        kind,
        name: d.name.clone(),
        doc: d.doc.clone(),
        template: None,
        template_failed: d.template.is_some(),
        params: Vec::new(),
        body: MBlock::default(),
        span: d.span,
    };
    let Some(tpath) = &d.template else {
        rd.body = own;
        return rd;
    };
    let Some(tid) = find_template(p, tpath, diags) else {
        rd.body = own;
        return rd;
    };
    p.references.push(Reference {
        span: tpath.span,
        target: Target::Template(tid),
    });
    let t = p.template(tid).clone();
    if t.kind != kind {
        diags.push(
            Diagnostic::new(
                Code::TYPE_MISMATCH,
                tpath.span,
                format!(
                    "template `{}` is for a {}, not a {}",
                    t.qualified_name(),
                    t.kind.as_str(),
                    kind.as_str()
                ),
            )
            .with_label(t.name.span, "declared here"),
        );
        rd.body = own;
        return rd;
    }
    rd.template = Some((tid, tpath.span));
    rd.template_failed = false;
    for pd in &t.params {
        let key = MKey::Field(pd.name.name.clone());
        let given = own.get(&key).cloned();
        if given.is_some() {
            own.entries.retain(|e| e.key != key);
        }
        let (value, set_at) = match given {
            Some(e) => (e.value.clone(), Some(e.span)),
            None => (pd.default.clone(), None),
        };
        if value.is_none() && !pd.optional {
            diags.push(
                Diagnostic::new(
                    Code::MISSING_PARAM,
                    d.name.span,
                    format!(
                        "`{}` does not set `{}`, which template `{}` requires",
                        d.name.name,
                        pd.name.name,
                        t.qualified_name()
                    ),
                )
                .with_label(pd.name.span, "parameter declared here")
                .with_help(format!(
                    "add `{} = …` ({}) to `{}`",
                    pd.name.name,
                    pd.ty.describe(),
                    d.name.name
                )),
            );
        }
        rd.params.push(ParamBinding {
            decl: pd.clone(),
            value,
            set_at,
        });
    }
    let mut body = t.body.clone();
    body.merge(own);
    body.span = body_span;
    rd.body = body;
    rd
}

fn find_template(p: &Program, path: &ast::Path, diags: &mut Diagnostics) -> Option<TemplateId> {
    let dotted = path.dotted();
    let found = p
        .templates
        .iter()
        .position(|t| t.qualified_name() == dotted);
    if let Some(i) = found {
        return Some(TemplateId(i as u32));
    }
    let names: Vec<String> = p.templates.iter().map(RTemplate::qualified_name).collect();
    let mut d = Diagnostic::new(
        Code::UNKNOWN_REFERENCE,
        path.span,
        format!("unknown template `{dotted}`"),
    );
    if let Some(module) = dotted.strip_prefix("std.") {
        let module = module.split('.').next().unwrap_or(module);
        if stdlib::module(module).is_some() {
            d = d.with_help(format!(
                "add `use std.{module}` to load it from the standard library"
            ));
        } else {
            d = d.with_help_opt(
                suggest::closest(module, stdlib::names())
                    .map(|m| format!("did you mean `std.{m}`?")),
            );
        }
    } else {
        d = d.with_help_opt(did_you_mean(&dotted, names.iter().map(String::as_str)));
    }
    diags.push(d);
    None
}

fn check_platform(p: &mut Program, diags: &mut Diagnostics) {
    let platforms: Vec<DeclId> = p
        .decl_ids()
        .filter(|&id| p.decl(id).kind == Kind::Platform)
        .collect();
    match platforms.as_slice() {
        [] => {
            let root = SourceId(0);
            let empty = p
                .sources
                .get(root)
                .is_some_and(|f| f.text.trim().is_empty());
            let message = if empty {
                "the file is empty: a program needs a `platform` declaration".to_string()
            } else {
                "the program has no `platform` declaration".to_string()
            };
            let has_not_text = diags.iter().any(|d| d.code == Code::NOT_TEXT);
            if !has_not_text {
                diags.push(
                    Diagnostic::new(Code::MISSING_FIELD, Span::new(root, 0, 0), message).with_help(
                        "add `platform NAME { }`; it names the platform and holds its settings",
                    ),
                );
            }
        }
        [one, rest @ ..] => {
            p.platform = Some(*one);
            for extra in rest {
                diags.push(
                    Diagnostic::new(
                        Code::DUPLICATE,
                        p.decl(*extra).name.span,
                        "a program has exactly one `platform`",
                    )
                    .with_label(p.decl(*one).name.span, "the platform is declared here"),
                );
            }
        }
    }
}
