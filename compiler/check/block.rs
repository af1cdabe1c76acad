//! Checks a merged block against its schema: every key known (E0103), written in the
//! shape the schema gives it, every value of its type, every required key present
//! (E0104). The result is the block's evaluated values, which the kind builders read.

use std::sync::Arc;

use super::eval::{Cx, Val};
use super::names;
use crate::diag::suggest::did_you_mean;
use crate::diag::{Code, Diagnostic};
use crate::resolve::{DeclId, MBlock, MEntry, MKey};
use crate::schema::{Schema, Shape, Ty};
use crate::source::Span;

/// One evaluated entry.
#[derive(Clone, Debug)]
pub struct EvEntry<'m> {
    /// The key of the merged entry this was evaluated from.
    pub key: &'m MKey,
    pub key_span: Span,
    pub value_span: Span,
    pub val: Option<Val>,
    pub block: Option<Ev<'m>>,
}

/// What a named entry or route without a block of its own is evaluated as, for the
/// keys its schema requires.
static EMPTY: MBlock = MBlock {
    entries: Vec::new(),
    span: Span {
        source: crate::source::SourceId(0),
        start: 0,
        end: 0,
    },
};

/// One entry of a declaration's body as the base check evaluated it, with the names it
/// used: what an environment that did not patch the entry takes instead of evaluating
/// it again.
#[derive(Clone, Debug)]
pub struct Taken<'m> {
    /// The merged entry itself: an environment's copy of the body shares it with the
    /// base's until the environment patches it.
    entry: Arc<MEntry>,
    /// Whether it evaluated to an entry of the body's [`Ev`] (moved here once the
    /// declaration is built, [`Cx::keep_evaluated`]).
    produced: bool,
    ev: Option<EvEntry<'m>>,
    uses: Vec<(DeclId, Span)>,
    deps: Vec<DeclId>,
}

/// A declaration's body as the base check evaluated it, entry by entry.
#[derive(Clone, Debug, Default)]
pub struct Evaluated<'m> {
    entries: Vec<Taken<'m>>,
}

impl<'m> Evaluated<'m> {
    /// What was recorded for `entry`, the `i`th of its body, when it is the very entry
    /// the base evaluated (not a patched copy).
    fn find(&self, entry: &Arc<MEntry>, i: usize) -> Option<&Taken<'m>> {
        let same = |t: &&Taken<'m>| Arc::ptr_eq(&t.entry, entry);
        self.entries
            .get(i)
            .filter(same)
            .or_else(|| self.entries.iter().find(same))
    }
}

/// An evaluated block.
#[derive(Clone, Debug, Default)]
pub struct Ev<'m> {
    pub entries: Vec<EvEntry<'m>>,
}

