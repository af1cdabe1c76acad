//! Checking an edited program again, reusing what the last check found for the
//! declarations the edit did not reach. The language server does this after every
//! keystroke; the result is the same as checking from scratch (a property test holds it
//! to that).
//!
//! An edit changes a run of declarations in one file; the text before it stays where it
//! was and the text after it moves by the edit's length. A declaration is checked again
//! when its text changed or it refers to one whose text changed; every other keeps its
//! model, diagnostics and references, their spans moved with the text. Anything more
//! than that — a template, the platform, an environment, an import or a `file()` read
//! changed, or declarations added, removed or renamed — and everything is checked again.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};

use super::Result;
use super::eval::Tables;
use crate::diag::Diagnostic;
use crate::resolve::{DeclId, Program, Reference};
use crate::source::{SourceId, Span, Spans};
use crate::syntax::chunk::{self, chunk_starts};

/// What checking one declaration gave.
#[derive(Clone)]
pub(super) struct Entry {
    /// Shared with the results of the check that made it.
    pub result: Arc<Result>,
    pub diags: Vec<Diagnostic>,
    pub refs: Vec<Reference>,
}

/// The checked declarations of a program, kept for the next check after an edit.
#[derive(Default)]
pub struct Memo {
    /// By declaration, without any environment.
    pub(super) base: Vec<Option<Entry>>,
    /// By environment and declaration, the declarations it checked itself.
    pub(super) envs: Vec<Vec<Option<Entry>>>,
    /// The base program's tables of ports and keys; only changed declarations' rows
    /// are built again.
    pub(super) tables: Tables,
    /// By source file, how the edit this check followed moved its text.
    pub(super) edit: Vec<Option<Moved>>,
    /// The entries moved as the next edit will likely move them ([`Memo::prepare`]).
    spare: OnceLock<Spare>,
}

/// Copies of a memo's entries, moved ahead of an edit, each to be taken once.
struct Spare {
    moved: Vec<Option<Moved>>,
    base: Vec<Slot>,
    envs: Vec<Vec<Slot>>,
}

type Slot = Mutex<Option<Entry>>;

impl Memo {
    /// An empty memo for a check after an edit that moved the files' text so.
    pub(super) fn after(edit: Vec<Option<Moved>>) -> Memo {
        Memo {
            edit,
            ..Memo::default()
        }
    }

    /// Copies the entries, their spans moved as the next edit will move them if it is
    /// like the last one (typing moves the text after the cursor by the same amount at
    /// every keystroke), so that the next check takes them instead of moving them while
    /// the user waits. The language server calls it between edits; a check whose edit
    /// was not foreseen moves the entries itself.
    pub fn prepare(&self) {
        if self.spare.get().is_some() || self.edit.iter().all(Option::is_none) {
            return;
        }
        let moved: Vec<Option<Moved>> =
            self.edit.iter().map(|m| m.and_then(Moved::again)).collect();
        let copy = |entries: &[Option<Entry>]| -> Vec<Slot> {
            entries
                .iter()
                .map(|e| Mutex::new(e.as_ref().and_then(|e| moved_entry(&moved, e))))
                .collect()
        };
        let spare = Spare {
            base: copy(&self.base),
            envs: self.envs.iter().map(|e| copy(e)).collect(),
            moved,
        };
        let _ = self.spare.set(spare);
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Memo({} declarations)", self.base.len())
    }
}

/// How the text of one edited file moved: unchanged before `kept`, changed up to
/// `from` (in the old text), moved by `by` bytes from there on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Moved {
    kept: u32,
    from: u32,
    by: i64,
    /// Where the changed text ends in the new text.
    to: u32,
}

impl Moved {
    /// The same edit once more, where this one left the text: one more keystroke.
    fn again(self) -> Option<Moved> {
        Some(Moved {
            kept: self.kept,
            from: self.to,
            by: self.by,
            to: u32::try_from(i64::from(self.to) + self.by).ok()?,
        })
    }

