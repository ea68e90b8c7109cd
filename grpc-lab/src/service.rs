//! [`UserService`]: the `users.v1.UserService` methods on the shared [`UserStore`].
//!
//! Each method turns the protobuf request into store arguments, calls the store, and
//! builds the protobuf reply; store errors become status codes in [`crate::status`].

use std::pin::Pin;
use std::task::{Context, Poll};

use lab_kit::ReplyBudget;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};
use user_store::{Cursor, NewUser, User, UserStore, UserUpdate};

use crate::chat::{CHAT_NAME_METADATA, ChatRoom, MemberStream};
use crate::pb;
use crate::pb::user_service_server::{UserService as UserServiceRpc, UserServiceServer};
use crate::status::from_store_error;
use lab_kit::token::Token;

/// The gRPC user service: the store every method works on, and the chat room.
#[derive(Debug, Clone)]
pub struct UserService {
    store: UserStore,
    room: ChatRoom,
    reply_budget: ReplyBudget,
    auth_token: Option<Token>,
}

impl UserService {
    /// A service on `store` with a fresh chat room.
    pub fn new(store: UserStore) -> Self {
        UserService::with_room(store, ChatRoom::default())
    }

    /// A service on `store` whose `ChatStream` calls join `room`.
    pub fn with_room(store: UserStore, room: ChatRoom) -> Self {
        UserService {
            store,
            room,
            reply_budget: ReplyBudget::default(),
            auth_token: None,
        }
    }

    /// The same service with writes (CreateUser, UpdateUser, DeleteUser, CreateUsers)
    /// refused with UNAUTHENTICATED unless they carry `authorization: Bearer <token>`.
    pub fn with_auth_token(mut self, token: Option<Token>) -> Self {
        self.auth_token = token;
        self
    }

    /// A write's check: passes without a token configured, or with the token presented.
    fn authorize<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let Some(token) = &self.auth_token else {
            return Ok(());
        };
        let presented = request
            .metadata()
            .get("authorization")
            .map(|value| value.as_bytes());
        if token.matches_bearer(presented) {
            Ok(())
        } else {
            Err(Status::unauthenticated(
                "this server needs a bearer token for writes: send `authorization: Bearer \
                 TOKEN` metadata (grpc-client --token TOKEN)",
            ))
        }
    }

    /// The same service with `budget` bounding what `GetAllUsers` replies waiting to be
    /// read may hold (see [`lab_kit::budget`]).
    pub fn with_reply_budget(mut self, budget: ReplyBudget) -> Self {
        self.reply_budget = budget;
        self
    }

    /// The chat room, so the server can close it on shutdown.
    pub fn room(&self) -> &ChatRoom {
        &self.room
    }

    /// Wraps the service for tonic's router.
    pub fn into_server(self) -> UserServiceServer<Self> {
        UserServiceServer::new(self)
    }
}

/// The protobuf form of a stored user.
pub fn to_pb(user: User) -> pb::User {
    pb::User {
        id: user.id.to_string(),
        created_at: user.created_at_rfc3339(),
        name: user.name,
        email: user.email,
    }
}

fn user_response(message: &str, user: User) -> Response<pb::UserResponse> {
    Response::new(pb::UserResponse {
        success: true,
        message: message.into(),
        user: Some(to_pb(user)),
    })
}

/// Memory a listed user takes in a `GetAllUsers` reply until it is sent (its protobuf
/// struct, about 230 bytes, with some room).
const LIST_BYTES_PER_USER: usize = 256;
/// Users a `ListUsers` stream reads from the store at a time.
const PAGE_USERS: usize = 64;
/// Users a `CreateUsers` summary lists; the count covers them all.
pub const CREATE_USERS_LISTED: usize = 1_000;
/// Errors a `CreateUsers` summary lists; one more line says how many were left out.
pub const CREATE_USERS_ERRORS_LISTED: usize = 100;

/// The users of a `ListUsers` call, read from the store a page at a time as the client
/// takes them: a stream the client does not read holds one page, not the whole list.
#[derive(Debug)]
pub struct UserPages {
    store: UserStore,
    cursor: Option<Cursor>,
    remaining: usize,
    page: std::vec::IntoIter<User>,
    last_page: bool,
}

impl UserPages {
    fn new(store: UserStore, limit: usize) -> Self {
        UserPages {
            store,
            cursor: None,
            remaining: limit,
            page: Vec::new().into_iter(),
            last_page: false,
        }
    }
}

impl Stream for UserPages {
    type Item = Result<pb::User, Status>;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.remaining == 0 {
                return Poll::Ready(None);
            }
            if let Some(user) = this.page.next() {
                this.remaining -= 1;
                return Poll::Ready(Some(Ok(to_pb(user))));
            }
            if this.last_page {
                return Poll::Ready(None);
            }
            let (users, next) = this.store.page(this.cursor, PAGE_USERS.min(this.remaining));
            this.last_page = next.is_none();
            this.cursor = next;
            this.page = users.into_iter();
        }
    }
}

