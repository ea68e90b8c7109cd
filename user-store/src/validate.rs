//! The validation rules, in one place for both labs.
//!
//! - name: trimmed, 1 to [`MAX_NAME_CHARS`] characters;
//! - email: trimmed, at most [`MAX_EMAIL_CHARS`] characters, no whitespace, shaped
//!   `local@domain.tld`: exactly one `@`, a non-empty local part, and a domain of at least
//!   two dot-separated labels, none empty.
//!
//! Lengths count Unicode characters, not bytes. Each function returns the trimmed value
//! or a reason a person can act on.

use crate::StoreError;

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
    Ok(name.to_owned())
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
}
