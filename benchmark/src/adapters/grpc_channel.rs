//! gRPC with the lab's own client: `GrpcClient` on a tonic `Channel`, configured as the
//! lab configures it. A `Channel` puts a buffer task between the caller and the HTTP/2
//! connection (so clones can share it); that hop is what this row adds over the
//! `gRPC (hyper h2)` row, which sends the same generated calls straight to the
//! connection.

use std::time::{Duration, Instant};

use grpc_lab::GrpcClient;
use grpc_lab::pb;
use grpc_lab::pb::user_service_client::UserServiceClient;
use hyper_util::rt::TokioIo;
use tonic::client::GrpcService;

use super::shared::link::Link;
use super::shared::users::{self, Auth, Creator, UserOp};
use super::{Adapter, ClientKind, Prepared, ProbeContext, RowInfo, SetUp};
use crate::adapters::shared::dial::Dial;
use crate::engine::probe::{CallError, ErrorKind, Probe};
use crate::settings::{ConnectionPolicy, Protocol};

/// The gRPC row with a tonic Channel.
#[derive(Debug)]
pub(crate) struct GrpcChannel;

static INFO: RowInfo = RowInfo {
    key: "grpc-channel",
    label: "gRPC (Channel)",
    client: "tonic Channel",
    kind: ClientKind::Standard,
    lab: &users::GRPC,
    protocol: Some(Protocol::Grpc),
    bytes_unmeasured: None,
    server_cpu_unmeasured: None,
    alpn: lab_kit::tls::ALPN_H2,
};

impl Adapter for GrpcChannel {
    type Plan = UserOp;
    type Probe = ChannelProbe;
    type Link = Link<GrpcClient>;

    fn info(&self) -> &'static RowInfo {
        &INFO
    }

    async fn set_up(&self, target: &str, setup: &SetUp) -> anyhow::Result<Prepared<UserOp>> {
        users::set_up_grpc(target, setup).await
    }

    fn probe(
        &self,
        plan: &UserOp,
        context: &ProbeContext,
        link: &Link<GrpcClient>,
        index: usize,
    ) -> ChannelProbe {
        ChannelProbe {
            link: link.clone(),
            first_item: None,
            url: context.target.clone(),
            authority: context.authority.clone(),
            timeout: context.timeout,
            policy: context.policy,
            dial: context.dial.clone(),
            client: None,
            plan: plan.clone(),
            creator: Creator::new(context, index),
            auth: users::grpc_auth(context.token.as_ref()),
        }
    }

    async fn clean_up(&self, target: &str, ids: Vec<String>, setup: &SetUp) -> usize {
        users::clean_up_grpc(target, ids, setup).await
    }
}

/// One client on its connection's Channel (its own, unless clients share connections).
#[derive(Debug)]
pub(crate) struct ChannelProbe {
    link: Link<GrpcClient>,
    first_item: Option<Duration>,
    url: String,
    authority: String,
    timeout: Duration,
    policy: ConnectionPolicy,
    dial: Dial,
    client: Option<GrpcClient>,
    plan: UserOp,
    creator: Creator,
    auth: Option<Auth>,
}

impl ChannelProbe {
    /// A channel as the lab's client makes it, over a connection that counts its bytes.
    async fn connect(&self) -> Result<GrpcClient, CallError> {
        let endpoint = grpc_lab::client::endpoint(&self.url, self.timeout)
            .map_err(|e| CallError::new(ErrorKind::Connect, e.to_string()))?;
        let authority = self.authority.clone();
        let (timeout, dial) = (self.timeout, self.dial.clone());
        let connector = tower::service_fn(move |_: http::Uri| {
            let (authority, dial) = (authority.clone(), dial.clone());
            async move {
                match super::shared::dial::connect(&authority, timeout, &dial).await {
                    Ok(stream) => Ok(TokioIo::new(stream)),
                    Err(e) => Err(std::io::Error::other(e.message)),
                }
            }
        });
        let channel = endpoint
            .connect_with_connector(connector)
            .await
            .map_err(|e| CallError::new(ErrorKind::Connect, lab_kit::error_chain(&e)))?;
        Ok(GrpcClient::from_channel(channel, &self.url))
    }
}

