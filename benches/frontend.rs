//! Benchmarks of whole runs on synthetic platforms (see `sorchac::synth`): `check`, and
//! `build --target raw` (every environment, files produced in memory), each timed in
//! process over many runs, with the peak memory of one whole process doing the same.
//!
//!   cargo bench --bench frontend            # sizes 1, 10, 100, 1000
//!   cargo bench --bench frontend -- 5000    # other sizes

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use sorchac::resolve::MemoryLoader;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn check(text: &str) -> sorchac::Compilation {
    let loader = MemoryLoader::new().with("platform.sorcha", text);
    sorchac::compile("platform.sorcha", &loader).unwrap()
}

/// check, lower and emit every environment: (objects, bytes).
fn build(text: &str) -> (usize, usize) {
    let c = check(text);
    assert!(!c.has_errors());
    let mut objects = 0;
    let mut bytes = 0;
    for m in &c.checked.envs {
        let o = sorchac::ir::lower(m);
        objects += o.len();
        bytes += sorchac::emit::raw::files(&o)
            .unwrap()
            .iter()
            .map(|f| f.bytes.len())
            .sum::<usize>();
    }
    (objects, bytes)
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

/// Runs one operation in a fresh process and returns its peak memory in MiB.
fn peak_of(what: &str, n: usize) -> f64 {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["--child", what, &n.to_string()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse::<f64>()
        .unwrap_or(0.0)
        / 1024.0
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
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        let what = &args[pos + 1];
        let n: usize = args[pos + 2].parse().unwrap();
        let text = sorchac::synth::platform(n);
        if what == "check" {
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
            peak_of("check", n),
            ms(bmin),
            ms(bmed),
            peak_of("build", n),
            bytes as f64 / 1e6
        );
        if n == 1000 {
            phases(&text, runs);
        }
    }
}