#[tonic::async_trait]
impl UserServiceRpc for UserService {
    async fn get_all_users(
        &self,
        _request: Request<pb::Empty>,
    ) -> Result<Response<pb::UserList>, Status> {
        // Reserve the reply's memory before building it; the connection holds the
        // permit until the reply has been read.
        let bytes = self.store.len().saturating_mul(LIST_BYTES_PER_USER);
        let permit = self.reply_budget.reserve(bytes).await;
        let users = self.store.list().into_iter().map(to_pb).collect();
        let mut response = Response::new(pb::UserList {
            success: true,
            users,
        });
        response.extensions_mut().insert(permit);
        Ok(response)
    }

    async fn get_user(
        &self,
        request: Request<pb::UserRequest>,
    ) -> Result<Response<pb::UserResponse>, Status> {
        let id = UserStore::parse_id(&request.get_ref().id).map_err(from_store_error)?;
        let user = self.store.get(id).map_err(from_store_error)?;
        Ok(user_response("User found", user))
    }

    async fn create_user(
        &self,
        request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::UserResponse>, Status> {
        self.authorize(&request)?;
        let pb::CreateUserRequest { name, email } = request.into_inner();
        let user = self
            .store
            .create(NewUser { name, email })
            .map_err(from_store_error)?;
        Ok(user_response("User created", user))
    }

    async fn update_user(
        &self,
        request: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::UserResponse>, Status> {
        self.authorize(&request)?;
        let pb::UpdateUserRequest { id, name, email } = request.into_inner();
        let id = UserStore::parse_id(&id).map_err(from_store_error)?;
        // proto3 `optional` gives presence: None leaves the field as it is, and a
        // present but blank value is refused by the store's rules.
        let user = self
            .store
            .update(id, UserUpdate { name, email })
            .map_err(from_store_error)?;
        Ok(user_response("User updated", user))
    }

    async fn delete_user(
        &self,
        request: Request<pb::UserRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        self.authorize(&request)?;
        let id = UserStore::parse_id(&request.get_ref().id).map_err(from_store_error)?;
        let user = self.store.delete(id).map_err(from_store_error)?;
        Ok(Response::new(pb::DeleteResponse {
            success: true,
            message: format!("User {} deleted", user.id),
        }))
    }

    type ListUsersStream = UserPages;

    /// Streams the first `limit` users, read from the store a page at a time. No
    /// producer task: when the client hangs up, tonic drops the stream and nothing is
    /// left running. Like every list reply, it must be read within the idle timeout.
    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<Self::ListUsersStream>, Status> {
        let limit = match request.get_ref().limit {
            0 => usize::MAX,
            n => n as usize,
        };
        // The stream holds a page at a time; its permit also puts it on the clock, so a
        // client that never reads it is dropped after the idle timeout.
        let permit = self
            .reply_budget
            .reserve(PAGE_USERS * LIST_BYTES_PER_USER)
            .await;
        let mut response = Response::new(UserPages::new(self.store.clone(), limit));
        response.extensions_mut().insert(permit);
        Ok(response)
    }

    async fn create_users(
        &self,
        request: Request<Streaming<pb::CreateUserRequest>>,
    ) -> Result<Response<pb::CreateUsersResponse>, Status> {
        self.authorize(&request)?;
        let mut requests = request.into_inner();
        let mut summary = pb::CreateUsersResponse::default();
        let mut unlisted_errors = 0u64;
        let mut index = 0u64;
        while let Some(next) = requests.next().await {
            let pb::CreateUserRequest { name, email } = next?;
            match self.store.create(NewUser { name, email }) {
                Ok(user) => {
                    summary.created_count = summary.created_count.saturating_add(1);
                    if summary.users.len() < CREATE_USERS_LISTED {
                        summary.users.push(to_pb(user));
                    }
                }
                Err(error) if summary.errors.len() < CREATE_USERS_ERRORS_LISTED => {
                    summary.errors.push(format!("#{index}: {error}"));
                }
                Err(_) => unlisted_errors += 1,
            }
            index += 1;
        }
        // The summary stays small whatever the stream: the count is exact, the lists are
        // the first ones, and the last error line says how many more there were.
        if unlisted_errors > 0 {
            summary.errors.push(format!(
                "... and {unlisted_errors} more rejected requests not listed"
            ));
        }
        Ok(Response::new(summary))
    }

    type ChatStreamStream = MemberStream;

    async fn chat_stream(
        &self,
        request: Request<Streaming<pb::ChatMessage>>,
    ) -> Result<Response<Self::ChatStreamStream>, Status> {
        let name = request
            .metadata()
            .get(CHAT_NAME_METADATA)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        Ok(Response::new(
            self.room.join_as(name, request.into_inner())?,
        ))
    }
}
