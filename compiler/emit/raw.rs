//! The raw target: `raw/<env>/`, one directory of plain manifests per environment, one
//! file per workload, gateway and config, plus the namespace and the platform's own.

use super::{EmitError, OutFile, yaml};
use crate::check::Model;
use crate::ir::{self, Group, Objects};

/// The files of one environment, under `raw/<env>/`.
pub fn files(objects: &Objects) -> Result<Vec<OutFile>, EmitError> {
    let runs = crate::par::runs(&objects.groups, |_, run| {
        run.iter()
            .map(|g| file(&objects.env, g))
            .collect::<Result<Vec<_>, EmitError>>()
    });
    sorted(runs)
}

/// The files of one environment lowered from its model one group at a time, each
/// group dropped once it is printed, with the number of objects they hold: the same
/// files as [`files`] of the environment's objects, without ever holding them all.
pub fn files_of(m: &Model) -> Result<(Vec<OutFile>, usize), EmitError> {
    let cx = crate::ir::labels::Cx::new(m);
    let sources = ir::sources(m);
    let runs = crate::par::runs(&sources, |_, run| {
        run.iter()
            .filter_map(|s| ir::lower_source(&cx, *s))
            .map(|g| Ok((g.objects.len(), file(&m.env, &g)?)))
            .collect::<Result<Vec<_>, EmitError>>()
    });
    let mut objects = 0;
    let runs = runs.into_iter().map(|run| {
        run.map(|files| {
            files
                .into_iter()
                .map(|(n, f)| {
                    objects += n;
                    f
                })
                .collect::<Vec<_>>()
        })
    });
    Ok((sorted(runs)?, objects))
}

fn file(env: &str, g: &Group) -> Result<OutFile, EmitError> {
    Ok(OutFile {
        path: format!("raw/{env}/{}", g.file),
        bytes: yaml::file(g)?.into_bytes(),
    })
}

/// The runs' files in one list, by path.
fn sorted(
    runs: impl IntoIterator<Item = Result<Vec<OutFile>, EmitError>>,
) -> Result<Vec<OutFile>, EmitError> {
    let mut out = Vec::new();
    for run in runs {
        out.extend(run?);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
