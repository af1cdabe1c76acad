//! `// allow: W0003` comments: an engineer who has read a warning and accepts it says so
//! where it applies. The comment covers its own line when it follows code, or the next
//! line when it stands alone. Only warnings can be allowed; errors always stand.

use std::collections::{HashMap, HashSet};

use super::{Code, Diagnostic, Severity};
use crate::source::{SourceId, SourceMap};

/// Lines (0-based) of a file and the warning codes allowed on them.
fn allowed_lines(text: &str) -> HashMap<usize, HashSet<Code>> {
    let mut out: HashMap<usize, HashSet<Code>> = HashMap::new();
    let lines: Vec<&str> = text.lines().collect();
    for (n, line) in lines.iter().enumerate() {
        let Some(at) = line.find("// allow:") else {
            continue;
        };
        if at > 0 && !line[..at].ends_with([' ', '\t']) {
            continue;
        }
        let codes: HashSet<Code> = line[at + "// allow:".len()..]
            .split([',', ' '])
            .filter_map(Code::parse)
            .filter(|c| c.severity() == Severity::Warning)
            .collect();
        let target = if line[..at].trim().is_empty() {
            // A comment on its own line covers the next line with code.
            (n + 1..lines.len()).find(|&m| !lines[m].trim().is_empty())
        } else {
            Some(n)
        };
        if let Some(t) = target {
            out.entry(t).or_default().extend(codes);
        }
    }
    out
}

/// Drops the warnings that an `// allow:` comment accepts.
pub fn apply(diags: Vec<Diagnostic>, sources: &SourceMap) -> Vec<Diagnostic> {
    let mut cache: HashMap<SourceId, HashMap<usize, HashSet<Code>>> = HashMap::new();
    diags
        .into_iter()
        .filter(|d| {
            if d.severity != Severity::Warning {
                return true;
            }
            let Some(file) = sources.get(d.span.source) else {
                return true;
            };
            let lines = cache
                .entry(d.span.source)
                .or_insert_with(|| allowed_lines(&file.text));
            let line = file.line_of(d.span.start as usize);
            !lines
                .get(&line)
                .is_some_and(|codes| codes.contains(&d.code))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_cover_their_line_or_the_next() {
        let text =
            "a\n  // allow: W0003, W0001\n\n  b = 1\nc = 2  // allow: w0005\nd // allow: E0101\n";
        let l = allowed_lines(text);
        assert_eq!(
            l[&3],
            HashSet::from([Code::EGRESS_TO_HOSTNAME, Code::UNPINNED_IMAGE])
        );
        assert_eq!(l[&4], HashSet::from([Code::ADDRESS_WITHOUT_CALL]));
        assert!(
            l.get(&5).is_none_or(HashSet::is_empty),
            "errors cannot be allowed"
        );
    }
}
