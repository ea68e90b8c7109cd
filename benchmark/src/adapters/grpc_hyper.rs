//! gRPC with the leanest correct client: the generated tonic client sending straight to
//! a hyper HTTP/2 connection of its own (no `Channel`, no buffer task, no load
//! balancer), one connection per client. Encoding, decoding and HTTP/2 framing are the
//! same as the `gRPC (Channel)` row's; only the hop through the Channel is gone.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use grpc_lab::greet_pb::GreetRequest;
use grpc_lab::greet_pb::greet_service_client::GreetServiceClient;
use grpc_lab::pb::user_service_client::UserServiceClient;
use hyper::client::conn::http2::{self, SendRequest};
use hyper_util::rt::{TokioExecutor, TokioIo};
use lab_kit::ReusableTimeout;

use super::grpc_channel::perform;
use super::shared::link::Link;
use super::shared::users::{self, Auth, Creator, UserOp};
use super::{Adapter, ClientKind, Prepared, ProbeContext, RowInfo, SetUp};
use crate::adapters::shared::dial::Dial;
use crate::engine::probe::{CallError, ErrorKind, Probe};
use crate::settings::{ConnectionPolicy, Protocol};

/// The gRPC row over a direct HTTP/2 connection.
#[derive(Debug)]
pub(crate) struct GrpcHyper;

static INFO: RowInfo = RowInfo {
    key: "grpc-hyper",
    label: "gRPC (hyper h2)",
    client: "tonic over hyper h2",
    kind: ClientKind::Lean,
    lab: &users::GRPC,
    protocol: Some(Protocol::Grpc),
    bytes_unmeasured: None,
    server_cpu_unmeasured: None,
    alpn: lab_kit::tls::ALPN_H2,
};

impl Adapter for GrpcHyper {
    type Plan = UserOp;
    type Probe = H2Probe;
    type Link = Link<GrpcH2>;

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
        link: &Link<GrpcH2>,
        index: usize,
    ) -> H2Probe {
        H2Probe {
            link: link.clone(),
            first_item: None,
            url: context.target.clone(),
            authority: context.authority.clone(),
            policy: context.policy,
            dial: context.dial.clone(),
            timeout: ReusableTimeout::new(context.timeout),
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

/// An HTTP/2 connection as a tower service, which is all a generated client needs.
#[derive(Debug, Clone)]
pub(crate) struct H2Connection {
    sender: SendRequest<tonic::body::Body>,
}

impl H2Connection {
    /// A service sending on an HTTP/2 connection's request handle.
    pub(crate) fn new(sender: SendRequest<tonic::body::Body>) -> Self {
        H2Connection { sender }
    }
}

type Reply = http::Response<hyper::body::Incoming>;

impl tower::Service<http::Request<tonic::body::Body>> for H2Connection {
    type Response = Reply;
    type Error = hyper::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Reply, hyper::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), hyper::Error>> {
        self.sender.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(self.sender.send_request(request))
    }
}

/// A generated client on an HTTP/2 connection, cloned into each client sharing it.
#[derive(Debug, Clone)]
pub(crate) struct GrpcH2 {
    client: UserServiceClient<H2Connection>,
    greeter: GreetServiceClient<H2Connection>,
    /// The connection's handle, to see whether it has closed.
    sender: SendRequest<tonic::body::Body>,
}

impl GrpcH2 {
    fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }
}

/// One client on its HTTP/2 connection (its own, unless clients share connections).
#[derive(Debug)]
pub(crate) struct H2Probe {
    link: Link<GrpcH2>,
    first_item: Option<Duration>,
    url: String,
    authority: String,
    policy: ConnectionPolicy,
    dial: Dial,
    timeout: ReusableTimeout,
    client: Option<GrpcH2>,
    plan: UserOp,
    creator: Creator,
    auth: Option<Auth>,
}

impl H2Probe {
    async fn connect(&self) -> Result<GrpcH2, CallError> {
        let origin: http::Uri = self.url.parse().map_err(|e: http::uri::InvalidUri| {
            CallError::new(ErrorKind::Connect, e.to_string())
        })?;
        let authority = self.authority.clone();
        let (limit, dial) = (self.timeout.limit(), self.dial.clone());
        let connecting = async move {
            let io = TokioIo::new(super::shared::dial::connect(&authority, limit, &dial).await?);
            http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(|e| CallError::new(ErrorKind::Connect, e.to_string()))
        };
        let (sender, connection) = tokio::time::timeout(limit, connecting)
            .await
            .map_err(|_| CallError::new(ErrorKind::Timeout, "connecting timed out"))??;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(GrpcH2 {
            client: UserServiceClient::with_origin(
                H2Connection::new(sender.clone()),
                origin.clone(),
            ),
            greeter: GreetServiceClient::with_origin(H2Connection::new(sender.clone()), origin),
            sender,
        })
    }
}

impl Probe for H2Probe {
    async fn call(&mut self) -> Result<(), CallError> {
        let mut client = match self.client.take() {
            Some(client) => client,
            None if self.policy == ConnectionPolicy::New => self.connect().await?,
            None => {
                let link = self.link.clone();
                link.shared(|| self.connect()).await?
            }
        };
        let calling = async {
            match &self.plan {
                UserOp::Greet { name } => {
                    let request = GreetRequest { name: name.clone() };
                    let request = users::with_auth(request, self.auth.as_ref());
                    let reply = client.greeter.greet(request).await;
                    let reply = reply.map_err(|s| users::grpc_error(&s))?;
                    users::check_greeting(&reply.into_inner().message, name).map(|()| None)
                }
                plan => {
                    perform(
                        &mut client.client,
                        plan,
                        &mut self.creator,
                        self.auth.as_ref(),
                    )
                    .await
                }
            }
        };
        let result = match self.timeout.run(calling).await {
            Ok(result) => result.map(|first| self.first_item = first),
            Err(_) => Err(CallError::new(ErrorKind::Timeout, "no reply in time")),
        };
        if self.policy == ConnectionPolicy::Reuse {
            if client.is_closed() {
                self.link.drop_if(GrpcH2::is_closed).await;
            } else {
                self.client = Some(client);
            }
        }
        result
    }

    fn first_item(&self) -> Option<Duration> {
        self.first_item
    }
}
