//! [`GrpcClient`]: the calls of the gRPC lab, shared by the self-test suite, the demo,
//! the interactive prompt, the chat and the benchmark.

use std::time::Duration;

use tokio_stream::Stream;
use tonic::transport::{Channel, Endpoint};
use tonic::{Status, Streaming};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use lab_kit::tls::ClientTls;
use lab_kit::token::Bearer;

use crate::greet_pb::GreetRequest;
use crate::greet_pb::greet_service_client::GreetServiceClient;
use crate::pb;
use crate::pb::user_service_client::UserServiceClient;

/// Default limit on connecting and on each unary call.
pub const DEFAULT_TIMEOUT: Duration = lab_kit::args::DEFAULT_CLIENT_TIMEOUT.0;

/// Why the client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL is not usable.
    #[error("invalid server URL {url:?}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Nothing answered at the URL.
    #[error(
        "cannot connect to {url}: {} (is grpc-server running there?)",
        lab_kit::error_chain(error)
    )]
    Connect {
        /// The URL as given.
        url: String,
        /// What the transport said.
        error: tonic::transport::Error,
    },
}

/// How a client reaches a server beyond its URL: the TLS it trusts and shows for
/// `https://`, and the token it sends on writes.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// For `https://` (the system's CAs when `None`).
    pub tls: Option<ClientTls>,
    /// Sent as `authorization: Bearer` on writes.
    pub token: Option<Bearer>,
}

/// A client for one gRPC lab server. Cheap to clone: clones share the HTTP/2 connection.
#[derive(Debug, Clone)]
pub struct GrpcClient {
    inner: UserServiceClient<Channel>,
    greeter: GreetServiceClient<Channel>,
    health: HealthClient<Channel>,
    url: String,
    /// Sent as `authorization: Bearer` metadata on writes.
    token: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>,
}

