//! `sorchac explain CODE`: prints a code's long explanation.

use super::{EXIT_OK, EXIT_USAGE};
use crate::diag::Code;
use crate::diag::codes::REGISTRY;
use crate::diag::suggest::did_you_mean;

pub fn run(code: &str) -> u8 {
    match Code::parse(code) {
        Some(c) => {
            let info = c.info();
            print!("{}", info.map_or("", |i| i.explanation));
            EXIT_OK
        }
        None => {
            let help = did_you_mean(
                &code.to_uppercase(),
                REGISTRY.iter().map(|i| i.code.as_str()),
            )
            .unwrap_or_else(|| "codes look like `E0201` or `W0001`".to_string());
            eprintln!("error: `{code}` is not a diagnostic code\nhelp: {help}");
            EXIT_USAGE
        }
    }
}
