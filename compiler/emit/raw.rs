//! The raw target: `raw/<env>/`, one directory of plain manifests per environment, one
//! file per workload, gateway and config, plus the namespace and the platform's own.

use super::{EmitError, OutFile, yaml};
use crate::ir::Objects;

/// The files of one environment, under `raw/<env>/`.
pub fn files(objects: &Objects) -> Result<Vec<OutFile>, EmitError> {
    let runs = crate::par::runs(&objects.groups, |_, run| {
        run.iter()
            .map(|g| {
                Ok(OutFile {
                    path: format!("raw/{}/{}", objects.env, g.file),
                    bytes: yaml::file(g)?.into_bytes(),
                })
            })
            .collect::<Result<Vec<_>, EmitError>>()
    });
    let mut out = Vec::with_capacity(objects.groups.len());
    for run in runs {
        out.extend(run?);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
