//! Whole generated trees: every example and every focused fixture under `tests/emit/`,
//! each file under a `//// path` header, in path order. The output is also checked to be
//! identical on every run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use sorchac::emit::OutFile;

/// The raw output of a program, every environment.
pub fn raw_files(path: &str) -> Vec<OutFile> {
    let c = common::compile_path(path);
    assert!(!c.has_errors(), "{}", common::rendered(&c));
    let mut files = Vec::new();
    for m in &c.checked.envs {
        files.extend(sorchac::emit::raw::files(&sorchac::ir::lower(m)).unwrap());
    }
    files
}

#[test]
fn examples() {
    for name in ["sorcha", "three-tier", "queue-worker"] {
        let files = raw_files(&format!("examples/{name}/platform.sorcha"));
        insta::assert_snapshot!(format!("example-{name}"), common::tree(&files));
    }
}

#[test]
fn fixtures() {
    insta::glob!("emit/*.sorcha", |path| {
        let rel = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .to_string_lossy()
            .trim_start_matches('/')
            .to_string();
        let files = raw_files(&rel);
        insta::assert_snapshot!(common::tree(&files));
    });
}

#[test]
fn output_is_byte_identical_on_every_run_and_thread_count() {
    assert_eq!(
        raw_files("examples/sorcha/platform.sorcha"),
        raw_files("examples/sorcha/platform.sorcha")
    );
    let build = |threads: &str| {
        let dir = common::scratch("threads");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sorchac"))
            .args(["build", "examples/sorcha/platform.sorcha", "-o"])
            .arg(&*dir)
            .env("SORCHAC_THREADS", threads)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        common::files_under(&dir)
    };
    let one = build("1");
    assert!(!one.is_empty());
    assert_eq!(one, build("2"));
    assert_eq!(one, build("5"));
}

/// A program's raw files as `sorchac build` makes them (every environment at once, an
/// object printed once for the environments it is the same in), with the number of
/// objects, and each environment's own lowered objects printed, by path.
fn shared_and_own(c: &sorchac::Compilation) -> (Vec<OutFile>, usize, Vec<OutFile>) {
    assert!(!c.has_errors(), "{}", common::rendered(c));
    let envs: Vec<&sorchac::check::Model> = c.checked.envs.iter().collect();
    let mut own = Vec::new();
    for m in &envs {
        own.extend(sorchac::emit::raw::files(&sorchac::ir::lower(m)).unwrap());
    }
    own.sort_by(|a, b| a.path.cmp(&b.path));
    let (shared, objects) = sorchac::emit::raw::files_of(&envs).unwrap();
    (shared, objects, own)
}

#[test]
fn text_like_the_shared_prints_marks_is_printed_as_it_is() {
    // Objects the environments share are printed once, with marks standing for each
    // environment's namespace and instance label; a program whose own text holds a
    // mark's text still gets exactly its own objects printed.
    let text = sorchac::synth::platform(12).replace(
        "CACHE = cache.address",
        "CACHE = cache.address\n    MARKS = \"zq7k-sorchac-namespace zq7k-sorchac-instance zq7k-sorchac-\"",
    );
    assert!(text.contains("MARKS"));
    let (files, _, own) = shared_and_own(&common::compile_text(&text));
    assert!(
        files
            .iter()
            .any(|f| String::from_utf8_lossy(&f.bytes).contains("zq7k-sorchac-namespace zq7k"))
    );
    assert_eq!(files, own);
}

#[test]
fn shared_prints_write_each_environment_s_namespace_as_yaml_would() {
    // A namespace YAML must quote (a number, a keyword) is written where the shared
    // print has its mark exactly as the writer writes it in that place.
    let text = sorchac::synth::platform(12)
        .replace("\"synth-dev\"", "\"123\"")
        .replace("\"synth-staging\"", "\"true\"");
    let (files, _, own) = shared_and_own(&common::compile_text(&text));
    let dev = files
        .iter()
        .find(|f| f.path.starts_with("raw/dev/service-"))
        .unwrap();
    assert!(String::from_utf8_lossy(&dev.bytes).contains("namespace: '123'"));
    assert_eq!(files, own);
}

