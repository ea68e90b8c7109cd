//! What can go wrong with a store operation.

/// Why the store refused an operation. Each variant maps to one wire code per lab.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No user has this id (or the id is not a UUID at all).
    #[error("no user with id {id}")]
    NotFound {
        /// The id as the caller gave it.
        id: String,
    },
    /// The input breaks a validation rule; the text says which and how to fix it.
    #[error("{0}")]
    Invalid(String),
    /// Another user already has this email (compared case-insensitively).
    #[error("a user with email {email} already exists")]
    DuplicateEmail {
        /// The email as the caller gave it, trimmed.
        email: String,
    },
}
