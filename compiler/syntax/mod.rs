//! Text -> spanned AST. The grammar (grammar/sorcha.pest) is the only source of syntax;
//! pest pairs never leave this module. Parsing never fails outright: it returns a partial
//! tree and a diagnostic for each broken declaration.

pub mod ast;
pub mod chunk;
pub mod keyed;
mod parser;

pub use parser::{
    MAX_NESTING, ParseCache, parse_chunked, parse_chunked_keyed, parse_file, parse_file_cached,
    parse_keyed,
};
