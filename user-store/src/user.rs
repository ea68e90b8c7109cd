//! The user record and the inputs that create or change one.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};
use uuid::Uuid;

/// A stored user. Serializes as
/// `{"id": "<uuid>", "name": "...", "email": "...", "created_at": "<RFC 3339>"}`, and
/// reads back from the same shape (which is how clients decode it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// Random (v4) UUID given at creation.
    pub id: Uuid,
    /// Display name, trimmed, 1 to 100 characters.
    pub name: String,
    /// Email, trimmed, unique case-insensitively.
    pub email: String,
    /// When the user was created: RFC 3339 in UTC.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl User {
    /// `created_at` as RFC 3339 in UTC with a `Z` suffix and microseconds, the one form
    /// both labs put on the wire.
    pub fn created_at_rfc3339(&self) -> String {
        self.created_at.to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

fn rfc3339<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&time.to_rfc3339_opts(SecondsFormat::Micros, true))
}

/// The fields needed to create a user, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Display name as given (it will be trimmed).
    pub name: String,
    /// Email as given (it will be trimmed).
    pub email: String,
}

impl NewUser {
    /// A creation request from any two strings.
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Self {
        NewUser {
            name: name.into(),
            email: email.into(),
        }
    }
}

/// A partial update: `None` leaves a field unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    /// New display name, if it changes.
    pub name: Option<String>,
    /// New email, if it changes.
    pub email: Option<String>,
}

impl UserUpdate {
    /// Reads the options of an interactive `update ID [--name N] [--email E]` command
    /// (both clients' prompts take it), in any order.
    ///
    /// # Errors
    ///
    /// When a flag has no value, is not `--name` or `--email`, or neither is given.
    pub fn from_flags(words: &[&str]) -> Result<UserUpdate, String> {
        let mut update = UserUpdate::default();
        let mut rest = words.iter();
        while let Some(flag) = rest.next() {
            let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
            match *flag {
                "--name" => update.name = Some((*value).to_owned()),
                "--email" => update.email = Some((*value).to_owned()),
                other => return Err(format!("unknown option {other}; use --name and/or --email")),
            }
        }
        if update == UserUpdate::default() {
            return Err("nothing to change: give --name NAME and/or --email EMAIL".into());
        }
        Ok(update)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_flags_in_any_order() {
        assert_eq!(
            UserUpdate::from_flags(&["--email", "e@x.io", "--name", "N"]),
            Ok(UserUpdate {
                name: Some("N".into()),
                email: Some("e@x.io".into())
            })
        );
        assert!(UserUpdate::from_flags(&[]).is_err());
        assert!(UserUpdate::from_flags(&["--name"]).is_err());
        assert!(UserUpdate::from_flags(&["--nick", "x"]).is_err());
    }
}
