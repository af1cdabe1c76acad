//! The `sorchac` binary: all of the work happens in the library's `cli` module.

// The front end allocates many small nodes; mimalloc serves them markedly faster than
// the system allocator (see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    sorchac::cli::run(std::env::args_os())
}
