//! The raw target: `raw/<env>/`, one directory of plain manifests per environment, one
//! file per workload, gateway and config, plus the namespace and the platform's own.

use std::borrow::Borrow;

use super::{EmitError, OutFile, yaml};
use crate::check::Model;
use crate::ir::{self, Group, Objects};

/// The files of one environment, under `raw/<env>/`.
pub fn files(objects: &Objects) -> Result<Vec<OutFile>, EmitError> {
    let runs = crate::par::runs(&objects.groups, |_, run| print(&objects.env, run.iter()));
    Ok(gathered(runs)?.0)
}

/// The files of one environment lowered from its model one group at a time, each
/// group dropped once it is printed, with the number of objects they hold: the same
/// files as [`files`] of the environment's objects, without ever holding them all.
pub fn files_of(m: &Model) -> Result<(Vec<OutFile>, usize), EmitError> {
    files_in(&crate::ir::labels::Cx::new(m))
}

/// The same, with the environment's lowering context already made.
pub fn files_in(cx: &crate::ir::labels::Cx) -> Result<(Vec<OutFile>, usize), EmitError> {
    gathered(each_run(cx, |printed| printed))
}

/// Like [`files_in`], handing each run's files to `put` on the thread that made them
/// instead of gathering them (in no particular order); the number of objects.
pub fn put_in<E: From<EmitError> + Send>(
    cx: &crate::ir::labels::Cx,
    put: impl Fn(Vec<OutFile>) -> Result<(), E> + Sync,
) -> Result<usize, E> {
    each_run(cx, |printed| {
        let (files, objects) = printed?;
        put(files)?;
        Ok(objects)
    })
    .into_iter()
    .sum()
}

/// The environment's groups lowered and printed a run at a time on all cores, each run's
/// files (with the number of objects they hold) handed to `then` where they were made.
fn each_run<R: Send>(
    cx: &crate::ir::labels::Cx,
    then: impl Fn(Result<(Vec<OutFile>, usize), EmitError>) -> R + Sync,
) -> Vec<R> {
    let m = cx.m;
    let sources = ir::sources(m);
    crate::par::runs(&sources, |_, run| {
        then(print(
            &m.env,
            run.iter().filter_map(|s| ir::lower_source(cx, *s)),
        ))
    })
}

/// The files of some groups, with the number of objects they hold.
fn print<G: Borrow<Group>>(
    env: &str,
    groups: impl Iterator<Item = G>,
) -> Result<(Vec<OutFile>, usize), EmitError> {
    let mut objects = 0;
    let files = groups
        .map(|g| {
            let g = g.borrow();
            objects += g.objects.len();
            Ok(OutFile {
                path: format!("raw/{env}/{}", g.file),
                bytes: yaml::file(g)?.into_bytes(),
            })
        })
        .collect::<Result<Vec<_>, EmitError>>()?;
    Ok((files, objects))
}

/// The runs' files in one list, by path, with the number of objects they hold.
fn gathered(
    runs: Vec<Result<(Vec<OutFile>, usize), EmitError>>,
) -> Result<(Vec<OutFile>, usize), EmitError> {
    let mut out = Vec::new();
    let mut objects = 0;
    for run in runs {
        let (files, n) = run?;
        out.extend(files);
        objects += n;
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((out, objects))
}
