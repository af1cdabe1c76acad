//! Merging keyed blocks: a declaration's template entries overridden by the instance's
//! (nested blocks merged key by key) and, per environment, by the env block's
//! overrides. The keyed form itself is made by the parser's side (`syntax::keyed`).

use std::sync::Arc;

pub use crate::syntax::keyed::{MBlock, MEntry, MKey};

impl MBlock {
    /// Overrides this block with `over`: an entry of `over` replaces the entry with the
    /// same key, except that two blocks merge key by key (and a named field keeps its
    /// options block when the override only gives a new value).
    pub fn merge(&mut self, over: MBlock) {
        for o in over.entries {
            match self.get_mut(&o.key) {
                Some(base) => base.override_with(Arc::unwrap_or_clone(o)),
                None => self.entries.push(o),
            }
        }
    }
}

impl MEntry {
    /// Replaces this entry's value with `o`'s, merging blocks key by key.
    pub fn override_with(&mut self, o: MEntry) {
        let MEntry {
            key_span,
            name_span,
            doc,
            value,
            block,
            span,
            dotted,
            is_param,
            ..
        } = o;
        match (&mut self.block, block) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine, Some(theirs)) => *mine = Some(theirs),
            (mine, None) => {
                // A plain field replaces a block entirely; a named field's new value keeps
                // the block of options.
                if !matches!(self.key, MKey::Named(..)) || value.is_none() {
                    *mine = None;
                }
            }
        }
        if value.is_some() {
            self.value = value;
        } else if !matches!(self.key, MKey::Named(..)) {
            self.value = None;
        }
        self.key_span = key_span;
        self.name_span = name_span.or(self.name_span);
        self.doc = doc.or(self.doc.take());
        self.span = span;
        self.dotted = dotted;
        self.is_param = is_param;
    }
}
