//! The in-memory user store.
//!
//! One `RwLock` guards all the state, so each operation (check the email index, insert,
//! update the index) is a single atomic step: two concurrent creates with the same email
//! can never both succeed. A std lock is the right tool here: every critical section is a
//! few map operations with no `.await` inside, so an async mutex would only add cost.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{SubsecRound, Utc};
use uuid::Uuid;

use crate::validate;
use crate::{NewUser, StoreError, User, UserUpdate};

/// The two users a store starts with, as the original lab did.
const DEMO_USERS: [(&str, &str); 2] = [
    ("John Doe", "john@example.com"),
    ("Jane Smith", "jane@example.com"),
];

/// Where a paged read of the users stopped (see [`UserStore::page`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(u64);

/// A cheap-to-clone, thread-safe handle to one shared set of users.
#[derive(Debug, Clone)]
pub struct UserStore {
    state: Arc<RwLock<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// Users by id, each with its creation sequence number.
    users: HashMap<Uuid, (u64, User)>,
    /// Creation order: sequence number to id.
    order: BTreeMap<u64, Uuid>,
    /// Lower-cased email to id: the uniqueness rule.
    by_email: HashMap<String, Uuid>,
    next_seq: u64,
}

impl Default for UserStore {
    fn default() -> Self {
        UserStore::new()
    }
}

impl UserStore {
    /// A store holding the two demo users (John Doe and Jane Smith).
    pub fn new() -> Self {
        let store = UserStore::empty();
        for (name, email) in DEMO_USERS {
            // The demo users are valid and distinct, so this cannot fail; if a rule ever
            // changed to refuse them, the store would simply start without them.
            let _ = store.create(NewUser::new(name, email));
        }
        store
    }

    /// A store with no users.
    pub fn empty() -> Self {
        UserStore {
            state: Arc::new(RwLock::new(State::default())),
        }
    }

    /// Turns an id from the wire into a UUID. An id that is not a UUID names no user, so
    /// it is [`StoreError::NotFound`], exactly like an unknown UUID.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when `raw` is not a UUID.
    pub fn parse_id(raw: &str) -> Result<Uuid, StoreError> {
        Uuid::try_parse(raw.trim()).map_err(|_| StoreError::NotFound { id: raw.to_owned() })
    }

    /// Every user, in creation order.
    pub fn list(&self) -> Vec<User> {
        self.first(usize::MAX)
    }

    /// The first `limit` users in creation order.
    pub fn first(&self, limit: usize) -> Vec<User> {
        let state = self.read();
        state
            .order
            .values()
            .take(limit)
            .filter_map(|id| state.users.get(id).map(|(_, user)| user.clone()))
            .collect()
    }

    /// Up to `limit` users in creation order, starting after `cursor` (from the first
    /// user when `None`), and the cursor to pass for the next page (`None` when this page
    /// reached the last user). Reading a long list page by page holds the lock for one
    /// page at a time, and nothing between pages: users created meanwhile appear at the
    /// end, users deleted before their page is read do not appear.
    pub fn page(&self, cursor: Option<Cursor>, limit: usize) -> (Vec<User>, Option<Cursor>) {
        use std::ops::Bound::{Excluded, Unbounded};
        let state = self.read();
        let start = cursor.map_or(Unbounded, |Cursor(seq)| Excluded(seq));
        let mut users = Vec::with_capacity(limit.min(state.order.len()));
        let mut last = None;
        for (&seq, id) in state.order.range((start, Unbounded)).take(limit) {
            if let Some((_, user)) = state.users.get(id) {
                users.push(user.clone());
            }
            last = Some(seq);
        }
        let more = last.is_some_and(|seq| {
            state
                .order
                .range((Excluded(seq), Unbounded))
                .next()
                .is_some()
        });
        (users, last.filter(|_| more).map(Cursor))
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.read().users.len()
    }

