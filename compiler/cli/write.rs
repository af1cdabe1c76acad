//! Atomic output: a tree of files is written to a staging directory beside its target,
//! then swapped in with renames. A build that fails leaves the earlier output exactly as
//! it was, and files of an earlier build never linger.

#![allow(clippy::disallowed_methods)]

use std::io;
use std::path::{Path, PathBuf};

use crate::emit::OutFile;

/// Replaces the directory `root/subtree` with `files` (paths relative to `root`, all under
/// `subtree`).
pub fn replace_tree(root: &Path, subtree: &str, files: &[OutFile]) -> io::Result<()> {
    if root.exists() && !root.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("`{}` is a file, not a directory", root.display()),
        ));
    }
    let target = root.join(subtree);
    let parent = target.parent().unwrap_or(root).to_path_buf();
    std::fs::create_dir_all(&parent)?;
    let stamp = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let leaf = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let staging = parent.join(format!(".{leaf}.sorchac-new-{stamp}"));
    let result = write_all(&staging, subtree, files)
        .and_then(|()| swap(&staging, &target, &parent, &leaf, &stamp));
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

fn write_all(staging: &Path, subtree: &str, files: &[OutFile]) -> io::Result<()> {
    std::fs::create_dir_all(staging)?;
    let prefix = format!("{}/", subtree.trim_end_matches('/'));
    for f in files {
        let rel = f.path.strip_prefix(&prefix).unwrap_or(&f.path);
        let path = staging.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &f.bytes)?;
    }
    Ok(())
}

fn swap(staging: &Path, target: &Path, parent: &Path, leaf: &str, stamp: &str) -> io::Result<()> {
    let old: Option<PathBuf> = if target.exists() {
        let old = parent.join(format!(".{leaf}.sorchac-old-{stamp}"));
        std::fs::rename(target, &old)?;
        Some(old)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(staging, target) {
        if let Some(old) = &old {
            let _ = std::fs::rename(old, target);
        }
        return Err(e);
    }
    if let Some(old) = old {
        std::fs::remove_dir_all(old)?;
    }
    Ok(())
}