#[test]
fn an_environment_writes_another_s_print_only_where_it_lowers_the_same() {
    // An environment whose group of a workload is lowered from the same things as an
    // earlier environment's writes that one's print with its own namespace and instance
    // label. Each program here changes one thing such a print must not hide: who calls
    // a service, the ports of one it calls, how a secret it reads is rotated, the mesh,
    // a mesh that names callers by their namespace (in one namespace and in one per
    // environment), and labels that hold the instance outside the metadata.
    let istio = |t: String| t.replace("admins = [", "mesh = istio\n  admins = [");
    let one_namespace = |t: String| {
        ["dev", "staging", "prod"].iter().fold(t, |t, e| {
            t.replace(&format!("  platform.namespace = \"synth-{e}\"\n"), "")
        })
    };
    // Namespaces that are not also the instance labels (`synth-dev` is both).
    let own_namespaces = |t: String| {
        t.replace(
            "platform.namespace = \"synth-",
            "platform.namespace = \"ns-",
        )
    };
    let volume = |t: String| {
        t.replace(
            "  port http = 8080\n",
            "  port http = 8080\n  volume scratch { at = \"/scratch\"  size = 1Gi }\n",
        )
    };
    let variants: Vec<String> = vec![
        sorchac::synth::platform(12).replace(
            "env prod {\n",
            "env prod {\n  svc-2.calls = [svc-3, db-0, cache]\n",
        ),
        sorchac::synth::platform(12)
            .replace("env prod {\n", "env prod {\n  svc-4.port.grpc = 9191\n"),
        sorchac::synth::platform(12)
            .replace(
                "secret jwt",
                "secret tls { keys = [crt]  from = deploy }\nsecret jwt",
            )
            .replace(
                "service svc-1 {\n",
                "service svc-1 {\n  mount tls at \"/tls\"\n",
            )
            .replace("env prod {\n", "env prod {\n  tls.rotation = live\n"),
        istio(sorchac::synth::platform(12)),
        own_namespaces(istio(sorchac::synth::platform(12))),
        one_namespace(istio(sorchac::synth::platform(12))),
        one_namespace(sorchac::synth::platform(12)),
        one_namespace(sorchac::synth::platform(12))
            .replace("env prod {\n", "env prod {\n  platform.mesh = linkerd\n"),
        volume(sorchac::synth::platform(12)),
        own_namespaces(volume(sorchac::synth::platform(12))),
        one_namespace(volume(sorchac::synth::platform(12))),
    ];
    for text in &variants {
        let (files, _, own) = shared_and_own(&common::compile_text(text));
        assert_eq!(files, own);
    }
}

#[test]
fn a_source_s_place_is_where_its_group_comes() {
    for p in &common::programs() {
        let c = common::compile_path(p);
        for m in std::iter::once(&c.checked.base).chain(&c.checked.envs) {
            for (i, s) in sorchac::ir::sources(m).into_iter().enumerate() {
                assert_eq!(sorchac::ir::place(m, s), i, "{p}: {s:?}");
            }
        }
    }
}

#[test]
fn group_by_group_lowering_gives_the_same_files() {
    // `sorchac build` lowers and prints one group at a time when it makes no overlay,
    // each in every environment, printing an object once for the environments it is
    // the same in; it must write what each environment's objects print to, whatever
    // the program.
    let synthetic = common::compile_text(&sorchac::synth::platform(80));
    let mut programs: Vec<sorchac::Compilation> = common::programs()
        .iter()
        .map(|p| common::compile_path(p))
        .collect();
    programs.push(synthetic);
    for c in &programs {
        let (files, objects, own) = shared_and_own(c);
        assert_eq!(files, own);
        let lowered: usize = c
            .checked
            .envs
            .iter()
            .map(|m| sorchac::ir::lower(m).len())
            .sum();
        assert_eq!(objects, lowered);
        // One environment alone prints as it does among the others.
        for m in &c.checked.envs {
            let (alone, _) = sorchac::emit::raw::files_of(&[m]).unwrap();
            assert_eq!(
                alone,
                sorchac::emit::raw::files(&sorchac::ir::lower(m)).unwrap()
            );
        }
    }
}

/// The raw output made beside the overlays from the same lowering of each environment
/// (as `--target all` makes both) is the raw output made alone, and the overlays are
/// the overlays made alone: for every program, one whose own text holds a mark's text,
/// and one whose namespaces YAML must quote.
#[test]
fn the_raw_output_made_beside_the_overlays_is_the_raw_output_made_alone() {
    let mut compiled = common::compiled_programs();
    compiled.push(common::compile_text(&sorchac::synth::platform(12).replace(
        "CACHE = cache.address",
        "CACHE = cache.address\n    MARKS = \"zq7k-sorchac-namespace zq7k-sorchac-instance zq7k-sorchac-\"",
    )));
    compiled.push(common::compile_text(
        &sorchac::synth::platform(12)
            .replace("\"synth-dev\"", "\"123\"")
            .replace("\"synth-staging\"", "\"true\""),
    ));
    for c in &compiled {
        assert!(!c.has_errors(), "{}", common::rendered(c));
        let envs: Vec<&sorchac::check::Model> = c.checked.envs.iter().collect();
        let cxs = sorchac::ir::labels::Cx::each(&envs);
        let base = sorchac::ir::labels::Cx::new(&c.checked.base);
        let put = std::sync::Mutex::new(Vec::new());
        let (objects, tree) = sorchac::emit::kustomize::tree_with_raw(&base, &cxs, |files| {
            put.lock().unwrap().extend(files);
            Ok::<(), sorchac::emit::EmitError>(())
        })
        .unwrap();
        let mut beside = put.into_inner().unwrap();
        beside.sort_by(|a, b| a.path.cmp(&b.path));
        let (alone, alone_objects) = sorchac::emit::raw::files_in(&cxs).unwrap();
        let name = &c.checked.base.platform.name;
        assert_eq!(objects, alone_objects, "{name}");
        assert!(beside == alone, "{name}: the raw output differs");
        let tree = tree.unwrap();
        let overlays = sorchac::emit::kustomize::tree(&base, &cxs).unwrap();
        assert!(tree.files == overlays.files, "{name}: the overlays differ");
        assert_eq!(tree.keep, overlays.keep, "{name}");
    }
}