    /// True when there are no users.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The user with this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn get(&self, id: Uuid) -> Result<User, StoreError> {
        self.read()
            .users
            .get(&id)
            .map(|(_, user)| user.clone())
            .ok_or_else(|| not_found(id))
    }

    /// Validates and stores a new user with a fresh id and the current time.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for a bad name or email, [`StoreError::DuplicateEmail`]
    /// when the email is taken.
    pub fn create(&self, new: NewUser) -> Result<User, StoreError> {
        let name = validate::name(&new.name)?;
        let email = validate::email(&new.email)?;
        let key = email.to_lowercase();
        let mut state = self.write();
        if state.by_email.contains_key(&key) {
            return Err(StoreError::DuplicateEmail { email });
        }
        let user = User {
            id: Uuid::new_v4(),
            name,
            email,
            // Microseconds: the precision of the wire form, so what is stored is what is sent.
            created_at: Utc::now().trunc_subsecs(6),
        };
        let seq = state.next_seq;
        state.next_seq += 1;
        state.by_email.insert(key, user.id);
        state.order.insert(seq, user.id);
        state.users.insert(user.id, (seq, user.clone()));
        Ok(user)
    }

    /// Changes the name and/or email of a user; absent fields stay as they are. Keeping
    /// one's own email (in any letter case) is not a conflict.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when neither field is given or one is invalid,
    /// [`StoreError::NotFound`], [`StoreError::DuplicateEmail`].
    pub fn update(&self, id: Uuid, update: UserUpdate) -> Result<User, StoreError> {
        if update.name.is_none() && update.email.is_none() {
            return Err(StoreError::Invalid(
                "nothing to update: give a name and/or an email".into(),
            ));
        }
        let name = update.name.as_deref().map(validate::name).transpose()?;
        let email = update.email.as_deref().map(validate::email).transpose()?;

        let mut state = self.write();
        let State {
            users, by_email, ..
        } = &mut *state;
        let (_, user) = users.get_mut(&id).ok_or_else(|| not_found(id))?;
        if let Some(email) = email {
            let key = email.to_lowercase();
            match by_email.get(&key) {
                Some(owner) if *owner != id => {
                    return Err(StoreError::DuplicateEmail { email });
                }
                _ => {}
            }
            by_email.remove(&user.email.to_lowercase());
            by_email.insert(key, id);
            user.email = email;
        }
        if let Some(name) = name {
            user.name = name;
        }
        Ok(user.clone())
    }

    /// Removes a user and returns what was removed.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn delete(&self, id: Uuid) -> Result<User, StoreError> {
        let mut state = self.write();
        let (seq, user) = state.users.remove(&id).ok_or_else(|| not_found(id))?;
        state.order.remove(&seq);
        state.by_email.remove(&user.email.to_lowercase());
        Ok(user)
    }

    /// Users whose name or email contains `query`, ignoring case, in creation order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when the query is blank.
    pub fn search(&self, query: &str) -> Result<Vec<User>, StoreError> {
        let needle = query.trim().to_lowercase();
        if needle.is_empty() {
            return Err(StoreError::Invalid("search query must not be blank".into()));
        }
        let state = self.read();
        Ok(state
            .order
            .values()
            .filter_map(|id| state.users.get(id).map(|(_, user)| user))
            .filter(|user| {
                user.name.to_lowercase().contains(&needle)
                    || user.email.to_lowercase().contains(&needle)
            })
            .cloned()
            .collect())
    }

    // No operation panics while holding the lock, so poisoning cannot carry a broken
    // invariant; recovering the guard keeps one bad thread from taking the store down.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

