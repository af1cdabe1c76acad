//! The command line: parses arguments (clap), reads files, runs the phases, prints
//! diagnostics and decides the exit code. With `lsp`, the only module that touches the
//! disk or the process.

mod build;
mod check;
mod diff;
mod explain;
mod fmt;
pub(crate) mod fs;
mod write;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use fs::FsLoader;

use crate::diag::render::Format;

/// Exit status: the program checked clean (warnings allowed).
pub const EXIT_OK: u8 = 0;
/// Exit status: the program has errors (or warnings under `--deny-warnings`).
pub const EXIT_ERRORS: u8 = 1;
/// Exit status: a usage or I/O problem (missing file, directory given, bad argument).
pub const EXIT_USAGE: u8 = 2;

/// sorchac compiles a `.sorcha` platform description to Kubernetes manifests, a
/// Kustomize base with overlays, and a Helm chart.
#[derive(Parser, Debug)]
#[command(name = "sorchac", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Parse and type-check programs and report diagnostics.
    Check {
        /// The program files (each is the root of a program).
        #[arg(required = true)]
        files: Vec<String>,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Treat warnings as errors (exit 1 when there are any).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Compile a program to Kubernetes output, for every environment.
    Build {
        /// The program file.
        file: String,
        /// Which output to write.
        #[arg(long, value_enum, default_value = "raw")]
        target: build::Target,
        /// Only this environment (raw target only: the kustomize tree always holds every
        /// environment's overlay).
        #[arg(long)]
        env: Option<String>,
        /// The output directory.
        #[arg(short = 'o', long = "out", default_value = "build")]
        out: String,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Treat warnings as errors (write nothing when there are any).
        #[arg(long)]
        deny_warnings: bool,
        /// Write nothing: list the files that differ from what is in DIR, and exit 1 if
        /// any do (for CI: committed output must be up to date).
        #[arg(long)]
        check: bool,
    },
    /// Compare two versions of a platform's output, object by object, and flag the
    /// changes that are dangerous to apply.
    Diff {
        /// The old side: a `.sorcha` file, a build directory, or `git:REV:path`.
        old: String,
        /// The new side, in the same forms.
        new: String,
        /// Only this environment.
        #[arg(long)]
        env: Option<String>,
        /// Also compare this target's files (kustomize or helm).
        #[arg(long, value_enum, default_value = "raw")]
        target: build::Target,
        /// How to print the comparison.
        #[arg(long, value_enum, default_value = "human")]
        format: diff::DiffFormat,
        /// Exit 1 when the comparison finds something dangerous.
        #[arg(long, value_enum)]
        fail_on: Option<diff::FailOn>,
    },
    /// Draw the traffic topology of an environment.
    Graph {
        /// The program file.
        file: String,
        /// The environment (the first one by default).
        #[arg(long)]
        env: Option<String>,
        /// The picture's format.
        #[arg(long, value_enum, default_value = "dot")]
        format: diff::GraphFormat,
    },
    /// Rewrite programs in the canonical layout.
    Fmt {
        /// The files to format.
        #[arg(required = true)]
        files: Vec<String>,
        /// Change nothing: list the files that are not formatted, and exit 1 if any.
        #[arg(long)]
        check: bool,
    },
    /// Run the language server (LSP over stdin and stdout) for editors.
    Lsp,
    /// Explain a diagnostic code, with an example and its fix.
    Explain {
        /// A code such as E0201.
        code: String,
    },
}

/// Runs the command line and returns the process exit code.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    ExitCode::from(match cli.command {
        Command::Check {
            files,
            format,
            deny_warnings,
        } => check::run(&files, format, deny_warnings),
        Command::Build {
            file,
            target,
            env,
            out,
            format,
            deny_warnings,
            check,
        } => build::run(&build::Options {
            file: &file,
            target,
            env: env.as_deref(),
            out: &out,
            format,
            deny_warnings,
            check,
        }),
        Command::Diff {
            old,
            new,
            env,
            target,
            format,
            fail_on,
        } => diff::run(&diff::Options {
            old: &old,
            new: &new,
            env: env.as_deref(),
            target,
            format,
            fail_on,
        }),
        Command::Graph { file, env, format } => diff::graph(&file, env.as_deref(), format),
        Command::Fmt { files, check } => fmt::run(&files, check),
        Command::Lsp => crate::lsp::run(),
        Command::Explain { code } => explain::run(&code),
    })
}
