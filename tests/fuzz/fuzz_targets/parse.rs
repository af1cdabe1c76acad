//! The parser on any text: never a crash, every span inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sorchac::source::SourceId;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (_, diags) = sorchac::syntax::parse_file(SourceId(0), text);
    for d in diags {
        assert!(d.span.end as usize <= text.len());
        assert!(text.is_char_boundary(d.span.start as usize));
    }
    // The formatter, on what parses: idempotent.
    if let Ok(once) = sorchac::fmt::format(SourceId(0), text) {
        let twice = sorchac::fmt::format(SourceId(0), &once).expect("formatted text formats");
        assert_eq!(once, twice);
    }
});
