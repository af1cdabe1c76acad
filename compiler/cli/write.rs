//! Atomic output: a tree of files is written to a staging directory beside its target,
//! then swapped in with renames. A build that fails leaves the earlier output exactly as
//! it was, and files of an earlier build never linger.

#![allow(clippy::disallowed_methods)]

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::emit::OutFile;

/// One directory of output, whole, as `--check` compares it with what is on disk.
pub struct Subtree<'a> {
    /// Its path under the output directory, like `raw` or `kustomize`.
    pub path: &'a str,
    /// Its files, by paths relative to the output directory.
    pub files: &'a [OutFile],
    /// Files of the operator inside it (relative to the output directory), carried over
    /// from the tree being replaced when they exist there.
    pub keep: &'a [String],
}

/// Output written as it is made: each tree's files go to a staging directory beside
/// the tree as they come, so a build need not hold them all, and [`Staged::commit`]
/// swaps every tree in at the end. Dropped without a commit (a later target failed),
/// the staging directories are removed — and the output directory too when this
/// build created it and it is empty — leaving the earlier output exactly as it was.
pub struct Staged {
    root: PathBuf,
    stamp: String,
    trees: Vec<StagedTree>,
    /// The output directory did not exist before this build.
    made_root: bool,
}

struct StagedTree {
    /// Its path under the output directory, like `raw`.
    path: String,
    /// The same, with a `/` at the end: what output paths start with.
    prefix: String,
    staging: PathBuf,
    target: PathBuf,
    parent: PathBuf,
    leaf: String,
    files: AtomicUsize,
    bytes: AtomicUsize,
}

impl Staged {
    /// Output under `root`, which must be a directory or not exist yet.
    pub fn new(root: &Path) -> io::Result<Staged> {
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
        Ok(Staged {
            root: root.to_path_buf(),
            stamp,
            trees: Vec::new(),
            made_root: !root.exists(),
        })
    }

    /// Begins the tree at `subtree` (makes its staging directory) unless it is begun
    /// already. Trees are swapped in, and their sizes listed, in the order they were
    /// begun.
    pub fn begin(&mut self, subtree: &str) -> io::Result<()> {
        if self.trees.iter().any(|t| t.path == subtree) {
            return Ok(());
        }
        let target = self.root.join(subtree);
        let parent = target.parent().unwrap_or(&self.root).to_path_buf();
        let leaf = target
            .file_name()
            .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        let staging = parent.join(format!(".{leaf}.sorchac-new-{}", self.stamp));
        std::fs::create_dir_all(&staging)?;
        self.trees.push(StagedTree {
            path: subtree.to_string(),
            prefix: format!("{}/", subtree.trim_end_matches('/')),
            staging,
            target,
            parent,
            leaf,
            files: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
        });
        Ok(())
    }

    /// A writer for the begun tree at `subtree`, which any thread may use: the writers
    /// of several trees may be used at once.
    pub fn writer(&self, subtree: &str) -> Option<TreeWriter<'_>> {
        let tree = self.trees.iter().find(|t| t.path == subtree)?;
        Some(TreeWriter {
            root: &self.root,
            tree,
        })
    }

    /// Every tree in the order it was begun, with how many files and bytes it holds.
    pub fn sizes(&self) -> Vec<(String, usize, usize)> {
        self.trees
            .iter()
            .map(|t| {
                let files = t.files.load(Ordering::Relaxed);
                (t.path.clone(), files, t.bytes.load(Ordering::Relaxed))
            })
            .collect()
    }

    /// Swaps every staged tree in place of its target.
    pub fn commit(mut self) -> io::Result<()> {
        let mut result = Ok(());
        for t in &self.trees {
            result = swap(&t.staging, &t.target, &t.parent, &t.leaf, &self.stamp);
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            self.made_root = false;
        }
        result
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for t in &self.trees {
            if t.staging.exists() {
                let _ = std::fs::remove_dir_all(&t.staging);
            }
        }
        if self.made_root {
            // Only when empty: nothing of this build is left there.
            let _ = std::fs::remove_dir(&self.root);
        }
    }
}

/// Writes files of one staged tree from several threads at once ([`Staged::writer`]).
pub struct TreeWriter<'s> {
    root: &'s Path,
    tree: &'s StagedTree,
}

