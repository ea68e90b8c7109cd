//! Splitting a typed command line into words, for the clients' interactive modes.

/// Splits `line` into words at whitespace; single or double quotes keep spaces inside a
/// word (`create "Ada Lovelace" ada@example.com` gives three words), and a backslash
/// escapes the next character.
///
/// # Errors
///
/// When a quote is left open, with a message saying so.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (c, quote) {
            ('\\', _) => {
                if let Some(next) = chars.next() {
                    word.push(next);
                    in_word = true;
                }
            }
            (q @ ('"' | '\''), None) => {
                quote = Some(q);
                in_word = true;
            }
            (q, Some(open)) if q == open => quote = None,
            (c, None) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (c, _) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if let Some(open) = quote {
        return Err(format!("unclosed {open} quote"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split_words;

    #[test]
    fn splits_on_whitespace_and_respects_quotes() {
        assert_eq!(
            split_words(r#"  create "Ada Lovelace"  ada@x.io "#).unwrap(),
            ["create", "Ada Lovelace", "ada@x.io"]
        );
        assert_eq!(split_words("say 'it''s' \"\"").unwrap(), ["say", "its", ""]);
        assert_eq!(split_words(r"a\ b c").unwrap(), ["a b", "c"]);
        assert!(split_words("").unwrap().is_empty());
        assert!(split_words("open \"quote").is_err());
    }
}
