//! [`UserService`]: the `users.v1.UserService` methods on the shared [`UserStore`].
//!
//! Each method turns the protobuf request into store arguments, calls the store, and
//! builds the protobuf reply; store errors become status codes in [`crate::status`].

use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use user_store::{NewUser, User, UserStore, UserUpdate};

use crate::chat::ChatRoom;
use crate::pb;
use crate::pb::user_service_server::{UserService as UserServiceRpc, UserServiceServer};
use crate::status::from_store_error;

/// The gRPC user service: the store every method works on, and the chat room.
#[derive(Debug, Clone)]
pub struct UserService {
    store: UserStore,
    room: ChatRoom,
}

impl UserService {
    /// A service on `store` with a fresh chat room.
    pub fn new(store: UserStore) -> Self {
        UserService::with_room(store, ChatRoom::default())
    }

    /// A service on `store` whose `ChatStream` calls join `room`.
    pub fn with_room(store: UserStore, room: ChatRoom) -> Self {
        UserService { store, room }
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

/// The users of a `ListUsers` call: a snapshot taken when the call starts.
type UserStream = tokio_stream::Iter<std::vec::IntoIter<Result<pb::User, Status>>>;

#[tonic::async_trait]
impl UserServiceRpc for UserService {
    async fn get_all_users(
        &self,
        _request: Request<pb::Empty>,
    ) -> Result<Response<pb::UserList>, Status> {
        let users = self.store.list().into_iter().map(to_pb).collect();
        Ok(Response::new(pb::UserList {
            success: true,
            users,
        }))
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
        let id = UserStore::parse_id(&request.get_ref().id).map_err(from_store_error)?;
        let user = self.store.delete(id).map_err(from_store_error)?;
        Ok(Response::new(pb::DeleteResponse {
            success: true,
            message: format!("User {} deleted", user.id),
        }))
    }

    type ListUsersStream = UserStream;

    /// Streams a snapshot of the first `limit` users. Streaming from a snapshot needs no
    /// producer task: when the client hangs up, tonic drops the stream and nothing is
    /// left running.
    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<Self::ListUsersStream>, Status> {
        let limit = match request.get_ref().limit {
            0 => usize::MAX,
            n => n as usize,
        };
        let users: Vec<_> = self
            .store
            .first(limit)
            .into_iter()
            .map(|user| Ok(to_pb(user)))
            .collect();
        Ok(Response::new(tokio_stream::iter(users)))
    }

    async fn create_users(
        &self,
        request: Request<Streaming<pb::CreateUserRequest>>,
    ) -> Result<Response<pb::CreateUsersResponse>, Status> {
        let mut requests = request.into_inner();
        let mut summary = pb::CreateUsersResponse::default();
        let mut index = 0usize;
        while let Some(next) = requests.next().await {
            let pb::CreateUserRequest { name, email } = next?;
            match self.store.create(NewUser { name, email }) {
                Ok(user) => {
                    summary.created_count += 1;
                    summary.users.push(to_pb(user));
                }
                Err(error) => summary.errors.push(format!("#{index}: {error}")),
            }
            index += 1;
        }
        Ok(Response::new(summary))
    }

    type ChatStreamStream = ReceiverStream<Result<pb::ChatMessage, Status>>;

    async fn chat_stream(
        &self,
        request: Request<Streaming<pb::ChatMessage>>,
    ) -> Result<Response<Self::ChatStreamStream>, Status> {
        Ok(Response::new(self.room.join(request.into_inner())))
    }
}
