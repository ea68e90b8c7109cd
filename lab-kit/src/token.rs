//! A bearer token that guards a server's writes (`--auth-token`): compared in constant
//! time (SHA-256 of both sides, then a constant-time comparison of the digests, so not
//! even the presented token's length shows in the timing), and never shown: its `Debug`
//! is redacted and nothing here can print it.

use std::sync::Arc;

use subtle::ConstantTimeEq;

/// Longest token accepted: it travels in a header.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// The token a server expects.
#[derive(Clone)]
pub struct Token {
    digest: Arc<[u8; 32]>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

impl Token {
    /// Reads a token as `--auth-token` takes it: 1 to 4096 visible ASCII characters
    /// (what an `Authorization: Bearer` header can carry).
    ///
    /// # Errors
    ///
    /// When it is empty, too long, or holds a space or a control character (the
    /// message never repeats the token).
    pub fn parse(text: &str) -> Result<Token, String> {
        if text.is_empty() {
            return Err("the token is empty".into());
        }
        if text.len() > MAX_TOKEN_BYTES {
            return Err(format!("the token is longer than {MAX_TOKEN_BYTES} bytes"));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the token may hold only visible ASCII characters (no spaces)".into());
        }
        Ok(Token {
            digest: Arc::new(sha256(text.as_bytes())),
        })
    }

    /// Whether `presented` is this token, in time that does not depend on where they
    /// differ.
    pub fn matches(&self, presented: &[u8]) -> bool {
        bool::from(sha256(presented).ct_eq(&self.digest[..]))
    }

    /// Whether an `Authorization` header's value is `Bearer <this token>` (the scheme in
    /// any case, as RFC 9110 has it).
    pub fn matches_bearer(&self, authorization: Option<&[u8]>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let Some((scheme, token)) = split_scheme(value) else {
            return false;
        };
        scheme.eq_ignore_ascii_case(b"bearer") && self.matches(token)
    }
}

/// The token a client presents (`--token`): kept out of `Debug` and every message.
#[derive(Clone)]
pub struct Bearer(Arc<str>);

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bearer(<redacted>)")
    }
}

impl Bearer {
    /// Reads a token as `--token` takes it (the rules of [`Token::parse`]).
    ///
    /// # Errors
    ///
    /// As [`Token::parse`].
    pub fn parse(text: &str) -> Result<Bearer, String> {
        Token::parse(text)?;
        Ok(Bearer(text.into()))
    }

    /// The token itself, to put on the wire.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// The `Authorization` header's value: `Bearer TOKEN`.
    pub fn header_value(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

/// A clap value parser for a secret: like any other, but its error never repeats the
/// value (clap's own says `invalid value 'VALUE' for ...`).
#[derive(Debug, Clone)]
pub struct SecretParser<T>(fn(&str) -> Result<T, String>);

impl<T: Clone + Send + Sync + 'static> clap::builder::TypedValueParser for SecretParser<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let name = arg.map_or_else(|| "the token".to_owned(), ToString::to_string);
        let refused = |reason: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for {name}: {reason}\n"),
            )
            .with_cmd(cmd)
        };
        let text = value
            .to_str()
            .ok_or_else(|| refused("it is not UTF-8".into()))?;
        (self.0)(text).map_err(refused)
    }
}

/// The parser for `--auth-token`.
pub fn token_parser() -> SecretParser<Token> {
    SecretParser(Token::parse)
}

/// The parser for `--token`.
pub fn bearer_parser() -> SecretParser<Bearer> {
    SecretParser(Bearer::parse)
}

fn split_scheme(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, rest) = value.split_at(space);
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some((scheme, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_matches_itself_only_and_is_never_shown() {
        let token = Token::parse("s3cret-token").unwrap();
        assert!(token.matches(b"s3cret-token"));
        assert!(!token.matches(b"s3cret-tokeN"));
        assert!(!token.matches(b"s3cret"));
        assert!(!token.matches(b""));
        assert!(token.matches_bearer(Some(b"Bearer s3cret-token")));
        assert!(token.matches_bearer(Some(b"bearer  s3cret-token")));
        assert!(!token.matches_bearer(Some(b"Basic s3cret-token")));
        assert!(!token.matches_bearer(Some(b"Bearer")));
        assert!(!token.matches_bearer(Some(b"s3cret-token")));
        assert!(!token.matches_bearer(None));
        assert!(!format!("{token:?}").contains("s3cret"));
        let bearer = Bearer::parse("s3cret-token").unwrap();
        assert!(token.matches_bearer(Some(bearer.header_value().as_bytes())));
        assert!(!format!("{bearer:?}").contains("s3cret"));
    }

    #[test]
    fn the_flags_error_never_repeats_the_token() {
        use clap::Parser;
        #[derive(Debug, Parser)]
        struct Cli {
            #[arg(long, value_parser = bearer_parser())]
            token: Option<Bearer>,
        }
        let error = Cli::try_parse_from(["c", "--token", "has secret space"]).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("--token"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert!(
            Cli::try_parse_from(["c", "--token", "fine"])
                .unwrap()
                .token
                .is_some()
        );
    }

    #[test]
    fn tokens_a_header_cannot_carry_are_refused_without_repeating_them() {
        for bad in [
            "",
            "has space",
            "tab\there",
            &"x".repeat(MAX_TOKEN_BYTES + 1),
        ] {
            let error = Token::parse(bad).unwrap_err();
            assert!(bad.is_empty() || !error.contains(bad), "{error}");
        }
    }
}
