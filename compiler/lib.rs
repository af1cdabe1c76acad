//! sorchac: compiles the Sorcha platform language to Kubernetes output.
//!
//! The phases, each a pure function from one named form to the next (see
//! ARCHITECTURE.md): [`syntax`] (text -> AST), [`resolve`] (ASTs + stdlib -> program),
//! [`check`] (program -> typed model per environment). Only `cli` touches the disk.

extern crate alloc;

pub mod check;
pub mod cli;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod fmt;
pub mod graph;
pub mod ir;
pub mod lsp;
mod par;
pub mod resolve;
pub mod schema;
pub mod source;
pub mod syntax;
pub mod synth;

use check::Checked;
use diag::{Diagnostic, Diagnostics};
use resolve::{Loader, Program};

/// The result of the front end: the program, its typed models (when it resolved) and
/// every diagnostic, sorted by position.
#[derive(Debug)]
pub struct Compilation {
    pub program: Program,
    pub checked: Checked,
    pub diagnostics: Vec<Diagnostic>,
    /// What the check found per declaration, for [`compile_after`] (kept only there).
    /// Shared, so that its copies for the next edit can be made on another thread
    /// ([`check::Memo::prepare`]).
    pub memo: Option<std::sync::Arc<check::Memo>>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses, resolves and checks the program rooted at `root`. `Err` only when the root
/// file itself cannot be read.
pub fn compile(root: &str, loader: &dyn Loader) -> Result<Compilation, String> {
    compile_reusing(root, loader, None, false)
}

/// Like [`compile`], for a program compiled before (`prev`) and edited since: the
/// declarations the edit did not reach are not checked again. The result is the same
/// as [`compile`]'s, and keeps what the next call needs.
pub fn compile_after(
    root: &str,
    loader: &dyn Loader,
    prev: Option<&Compilation>,
) -> Result<Compilation, String> {
    compile_reusing(root, loader, prev, true)
}

fn compile_reusing(
    root: &str,
    loader: &dyn Loader,
    prev: Option<&Compilation>,
    keep: bool,
) -> Result<Compilation, String> {
    let mut diags = Diagnostics::new();
    let program = resolve::resolve(root, loader, &mut diags)?;
    let reuse = prev.and_then(|c| check::Reuse::plan(&c.program, c.memo.as_ref()?, &program));
    let (checked, memo) = check::check_reusing(&program, &mut diags, reuse.as_ref(), keep);
    let diagnostics = diag::allow::apply(diags.into_sorted(), &program.sources);
    Ok(Compilation {
        program,
        checked,
        diagnostics,
        memo: memo.map(std::sync::Arc::new),
    })
}
