//! The validation rules, in one place for both labs.
//!
//! - name: trimmed, 1 to [`MAX_NAME_CHARS`] characters, no control characters (NUL,
//!   ESC, newlines...) and no bidirectional formatting characters (U+202A to U+202E,
//!   U+2066 to U+2069), which would let a stored name rewrite a terminal or reorder
//!   the text around it wherever it is shown;
//! - email: trimmed, at most [`MAX_EMAIL_CHARS`] characters, no whitespace and none of
//!   the characters a name may not hold, shaped
//!   `local@domain.tld`: exactly one `@`, a non-empty local part, and a domain of at least
//!   two dot-separated labels, none empty.
//!
//! Lengths count Unicode characters, not bytes. Each function returns the trimmed value
//! or a reason a person can act on.

use crate::StoreError;

/// Characters `trim` removes (Unicode White_Space), as a regex character-class body.
macro_rules! white {
    () => {
        r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}
/// Characters no name or email may hold: controls and bidirectional formatting.
macro_rules! hidden {
    () => {
        r"\x00-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069"
    };
}

/// The name rule as an ECMA-262 (and Rust `regex`) pattern, for the OpenAPI document:
/// whitespace around 1 to 100 characters that hold no control or bidi character and
/// neither start nor end with whitespace. Exactly the names [`name`] accepts.
pub const NAME_PATTERN: &str = concat!(
    "^[",
    white!(),
    "]*[^",
    hidden!(),
    white!(),
    "](?:[^",
    hidden!(),
    "]{0,98}[^",
    hidden!(),
    white!(),
    "])?[",
    white!(),
    "]*$"
);

/// The email rule as a pattern, for the OpenAPI document. A little stricter than
/// [`email`] so that it can bound the length without look-ahead: a local part of at
/// most 64 characters and a domain of 2 to 4 labels of at most 40. Every address it
/// matches, [`email`] accepts.
pub const EMAIL_PATTERN: &str = concat!(
    "^[",
    white!(),
    "]*[^@",
    hidden!(),
    white!(),
    "]{1,64}@[^@.",
    hidden!(),
    white!(),
    "]{1,40}(?:\\.[^@.",
    hidden!(),
    white!(),
    "]{1,40}){1,3}[",
    white!(),
    "]*$"
);

/// A search query the server accepts: at least one character that is not whitespace.
pub const QUERY_PATTERN: &str = concat!("[^", white!(), "]");

/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest email accepted, in characters (the limit of RFC 5321 paths).
pub const MAX_EMAIL_CHARS: usize = 254;

/// Checks a name and returns it trimmed.
///
/// # Errors
///
/// [`StoreError::Invalid`] when it is blank or too long.
pub fn name(raw: &str) -> Result<String, StoreError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(invalid("name must not be blank"));
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(invalid(format!(
            "name must be at most {MAX_NAME_CHARS} characters (got {chars})"
        )));
    }
    if let Some(c) = name.chars().find(|&c| hidden(c)) {
        return Err(invalid(format!(
            "name must not contain control or text-direction characters (found U+{:04X})",
            u32::from(c)
        )));
    }
    Ok(name.to_owned())
}

/// Characters that do not show as themselves: control characters and the
/// bidirectional embeddings, overrides and isolates.
fn hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Checks an email and returns it trimmed.
///
/// # Errors
///
/// [`StoreError::Invalid`] when it is blank, too long, or not shaped `local@domain.tld`.
pub fn email(raw: &str) -> Result<String, StoreError> {
    let email = raw.trim();
    if email.is_empty() {
        return Err(invalid("email must not be blank"));
    }
    let chars = email.chars().count();
    if chars > MAX_EMAIL_CHARS {
        return Err(invalid(format!(
            "email must be at most {MAX_EMAIL_CHARS} characters (got {chars})"
        )));
    }
    let shape = || {
        invalid(format!(
            "email {email:?} is not a valid address like name@example.com"
        ))
    };
    if email.chars().any(char::is_whitespace) {
        return Err(invalid(format!("email {email:?} must not contain spaces")));
    }
    if let Some(c) = email.chars().find(|&c| hidden(c)) {
        return Err(invalid(format!(
            "email must not contain control or text-direction characters (found U+{:04X})",
            u32::from(c)
        )));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(shape());
    };
    if local.is_empty() || domain.contains('@') {
        return Err(shape());
    }
    let mut labels = domain.split('.');
    let label_count = labels.clone().count();
    if label_count < 2 || labels.any(str::is_empty) {
        return Err(shape());
    }
    Ok(email.to_owned())
}