impl GrpcClient {
    /// Connects to `url` (like `http://127.0.0.1:50051`); `timeout` bounds connecting
    /// and each unary call.
    ///
    /// # Errors
    ///
    /// [`ConnectError`] when the URL is unusable or nothing answers there.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self, ConnectError> {
        GrpcClient::connect_over(url, timeout, None).await
    }

    /// Connects to `url`, over TLS when it is `https://` (trusting what `tls` says, the
    /// system's CAs when `None`; ALPN `h2`).
    ///
    /// # Errors
    ///
    /// [`ConnectError`] when the URL is unusable, nothing answers there, or the TLS
    /// handshake fails.
    pub async fn connect_over(
        url: &str,
        timeout: Duration,
        tls: Option<&ClientTls>,
    ) -> Result<Self, ConnectError> {
        let endpoint = endpoint(url, timeout)?;
        let connected = if lab_kit::args::is_tls_url(endpoint.uri().to_string().as_str()) {
            let tls = match tls {
                Some(tls) => tls.with_alpn(lab_kit::tls::ALPN_H2),
                None => ClientTls::new(None, None, lab_kit::tls::ALPN_H2).map_err(|e| {
                    ConnectError::BadUrl {
                        url: url.to_owned(),
                        reason: e.to_string(),
                    }
                })?,
            };
            endpoint
                .connect_with_connector(tls_connector(tls, timeout))
                .await
        } else {
            endpoint.connect().await
        };
        let channel = connected.map_err(|error| ConnectError::Connect {
            url: url.to_owned(),
            error,
        })?;
        Ok(GrpcClient::from_channel(channel, url))
    }

    /// Connects to `url` as `access` says (TLS for `https://`, the token on writes).
    ///
    /// # Errors
    ///
    /// As [`connect_over`](Self::connect_over).
    pub async fn open(url: &str, timeout: Duration, access: &Access) -> Result<Self, ConnectError> {
        let client = GrpcClient::connect_over(url, timeout, access.tls.as_ref()).await?;
        client
            .with_token(access.token.as_ref())
            .map_err(|status| ConnectError::BadUrl {
                url: url.to_owned(),
                reason: status.message().to_owned(),
            })
    }

    /// The same client, sending `token` as `authorization: Bearer` on writes.
    ///
    /// # Errors
    ///
    /// When the token cannot travel as metadata (never for one [`Bearer::parse`] took).
    pub fn with_token(mut self, token: Option<&Bearer>) -> Result<Self, Status> {
        self.token = token
            .map(|token| token.header_value().parse())
            .transpose()
            .map_err(|_| Status::invalid_argument("the token cannot travel as metadata"))?;
        Ok(self)
    }

    /// `message` as a write's request: with the token, when there is one.
    fn write<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(token) = &self.token {
            request
                .metadata_mut()
                .insert("authorization", token.clone());
        }
        request
    }

    /// A client over a channel made elsewhere (say with a connector of its own, as the
    /// benchmark's byte-counting one); `url` is only for messages.
    pub fn from_channel(channel: Channel, url: &str) -> Self {
        GrpcClient {
            greeter: GreetServiceClient::new(channel.clone()),
            health: HealthClient::new(channel.clone()),
            inner: UserServiceClient::new(channel),
            url: url.to_owned(),
            token: None,
        }
    }

    /// The URL this client talks to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The generated client, for calls this wrapper does not cover.
    pub fn raw(&mut self) -> &mut UserServiceClient<Channel> {
        &mut self.inner
    }

    /// `grpc.health.v1.Health/Check` for `users.v1.UserService`: whether the server
    /// says it is serving, without touching the users (the health check of compose).
    ///
    /// # Errors
    ///
    /// The status of a failed call (NOT_FOUND when the service is unknown there).
    pub async fn serving(&mut self) -> Result<bool, Status> {
        let reply = self
            .health
            .check(HealthCheckRequest {
                service: crate::SERVICE_NAME.into(),
            })
            .await?;
        Ok(reply.into_inner().status() == ServingStatus::Serving)
    }

    /// `greet.GreetService/Greet`: the server's greeting for `name`.
    ///
    /// # Errors
    ///
    /// INVALID_ARGUMENT for a blank name.
    pub async fn greet(&mut self, name: &str) -> Result<String, Status> {
        let reply = self
            .greeter
            .greet(GreetRequest { name: name.into() })
            .await?;
        Ok(reply.into_inner().message)
    }

    /// `GetAllUsers`: every user, in creation order.
    ///
    /// # Errors
    ///
    /// The call's status.
    pub async fn get_all_users(&mut self) -> Result<Vec<pb::User>, Status> {
        let reply = self.inner.get_all_users(pb::Empty {}).await?;
        Ok(reply.into_inner().users)
    }

    /// `GetUser`: one user by id.
    ///
    /// # Errors
    ///
    /// NOT_FOUND for an unknown or malformed id.
    pub async fn get_user(&mut self, id: &str) -> Result<pb::User, Status> {
        let reply = self
            .inner
            .get_user(pb::UserRequest { id: id.into() })
            .await?;
        user_of(reply.into_inner())
    }

    /// `CreateUser`.
    ///
    /// # Errors
    ///
    /// INVALID_ARGUMENT or ALREADY_EXISTS.
    pub async fn create_user(&mut self, name: &str, email: &str) -> Result<pb::User, Status> {
        let request = pb::CreateUserRequest {
            name: name.into(),
            email: email.into(),
        };
        let reply = self.inner.create_user(self.write(request)).await?;
        user_of(reply.into_inner())
    }

    /// `UpdateUser`: `None` leaves a field unchanged.
    ///
    /// # Errors
    ///
    /// NOT_FOUND, INVALID_ARGUMENT or ALREADY_EXISTS.
    pub async fn update_user(
        &mut self,
        id: &str,
        name: Option<&str>,
        email: Option<&str>,
    ) -> Result<pb::User, Status> {
        let request = pb::UpdateUserRequest {
            id: id.into(),
            name: name.map(str::to_owned),
            email: email.map(str::to_owned),
        };
        let reply = self.inner.update_user(self.write(request)).await?;
        user_of(reply.into_inner())
    }

    /// `DeleteUser`; returns the server's message.
    ///
    /// # Errors
    ///
    /// NOT_FOUND.
    pub async fn delete_user(&mut self, id: &str) -> Result<String, Status> {
        let request = self.write(pb::UserRequest { id: id.into() });
        let reply = self.inner.delete_user(request).await?;
        Ok(reply.into_inner().message)
    }

    /// `ListUsers`: a stream of the first `limit` users (0 = all).
    ///
    /// # Errors
    ///
    /// The call's status.
    pub async fn list_users(&mut self, limit: u32) -> Result<Streaming<pb::User>, Status> {
        let reply = self
            .inner
            .list_users(pb::ListUsersRequest { limit })
            .await?;
        Ok(reply.into_inner())
    }

    /// `CreateUsers`: sends every request on one stream and returns the summary.
    ///
    /// # Errors
    ///
    /// The call's status.
    pub async fn create_users(
        &mut self,
        requests: Vec<pb::CreateUserRequest>,
    ) -> Result<pb::CreateUsersResponse, Status> {
        let request = self.write(tokio_stream::iter(requests));
        let reply = self.inner.create_users(request).await?;
        Ok(reply.into_inner())
    }

    /// `ChatStream`: joins the room, sending what `outbound` yields; returns the room's
    /// messages. Ending `outbound` leaves the room.
    ///
    /// # Errors
    ///
    /// The call's status.
    pub async fn chat(
        &mut self,
        outbound: impl Stream<Item = pb::ChatMessage> + Send + 'static,
    ) -> Result<Streaming<pb::ChatMessage>, Status> {
        let reply = self.inner.chat_stream(outbound).await?;
        Ok(reply.into_inner())
    }

    /// Like [`chat`](Self::chat), naming the member up front (`chat-name` metadata), so
    /// the room announces it at once.
    ///
    /// # Errors
    ///
    /// The call's status; INVALID_ARGUMENT when the name cannot travel as metadata.
    pub async fn chat_as(
        &mut self,
        name: &str,
        outbound: impl Stream<Item = pb::ChatMessage> + Send + 'static,
    ) -> Result<Streaming<pb::ChatMessage>, Status> {
        let mut request = tonic::Request::new(outbound);
        let value = name.parse().map_err(|_| {
            Status::invalid_argument("a chat name must be printable ASCII to travel as metadata")
        })?;
        request
            .metadata_mut()
            .insert(crate::chat::CHAT_NAME_METADATA, value);
        let reply = self.inner.chat_stream(request).await?;
        Ok(reply.into_inner())
    }
}

