//! Atomic output: a tree of files is written to a staging directory beside its target,
//! then swapped in with renames. A build that fails leaves the earlier output exactly as
//! it was, and files of an earlier build never linger.

#![allow(clippy::disallowed_methods)]

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use crate::emit::OutFile;

/// One directory of output to replace as a whole.
pub struct Subtree<'a> {
    /// Its path under the output directory, like `raw` or `kustomize`.
    pub path: &'a str,
    /// Its files, by paths relative to the output directory.
    pub files: &'a [OutFile],
    /// Files of the operator inside it (relative to the output directory), carried over
    /// from the tree being replaced when they exist there.
    pub keep: &'a [String],
}

/// Replaces several directories under `root`: every one is written in full beside its
/// target first, and only then are they swapped in, so that a failure while writing
/// leaves every earlier tree as it was.
pub fn replace_trees(root: &Path, trees: &[Subtree]) -> io::Result<()> {
    if root.exists() && !root.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("`{}` is a file, not a directory", root.display()),
        ));
    }
    let stamp = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let mut staged: Vec<(PathBuf, PathBuf, PathBuf, String)> = Vec::new();
    let mut result = Ok(());
    for t in trees {
        let target = root.join(t.path);
        let parent = target.parent().unwrap_or(root).to_path_buf();
        let leaf = target
            .file_name()
            .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        let staging = parent.join(format!(".{leaf}.sorchac-new-{stamp}"));
        result = std::fs::create_dir_all(&parent)
            .and_then(|()| write_all(&staging, t.path, t.files))
            .and_then(|()| carry_over(root, &staging, t.path, t.keep));
        staged.push((staging, target, parent, leaf));
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        for (staging, target, parent, leaf) in &staged {
            result = swap(staging, target, parent, leaf, &stamp);
            if result.is_err() {
                break;
            }
        }
    }
    for (staging, ..) in &staged {
        if staging.exists() {
            let _ = std::fs::remove_dir_all(staging);
        }
    }
    result
}

/// Copies the operator's files named in `keep` from the current tree into the staged one.
fn carry_over(root: &Path, staging: &Path, subtree: &str, keep: &[String]) -> io::Result<()> {
    let prefix = format!("{}/", subtree.trim_end_matches('/'));
    for rel in keep {
        let from = root.join(rel);
        if !from.is_file() {
            continue;
        }
        let to = staging.join(rel.strip_prefix(&prefix).unwrap_or(rel));
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(&from, &to)?;
    }
    Ok(())
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

/// The files of the trees that are missing, different or left over on disk (the
/// operator's files aside), as `missing PATH`, `changed PATH`, `extra PATH`.
pub fn stale(root: &Path, trees: &[Subtree]) -> Vec<String> {
    let mut out = Vec::new();
    for t in trees {
        let mut on_disk = BTreeSet::new();
        list(&root.join(t.path), root, &mut on_disk);
        for f in t.files {
            match std::fs::read(root.join(&f.path)) {
                Ok(bytes) if bytes == f.bytes => {}
                Ok(_) => out.push(format!("changed {}", f.path)),
                Err(_) => out.push(format!("missing {}", f.path)),
            }
            on_disk.remove(&f.path);
        }
        for extra in on_disk {
            if !t.keep.contains(&extra) {
                out.push(format!("extra {extra}"));
            }
        }
    }
    out
}

fn list(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            list(&p, root, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.insert(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> OutFile {
        OutFile {
            path: path.into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_write_that_fails_half_way_leaves_the_old_tree_and_no_staging() {
        let root = std::env::temp_dir().join(format!("sorchac-write-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let old = [file("raw/a.yaml", "old a\n"), file("raw/b.yaml", "old b\n")];
        replace_trees(
            &root,
            &[Subtree {
                path: "raw",
                files: &old,
                keep: &[],
            }],
        )
        .unwrap();
        // The second file cannot be written: a file of that name is also a directory.
        let new = [
            file("raw/a.yaml", "new a\n"),
            file("raw/a.yaml/x.yaml", "x\n"),
            file("raw/c.yaml", "new c\n"),
        ];
        let r = replace_trees(
            &root,
            &[Subtree {
                path: "raw",
                files: &new,
                keep: &[],
            }],
        );
        assert!(r.is_err());
        assert_eq!(
            std::fs::read_to_string(root.join("raw/a.yaml")).unwrap(),
            "old a\n"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("raw/b.yaml")).unwrap(),
            "old b\n"
        );
        assert!(!root.join("raw/c.yaml").exists());
        let entries: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(entries, vec!["raw".to_string()], "no staging left behind");
        let _ = std::fs::remove_dir_all(&root);
    }
}
