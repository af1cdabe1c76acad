//! Front end and every emitter on any program that checks clean: never a crash, and
//! the same raw output, overlays and chart however they are made.
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
    let envs: Vec<&sorchac::check::Model> = c.checked.envs.iter().collect();
    // The raw output of every environment at once (an object printed once for the
    // environments it is the same in, a group lowered once for those that lower it from
    // the same things) is each environment's own objects printed.
    let mut own = Vec::new();
    for m in &envs {
        own.extend(sorchac::emit::raw::files(&sorchac::ir::lower(m)).expect("raw output"));
    }
    own.sort_by(|a, b| a.path.cmp(&b.path));
    let (shared, _) = sorchac::emit::raw::files_of(&envs).expect("raw output");
    assert!(shared == own);
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
    // The raw output and the overlays made from one lowering (`--target all`) are
    // those made alone.
    let put = std::sync::Mutex::new(Vec::new());
    let (objects, tree) = sorchac::emit::kustomize::tree_with_raw(&base, &cxs, |files| {
        put.lock().expect("raw files").extend(files);
        Ok::<(), sorchac::emit::EmitError>(())
    })
    .expect("raw output");
    let mut beside = put.into_inner().expect("raw files");
    beside.sort_by(|a, b| a.path.cmp(&b.path));
    let (alone, alone_objects) = sorchac::emit::raw::files_in(&cxs).expect("raw output");
    assert!(beside == alone && objects == alone_objects);
    let tree = tree.expect("kustomize output");
    let overlays = sorchac::emit::kustomize::tree(&base, &cxs).expect("kustomize output");
    assert!(tree.files == overlays.files && tree.keep == overlays.keep);
    let g = sorchac::graph::of(&c.checked.envs[0]);
    let _ = sorchac::graph::dot(&g);
});