impl TreeWriter<'_> {
    /// Writes `files` (paths relative to the output directory), making their directories.
    pub fn write(&self, files: &[OutFile]) -> io::Result<()> {
        let t = self.tree;
        let paths: Vec<PathBuf> = files
            .iter()
            .map(|f| {
                t.staging
                    .join(f.path.strip_prefix(&t.prefix).unwrap_or(&f.path))
            })
            .collect();
        let dirs: BTreeSet<&Path> = paths.iter().filter_map(|p| p.parent()).collect();
        for dir in dirs {
            std::fs::create_dir_all(dir)?;
        }
        for (path, f) in paths.iter().zip(files) {
            std::fs::write(path, &f.bytes)?;
        }
        t.files.fetch_add(files.len(), Ordering::Relaxed);
        t.bytes.fetch_add(
            files.iter().map(|f| f.bytes.len()).sum::<usize>(),
            Ordering::Relaxed,
        );
        Ok(())
    }

    /// Writes `files` on all cores (file creation, not bytes, is what costs on most
    /// file systems).
    pub fn write_all(&self, files: &[OutFile]) -> io::Result<()> {
        crate::par::runs(files, |_, run| self.write(run))
            .into_iter()
            .collect()
    }

    /// Carries the operator's files named in `keep` over from the tree being replaced.
    pub fn keep(&self, keep: &[String]) -> io::Result<()> {
        carry_over(self.root, &self.tree.staging, &self.tree.prefix, keep)
    }
}

/// Copies the operator's files named in `keep` from the current tree into the staged one.
fn carry_over(root: &Path, staging: &Path, prefix: &str, keep: &[String]) -> io::Result<()> {
    for rel in keep {
        let from = root.join(rel);
        if !from.is_file() {
            continue;
        }
        let to = staging.join(rel.strip_prefix(prefix).unwrap_or(rel));
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(&from, &to)?;
    }
    Ok(())
}

