//! Front-end benchmark: `check` of synthetic platforms (see `sorchac::synth`), timed in
//! process over many runs, and the peak memory of one whole `check` process.
//!
//!   cargo bench --bench frontend            # sizes 10, 100, 1000
//!   cargo bench --bench frontend -- 5000    # other sizes

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use sorchac::resolve::MemoryLoader;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn compile(text: &str) -> sorchac::Compilation {
    let loader = MemoryLoader::new().with("platform.sorcha", text);
    sorchac::compile("platform.sorcha", &loader).unwrap()
}

/// Peak resident memory of this process, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    // Child mode: one compile, then report the process's peak memory.
    if let Some(pos) = std::env::args().position(|a| a == "--child") {
        let n: usize = std::env::args().nth(pos + 1).unwrap().parse().unwrap();
        let text = sorchac::synth::platform(n);
        let c = compile(&text);
        assert!(!c.has_errors());
        println!("{}", peak_rss_kib().unwrap_or(0));
        return;
    }
    let sizes: Vec<usize> = if args.is_empty() {
        vec![10, 100, 1000]
    } else {
        args.iter().filter_map(|a| a.parse().ok()).collect()
    };
    println!("| services | source | check (min) | check (median) | peak memory (process) |");
    println!("|---:|---:|---:|---:|---:|");
    for n in sizes {
        let text = sorchac::synth::platform(n);
        let c = compile(&text);
        assert!(
            c.diagnostics.is_empty(),
            "synthetic platform of {n} services has diagnostics"
        );
        let runs = if n >= 1000 { 30 } else { 100 };
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                let c = compile(&text);
                let e = t.elapsed();
                std::hint::black_box(c);
                e
            })
            .collect();
        times.sort();
        let exe = std::env::current_exe().unwrap();
        let out = std::process::Command::new(exe)
            .args(["--child", &n.to_string()])
            .output()
            .unwrap();
        let peak: u64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        println!(
            "| {n} | {:.0} KiB | {:.2} ms | {:.2} ms | {:.1} MiB |",
            text.len() as f64 / 1024.0,
            times[0].as_secs_f64() * 1e3,
            times[times.len() / 2].as_secs_f64() * 1e3,
            peak as f64 / 1024.0
        );
    }
}
