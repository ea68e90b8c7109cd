//! The one place where store errors become gRPC status codes.

use tonic::Status;
use user_store::StoreError;

/// Maps a store error to its status: NOT_FOUND, INVALID_ARGUMENT or ALREADY_EXISTS,
/// with a message a person can act on.
pub(crate) fn from_store_error(error: StoreError) -> Status {
    match error {
        StoreError::NotFound { id } => Status::not_found(format!(
            "No user has id {id:?}; GetAllUsers lists the ids that exist."
        )),
        StoreError::Invalid(reason) => {
            Status::invalid_argument(format!("Invalid request: {reason}."))
        }
        StoreError::DuplicateEmail { email } => Status::already_exists(format!(
            "A user with email {email} already exists; use another email."
        )),
    }
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    #[test]
    fn each_store_error_has_its_code() {
        let cases = [
            (StoreError::NotFound { id: "x".into() }, Code::NotFound),
            (
                StoreError::Invalid("name must not be blank".into()),
                Code::InvalidArgument,
            ),
            (
                StoreError::DuplicateEmail {
                    email: "a@b.co".into(),
                },
                Code::AlreadyExists,
            ),
        ];
        for (error, code) in cases {
            let status = from_store_error(error);
            assert_eq!(status.code(), code);
            assert!(status.message().ends_with('.'), "{}", status.message());
        }
    }
}
