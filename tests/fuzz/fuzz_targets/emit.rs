//! Front end and every emitter on any program that checks clean: never a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sorchac::resolve::MemoryLoader;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loader = MemoryLoader::new().with("main.sorcha", text);
    let Ok(c) = sorchac::compile("main.sorcha", &loader) else {
        return;
    };
    if c.has_errors() {
        return;
    }
    let lowered: Vec<_> = c.checked.envs.iter().map(sorchac::ir::lower).collect();
    for o in &lowered {
        let _ = sorchac::emit::raw::files(o).expect("raw output");
    }
    let envs: Vec<&sorchac::check::Model> = c.checked.envs.iter().collect();
    let _ = sorchac::emit::helm::files(&c.checked.base, &envs);
    let _ = sorchac::emit::kustomize::of_models(&c.checked.base, &envs, lowered)
        .expect("kustomize output");
    let g = sorchac::graph::of(&c.checked.envs[0]);
    let _ = sorchac::graph::dot(&g);
});
