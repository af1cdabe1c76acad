//! Benchmarks of whole runs on synthetic platforms (see `sorchac::synth`): `check`, and
//! `build --target raw` (every environment, files produced in memory), each timed in
//! process over many runs, with the peak memory of one whole process doing the same.
//!
//!   cargo bench --bench frontend            # sizes 1, 10, 100, 1000
//!   cargo bench --bench frontend -- 5000    # other sizes
//!   cargo bench --bench frontend -- --source 1000 > platform.sorcha   # the input itself
//!   cargo bench --bench frontend -- --lsp 1000   # the language server's keystroke latency
//!   cargo bench --bench frontend -- --instructions 1000   # each command's instructions
//!   SORCHAC_BENCH_BIN=target/pgo/release/sorchac scripts/bench   # whole processes of another binary

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use sorchac::resolve::MemoryLoader;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The `sorchac` binary the whole-process figures run: this build's, or the one
/// `SORCHAC_BENCH_BIN` names (the release binary of `scripts/release`, say).
fn sorchac_bin() -> std::ffi::OsString {
    std::env::var_os("SORCHAC_BENCH_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_sorchac").into())
}

fn check(text: &str) -> sorchac::Compilation {
    let loader = MemoryLoader::new().with("platform.sorcha", text);
    sorchac::compile("platform.sorcha", &loader).unwrap()
}

/// check, lower and emit every environment as `sorchac build` does (one source at a
/// time in every environment, the files handed on in batches and dropped): (objects,
/// bytes).
fn build(text: &str) -> (usize, usize) {
    let c = check(text);
    assert!(!c.has_errors());
    let cxs = sorchac::ir::labels::Cx::each(&c.checked.envs);
    let bytes = std::sync::atomic::AtomicUsize::new(0);
    let objects = sorchac::emit::raw::put_in(&cxs, |files| {
        let n = files.iter().map(|f| f.bytes.len()).sum::<usize>();
        bytes.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        Ok::<(), sorchac::emit::EmitError>(())
    })
    .unwrap();
    (objects, bytes.into_inner())
}

/// A loader that keeps parsed declarations between compilations, as the language
/// server's does.
struct Kept {
    text: String,
    parsed: sorchac::syntax::ParseCache,
}

impl sorchac::resolve::Loader for Kept {
    fn read(&self, _: &str) -> Result<Vec<u8>, String> {
        Ok(self.text.clone().into_bytes())
    }

    fn parse_cache(&self) -> Option<&sorchac::syntax::ParseCache> {
        Some(&self.parsed)
    }
}

/// Compiles the text after each of `runs` keystrokes, as the language server does
/// after each edit (the last compilation reused); (minimum, median) of the
/// compilations.
fn edit_loop(text: &str, stroke: Stroke, runs: usize) -> (Duration, Duration) {
    let mut loader = Kept {
        text: text.to_string(),
        parsed: Default::default(),
    };
    let mut prev = sorchac::compile_after("platform.sorcha", &loader, None).unwrap();
    let mut times: Vec<Duration> = (1..=runs)
        .map(|i| {
            loader.text = stroke.after(text, Place::First, i).0;
            let t = Instant::now();
            let next = sorchac::compile_after("platform.sorcha", &loader, Some(&prev)).unwrap();
            let took = t.elapsed();
            // Freed and the kept trees and checks copied after the answer, as the
            // server does.
            prev = next;
            loader.parsed.prepare();
            if let Some(m) = &prev.memo {
                m.prepare();
            }
            took
        })
        .collect();
    times.sort();
    (times[0], times[times.len() / 2])
}

/// Sorted times as `min / median / 90th percentile` in milliseconds.
fn spread(times: &[Duration]) -> String {
    let ms = |q: usize| times[(times.len() - 1) * q / 100].as_secs_f64() * 1e3;
    format!("{:.1} / {:.1} / {:.1} ms", ms(0), ms(50), ms(90))
}

