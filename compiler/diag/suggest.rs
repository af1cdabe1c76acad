//! "Did you mean": the one helper every phase uses to suggest a close name for an unknown
//! reference, key, kind, code or environment.

/// The candidate closest to `name`, if one is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let score = if c.eq_ignore_ascii_case(name) {
            1.0
        } else {
            strsim::jaro_winkler(&lower, &c.to_ascii_lowercase())
        };
        let distance = strsim::damerau_levenshtein(&lower, &c.to_ascii_lowercase());
        let close = score >= 0.85 || distance <= (name.chars().count().max(3) / 3).max(1);
        if close && best.is_none_or(|(s, b)| score > s || (score == s && c < b)) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// A help line `did you mean `x`?` when a close candidate exists.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["wallet", "register", "validator", "postgres"];
        assert_eq!(closest("walet", names), Some("wallet"));
        assert_eq!(closest("postgre", names), Some("postgres"));
        assert_eq!(closest("Wallet", names), Some("wallet"));
        assert_eq!(closest("kafka", names), None);
        assert_eq!(closest("x", names), None);
    }
}