/// An endpoint for `url` with the lab's client settings.
///
/// # Errors
///
/// [`ConnectError::BadUrl`] when the URL is not usable.
pub fn endpoint(url: &str, timeout: Duration) -> Result<Endpoint, ConnectError> {
    let bad = |reason: String| ConnectError::BadUrl {
        url: url.to_owned(),
        reason,
    };
    // host:port alone means http://; https:// is TLS; other schemes are refused.
    let url = lab_kit::args::http_url(url).map_err(bad)?;
    let endpoint = Endpoint::from_shared(url).map_err(|e| bad(e.to_string()))?;
    Ok(endpoint
        .connect_timeout(timeout)
        .timeout(timeout)
        .tcp_nodelay(true))
}

/// Opens each of a channel's connections: TCP, then TLS with `tls` (the certificate
/// checked against the URL's host).
fn tls_connector(
    tls: ClientTls,
    timeout: Duration,
) -> impl tower::Service<
    http::Uri,
    Response = hyper_util::rt::TokioIo<lab_kit::tls::ClientStream<tokio::net::TcpStream>>,
    Error = std::io::Error,
    Future = impl Future<
        Output = std::io::Result<
            hyper_util::rt::TokioIo<lab_kit::tls::ClientStream<tokio::net::TcpStream>>,
        >,
    > + Send,
> + Clone
+ Send
+ 'static {
    tower::service_fn(move |uri: http::Uri| {
        let tls = tls.clone();
        async move {
            let authority = uri
                .authority()
                .map(|a| lab_kit::args::url_authority(&format!("https://{a}")))
                .ok_or_else(|| std::io::Error::other("the URL has no host"))?;
            let stream = lab_kit::tls::connect(&authority, Some(&tls), timeout).await?;
            Ok(hyper_util::rt::TokioIo::new(stream))
        }
    })
}

fn user_of(reply: pb::UserResponse) -> Result<pb::User, Status> {
    reply
        .user
        .ok_or_else(|| Status::internal("the server replied without a user"))
}
