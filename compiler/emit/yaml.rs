//! Objects as YAML documents, in a stable order: fields in the order their types declare
//! them, map keys sorted. One file holds its objects as `---`-separated documents.

use serde::Serialize;

use super::{EmitError, fastyaml, header};
use crate::ir::{Group, Object};

/// One object as a YAML document (without the `---` separator).
pub fn document(o: &Object) -> Result<String, EmitError> {
    let mut out = String::new();
    append(o, &mut out)?;
    Ok(out)
}

/// Appends one object as a YAML document to `out`.
pub fn append(o: &Object, out: &mut String) -> Result<(), EmitError> {
    let failed = |reason| EmitError::Yaml {
        object: format!("{} {}", o.type_meta().1, o.name()),
        reason,
    };
    match fastyaml::append(o, out) {
        Ok(()) => Ok(()),
        Err(fastyaml::Error::Unsupported(_)) => {
            out.push_str(&reference(o).map_err(failed)?);
            Ok(())
        }
        Err(e) => Err(failed(e.to_string())),
    }
}

/// Any serializable value as YAML: the fast writer, or serde_yaml_ng for the shapes the
/// fast writer leaves to it. Both give the same bytes.
pub fn to_yaml<T: Serialize>(value: &T) -> Result<String, String> {
    match fastyaml::to_string(value) {
        Ok(s) => Ok(s),
        Err(fastyaml::Error::Unsupported(_)) => reference(value),
        Err(e) => Err(e.to_string()),
    }
}

/// The reference writer (serde_yaml_ng), which the fast writer matches byte for byte.
pub fn reference<T: Serialize>(value: &T) -> Result<String, String> {
    serde_yaml_ng::to_string(value).map_err(|e| e.to_string())
}

/// A whole file: the header, the group's comment, then its objects.
pub fn file(g: &Group) -> Result<String, EmitError> {
    let mut out = header(&g.comment, g.objects.len() * 2048);
    for (i, o) in g.objects.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        append(o, &mut out)?;
    }
    Ok(out)
}