/// Removes a directory tree: its files on all cores, then its directories, deepest
/// first. (A symbolic link is removed, never followed.)
fn remove_tree(dir: &Path) -> io::Result<()> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    let mut i = 0;
    while let Some(d) = dirs.get(i) {
        for e in std::fs::read_dir(d)? {
            let e = e?;
            if e.file_type()?.is_dir() {
                dirs.push(e.path());
            } else {
                files.push(e.path());
            }
        }
        i += 1;
    }
    crate::par::runs(&files, |_, run| {
        run.iter().try_for_each(std::fs::remove_file)
    })
    .into_iter()
    .collect::<io::Result<()>>()?;
    // Every directory comes after its parent.
    dirs.iter().rev().try_for_each(std::fs::remove_dir)
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

    /// A path named `name` that does not exist yet, in a fresh directory that is removed
    /// with everything in it when the first value is dropped.
    fn fresh(name: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::Builder::new()
            .prefix("sorchac-write-")
            .tempdir()
            .unwrap();
        let path = dir.path().join(name);
        (dir, path)
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Writes `files` in the tree `tree`, begun if it is not.
    fn write(staged: &mut Staged, tree: &str, files: &[OutFile]) -> io::Result<()> {
        staged.begin(tree)?;
        staged.writer(tree).unwrap().write_all(files)
    }

    /// Writes `files` as the tree `raw` in one go.
    fn replace(root: &Path, files: &[OutFile]) -> io::Result<()> {
        let mut staged = Staged::new(root)?;
        write(&mut staged, "raw", files)?;
        staged.commit()
    }

    #[test]
    fn a_write_that_fails_half_way_leaves_the_old_tree_and_no_staging() {
        let (_root, root) = fresh("half");
        let old = [file("raw/a.yaml", "old a\n"), file("raw/b.yaml", "old b\n")];
        replace(&root, &old).unwrap();
        // The second file cannot be written: a file of that name is also a directory.
        let new = [
            file("raw/a.yaml", "new a\n"),
            file("raw/a.yaml/x.yaml", "x\n"),
            file("raw/c.yaml", "new c\n"),
        ];
        assert!(replace(&root, &new).is_err());
        assert_eq!(
            std::fs::read_to_string(root.join("raw/a.yaml")).unwrap(),
            "old a\n"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("raw/b.yaml")).unwrap(),
            "old b\n"
        );
        assert!(!root.join("raw/c.yaml").exists());
        assert_eq!(entries(&root), vec!["raw"], "no staging left behind");
    }

    #[test]
    fn the_replaced_tree_is_removed_whole_and_links_in_it_are_not_followed() {
        let (_root, root) = fresh("replaced");
        // Enough files to be removed on several threads, in nested directories.
        let old: Vec<OutFile> = (0..300)
            .map(|i| file(&format!("raw/env{}/sub{}/{i}.yaml", i % 3, i % 7), "old\n"))
            .collect();
        replace(&root, &old).unwrap();
        // A link in the old tree to a directory outside it: the link goes, the directory
        // and its file stay.
        let (_outside, outside) = fresh("replaced-outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("keep.txt"), "keep\n").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, root.join("raw/env0/link")).unwrap();
        replace(&root, &[file("raw/new.yaml", "new\n")]).unwrap();
        assert_eq!(
            entries(&root),
            vec!["raw"],
            "nothing of the old tree is left"
        );
        assert_eq!(entries(&root.join("raw")), vec!["new.yaml"]);
        assert_eq!(
            std::fs::read_to_string(outside.join("keep.txt")).unwrap(),
            "keep\n"
        );
    }

    #[test]
    fn trees_written_in_parts_are_swapped_in_whole_and_only_on_commit() {
        let (_root, root) = fresh("parts");
        replace(&root, &[file("raw/old.yaml", "old\n")]).unwrap();
        let mut staged = Staged::new(&root).unwrap();
        write(&mut staged, "raw", &[file("raw/dev/a.yaml", "a\n")]).unwrap();
        write(&mut staged, "raw", &[file("raw/prod/a.yaml", "b\n")]).unwrap();
        write(&mut staged, "helm", &[file("helm/Chart.yaml", "c\n")]).unwrap();
        assert_eq!(
            staged.sizes(),
            vec![("raw".to_string(), 2, 4), ("helm".to_string(), 1, 2)]
        );
        // Nothing of it shows before the commit.
        assert!(root.join("raw/old.yaml").exists());
        assert!(!root.join("helm").exists());
        staged.commit().unwrap();
        assert_eq!(entries(&root), vec!["helm", "raw"]);
        assert_eq!(entries(&root.join("raw")), vec!["dev", "prod"]);
    }

    #[test]
    fn files_written_from_several_threads_are_counted_and_swapped_in_whole() {
        let (_root, root) = fresh("threads");
        replace(&root, &[file("raw/old.yaml", "old\n")]).unwrap();
        let mut staged = Staged::new(&root).unwrap();
        let runs: Vec<Vec<OutFile>> = (0..8)
            .map(|i| {
                vec![
                    file(&format!("raw/dev/{i}.yaml"), "ab\n"),
                    file(&format!("raw/dev/sub/{i}.yaml"), "c\n"),
                ]
            })
            .collect();
        staged.begin("raw").unwrap();
        let w = staged.writer("raw").unwrap();
        let written = crate::par::each(&runs, |run| w.write(run));
        assert!(written.iter().all(Result::is_ok));
        assert_eq!(staged.sizes(), vec![("raw".to_string(), 16, 8 * 5)]);
        // Nothing of it shows before the commit.
        assert!(root.join("raw/old.yaml").exists());
        staged.commit().unwrap();
        assert_eq!(entries(&root.join("raw")), vec!["dev"]);
        assert_eq!(entries(&root.join("raw/dev")).len(), 9);
        assert_eq!(entries(&root.join("raw/dev/sub")).len(), 8);

        // A write that fails inside: dropped without a commit, nothing of it is left.
        let mut staged = Staged::new(&root).unwrap();
        staged.begin("raw").unwrap();
        let failed = staged
            .writer("raw")
            .unwrap()
            .write(&[file("raw/x.yaml", "x\n"), file("raw/x.yaml/y.yaml", "y\n")]);
        assert!(failed.is_err());
        drop(staged);
        assert_eq!(entries(&root), vec!["raw"], "no staging left behind");
        assert_eq!(entries(&root.join("raw")), vec!["dev"]);
    }

    #[test]
    fn the_writers_of_several_trees_are_used_at_once_and_listed_in_the_order_begun() {
        let (_root, root) = fresh("several");
        let mut staged = Staged::new(&root).unwrap();
        for tree in ["raw", "kustomize", "helm/chart"] {
            staged.begin(tree).unwrap();
        }
        let staged = staged;
        let trees = ["helm/chart", "raw", "kustomize"];
        let written = crate::par::each(&trees, |tree| {
            let w = staged.writer(tree).unwrap();
            let files: Vec<OutFile> = (0..20)
                .map(|i| file(&format!("{tree}/{i}.yaml"), "abc\n"))
                .collect();
            w.write_all(&files)
        });
        assert!(written.iter().all(Result::is_ok));
        assert!(
            staged.writer("other").is_none(),
            "a tree not begun has no writer"
        );
        assert_eq!(
            staged.sizes(),
            vec![
                ("raw".to_string(), 20, 80),
                ("kustomize".to_string(), 20, 80),
                ("helm/chart".to_string(), 20, 80),
            ]
        );
        staged.commit().unwrap();
        assert_eq!(entries(&root), vec!["helm", "kustomize", "raw"]);
        assert_eq!(entries(&root.join("helm/chart")).len(), 20);
    }

    #[test]
    fn a_build_abandoned_before_its_commit_leaves_nothing() {
        // The output existed: it is left exactly as it was.
        let (_root, root) = fresh("abandoned");
        replace(&root, &[file("raw/a.yaml", "old\n")]).unwrap();
        let mut staged = Staged::new(&root).unwrap();
        write(&mut staged, "raw", &[file("raw/a.yaml", "new\n")]).unwrap();
        write(&mut staged, "kustomize", &[file("kustomize/k.yaml", "k\n")]).unwrap();
        drop(staged);
        assert_eq!(entries(&root), vec!["raw"]);
        assert_eq!(
            std::fs::read_to_string(root.join("raw/a.yaml")).unwrap(),
            "old\n"
        );

        // It did not: it still does not.
        let (_root, root) = fresh("never");
        let mut staged = Staged::new(&root).unwrap();
        write(&mut staged, "raw", &[file("raw/a.yaml", "new\n")]).unwrap();
        assert!(root.exists());
        drop(staged);
        assert!(!root.exists());
    }
}