    /// Moves an old span to where its text now is; false when its text changed.
    fn map(&self, s: &mut Span) -> bool {
        let m = self;
        if s.end < m.kept || (s.end == m.kept && s.start < m.kept) {
            return true;
        }
        if s.start > m.from || (s.start == m.from && s.end > m.from) {
            let shift = |x: u32| u32::try_from(i64::from(x) + m.by).ok();
            return match (shift(s.start), shift(s.end)) {
                (Some(a), Some(b)) => {
                    s.start = a;
                    s.end = b;
                    true
                }
                _ => false,
            };
        }
        false
    }
}

/// Moves a span by how its file moved; false when its text changed.
fn map(moved: &[Option<Moved>], s: &mut Span) -> bool {
    match moved.get(s.source.0 as usize).and_then(Option::as_ref) {
        None => true,
        Some(m) => m.map(s),
    }
}

/// An entry moved to where its text now is; none when its text changed.
fn moved_entry(moved: &[Option<Moved>], prev: &Entry) -> Option<Entry> {
    let mut e = prev.clone();
    let mut ok = true;
    let mut f = |s: &mut Span| ok &= map(moved, s);
    // The model is shared with the last check's: copied only when it moves.
    let mut still = true;
    e.result.built.each_span_read(&mut |s| {
        let mut t = s;
        still &= map(moved, &mut t) && t == s;
    });
    let result = Arc::make_mut(&mut e.result);
    if !still {
        result.built.each_span(&mut f);
    }
    result.uses.each_span(&mut f);
    e.diags.each_span(&mut f);
    e.refs.each_span(&mut f);
    ok.then_some(e)
}

/// An earlier check and how the program changed since.
pub struct Reuse<'a> {
    memo: &'a Memo,
    /// The memo's entries moved ahead of this edit, when it moved the text as foreseen.
    spare: Option<&'a Spare>,
    /// By source file (`SourceId`), how its text moved; `None` where it did not.
    moved: Vec<Option<Moved>>,
    changed: BTreeSet<DeclId>,
}