/// Where the language-server figures type.
#[derive(Clone, Copy)]
enum Place {
    /// The first service: every later declaration moves (the worst place).
    First,
    /// The service in the middle of the file: half of them move.
    Middle,
}

impl Place {
    fn label(self) -> &'static str {
        match self {
            Place::First => "in the first service",
            Place::Middle => "in the middle service",
        }
    }

    /// Where in `text` to look for the service to edit.
    fn from(self, text: &str) -> usize {
        match self {
            Place::First => 0,
            Place::Middle => text.len() / 2,
        }
    }
}

/// How the language-server figures edit.
#[derive(Clone, Copy)]
enum Stroke {
    /// A digit replaced and put back: `8080` -> `8081` -> `8080` (nothing moves).
    Replace,
    /// Typing: one letter after another into a service's doc comment, each keystroke
    /// moving the text after the cursor one byte further.
    Type,
}

impl Stroke {
    fn label(self) -> &'static str {
        match self {
            Stroke::Replace => "a digit replaced",
            Stroke::Type => "typing",
        }
    }

    /// The text after `n` keystrokes, and where the next one goes.
    fn after(self, text: &str, place: Place, n: usize) -> (String, usize) {
        match self {
            Stroke::Replace => {
                let (at, edited) = keystroke(text, place);
                (if n % 2 == 1 { edited } else { text.to_string() }, at)
            }
            Stroke::Type => {
                let at = typing_at(text, place);
                let typed = "x".repeat(n);
                (format!("{}{typed}{}", &text[..at], &text[at..]), at + n)
            }
        }
    }
}

/// Where typing starts: at the end of a service's doc comment.
fn typing_at(text: &str, place: Place) -> usize {
    let from = place.from(text);
    let doc = from + text[from..].find("/// Synthetic service").unwrap();
    doc + text[doc..].find('\n').unwrap()
}

/// The keystroke the language-server figures make: the last digit of a service's
/// port, `8080` -> `8081` and back. Its byte offset, and the text after it.
fn keystroke(text: &str, place: Place) -> (usize, String) {
    let from = place.from(text);
    let at = from + text[from..].find("= 8080").unwrap() + 5;
    (at, format!("{}1{}", &text[..at], &text[at + 1..]))
}

/// Peak resident memory of this process, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn timed(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    (times[0], times[times.len() / 2])
}

/// Runs this bench again with `args` (`--child …` or `--cli …`), which does the work in
/// a fresh process and prints its peak memory last; that peak in MiB.
fn peak_of<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> f64 {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or("0")
        .trim()
        .parse::<f64>()
        .unwrap_or(0.0)
        / 1024.0
}

/// `sorchac ARGS` as a whole process: wall time (minimum and median of `runs`) and the
/// peak memory of the same work.
fn process(args: &[String], runs: usize) -> (Duration, Duration, f64) {
    let (min, med) = timed(runs, || {
        let status = std::process::Command::new(sorchac_bin())
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    });
    let mut cli = vec!["--cli".to_string()];
    cli.extend(args.iter().cloned());
    (min, med, peak_of(&cli))
}

