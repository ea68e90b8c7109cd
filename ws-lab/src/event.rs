//! The chat room's events on the wire, one JSON object per text message:
//!
//! ```text
//! {"kind":"message","sender":"ann","text":"hi","timestamp":"2026-11-22T10:11:12.345Z"}
//! {"kind":"join","sender":"bob","timestamp":"..."}
//! {"kind":"leave","sender":"bob","timestamp":"..."}
//! {"kind":"notice","text":"3 messages were skipped: you fell behind"}
//! ```
//!
//! A leaf: it imports nothing from the rest of the crate.

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// One event of the chat room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Event {
    /// A member said something (delivered to every member, the sender included).
    Message {
        /// Who said it.
        sender: String,
        /// What they said.
        text: String,
        /// When the server received it, RFC 3339 in UTC.
        timestamp: String,
    },
    /// A member joined (announced to the others).
    Join {
        /// Who joined.
        sender: String,
        /// When, RFC 3339 in UTC.
        timestamp: String,
    },
    /// A member left (announced to the others).
    Leave {
        /// Who left.
        sender: String,
        /// When, RFC 3339 in UTC.
        timestamp: String,
    },
    /// Something only this member is told (it fell behind, it sent a binary message).
    Notice {
        /// What happened.
        text: String,
    },
}

impl Event {
    /// A message from `sender`, stamped now.
    pub fn message(sender: &str, text: &str) -> Event {
        Event::Message {
            sender: sender.to_owned(),
            text: text.to_owned(),
            timestamp: now(),
        }
    }

    /// The event as its wire text.
    pub fn to_json(&self) -> String {
        // Strings and a tag only: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Now, RFC 3339 in UTC with milliseconds.
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_as_the_contract_writes_them() {
        let text = Event::message("ann", "hi").to_json();
        assert!(text.starts_with(r#"{"kind":"message","sender":"ann","text":"hi","timestamp":""#));
        let notice = Event::Notice { text: "x".into() }.to_json();
        assert_eq!(notice, r#"{"kind":"notice","text":"x"}"#);
        let back: Event = serde_json::from_str(&text).unwrap();
        assert!(matches!(back, Event::Message { .. }));
    }
}
