//! The user model, its validation rules and an in-memory store, shared by the REST lab
//! and the gRPC lab so both enforce exactly the same rules.
//!
//! Nothing here knows about HTTP or gRPC: each lab maps [`StoreError`] to its own wire
//! codes (404/400/409 and NOT_FOUND/INVALID_ARGUMENT/ALREADY_EXISTS).
//!
//! ```
//! use user_store::{NewUser, UserStore};
//!
//! let store = UserStore::empty();
//! let ada = store.create(NewUser::new("Ada Lovelace", "ada@example.com")).unwrap();
//! assert_eq!(store.get(ada.id).unwrap().name, "Ada Lovelace");
//! assert!(store.create(NewUser::new("Ada", "ADA@example.com")).is_err());
//! ```

mod error;
mod store;
mod user;
pub mod validate;

pub use error::StoreError;
pub use store::{Cursor, UserStore};
pub use user::{NewUser, User, UserUpdate};