/// Where the time of one 1,000-service run goes, phase by phase (minimum of `runs`).
fn phases(text: &str, runs: usize) {
    use sorchac::diag::Diagnostics;
    let loader = MemoryLoader::new().with("platform.sorcha", text);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (parse, _) = timed(runs, || {
        let mut d = Diagnostics::new();
        std::hint::black_box(
            sorchac::resolve::load::load("platform.sorcha", &loader, &mut d).unwrap(),
        );
    });
    let (resolve, _) = timed(runs, || {
        let mut d = Diagnostics::new();
        std::hint::black_box(
            sorchac::resolve::resolve("platform.sorcha", &loader, &mut d).unwrap(),
        );
    });
    let (checked, _) = timed(runs, || {
        std::hint::black_box(check(text));
    });
    let c = check(text);
    let m = c.checked.envs.last().unwrap();
    let (lower, _) = timed(runs, || {
        std::hint::black_box(sorchac::ir::lower(m));
    });
    let objects = sorchac::ir::lower(m);
    let (emit, _) = timed(runs, || {
        std::hint::black_box(sorchac::emit::raw::files(&objects).unwrap());
    });
    let bytes: usize = sorchac::emit::raw::files(&objects)
        .unwrap()
        .iter()
        .map(|f| f.bytes.len())
        .sum();
    // The kustomize tree: base and every overlay, lowered a declaration at a time from
    // the checked models (their lowering contexts made once, as a build makes them for
    // the raw output too).
    let envs = sorchac::ir::labels::Cx::each(&c.checked.envs);
    let base = sorchac::ir::labels::Cx::new(&c.checked.base);
    let (kustomize, _) = timed(runs, || {
        std::hint::black_box(sorchac::emit::kustomize::tree(&base, &envs).unwrap());
    });
    let raw_bytes: usize = c
        .checked
        .envs
        .iter()
        .map(|m| {
            sorchac::emit::raw::files(&sorchac::ir::lower(m))
                .unwrap()
                .iter()
                .map(|f| f.bytes.len())
                .sum::<usize>()
        })
        .sum();
    let envs_len = envs.len();
    let tree = sorchac::emit::kustomize::tree(&base, &envs).unwrap();
    let tree_bytes: usize = tree.files.iter().map(|f| f.bytes.len()).sum();
    // What the language server parses after a keystroke: the trees of the last parse
    // are kept, one declaration changed (a port `8080` -> `8081` and back).
    let cache = sorchac::syntax::ParseCache::default();
    let edits = [text.to_string(), keystroke(text, Place::First).1];
    let mut reparses: Vec<Duration> = (1..=runs)
        .map(|i| {
            let t = Instant::now();
            let file = sorchac::source::SourceId(0);
            let parsed = sorchac::syntax::parse_file_cached(
                file,
                &edits[i % 2],
                Some((&cache, "platform.sorcha")),
            );
            let took = t.elapsed();
            // Between edits, as the server does.
            drop(parsed);
            cache.prepare();
            took
        })
        .collect();
    reparses.sort();
    let reparse = reparses[0];
    // And what the language server checks after that keystroke: only what it reached.
    let (recheck, _) = edit_loop(text, Stroke::Replace, runs);
    let (typed, _) = edit_loop(text, Stroke::Type, runs);
    println!();
    println!(
        "phases (minimum of {runs} runs): parse {:.1} ms, resolve {:.1} ms, check {:.1} ms; \
         environment `{}` ({} objects, {:.2} MB): lower {:.1} ms, emit {:.1} ms",
        ms(parse),
        ms(resolve.saturating_sub(parse)),
        ms(checked.saturating_sub(resolve)),
        m.env,
        objects.len(),
        bytes as f64 / 1e6,
        ms(lower),
        ms(emit),
    );
    println!(
        "parse after a one-declaration edit, the other declarations' trees kept: {:.1} ms; \
         parse, resolve and check after it, reusing the last check: {:.1} ms ({:.1} ms typing)",
        ms(reparse),
        ms(recheck),
        ms(typed)
    );
    println!(
        "kustomize tree, the base and {} environments lowered a declaration at a time: {:.1} ms; {} files, {:.2} MB (raw output of the same environments: {:.2} MB)",
        envs_len,
        ms(kustomize),
        tree.files.len(),
        tree_bytes as f64 / 1e6,
        raw_bytes as f64 / 1e6,
    );
}

/// The smallest useful program: one service, no environments.
const ONE_SERVICE: &str = r#"platform one {
  namespace = "one"
}

service web {
  image = "registry.example.com/web:1.0.0"
  port http = 8080
  ready = http("/health", port: http)
}
"#;