fn not_found(id: Uuid) -> StoreError {
    StoreError::NotFound { id: id.to_string() }
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;

    use super::*;

    fn ada() -> NewUser {
        NewUser::new("Ada Lovelace", "ada@example.com")
    }

    #[test]
    fn starts_with_two_demo_users_unless_empty() {
        let demo = UserStore::new();
        let names: Vec<_> = demo.list().into_iter().map(|u| u.name).collect();
        assert_eq!(names, ["John Doe", "Jane Smith"]);
        assert!(UserStore::empty().is_empty());
    }

    #[test]
    fn pages_walk_every_user_in_order_and_see_changes_between_pages() {
        let store = UserStore::empty();
        let made: Vec<_> = (0..7)
            .map(|i| {
                store
                    .create(NewUser::new("U", format!("u{i}@example.com")))
                    .unwrap()
            })
            .collect();
        let (first, cursor) = store.page(None, 3);
        assert_eq!(first, made[..3]);
        // Between pages: one user not yet read is deleted, one is created.
        store.delete(made[4].id).unwrap();
        let late = store
            .create(NewUser::new("Late", "late@example.com"))
            .unwrap();
        let (second, cursor) = store.page(cursor, 3);
        assert_eq!(second, [made[3].clone(), made[5].clone(), made[6].clone()]);
        let (third, cursor) = store.page(cursor, 3);
        assert_eq!(third, [late]);
        assert_eq!(cursor, None, "the last page says so");
        assert_eq!(store.page(None, 0), (vec![], None));
    }

    #[test]
    fn create_trims_and_stores() {
        let store = UserStore::empty();
        let user = store
            .create(NewUser::new("  Ada  ", " ada@example.com "))
            .unwrap();
        assert_eq!(user.name, "Ada");
        assert_eq!(user.email, "ada@example.com");
        assert_eq!(user.id.get_version_num(), 4);
        assert_eq!(store.get(user.id).unwrap(), user);
    }

    #[test]
    fn create_validates() {
        let store = UserStore::empty();
        assert!(matches!(
            store.create(NewUser::new(" ", "a@b.co")),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            store.create(NewUser::new("A", "a@@b.co")),
            Err(StoreError::Invalid(_))
        ));
        assert!(store.is_empty(), "nothing stored on failure");
    }

    #[test]
    fn emails_are_unique_ignoring_case() {
        let store = UserStore::empty();
        store.create(ada()).unwrap();
        let err = store
            .create(NewUser::new("Other", "ADA@Example.COM"))
            .unwrap_err();
        assert_eq!(
            err,
            StoreError::DuplicateEmail {
                email: "ADA@Example.COM".into()
            }
        );
    }

    #[test]
    fn list_keeps_creation_order_across_deletes() {
        let store = UserStore::empty();
        let ids: Vec<_> = (0..5)
            .map(|i| {
                store
                    .create(NewUser::new(format!("U{i}"), format!("u{i}@x.io")))
                    .unwrap()
                    .id
            })
            .collect();
        store.delete(ids[1]).unwrap();
        let listed: Vec<_> = store.list().into_iter().map(|u| u.id).collect();
        assert_eq!(listed, [ids[0], ids[2], ids[3], ids[4]]);
        let first: Vec<_> = store.first(2).into_iter().map(|u| u.id).collect();
        assert_eq!(first, [ids[0], ids[2]]);
    }

    #[test]
    fn update_is_partial() {
        let store = UserStore::empty();
        let user = store.create(ada()).unwrap();
        let renamed = store
            .update(
                user.id,
                UserUpdate {
                    name: Some("Countess".into()),
                    email: None,
                },
            )
            .unwrap();
        assert_eq!(renamed.name, "Countess");
        assert_eq!(renamed.email, user.email);
        assert_eq!(renamed.created_at, user.created_at);

        let moved = store
            .update(
                user.id,
                UserUpdate {
                    name: None,
                    email: Some("countess@example.com".into()),
                },
            )
            .unwrap();
        assert_eq!(moved.name, "Countess");
        assert_eq!(moved.email, "countess@example.com");
        // The old email is free again.
        store
            .create(NewUser::new("New Ada", "ada@example.com"))
            .unwrap();
    }

    #[test]
    fn update_needs_a_field_and_valid_values() {
        let store = UserStore::empty();
        let user = store.create(ada()).unwrap();
        assert!(matches!(
            store.update(user.id, UserUpdate::default()),
            Err(StoreError::Invalid(_))
        ));
        let blank = UserUpdate {
            name: Some("  ".into()),
            email: None,
        };
        assert!(matches!(
            store.update(user.id, blank),
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(store.get(user.id).unwrap(), user, "unchanged on failure");
    }

    #[test]
    fn keeping_ones_own_email_is_not_a_conflict() {
        let store = UserStore::empty();
        let user = store.create(ada()).unwrap();
        let same = UserUpdate {
            name: Some("Ada".into()),
            email: Some("ADA@example.com".into()),
        };
        let updated = store.update(user.id, same).unwrap();
        assert_eq!(updated.email, "ADA@example.com");

        let other = store
            .create(NewUser::new("Bob", "bob@example.com"))
            .unwrap();
        let steal = UserUpdate {
            name: None,
            email: Some("ada@EXAMPLE.com".into()),
        };
        assert!(matches!(
            store.update(other.id, steal),
            Err(StoreError::DuplicateEmail { .. })
        ));
    }

    #[test]
    fn unknown_and_malformed_ids_are_not_found() {
        let store = UserStore::new();
        let missing = Uuid::new_v4();
        assert!(matches!(
            store.get(missing),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            store.delete(missing),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            store.update(
                missing,
                UserUpdate {
                    name: Some("x".into()),
                    email: None
                }
            ),
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(
            UserStore::parse_id("not-a-uuid"),
            Err(StoreError::NotFound {
                id: "not-a-uuid".into()
            })
        );
    }

    #[test]
    fn delete_removes_and_frees_the_email() {
        let store = UserStore::empty();
        let user = store.create(ada()).unwrap();
        assert_eq!(store.delete(user.id).unwrap(), user);
        assert!(store.get(user.id).is_err());
        assert!(store.create(ada()).is_ok());
    }

    #[test]
    fn search_matches_name_or_email_ignoring_case() {
        let store = UserStore::new();
        let names = |q: &str| -> Vec<String> {
            store
                .search(q)
                .unwrap()
                .into_iter()
                .map(|u| u.name)
                .collect()
        };
        assert_eq!(names("JOHN"), ["John Doe"]);
        assert_eq!(names("example.com"), ["John Doe", "Jane Smith"]);
        assert_eq!(names("smi"), ["Jane Smith"]);
        assert!(names("zzz").is_empty());
        assert!(matches!(store.search("  "), Err(StoreError::Invalid(_))));
    }

    #[test]
    fn serializes_to_the_wire_shape_with_rfc3339_time() {
        let store = UserStore::empty();
        let user = store.create(ada()).unwrap();
        let json = serde_json::to_value(&user).unwrap();
        assert_eq!(json["id"], user.id.to_string());
        assert_eq!(json["name"], "Ada Lovelace");
        assert_eq!(json["email"], "ada@example.com");
        assert_eq!(json.as_object().unwrap().len(), 4);
        let stamp = json["created_at"].as_str().unwrap();
        assert_eq!(stamp, user.created_at_rfc3339());
        assert!(stamp.ends_with('Z'), "{stamp}");
        let parsed = chrono::DateTime::parse_from_rfc3339(stamp).unwrap();
        assert_eq!(parsed, user.created_at);
    }

    #[test]
    fn concurrent_creates_of_one_email_succeed_exactly_once() {
        let store = UserStore::empty();
        let threads = 32;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let store = store.clone();
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    // Same address in different letter cases.
                    let email = if i % 2 == 0 {
                        "race@example.com"
                    } else {
                        "RACE@example.com"
                    };
                    store.create(NewUser::new(format!("Racer {i}"), email))
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let created = results.iter().filter(|r| r.is_ok()).count();
        let duplicates = results
            .iter()
            .filter(|r| matches!(r, Err(StoreError::DuplicateEmail { .. })))
            .count();
        assert_eq!(created, 1);
        assert_eq!(duplicates, threads - 1);
        assert_eq!(store.len(), 1);
    }
}
