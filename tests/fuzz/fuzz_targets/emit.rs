//! Front end and every emitter on any program that checks clean: never a crash, and
//! the same overlays and the same chart however they are made.
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
    for m in &c.checked.envs {
        let _ = sorchac::emit::raw::files(&sorchac::ir::lower(m)).expect("raw output");
    }
    let envs: Vec<&sorchac::check::Model> = c.checked.envs.iter().collect();
    // The chart of groups lowered by part is the chart of whole groups.
    let helm = |sampling| sorchac::emit::helm::files_by(&c.checked.base, &envs, sampling);
    match (
        helm(sorchac::emit::helm::Sampling::ByPart),
        helm(sorchac::emit::helm::Sampling::Whole),
    ) {
        (Ok(a), Ok(b)) => assert!(a == b),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("the chart is made one way and not the other"),
    }
    // The overlays made a declaration at a time are those of whole environments.
    let base = sorchac::ir::labels::Cx::new(&c.checked.base);
    let cxs = sorchac::ir::labels::Cx::each(&envs);
    let whole = sorchac::emit::kustomize::whole(&base, &cxs).expect("kustomize output");
    if let Some(tree) =
        sorchac::emit::kustomize::by_declaration(&base, &cxs).expect("kustomize output")
    {
        assert!(tree.files == whole.files && tree.keep == whole.keep);
    }
    let g = sorchac::graph::of(&c.checked.envs[0]);
    let _ = sorchac::graph::dot(&g);
});