/// Cold start: the whole `sorchac build` process, output written to a temporary
/// directory (minimum and median of 200 runs), for the one-service program above and for
/// the one-service synthetic platform (stores, a gateway and three environments).
fn cold_start() {
    let dir = std::env::temp_dir().join(format!("sorchac-cold-{}", std::process::id()));
    for (what, text) in [
        ("one service", ONE_SERVICE.to_string()),
        ("synthetic, 1 service", sorchac::synth::platform(1)),
    ] {
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("platform.sorcha");
        std::fs::write(&file, text).unwrap();
        let out = dir.join("out");
        let run = || {
            let status = std::process::Command::new(sorchac_bin())
                .arg("build")
                .arg(&file)
                .arg("-o")
                .arg(&out)
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
        };
        let (min, med) = timed(200, run);
        let _ = std::fs::remove_dir_all(&dir);
        println!(
            "cold start, whole `sorchac build` process ({what}): {:.2} / {:.2} ms",
            min.as_secs_f64() * 1e3,
            med.as_secs_f64() * 1e3
        );
    }
}

/// `sorchac build` of a synthetic platform as a whole process, as users run it: wall time
/// (minimum and median of `runs`), peak memory, and the same for one environment.
fn whole_build(n: usize, runs: usize) {
    let dir = std::env::temp_dir().join(format!("sorchac-whole-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("platform.sorcha");
    std::fs::write(&file, sorchac::synth::platform(n)).unwrap();
    let out = dir.join("out");
    for extra in [
        &[][..],
        &["--env", "prod"][..],
        &["--target", "kustomize"][..],
        &["--target", "helm"][..],
        &["--target", "all"][..],
    ] {
        let mut args = vec![
            "build".to_string(),
            file.display().to_string(),
            "-o".into(),
            out.display().to_string(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let (min, med, peak) = process(&args, runs);
        println!(
            "whole process `sorchac build` of {n} services ({}): {:.1} / {:.1} ms, peak {peak:.1} MiB",
            if extra.is_empty() {
                "raw, every environment".to_string()
            } else {
                extra.join(" ")
            },
            min.as_secs_f64() * 1e3,
            med.as_secs_f64() * 1e3,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The language server's answer to a keystroke: a one-character edit of the
/// `n`-service program, timed from `didChange` to the diagnostics it publishes.
fn lsp_latency(n: usize, runs: usize, place: Place, stroke: Stroke) {
    use std::io::BufReader;
    let dir = std::env::temp_dir().join(format!("sorchac-lsp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("platform.sorcha");
    let text = sorchac::synth::platform(n);
    std::fs::write(&path, &text).unwrap();
    let uri = format!("file://{}", path.display());
    let mut child = std::process::Command::new(sorchac_bin())
        .arg("lsp")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut send = |v: serde_json::Value| {
        let m: lsp_server::Message = serde_json::from_value(v).unwrap();
        m.write(&mut stdin).unwrap();
    };
    let mut recv = || -> serde_json::Value {
        serde_json::to_value(lsp_server::Message::read(&mut out).unwrap().unwrap()).unwrap()
    };
    send(
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
    );
    recv();
    send(serde_json::json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    send(
        serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "sorcha", "version": 1, "text": text}}}),
    );
    while recv()["method"] != "textDocument/publishDiagnostics" {}
    let (_, at) = stroke.after(&text, place, 0);
    let line = text[..at].matches('\n').count();
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut times = Vec::new();
    for v in 0..runs {
        // Keystrokes a fast typist's 50 ms apart.
        std::thread::sleep(Duration::from_millis(50));
        let (start, end, typed) = match stroke {
            Stroke::Replace => (col, col + 1, if v % 2 == 0 { "1" } else { "0" }),
            Stroke::Type => (col + v, col + v, "x"),
        };
        let t = Instant::now();
        send(
            serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": v + 2},
                "contentChanges": [{"range": {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}}, "text": typed}]
            }}),
        );
        while recv()["method"] != "textDocument/publishDiagnostics" {}
        times.push(t.elapsed());
    }
    times.sort();
    send(serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}));
    recv();
    send(serde_json::json!({"jsonrpc": "2.0", "method": "exit"}));
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "language server, {} {} to diagnostics, {n} services (min / median / 90th percentile): {}",
        stroke.label(),
        place.label(),
        spread(&times)
    );
}

