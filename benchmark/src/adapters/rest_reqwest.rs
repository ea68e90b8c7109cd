//! REST with the lab's own client: `RestClient` on reqwest, HTTP/1.1 with keep-alive
//! (or a new connection per request), or HTTP/2 with prior knowledge (h2c), one
//! connection per client. reqwest's pool, its `Url` handling and its
//! response machinery are what this row adds over the hyper row.

use super::shared::link::Link;
use super::shared::users::{self, Creator, UserOp};
use super::{Adapter, ClientKind, Prepared, ProbeContext, RowInfo, SetUp};
use crate::engine::probe::{CallError, ErrorKind, Probe};
use crate::settings::{ConnectionPolicy, Protocol};
use rest_lab::client::{ClientOptions, RestClient, RestError};

/// A REST row with reqwest, over HTTP/1.1 or HTTP/2.
#[derive(Debug)]
pub(crate) struct RestReqwest {
    info: &'static RowInfo,
    http2: bool,
}

/// REST over HTTP/1.1 with reqwest.
pub(crate) static HTTP1: RestReqwest = RestReqwest {
    info: &RowInfo {
        key: "rest-reqwest",
        label: "REST (reqwest)",
        client: "reqwest",
        kind: ClientKind::Standard,
        lab: &users::REST,
        protocol: Some(Protocol::Rest),
        bytes_unmeasured: Some(
            "reqwest keeps its connections to itself; the hyper row counts them",
        ),
        server_cpu_unmeasured: None,
        alpn: lab_kit::tls::ALPN_HTTP1,
    },
    http2: false,
};

/// REST over HTTP/2 with prior knowledge (h2c) with reqwest, to the same server.
pub(crate) static HTTP2: RestReqwest = RestReqwest {
    info: &RowInfo {
        key: "rest-h2-reqwest",
        label: "REST h2c (reqwest)",
        client: "reqwest h2",
        kind: ClientKind::Standard,
        lab: &users::REST,
        protocol: Some(Protocol::RestH2),
        bytes_unmeasured: Some(
            "reqwest keeps its connections to itself; the hyper row counts them",
        ),
        server_cpu_unmeasured: None,
        alpn: lab_kit::tls::ALPN_H2,
    },
    http2: true,
};

impl Adapter for RestReqwest {
    type Plan = UserOp;
    type Probe = RestProbe;
    type Link = Link<RestClient>;

    fn info(&self) -> &'static RowInfo {
        self.info
    }

    async fn set_up(&self, target: &str, setup: &SetUp) -> anyhow::Result<Prepared<UserOp>> {
        users::set_up_rest(target, setup).await
    }

    fn probe(
        &self,
        plan: &UserOp,
        context: &ProbeContext,
        link: &Link<RestClient>,
        index: usize,
    ) -> RestProbe {
        RestProbe {
            target: context.relayed.clone(),
            options: ClientOptions {
                timeout: context.timeout,
                http2: self.http2,
                reuse_connections: context.policy == ConnectionPolicy::Reuse,
                tls: context.dial.tls.clone(),
                token: context.token.clone(),
            },
            link: link.clone(),
            client: None,
            plan: plan.clone(),
            creator: Creator::new(context, index),
        }
    }

    async fn clean_up(&self, target: &str, ids: Vec<String>, setup: &SetUp) -> usize {
        users::clean_up_rest(target, ids, setup).await
    }
}

/// One reqwest client. Clients sharing a connection share one `RestClient`: over
/// HTTP/1.1 they take turns with it, so its pool keeps one connection; over HTTP/2 it
/// multiplexes them on its one connection.
#[derive(Debug)]
pub(crate) struct RestProbe {
    target: String,
    options: ClientOptions,
    link: Link<RestClient>,
    /// This client's handle on the shared HTTP/2 client, once it has one.
    client: Option<RestClient>,
    plan: UserOp,
    creator: Creator,
}

impl RestProbe {
    fn build(&self) -> Result<RestClient, CallError> {
        RestClient::with_options(&self.target, &self.options)
            .map_err(|e| CallError::new(ErrorKind::Connect, e.to_string()))
    }
}

impl Probe for RestProbe {
    async fn call(&mut self) -> Result<(), CallError> {
        if self.options.http2 {
            let client = match self.client.take() {
                Some(client) => client,
                None => {
                    let link = self.link.clone();
                    link.shared(|| std::future::ready(self.build())).await?
                }
            };
            let result = perform(&client, &self.plan, &mut self.creator).await;
            self.client = Some(client);
            result
        } else {
            let link = self.link.clone();
            let mut slot = link.turn().await;
            let client = match &mut *slot {
                Some(client) => client,
                None => slot.insert(self.build()?),
            };
            perform(client, &self.plan, &mut self.creator).await
        }
    }
}

/// One request of the plan, checked.
async fn perform(
    client: &RestClient,
    plan: &UserOp,
    creator: &mut Creator,
) -> Result<(), CallError> {
    match plan {
        UserOp::Get { id } => {
            let user = client.get_user_data(id).await.map_err(rest_error)?;
            users::check_user_id(&user.id.to_string(), id)
        }
        // reqwest's client reads the array whole: no time to first item here.
        UserOp::List { expected } | UserOp::Stream { expected } => {
            let list = client.list_users_data().await.map_err(rest_error)?;
            users::check_count(list.len(), *expected)
        }
        UserOp::Greet { .. } => Err(users::no_payload_route()),
        UserOp::Create => {
            let email = creator.next_email();
            let user = client
                .create_user_data("Bench User", &email)
                .await
                .map_err(rest_error)?;
            creator.created.push(user.id.to_string());
            users::check_email(&user.email, &email)
        }
    }
}

fn rest_error(error: RestError) -> CallError {
    let kind = match &error {
        RestError::Http { error, .. } if error.is_timeout() => ErrorKind::Timeout,
        RestError::Http { error, .. } if error.is_connect() => ErrorKind::Connect,
        RestError::Http { .. } => ErrorKind::Transport,
        RestError::Api { .. } => ErrorKind::Status,
        RestError::BadBody(_) | RestError::BadUrl { .. } => ErrorKind::WrongReply,
    };
    CallError::new(kind, error.to_string())
}