fn invalid(reason: impl Into<String>) -> StoreError {
    StoreError::Invalid(reason.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("  Ada  ").unwrap(), "Ada");
        assert_eq!(name(&"n".repeat(100)).unwrap().len(), 100);
        assert!(name(&"n".repeat(101)).is_err());
        // Characters, not bytes: 100 two-byte characters fit.
        assert!(name(&"é".repeat(100)).is_ok());
        assert!(name(&"é".repeat(101)).is_err());
        // Surrounding blanks do not count toward the limit.
        assert!(name(&format!("  {}  ", "n".repeat(100))).is_ok());
    }

    #[test]
    fn hidden_characters_are_refused_in_names_and_emails() {
        for raw in [
            "nul\0here",
            "esc\u{1b}[2J",
            "del\u{7f}",
            "rtl \u{202e}txet",
            "iso\u{2066}x",
        ] {
            let err = name(raw).unwrap_err().to_string();
            assert!(err.contains("control or text-direction"), "{raw:?}: {err}");
            let address = format!("{raw}@example.com").replace(' ', "");
            assert!(email(&address).is_err(), "{address:?}");
        }
        // Everything else a person writes is fine.
        assert_eq!(name("Zoë Ōkubo-Ünal 李").unwrap(), "Zoë Ōkubo-Ünal 李");
        assert!(name("עברית ولغة").is_ok());
    }

    #[test]
    fn blank_names_are_refused() {
        for raw in ["", " ", "\t\n"] {
            let err = name(raw).unwrap_err();
            assert_eq!(err, StoreError::Invalid("name must not be blank".into()));
        }
    }

    #[test]
    fn good_emails_pass_trimmed() {
        assert_eq!(email(" a@b.co ").unwrap(), "a@b.co");
        assert!(email("first.last+tag@mail.example.org").is_ok());
        assert!(email("UPPER@EXAMPLE.COM").is_ok());
    }

    #[test]
    fn email_length_bound_is_254() {
        let domain = "@example.com";
        let at_limit = format!("{}{domain}", "a".repeat(254 - domain.len()));
        assert_eq!(at_limit.len(), 254);
        assert!(email(&at_limit).is_ok());
        let over = format!("{}{domain}", "a".repeat(255 - domain.len()));
        assert_eq!(over.len(), 255);
        assert!(email(&over).unwrap_err().to_string().contains("254"));
    }

    #[test]
    fn badly_shaped_emails_are_refused() {
        for raw in [
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a@b@c.com",
            "a@.com",
            "a@b.",
            "a@b..com",
            "a b@c.com",
            "a@b.c om",
            "",
            "   ",
        ] {
            assert!(
                matches!(email(raw), Err(StoreError::Invalid(_))),
                "{raw:?} should be refused"
            );
        }
    }

    mod properties {
        use proptest::prelude::*;
        use regex::Regex;

        use super::super::*;

        /// Text built from the characters the rules care about: letters, the email
        /// punctuation, whitespace (inner and trimmable), controls and bidi marks.
        fn text() -> impl Strategy<Value = String> {
            let pieces = prop::sample::select(vec![
                "a", "Z", "é", "李", "@", ".", "-", "+", " ", "\t", "\n", "\u{a0}", "\u{2003}",
                "\u{3000}", "\0", "\u{1b}", "\u{7f}", "\u{85}", "\u{202e}", "\u{2067}", "x@y.co",
                "name",
            ]);
            prop::collection::vec(pieces, 0..40).prop_map(|parts| parts.concat())
        }

        /// Names around the length limit, padded with whitespace that trimming removes.
        fn near_the_limit() -> impl Strategy<Value = String> {
            (0usize..3, 1usize..4, 95usize..106).prop_map(|(pad, word, n)| {
                let inner: String = "é n"
                    .chars()
                    .cycle()
                    .take(word)
                    .chain("n".repeat(n).chars())
                    .collect();
                format!("{}{inner}{}", " ".repeat(pad), "\t".repeat(pad))
            })
        }

        fn long_text() -> impl Strategy<Value = String> {
            (text(), 0usize..120, text()).prop_map(|(a, n, b)| format!("{a}{}{b}", "n".repeat(n)))
        }

        proptest! {
            #[test]
            fn the_name_pattern_is_exactly_the_name_rule(
                raw in prop_oneof![text(), long_text(), near_the_limit()]
            ) {
                let pattern = Regex::new(NAME_PATTERN).unwrap();
                prop_assert_eq!(pattern.is_match(&raw), name(&raw).is_ok(), "{:?}", raw);
            }

            #[test]
            fn every_address_the_email_pattern_allows_is_accepted(raw in prop_oneof![text(), long_text()]) {
                let pattern = Regex::new(EMAIL_PATTERN).unwrap();
                if pattern.is_match(&raw) {
                    prop_assert!(email(&raw).is_ok(), "{:?}", raw);
                }
            }

            #[test]
            fn a_query_matches_the_pattern_when_it_is_not_blank(raw in text()) {
                let pattern = Regex::new(QUERY_PATTERN).unwrap();
                prop_assert_eq!(pattern.is_match(&raw), !raw.trim().is_empty(), "{:?}", raw);
            }

            #[test]
            fn accepted_values_are_trimmed_and_clean(raw in text()) {
                for accepted in [name(&raw), email(&raw)].into_iter().flatten() {
                    prop_assert_eq!(accepted.trim(), accepted.as_str());
                    prop_assert!(!accepted.chars().any(hidden));
                }
            }
        }

        #[test]
        fn the_email_pattern_allows_ordinary_addresses() {
            let pattern = Regex::new(EMAIL_PATTERN).unwrap();
            for ok in [
                "a@b.co",
                " first.last+tag@mail.example.org ",
                "UPPER@EXAMPLE.COM",
            ] {
                assert!(pattern.is_match(ok), "{ok}");
            }
        }
    }
}