impl<'a> Reuse<'a> {
    /// What can be reused from checking `old` (which gave `memo`) when checking `new`;
    /// nothing when the edit reaches further than declarations' bodies.
    pub fn plan(old: &Program, memo: &'a Memo, new: &Program) -> Option<Reuse<'a>> {
        if old.sources.len() != new.sources.len()
            || old.decls.len() != new.decls.len()
            || memo.base.len() != new.decls.len()
            || old.templates.len() != new.templates.len()
            || old.envs.len() != new.envs.len()
            || memo.envs.len() != new.envs.len()
            || old.platform != new.platform
            || old.file_reads != new.file_reads
        {
            return None;
        }
        let same_decls = old
            .decls
            .iter()
            .zip(&new.decls)
            .all(|(a, b)| a.kind == b.kind && a.name.name == b.name.name);
        let same_envs = old
            .envs
            .iter()
            .zip(&new.envs)
            .all(|(a, b)| a.name.name == b.name.name);
        if !same_decls || !same_envs {
            return None;
        }
        let mut moved = Vec::new();
        for ((id, a), (_, b)) in old.sources.iter().zip(new.sources.iter()) {
            if a.origin != b.origin {
                return None;
            }
            if a.text != b.text {
                let (ca, cb) = (a.chunk_starts(chunk_starts), b.chunk_starts(chunk_starts));
                let at = id.0 as usize;
                moved.resize(moved.len().max(at + 1), None);
                moved[at] = Some(edit(&a.text, ca, &b.text, cb)?);
            }
        }
        let spare = memo.spare.get().filter(|s| s.moved == moved);
        let reuse = Reuse {
            memo,
            spare,
            moved,
            changed: BTreeSet::new(),
        };
        // Templates, the platform and environments must not be in the changed text.
        if fixed(old).any(|mut s| !reuse.map(&mut s)) || fixed(new).any(|s| reuse.touched(s)) {
            return None;
        }
        let changed = new
            .decl_ids()
            .filter(|id| reuse.touched(new.decl(*id).span))
            .collect();
        Some(Reuse { changed, ..reuse })
    }

    /// The declarations of the new program whose text changed.
    pub fn changed(&self) -> &BTreeSet<DeclId> {
        &self.changed
    }

    /// Whether a span of the new program overlaps the changed text.
    fn touched(&self, s: Span) -> bool {
        match self.moved_in(s.source) {
            None => false,
            Some(m) => s.start < m.to && s.end > m.kept,
        }
    }

    fn moved_in(&self, source: SourceId) -> Option<&Moved> {
        self.moved.get(source.0 as usize)?.as_ref()
    }

    /// Moves an old span to where its text now is; false when its text changed.
    fn map(&self, s: &mut Span) -> bool {
        map(&self.moved, s)
    }

    /// The entry of a declaration the edit did not reach, moved to where it now is.
    fn take(&self, prev: Option<&Entry>, spare: Option<&Slot>, id: DeclId) -> Option<Entry> {
        let prev = prev?;
        if self.changed.contains(&id) || prev.result.deps.iter().any(|d| self.changed.contains(d)) {
            return None;
        }
        if let Some(e) = spare.and_then(|s| s.lock().ok()?.take()) {
            return Some(e);
        }
        moved_entry(&self.moved, prev)
    }

    /// A declaration's entry without any environment, if the edit did not reach it.
    pub(super) fn take_base(&self, id: DeclId) -> Option<Entry> {
        let i = id.0 as usize;
        let spare = self.spare.and_then(|s| s.base.get(i));
        self.take(self.memo.base.get(i)?.as_ref(), spare, id)
    }

    /// A declaration's entry in an environment, if the edit did not reach it.
    pub(super) fn take_env(&self, env: usize, id: DeclId) -> Option<Entry> {
        let i = id.0 as usize;
        let spare = self.spare.and_then(|s| s.envs.get(env)?.get(i));
        self.take(self.memo.envs.get(env)?.get(i)?.as_ref(), spare, id)
    }

    /// By source file, how the edit moved its text.
    pub(super) fn edit(&self) -> Vec<Option<Moved>> {
        self.moved.clone()
    }

    /// The last check's tables.
    pub(super) fn tables(&self) -> &Tables {
        &self.memo.tables
    }
}

/// Where a program's templates, platform and environments are: what an edit that
/// reuses the last check must leave alone.
fn fixed(p: &Program) -> impl Iterator<Item = Span> + '_ {
    p.templates
        .iter()
        .map(|t| t.span)
        .chain(p.envs.iter().map(|e| e.span))
        .chain(p.platform.map(|id| p.decl(id).span))
}

/// How one file's text changed: the chunks (declarations) both texts begin with and
/// end with are unchanged; what lies between changed.
fn edit(old: &str, old_starts: &[usize], new: &str, new_starts: &[usize]) -> Option<Moved> {
    let (a, b) = (
        chunk::ranges(old_starts, old.len()),
        chunk::ranges(new_starts, new.len()),
    );
    fn text(t: &str, (s, e): (usize, usize)) -> Option<&str> {
        t.get(s..e)
    }
    let prefix = a
        .iter()
        .zip(&b)
        .take_while(|(x, y)| text(old, **x) == text(new, **y))
        .count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| text(old, **x) == text(new, **y))
        .count();
    let kept = a.get(prefix).map_or(old.len(), |c| c.0);
    let from = a.get(a.len() - suffix).map_or(old.len(), |c| c.0);
    let to = b.get(b.len() - suffix).map_or(new.len(), |c| c.0);
    let by = i64::try_from(new.len()).ok()? - i64::try_from(old.len()).ok()?;
    Some(Moved {
        kept: u32::try_from(kept).ok()?,
        from: u32::try_from(from).ok()?,
        by,
        to: u32::try_from(to).ok()?,
    })
}
