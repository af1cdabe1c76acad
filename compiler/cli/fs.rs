//! Reads program files from the disk for the compiler's [`Loader`].

#![allow(clippy::disallowed_methods)]

use std::io::ErrorKind;

use crate::resolve::Loader;

/// Reads files from the file system, relative to the working directory.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsLoader;

impl Loader for FsLoader {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        let p = std::path::Path::new(path);
        if p.is_dir() {
            return Err("it is a directory".to_string());
        }
        std::fs::read(p).map_err(|e| match e.kind() {
            ErrorKind::NotFound => "no such file".to_string(),
            ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string().to_lowercase(),
        })
    }
}