/// The arguments of a `sorchac` command of the tables (`check`, `build --target …`) on
/// `file`, a build writing to `out`.
fn command_args(cmd: &[&str], file: &std::path::Path, out: &std::path::Path) -> Vec<String> {
    let mut args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
    args.insert(1, file.display().to_string());
    if cmd[0] == "build" {
        args.extend(["-o".to_string(), out.display().to_string()]);
    }
    args
}

/// One table of whole processes: for each size, the wall time (median of `runs`) and
/// peak memory of `check` and of `build` for every target, with the output's size.
fn process_table(sizes: &[usize]) {
    println!(
        "| services | check | build raw | build kustomize | build helm | build all | objects | raw output |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    let dir = std::env::temp_dir().join(format!("sorchac-table-{}", std::process::id()));
    for &n in sizes {
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("platform.sorcha");
        let text = sorchac::synth::platform(n);
        std::fs::write(&file, &text).unwrap();
        let out = dir.join("out");
        let runs = if n >= 5000 {
            3
        } else if n >= 1000 {
            5
        } else {
            10
        };
        let mut cells = Vec::new();
        let commands: [&[&str]; 5] = [
            &["check"],
            &["build", "--target", "raw"],
            &["build", "--target", "kustomize"],
            &["build", "--target", "helm"],
            &["build", "--target", "all"],
        ];
        for cmd in commands {
            let args = command_args(cmd, &file, &out);
            let (_, med, peak) = process(&args, runs);
            cells.push(format!("{:.0} ms, {peak:.0} MiB", med.as_secs_f64() * 1e3));
        }
        let (objects, bytes) = build(&text);
        println!(
            "| {n} | {} | {objects} | {:.1} MB |",
            cells.join(" | "),
            bytes as f64 / 1e6
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The front end's phases alone, minimum / median of `runs`: what a change to the
/// grammar, the parser or the checker moves, without building anything
/// (`SORCHAC_THREADS=1` for one core's figures, which vary less).
fn front(text: &str, runs: usize) {
    use sorchac::diag::Diagnostics;
    let loader = MemoryLoader::new().with("platform.sorcha", text);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let load = timed(runs, || {
        let mut d = Diagnostics::new();
        std::hint::black_box(
            sorchac::resolve::load::load("platform.sorcha", &loader, &mut d).unwrap(),
        );
    });
    let resolve = timed(runs, || {
        let mut d = Diagnostics::new();
        std::hint::black_box(
            sorchac::resolve::resolve("platform.sorcha", &loader, &mut d).unwrap(),
        );
    });
    let checked = timed(runs, || {
        std::hint::black_box(check(text));
    });
    println!(
        "front end (min / median of {runs} runs): parse {:.1} / {:.1} ms; \
         with resolve {:.1} / {:.1} ms; with check {:.1} / {:.1} ms",
        ms(load.0),
        ms(load.1),
        ms(resolve.0),
        ms(resolve.1),
        ms(checked.0),
        ms(checked.1),
    );
}

/// What writing the raw output's files alone costs on this file system: every
/// environment's files of the synthetic program of `n` services, made in memory first,
/// written with `std::fs::write` into a fresh directory and then removed, on every core
/// and on one. The part of a build's time no faster compiler can take away.
fn write_floor(n: usize, runs: usize) {
    let c = check(&sorchac::synth::platform(n));
    assert!(!c.has_errors());
    let models: Vec<&sorchac::check::Model> = c.checked.envs.iter().collect();
    let (files, _) = sorchac::emit::raw::files_of(&models).unwrap();
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    let root = std::env::temp_dir().join(format!("sorchac-floor-{}", std::process::id()));
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    for t in [threads, 1] {
        let (mut written, mut removed) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let _ = std::fs::remove_dir_all(&root);
            let dirs: std::collections::BTreeSet<_> = files
                .iter()
                .filter_map(|f| {
                    root.join(&f.path)
                        .parent()
                        .map(std::path::Path::to_path_buf)
                })
                .collect();
            dirs.iter()
                .for_each(|d| std::fs::create_dir_all(d).unwrap());
            // `f` on every file, the files split evenly over `t` threads; how long it took.
            let on_threads = |f: &(dyn Fn(&sorchac::emit::OutFile) + Sync)| {
                let start = Instant::now();
                std::thread::scope(|s| {
                    for run in files.chunks(files.len().div_ceil(t)) {
                        s.spawn(move || run.iter().for_each(f));
                    }
                });
                start.elapsed()
            };
            written.push(on_threads(&|f| {
                std::fs::write(root.join(&f.path), &f.bytes).unwrap()
            }));
            removed.push(on_threads(&|f| {
                std::fs::remove_file(root.join(&f.path)).unwrap()
            }));
        }
        written.sort();
        removed.sort();
        let ms = |d: &[Duration]| (d[0].as_secs_f64() * 1e3, d[d.len() / 2].as_secs_f64() * 1e3);
        let ((wmin, wmed), (rmin, rmed)) = (ms(&written), ms(&removed));
        println!(
            "writing the raw output of {n} services ({} files, {:.1} MB) on {t} thread(s): {wmin:.1} / {wmed:.1} ms, removing it {rmin:.1} / {rmed:.1} ms",
            files.len(),
            bytes as f64 / 1e6
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// Each command's instructions on one thread (`SORCHAC_THREADS=1`), counted by
/// callgrind over the whole process: the figure that does not move with the machine or
/// its neighbours, for comparing two versions where wall-clock times on a shared host
/// cannot tell them apart. Needs valgrind; says so and does nothing without it.
fn instructions(n: usize) {
    let valgrind = std::process::Command::new("valgrind")
        .arg("--version")
        .output();
    if !valgrind.is_ok_and(|o| o.status.success()) {
        println!("valgrind is not installed: instructions cannot be counted here");
        return;
    }
    let dir = std::env::temp_dir().join(format!("sorchac-count-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("platform.sorcha");
    std::fs::write(&file, sorchac::synth::platform(n)).unwrap();
    let out = dir.join("out");
    let commands: [&[&str]; 6] = [
        &["check"],
        &["build", "--target", "raw"],
        &["build", "--target", "raw", "--env", "prod"],
        &["build", "--target", "kustomize"],
        &["build", "--target", "helm"],
        &["build", "--target", "all"],
    ];
    println!("| command, {n} services | instructions (one thread) |");
    println!("|---|---:|");
    for cmd in commands {
        let args = command_args(cmd, &file, &out);
        let run = std::process::Command::new("valgrind")
            .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
            .arg(sorchac_bin())
            .args(&args)
            .env("SORCHAC_THREADS", "1")
            .output()
            .unwrap();
        assert!(run.status.success(), "sorchac {}", args.join(" "));
        // `==PID== Collected : N`
        let count = String::from_utf8_lossy(&run.stderr)
            .lines()
            .find_map(|l| l.split_once("Collected :")?.1.trim().parse::<u64>().ok())
            .unwrap();
        // 3649.8 M as 3,649.8 M
        let tenths = (count + 50_000) / 100_000;
        let (millions, tenth) = (tenths / 10, tenths % 10);
        let mut whole = millions.to_string();
        let mut at = whole.len();
        while at > 3 {
            at -= 3;
            whole.insert(at, ',');
        }
        println!("| `sorchac {}` | {whole}.{tenth} M |", cmd.join(" "));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `--front N`: the front end's phases alone.
    if let Some(pos) = args.iter().position(|a| a == "--front") {
        let n: usize = args
            .get(pos + 1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(1000);
        front(&sorchac::synth::platform(n), 40);
        return;
    }
    // `--lsp N`: the language server's keystroke latency alone.
    if let Some(pos) = args.iter().position(|a| a == "--lsp") {
        let n: usize = args
            .get(pos + 1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(1000);
        for stroke in [Stroke::Replace, Stroke::Type] {
            lsp_latency(n, 60, Place::First, stroke);
            lsp_latency(n, 60, Place::Middle, stroke);
        }
        return;
    }
    // `--instructions N`: each command's instructions on one thread, by callgrind.
    if let Some(pos) = args.iter().position(|a| a == "--instructions") {
        let n: usize = args
            .get(pos + 1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(1000);
        instructions(n);
        return;
    }
    // `--write-floor N`: writing the raw output's files alone, without compiling.
    if let Some(pos) = args.iter().position(|a| a == "--write-floor") {
        let n: usize = args
            .get(pos + 1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(1000);
        write_floor(n, 15);
        return;
    }
    if args.iter().any(|a| a == "--table") {
        let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
        let sizes = if sizes.is_empty() {
            vec![10, 100, 1000, 5000]
        } else {
            sizes
        };
        process_table(&sizes);
        return;
    }
    if let Some(pos) = args.iter().position(|a| a == "--cli") {
        // The binary's own code path, in this process, to read its peak memory.
        let cli_args =
            std::iter::once("sorchac".into()).chain(args[pos + 1..].iter().map(Into::into));
        let _ = sorchac::cli::run(cli_args);
        println!("{}", peak_rss_kib().unwrap_or(0));
        return;
    }
    // `--source N`: print the synthetic program of N services (to profile or inspect it).
    if let Some(pos) = args.iter().position(|a| a == "--source") {
        let n: usize = args[pos + 1].parse().unwrap();
        print!("{}", sorchac::synth::platform(n));
        return;
    }
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        let what = &args[pos + 1];
        let n: usize = args[pos + 2].parse().unwrap();
        let text = sorchac::synth::platform(n);
        if what == "edits" {
            // For a profiler: the language server's path, many times over.
            for stroke in [Stroke::Replace, Stroke::Type] {
                let (min, med) = edit_loop(&text, stroke, 400);
                eprintln!(
                    "compile after a keystroke, {} (min / median): {:.1} / {:.1} ms",
                    stroke.label(),
                    min.as_secs_f64() * 1e3,
                    med.as_secs_f64() * 1e3
                );
            }
        } else if what == "check" {
            std::hint::black_box(check(&text));
        } else {
            std::hint::black_box(build(&text));
        }
        println!("{}", peak_rss_kib().unwrap_or(0));
        return;
    }
    let sizes: Vec<usize> = {
        let s: Vec<usize> = args.iter().skip(1).filter_map(|a| a.parse().ok()).collect();
        if s.is_empty() {
            vec![1, 10, 100, 1000]
        } else {
            s
        }
    };
    cold_start();
    println!();
    println!(
        "| services | source | check min / median | check peak | build raw min / median | build peak | objects | output |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in sizes {
        let text = sorchac::synth::platform(n);
        let c = check(&text);
        assert!(
            c.diagnostics.is_empty(),
            "synthetic platform of {n} services has diagnostics"
        );
        let runs = if n >= 1000 { 20 } else { 60 };
        let (cmin, cmed) = timed(runs, || {
            std::hint::black_box(check(&text));
        });
        let (objects, bytes) = build(&text);
        let (bmin, bmed) = timed(runs, || {
            std::hint::black_box(build(&text));
        });
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "| {n} | {:.0} KiB | {:.1} / {:.1} ms | {:.1} MiB | {:.1} / {:.1} ms | {:.1} MiB | {objects} | {:.2} MB |",
            text.len() as f64 / 1024.0,
            ms(cmin),
            ms(cmed),
            peak_of(&["--child", "check", &n.to_string()]),
            ms(bmin),
            ms(bmed),
            peak_of(&["--child", "build", &n.to_string()]),
            bytes as f64 / 1e6
        );
        if n == 1000 {
            phases(&text, runs);
            whole_build(n, 10);
            for stroke in [Stroke::Replace, Stroke::Type] {
                lsp_latency(n, 60, Place::First, stroke);
                lsp_latency(n, 60, Place::Middle, stroke);
            }
        }
    }
}