impl Probe for ChannelProbe {
    async fn call(&mut self) -> Result<(), CallError> {
        let mut client = match self.client.take() {
            Some(client) => client,
            None if self.policy == ConnectionPolicy::New => self.connect().await?,
            None => {
                let link = self.link.clone();
                link.shared(|| self.connect()).await?
            }
        };
        let result = match &self.plan {
            UserOp::Greet { name } => match client.greet(name).await {
                Ok(reply) => users::check_greeting(&reply, name).map(|()| None),
                Err(status) => Err(users::grpc_error(&status)),
            },
            plan => perform(client.raw(), plan, &mut self.creator, self.auth.as_ref()).await,
        };
        let result = result.map(|first| self.first_item = first);
        match &result {
            // A new channel per request.
            _ if self.policy == ConnectionPolicy::New => {}
            // A broken connection: a fresh channel next time, for every client on it.
            Err(e) if matches!(e.kind, ErrorKind::Transport | ErrorKind::Connect) => {
                self.link.drop_if(|_| true).await;
            }
            _ => self.client = Some(client),
        }
        result
    }

    fn first_item(&self) -> Option<Duration> {
        self.first_item
    }
}

/// One call of the plan through a generated client over any transport, checked; for a
/// stream, how long after the call began its first item arrived.
pub(crate) async fn perform<T>(
    client: &mut UserServiceClient<T>,
    plan: &UserOp,
    creator: &mut Creator,
    auth: Option<&Auth>,
) -> Result<Option<Duration>, CallError>
where
    T: GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: tonic::codegen::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    match plan {
        UserOp::Get { id } => {
            let request = pb::UserRequest { id: id.clone() };
            let reply = client
                .get_user(users::with_auth(request, auth))
                .await
                .map_err(|s| users::grpc_error(&s))?;
            let user = user_of(reply)?;
            users::check_user_id(&user.id, id)?;
        }
        UserOp::List { expected } => {
            let reply = client
                .get_all_users(users::with_auth(pb::Empty {}, auth))
                .await
                .map_err(|s| users::grpc_error(&s))?;
            users::check_count(reply.into_inner().users.len(), *expected)?;
        }
        UserOp::Create => {
            let email = creator.next_email();
            let request = pb::CreateUserRequest {
                name: "Bench User".into(),
                email: email.clone(),
            };
            let reply = client
                .create_user(users::with_auth(request, auth))
                .await
                .map_err(|s| users::grpc_error(&s))?;
            let user = user_of(reply)?;
            creator.created.push(user.id);
            users::check_email(&user.email, &email)?;
        }
        // Greet goes to its own service: the probes send it.
        UserOp::Greet { .. } => {
            return Err(CallError::new(
                ErrorKind::WrongReply,
                "Greet is not a user call",
            ));
        }
        UserOp::Stream { expected } => {
            let started = Instant::now();
            let mut stream = client
                .list_users(users::with_auth(pb::ListUsersRequest { limit: 0 }, auth))
                .await
                .map_err(|s| users::grpc_error(&s))?
                .into_inner();
            let mut first = None;
            let mut count = 0;
            while let Some(user) = stream.message().await.map_err(|s| users::grpc_error(&s))? {
                first.get_or_insert_with(|| started.elapsed());
                if user.id.is_empty() {
                    return Err(CallError::new(
                        ErrorKind::WrongReply,
                        "a user without an id",
                    ));
                }
                count += 1;
            }
            users::check_count(count, *expected)?;
            return Ok(first);
        }
    }
    Ok(None)
}

/// The user a `UserResponse` carries; a reply without one is a wrong reply.
fn user_of(reply: tonic::Response<pb::UserResponse>) -> Result<pb::User, CallError> {
    let user = reply.into_inner().user;
    user.ok_or_else(|| CallError::new(ErrorKind::WrongReply, "a reply without a user"))
}
