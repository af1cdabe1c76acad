//! The `sorchac` binary: all of the work happens in the library's `cli` module.

fn main() -> std::process::ExitCode {
    sorchac::cli::run(std::env::args_os())
}
