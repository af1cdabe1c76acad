//! The whole front end on any bytes (and an imported file): never a crash, every
//! diagnostic with a registered code and a span inside its file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sorchac::resolve::MemoryLoader;

fuzz_target!(|data: &[u8]| {
    let loader = MemoryLoader::new()
        .with_bytes("main.sorcha", data.to_vec())
        .with("other.sorcha", "service other { image = \"x/y:1\" }\n");
    let Ok(c) = sorchac::compile("main.sorcha", &loader) else {
        return;
    };
    for d in &c.diagnostics {
        assert!(
            sorchac::diag::codes::REGISTRY
                .iter()
                .any(|i| i.code == d.code)
        );
        let file = c.program.sources.get(d.span.source).expect("a known file");
        assert!(d.span.start <= d.span.end && d.span.end as usize <= file.text.len());
    }
    let _ = sorchac::diag::render::human(&c.diagnostics, &c.program.sources, false, 100);
    let _ = sorchac::diag::render::json(&c.diagnostics, &c.program.sources);
});
