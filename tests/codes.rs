//! Every diagnostic code has an explanation (`sorchac explain CODE`) whose example really
//! produces the code and whose fix really removes it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use sorchac::diag::codes::REGISTRY;
use sorchac::resolve::MemoryLoader;

/// The first ```sorcha block after `heading`.
fn block_after<'a>(md: &'a str, heading: &str) -> Option<&'a str> {
    let at = md.find(heading)?;
    let rest = &md[at..];
    let start = rest.find("```sorcha\n")? + "```sorcha\n".len();
    let end = rest[start..].find("\n```")?;
    Some(&rest[start..start + end])
}

/// A block holds `main.sorcha`, then more files after `// file: PATH` lines; a file
/// marked `(binary)` holds bytes that are not UTF-8.
fn loader(block: &str) -> MemoryLoader {
    let mut files: Vec<(String, String)> = vec![("main.sorcha".into(), String::new())];
    for line in block.lines() {
        if let Some(name) = line.strip_prefix("// file: ") {
            files.push((name.trim().to_string(), String::new()));
        } else if let Some((_, text)) = files.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    let mut l = MemoryLoader::new();
    for (name, text) in files {
        match name.strip_suffix(" (binary)") {
            Some(n) => {
                l.files
                    .insert(n.to_string(), vec![0x89, b'P', b'N', b'G', 0xff, 0xfe, 0]);
            }
            None => l = l.with(&name, &text),
        }
    }
    l
}

#[test]
fn every_code_is_explained_with_an_example_and_its_fix() {
    for info in REGISTRY {
        let code = info.code.as_str();
        let md = info.explanation;
        assert!(
            md.starts_with(&format!("# {code}: {}", info.title)),
            "{code}: the explanation starts with `# {code}: {}`",
            info.title
        );
        let wrong = block_after(md, "## Example").unwrap_or_else(|| panic!("{code}: no example"));
        let fixed = block_after(md, "## Fix").unwrap_or_else(|| panic!("{code}: no fix"));

        let c = sorchac::compile("main.sorcha", &loader(wrong)).unwrap();
        assert!(
            c.diagnostics.iter().any(|d| d.code.as_str() == code),
            "{code}: the example does not produce {code}: {:?}",
            c.diagnostics
                .iter()
                .map(|d| (d.code.as_str(), &d.message))
                .collect::<Vec<_>>()
        );

        let c = sorchac::compile("main.sorcha", &loader(fixed)).unwrap();
        let left: Vec<_> = c
            .diagnostics
            .iter()
            .filter(|d| d.code.as_str() == code || d.is_error())
            .map(|d| (d.code.as_str(), d.message.clone()))
            .collect();
        assert!(
            left.is_empty(),
            "{code}: the fix still has problems: {left:?}"
        );
    }
}
