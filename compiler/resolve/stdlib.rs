//! The standard library: `.sorcha` modules embedded in the compiler, loaded by
//! `use std.NAME`. Rust implements only the primitives; the templates are Sorcha code.

/// Every module, by name, with its source.
static MODULES: &[(&str, &str)] = &[
    ("dotnet-api", include_str!("../../stdlib/dotnet-api.sorcha")),
    ("mongodb", include_str!("../../stdlib/mongodb.sorcha")),
    ("postgres", include_str!("../../stdlib/postgres.sorcha")),
    ("redis", include_str!("../../stdlib/redis.sorcha")),
];

/// The source of module `name`.
pub fn module(name: &str) -> Option<&'static str> {
    MODULES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The module names, sorted.
pub fn names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(n, _)| *n)
}
