//! Atomic output: a tree of files is written to a staging directory beside its target,
//! then swapped in with renames. A build that fails leaves the earlier output exactly as
//! it was, and files of an earlier build never linger.

#![allow(clippy::disallowed_methods)]

use std::collections::BTreeSet;
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

/// Writes every file under `staging`: each directory is made once, then the files are
/// written on all cores (file creation, not bytes, is what costs on most file systems).
fn write_all(staging: &Path, subtree: &str, files: &[OutFile]) -> io::Result<()> {
    std::fs::create_dir_all(staging)?;
    let prefix = format!("{}/", subtree.trim_end_matches('/'));
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|f| staging.join(f.path.strip_prefix(&prefix).unwrap_or(&f.path)))
        .collect();
    let dirs: BTreeSet<&Path> = paths.iter().filter_map(|p| p.parent()).collect();
    for dir in dirs {
        std::fs::create_dir_all(dir)?;
    }
    let jobs: Vec<(&PathBuf, &OutFile)> = paths.iter().zip(files).collect();
    crate::par::runs(&jobs, |_, run| {
        run.iter()
            .try_for_each(|(path, f)| std::fs::write(path, &f.bytes))
    })
    .into_iter()
    .collect()
}

/// Removes a directory tree, the entries of its top directory on all cores.
fn remove_tree(dir: &Path) -> io::Result<()> {
    let entries: Vec<(PathBuf, bool)> = std::fs::read_dir(dir)?
        .map(|e| {
            let e = e?;
            Ok((e.path(), e.file_type()?.is_dir()))
        })
        .collect::<io::Result<_>>()?;
    crate::par::runs(&entries, |_, run| {
        run.iter().try_for_each(|(path, is_dir)| {
            if *is_dir {
                std::fs::remove_dir_all(path)
            } else {
                std::fs::remove_file(path)
            }
        })
    })
    .into_iter()
    .collect::<io::Result<()>>()?;
    std::fs::remove_dir(dir)
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
        remove_tree(&old)?;
    }
    Ok(())
}