impl<'m> Ev<'m> {
    pub fn entry(&self, name: &str) -> Option<&EvEntry<'m>> {
        self.entries
            .iter()
            .find(|e| matches!(&e.key, MKey::Field(k) if k == name))
    }

    pub fn val(&self, name: &str) -> Option<&Val> {
        self.entry(name).and_then(|e| e.val.as_ref())
    }

    pub fn block(&self, name: &str) -> Option<&Ev<'m>> {
        self.entry(name).and_then(|e| e.block.as_ref())
    }

    pub fn named<'a>(
        &'a self,
        word: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a EvEntry<'m>)> + 'a {
        self.entries.iter().filter_map(move |e| match e.key {
            MKey::Named(k, n) if k == word => Some((n.as_str(), e)),
            _ => None,
        })
    }

    pub fn span(&self, name: &str) -> Option<Span> {
        self.entry(name).map(|e| e.value_span)
    }

    pub fn text(&self, name: &str) -> Option<String> {
        match self.val(name)? {
            Val::Text(t) => t.as_literal(),
            _ => None,
        }
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.val(name)? {
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.val(name)? {
            Val::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn duration(&self, name: &str) -> Option<u64> {
        match self.val(name)? {
            Val::Duration(ms) => Some(*ms),
            _ => None,
        }
    }

    pub fn word(&self, name: &str) -> Option<&'static str> {
        match self.val(name)? {
            Val::Enum(w) => Some(w),
            _ => None,
        }
    }

    pub fn strings(&self, name: &str) -> Option<Vec<String>> {
        match self.val(name)? {
            Val::List(items) => Some(
                items
                    .iter()
                    .filter_map(|v| match v {
                        Val::Text(t) => t.as_literal(),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// Who owns a block, for messages: "service `wallet`", "port `http`", "`scale` of
/// service `wallet`". Described only when a message needs it.
pub struct Owner<'a> {
    /// `service`, `port`, `route`; empty for a nested block of `parent`.
    pub kind: &'a str,
    pub name: &'a str,
    pub parent: Option<&'a Owner<'a>>,
    pub span: Span,
}

impl Owner<'_> {
    pub fn describe(&self) -> String {
        match self.parent {
            Some(p) => format!("`{}` of {}", self.name, p.describe()),
            None => format!("{} `{}`", self.kind, self.name),
        }
    }
}

impl<'p> Cx<'_, 'p> {
    /// Evaluates `block` against `schema`.
    pub fn eval_block<'m>(
        &mut self,
        block: &'m MBlock,
        schema: &'static Schema,
        owner: &Owner,
    ) -> Ev<'m> {
        self.each_entry(block, schema, owner, |cx, _, e| {
            cx.eval_entry(e, schema, owner)
        })
    }

    /// A declaration's body, entry by entry: the entries the base check recorded
    /// ([`Cx::taken`]) are taken from there, each with the names it used, and the
    /// others evaluated; with [`Cx::record`], each entry evaluated is recorded too. The
    /// same as [`Cx::eval_block`] of the body.
    pub fn eval_body(
        &mut self,
        block: &'p MBlock,
        schema: &'static Schema,
        owner: &Owner,
    ) -> Ev<'p> {
        let taken = self.taken;
        self.each_entry(block, schema, owner, |cx, i, e| {
            if let Some(t) = taken.and_then(|t| t.find(e, i)) {
                cx.uses.extend_from_slice(&t.uses);
                cx.deps.extend(t.deps.iter().copied());
                return t.ev.clone();
            }
            // Each entry evaluates the template parameters it reads itself, so that
            // what it uses is its own whatever entries come before it.
            cx.params.clear();
            let uses = cx.uses.len();
            let deps = std::mem::take(&mut cx.deps);
            let out = cx.eval_entry(e, schema, owner);
            let own = std::mem::replace(&mut cx.deps, deps);
            if let Some(record) = cx.record.as_mut() {
                record.entries.push(Taken {
                    entry: Arc::clone(e),
                    produced: out.is_some(),
                    ev: None,
                    uses: cx.uses.get(uses..).unwrap_or_default().to_vec(),
                    deps: own.iter().copied().collect(),
                });
            }
            cx.deps.extend(own);
            out
        })
    }

    /// A block's entries, each given by `entry` (its place and itself), then the keys
    /// the schema requires checked against them.
    fn each_entry<'m>(
        &mut self,
        block: &'m MBlock,
        schema: &'static Schema,
        owner: &Owner,
        mut entry: impl FnMut(&mut Self, usize, &'m Arc<MEntry>) -> Option<EvEntry<'m>>,
    ) -> Ev<'m> {
        let mut ev = Ev {
            entries: Vec::with_capacity(block.entries.len()),
        };
        for (i, e) in block.entries.iter().enumerate() {
            ev.entries.extend(entry(self, i, e));
        }
        self.required_keys(block, schema, owner, &ev);
        ev
    }

    /// Keeps what was evaluated of the declaration's body, when recording it: each
    /// entry's value moves to its record.
    pub(super) fn keep_evaluated(&mut self, ev: Ev<'p>) {
        let Some(record) = self.record.as_mut() else {
            return;
        };
        let mut evs = ev.entries.into_iter();
        for t in record.entries.iter_mut().filter(|t| t.produced) {
            t.ev = evs.next();
        }
    }

    /// Reports the keys the schema requires that the block does not have (E0104).
    fn required_keys(&mut self, block: &MBlock, schema: &'static Schema, owner: &Owner, ev: &Ev) {
        let template_failed = self.view.decl(self.current).template_failed;
        for spec in schema
            .keys
            .iter()
            .filter(|k| k.required && !template_failed)
        {
            if ev.entry(spec.name).is_none() && block.field(spec.name).is_none() {
                let example = match spec.shape {
                    Shape::Field(ty) => format!("`{} = …` ({})", spec.name, ty.describe()),
                    _ => format!("`{} {{ … }}`", spec.name),
                };
                self.diags.push(
                    Diagnostic::new(
                        Code::MISSING_FIELD,
                        owner.span,
                        format!("{} has no `{}`", owner.describe(), spec.name),
                    )
                    .with_help(format!("add {example}")),
                );
            }
        }
    }

    fn eval_entry<'m>(
        &mut self,
        e: &'m MEntry,
        schema: &'static Schema,
        owner: &Owner,
    ) -> Option<EvEntry<'m>> {
        let mut out = EvEntry {
            key: &e.key,
            key_span: e.key_span,
            value_span: e.value.as_ref().map_or(e.span, |v| v.span),
            val: None,
            block: None,
        };
        if e.is_param {
            self.diags.push(
                Diagnostic::new(Code::UNKNOWN_KEY, e.span, "parameters are declared only in templates")
                    .with_help("declare `param NAME: TYPE` in a `template`, and set it in the declarations made from it"),
            );
            return None;
        }
        if let Some(span) = e.dotted {
            self.diags.push(
                Diagnostic::new(
                    Code::UNKNOWN_KEY,
                    span,
                    format!(
                        "dotted key {} is only allowed in `env` blocks",
                        e.key.describe()
                    ),
                )
                .with_help("nest the keys instead: `scale { max = 10 }`"),
            );
            return None;
        }
        let word = e.key.word();
        let spec = schema.key(word);
        if spec.is_none() {
            if let (Some(ty), MKey::Field(k)) = (schema.open, &e.key) {
                if let Err(err) = names::data_key(k) {
                    self.diags.push(Diagnostic::new(
                        Code::INVALID_VALUE,
                        e.key_span,
                        err.message,
                    ));
                    return None;
                }
                return self.field_value(e, ty, out);
            }
            let mut help = did_you_mean(word, schema.names());
            if help.is_none() && schema.open.is_none() {
                help = Some(format!(
                    "{} takes {}",
                    owner.describe(),
                    schema
                        .names()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            self.diags.push(
                Diagnostic::new(
                    Code::UNKNOWN_KEY,
                    e.key_span,
                    format!("{} has no key `{word}`", owner.describe()),
                )
                .with_help_opt(help),
            );
            return None;
        }
        let spec = spec?;
        match (&e.key, spec.shape) {
            (MKey::Field(_), Shape::Field(ty)) => {
                if e.value.is_none() {
                    self.shape_error(
                        e,
                        format!("`{word}` takes a value, not a block"),
                        format!("write `{word} = …`"),
                    );
                    return None;
                }
                self.field_value(e, ty, out)
            }
            (MKey::Field(_), Shape::Block(sub)) => {
                let Some(b) = &e.block else {
                    self.shape_error(
                        e,
                        format!("`{word}` is a block"),
                        format!("write `{word} {{ … }}`"),
                    );
                    return None;
                };
                out.block = Some(self.eval_block(
                    b,
                    sub,
                    &Owner {
                        kind: "",
                        name: word,
                        parent: Some(owner),
                        span: e.key_span,
                    },
                ));
                Some(out)
            }
            (MKey::Field(_), Shape::Map(ty)) => {
                let Some(b) = &e.block else {
                    self.shape_error(
                        e,
                        format!("`{word}` is a block"),
                        format!("write `{word} {{ NAME = … }}`"),
                    );
                    return None;
                };
                out.block = Some(self.eval_map(b, ty, word));
                Some(out)
            }
            (MKey::Named(_, name), Shape::Named { value, block }) => {
                let name_span = e.name_span.unwrap_or(e.key_span);
                let valid = if word == "port" {
                    names::port_name(name)
                } else {
                    names::dns_label(name)
                };
                if let Err(err) = valid {
                    let sp = err.at.map_or(name_span, |at| name_span.sub(at, 1));
                    self.diags
                        .push(Diagnostic::new(Code::INVALID_VALUE, sp, err.message));
                    return None;
                }
                match (value, &e.value) {
                    (Some(ty), Some(v)) => {
                        out.val = self.eval(v, ty);
                        out.val.as_ref()?;
                    }
                    (Some(ty), None) => {
                        self.diags.push(
                            Diagnostic::new(
                                Code::MISSING_FIELD,
                                e.key_span,
                                format!("`{word} {name}` needs a value"),
                            )
                            .with_help(format!("write `{word} {name} = …` ({})", ty.describe())),
                        );
                        return None;
                    }
                    (None, Some(v)) => {
                        self.shape_error_at(
                            v.span,
                            format!("`{word} {name}` takes a block, not a value"),
                            format!("write `{word} {name} {{ … }}`"),
                        );
                        return None;
                    }
                    (None, None) => {}
                }
                if let Some(sub) = block {
                    let b = e.block.as_ref().unwrap_or(&EMPTY);
                    out.block = Some(self.eval_block(
                        b,
                        sub,
                        &Owner {
                            kind: word,
                            name,
                            parent: None,
                            span: name_span,
                        },
                    ));
                }
                Some(out)
            }
            (MKey::Route(path), Shape::Route(sub)) => {
                if !path.starts_with('/') {
                    self.diags.push(
                        Diagnostic::new(
                            Code::INVALID_PATH,
                            e.key_span,
                            format!("route path `{path}` does not start with `/`"),
                        )
                        .with_help(format!("write `route \"/{path}\"`")),
                    );
                    return None;
                }
                let v = e.value.as_ref()?;
                out.val = self.eval(v, Ty::CallTarget);
                out.val.as_ref()?;
                let b = e.block.as_ref().unwrap_or(&EMPTY);
                out.block = Some(self.eval_block(
                    b,
                    sub,
                    &Owner {
                        kind: "route",
                        name: path,
                        parent: None,
                        span: e.key_span,
                    },
                ));
                Some(out)
            }
            (MKey::Mount(at), Shape::Mount) => {
                if !at.starts_with('/') {
                    self.diags.push(
                        Diagnostic::new(
                            Code::INVALID_PATH,
                            e.key_span,
                            format!("mount path `{at}` is not absolute"),
                        )
                        .with_help(format!("write `at \"/{at}\"`")),
                    );
                    return None;
                }
                let v = e.value.as_ref()?;
                out.val = self.eval(v, Ty::Mountable);
                out.val.as_ref()?;
                Some(out)
            }
            (MKey::Named(_, name), _) => {
                self.shape_error_at(
                    e.name_span.unwrap_or(e.key_span),
                    format!("`{word}` takes no name"),
                    format!("write `{word} = …` or `{word} {{ … }}`, without `{name}`"),
                );
                None
            }
            (_, Shape::Named { .. }) => {
                self.shape_error(
                    e,
                    format!("`{word}` needs a name"),
                    format!("write `{word} NAME = …` or `{word} NAME {{ … }}`"),
                );
                None
            }
            (_, Shape::Route(_)) => {
                self.shape_error(
                    e,
                    "a route is written `route \"/path\" -> target`".to_string(),
                    "write `route \"/api\" -> api.http`".to_string(),
                );
                None
            }
            (_, Shape::Mount) => {
                self.shape_error(
                    e,
                    "a mount is written `mount NAME at \"/path\"`".to_string(),
                    "write `mount app-settings at \"/app/config\"`".to_string(),
                );
                None
            }
            (MKey::Route(_), _) | (MKey::Mount(_), _) => {
                self.diags.push(Diagnostic::new(
                    Code::UNKNOWN_KEY,
                    e.span,
                    format!("{} cannot have `{word}` entries", owner.describe()),
                ));
                None
            }
        }
    }

    fn field_value<'m>(&mut self, e: &MEntry, ty: Ty, mut out: EvEntry<'m>) -> Option<EvEntry<'m>> {
        let Some(v) = &e.value else {
            self.shape_error(
                e,
                format!("{} takes a value, not a block", e.key.describe()),
                "write `KEY = …`".to_string(),
            );
            return None;
        };
        match self.eval(v, ty)? {
            Val::Unset => None,
            val => {
                out.val = Some(val);
                Some(out)
            }
        }
    }

    /// A block of free keys, one value type: `env { … }`, `labels { … }`.
    fn eval_map<'m>(&mut self, b: &'m MBlock, ty: Ty, word: &str) -> Ev<'m> {
        let mut ev = Ev::default();
        for e in &b.entries {
            let MKey::Field(k) = &e.key else {
                self.diags.push(
                    Diagnostic::new(
                        Code::UNKNOWN_KEY,
                        e.span,
                        format!("`{word}` holds only `NAME = value` entries"),
                    )
                    .with_help("write `NAME = value`"),
                );
                continue;
            };
            let valid = match ty {
                Ty::EnvValue => names::env_name(k),
                Ty::LabelValue => names::label_key(k),
                _ => names::data_key(k),
            };
            if let Err(err) = valid {
                let code = if ty == Ty::LabelValue {
                    Code::INVALID_LABEL
                } else {
                    Code::INVALID_VALUE
                };
                self.diags
                    .push(Diagnostic::new(code, e.key_span, err.message));
                continue;
            }
            if e.dotted.is_some() {
                self.diags.push(Diagnostic::new(
                    Code::UNKNOWN_KEY,
                    e.key_span,
                    format!("`{k}` has dots; quote names that contain dots: `\"{k}\" = …`"),
                ));
                continue;
            }
            let saved = self.secret_ok;
            self.secret_ok = ty == Ty::EnvValue;
            let out = EvEntry {
                key: &e.key,
                key_span: e.key_span,
                value_span: e.value.as_ref().map_or(e.span, |v| v.span),
                val: None,
                block: None,
            };
            let r = if e.block.is_some() {
                self.shape_error(
                    e,
                    format!("`{k}` takes a value, not a block"),
                    format!("write `{k} = …`"),
                );
                None
            } else {
                self.field_value(e, ty, out)
            };
            self.secret_ok = saved;
            if let Some(r) = r {
                ev.entries.push(r);
            }
        }
        ev
    }

    fn shape_error(&mut self, e: &MEntry, message: String, help: String) {
        self.shape_error_at(e.key_span, message, help);
    }

    fn shape_error_at(&mut self, span: Span, message: String, help: String) {
        self.diags
            .push(Diagnostic::new(Code::TYPE_MISMATCH, span, message).with_help(help));
    }
}
