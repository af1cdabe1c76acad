//! The `sorchac` binary: all of the work happens in the library's `cli` module.

// The front end allocates many small nodes; mimalloc serves them markedly faster than
// the system allocator. Its version 2 (the `v2` feature) touches less fresh memory than
// version 3 for the same work, which on this kind of machine is much of the time spent
// (see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    sorchac::cli::run(std::env::args_os())
}
