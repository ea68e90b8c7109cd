//! REST with the leanest correct client: hyper's client connection, HTTP/1.1 or HTTP/2
//! with prior knowledge (h2c) to the same server, one connection per client and no
//! pool, the body read up to a limit and checked. The gap between this row and
//! `REST (reqwest)` is the client library's share; between its HTTP/1.1 and HTTP/2 rows,
//! what the HTTP version costs with the same JSON.

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use lab_kit::ReusableTimeout;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::shared::link::Link;
use super::shared::users::{self, Creator, UserOp};
use super::{Adapter, ClientKind, Prepared, ProbeContext, RowInfo, SetUp};
use crate::adapters::shared::dial::{Conn, Dial};
use crate::engine::probe::{CallError, ErrorKind, Probe};
use crate::settings::{ConnectionPolicy, Protocol};

/// Largest reply body read (as the lab's own client).
const MAX_BODY: usize = rest_lab::client::MAX_REPLY_BYTES;

/// A REST row with hyper, over HTTP/1.1 or HTTP/2.
#[derive(Debug)]
pub(crate) struct RestHyper {
    info: &'static RowInfo,
    http2: bool,
}

/// REST over HTTP/1.1 with hyper.
pub(crate) static HTTP1: RestHyper = RestHyper {
    info: &RowInfo {
        key: "rest-hyper",
        label: "REST (hyper)",
        client: "hyper",
        kind: ClientKind::Lean,
        lab: &users::REST,
        protocol: Some(Protocol::Rest),
        bytes_unmeasured: None,
        server_cpu_unmeasured: None,
        alpn: lab_kit::tls::ALPN_HTTP1,
    },
    http2: false,
};

/// REST over HTTP/2 with prior knowledge (h2c) with hyper, to the same server.
pub(crate) static HTTP2: RestHyper = RestHyper {
    info: &RowInfo {
        key: "rest-h2-hyper",
        label: "REST h2c (hyper)",
        client: "hyper h2",
        kind: ClientKind::Lean,
        lab: &users::REST,
        protocol: Some(Protocol::RestH2),
        bytes_unmeasured: None,
        server_cpu_unmeasured: None,
        alpn: lab_kit::tls::ALPN_H2,
    },
    http2: true,
};

impl Adapter for RestHyper {
    type Plan = UserOp;
    type Probe = HyperProbe;
    type Link = HyperLink;

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
        link: &HyperLink,
        index: usize,
    ) -> HyperProbe {
        let authority = context.authority.clone();
        // Parsed once here, cloned per request. Ids come from the server; one that does
        // not make a path leaves "/", whose 404 counts as an error.
        let path = match plan {
            UserOp::Get { id } => format!("/api/users/{id}"),
            UserOp::List { .. } | UserOp::Create | UserOp::Stream { .. } | UserOp::Greet { .. } => {
                "/api/users".to_owned()
            }
        };
        // HTTP/2 carries the authority in the URI (`:authority`), HTTP/1.1 in `Host`.
        let scheme = if context.dial.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let path: http::Uri = if self.http2 {
            format!("{scheme}://{authority}{path}")
        } else {
            path
        }
        .parse()
        .unwrap_or_default();
        HyperProbe {
            host: HeaderValue::from_str(&authority)
                .unwrap_or(HeaderValue::from_static("localhost")),
            authority,
            path,
            plan: plan.clone(),
            policy: context.policy,
            dial: context.dial.clone(),
            timeout: ReusableTimeout::new(context.timeout),
            link: link.clone(),
            first_item: None,
            http2_sender: None,
            http2: self.http2,
            creator: Creator::new(context, index),
            auth: context
                .token
                .as_ref()
                .and_then(|token| HeaderValue::from_str(&token.header_value()).ok()),
        }
    }

    async fn clean_up(&self, target: &str, ids: Vec<String>, setup: &SetUp) -> usize {
        users::clean_up_rest(target, ids, setup).await
    }
}

/// One hyper client with its own connection.
#[derive(Debug)]
pub(crate) struct HyperProbe {
    authority: String,
    host: HeaderValue,
    /// The request's path, parsed once.
    path: http::Uri,
    plan: UserOp,
    policy: ConnectionPolicy,
    dial: Dial,
    timeout: ReusableTimeout,
    link: HyperLink,
    /// When the last call's first body bytes came (stream workload).
    first_item: Option<Duration>,
    /// This client's handle on its HTTP/2 connection, once it has one.
    http2_sender: Option<Http2Sender>,
    http2: bool,
    creator: Creator,
    /// `authorization: Bearer`, under --auth.
    auth: Option<HeaderValue>,
}

type Http1Sender = http1::SendRequest<Full<Bytes>>;
type Http2Sender = http2::SendRequest<Full<Bytes>>;

/// The connection a row's clients share: HTTP/1.1 clients take turns on theirs, HTTP/2
/// clients send on it at once as streams.
#[derive(Debug, Default, Clone)]
pub(crate) struct HyperLink {
    http1: Link<Http1Sender>,
    http2: Link<Http2Sender>,
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct UserFields {
    id: String,
    email: String,
}

impl HyperProbe {
    async fn open(&self) -> Result<TokioIo<Conn>, CallError> {
        let stream =
            super::shared::dial::connect(&self.authority, self.timeout.limit(), &self.dial).await?;
        Ok(TokioIo::new(stream))
    }

    /// A new HTTP/1.1 connection; its driver runs on this client's thread.
    async fn connect_http1(&self) -> Result<Http1Sender, CallError> {
        let (sender, connection) = http1::handshake(self.open().await?)
            .await
            .map_err(handshake_failed)?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// A new HTTP/2 connection; its driver runs on this client's thread.
    async fn connect_http2(&self) -> Result<Http2Sender, CallError> {
        let (sender, connection) = http2::handshake(TokioExecutor::new(), self.open().await?)
            .await
            .map_err(handshake_failed)?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// Sends the plan's request with `send` (on a connection's request handle), waits
    /// for the reply within the timeout and checks it.
    async fn round_trip<F, Fut>(&mut self, send: F) -> Result<(), CallError>
    where
        F: FnOnce(Request<Full<Bytes>>) -> Fut,
        Fut: Future<Output = Result<http::Response<hyper::body::Incoming>, CallError>>,
    {
        let (request, email) = self.request();
        let watch = self.stream();
        let reply = exchange(&mut self.timeout, send(request), watch).await?;
        self.check(reply.status, &reply.body, email)?;
        self.first_item = reply.first;
        Ok(())
    }

    /// One request on the client's turn of its HTTP/1.1 connection.
    async fn call_http1(&mut self) -> Result<(), CallError> {
        let link = self.link.http1.clone();
        let mut slot = link.turn().await;
        let mut sender = match slot.take() {
            Some(sender) => sender,
            None => self.connect_http1().await?,
        };
        let result = self
            .round_trip(|request| async {
                sender.ready().await.map_err(transport)?;
                sender.send_request(request).await.map_err(transport)
            })
            .await;
        if result.is_ok() && self.policy == ConnectionPolicy::Reuse {
            *slot = Some(sender);
        }
        result
    }

    /// One request as a stream of the client's HTTP/2 connection.
    async fn call_http2(&mut self) -> Result<(), CallError> {
        let mut sender = match self.http2_sender.take() {
            Some(sender) => sender,
            None if self.policy == ConnectionPolicy::New => self.connect_http2().await?,
            None => {
                let link = self.link.http2.clone();
                link.shared(|| self.connect_http2()).await?
            }
        };
        let result = self
            .round_trip(|request| async {
                sender.ready().await.map_err(transport)?;
                sender.send_request(request).await.map_err(transport)
            })
            .await;
        if self.policy == ConnectionPolicy::Reuse {
            if sender.is_closed() {
                self.link.http2.drop_if(Http2Sender::is_closed).await;
            } else {
                self.http2_sender = Some(sender);
            }
        }
        result
    }

    fn stream(&self) -> bool {
        matches!(self.plan, UserOp::Stream { .. })
    }

    fn request(&mut self) -> (Request<Full<Bytes>>, Option<String>) {
        let (method, body, email) = match self.plan {
            UserOp::Create => {
                let email = self.creator.next_email();
                let body = serde_json::json!({"name": "Bench User", "email": email});
                (Method::POST, Bytes::from(body.to_string()), Some(email))
            }
            _ => (Method::GET, Bytes::new(), None),
        };
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = self.path.clone();
        let headers = request.headers_mut();
        if !self.http2 {
            headers.insert(header::HOST, self.host.clone());
        }
        if let Some(auth) = &self.auth {
            headers.insert(header::AUTHORIZATION, auth.clone());
        }
        if email.is_some() {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        (request, email)
    }

    fn check(
        &mut self,
        status: StatusCode,
        body: &[u8],
        email: Option<String>,
    ) -> Result<(), CallError> {
        let expected = if email.is_some() {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        if status != expected {
            return Err(CallError::new(
                ErrorKind::Status,
                format!("{status}: {}", String::from_utf8_lossy(body)),
            ));
        }
        let bad = |e: serde_json::Error| CallError::new(ErrorKind::WrongReply, e.to_string());
        match (&self.plan, email) {
            (UserOp::Get { id }, _) => {
                let user: Envelope<UserFields> = serde_json::from_slice(body).map_err(bad)?;
                users::check_user_id(&user.data.id, id)
            }
            (UserOp::List { expected } | UserOp::Stream { expected }, _) => {
                let list: Envelope<Vec<IgnoredAny>> = serde_json::from_slice(body).map_err(bad)?;
                users::check_count(list.data.len(), *expected)
            }
            (UserOp::Create, Some(email)) => {
                let user: Envelope<UserFields> = serde_json::from_slice(body).map_err(bad)?;
                self.creator.created.push(user.data.id);
                users::check_email(&user.data.email, &email)
            }
            (UserOp::Create, None) => Ok(()),
            (UserOp::Greet { .. }, _) => Err(users::no_payload_route()),
        }
    }
}

/// Waits for the reply within the timeout and reads its body; when `watch` (the stream
/// workload), also when its first bytes came, counted from the send.
async fn exchange(
    timeout: &mut ReusableTimeout,
    sending: impl Future<Output = Result<http::Response<hyper::body::Incoming>, CallError>>,
    watch: bool,
) -> Result<Reply, CallError> {
    let started = Instant::now();
    let too_big = |e: Box<dyn std::error::Error + Send + Sync>| {
        CallError::new(ErrorKind::WrongReply, e.to_string())
    };
    let receiving = async {
        let response = sending.await?;
        let status = response.status();
        let mut body = Limited::new(response.into_body(), MAX_BODY);
        if !watch {
            let body = body.collect().await.map_err(too_big)?.to_bytes();
            return Ok(Reply {
                status,
                body,
                first: None,
            });
        }
        let (mut all, mut first) = (Vec::new(), None);
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.map_err(too_big)?.into_data() {
                if !data.is_empty() {
                    first.get_or_insert_with(|| started.elapsed());
                }
                all.extend_from_slice(&data);
            }
        }
        Ok(Reply {
            status,
            body: Bytes::from(all),
            first,
        })
    };
    match timeout.run(receiving).await {
        Ok(result) => result,
        Err(_) => Err(CallError::new(ErrorKind::Timeout, "no reply in time")),
    }
}

/// A reply read whole, and when its first bytes came where that was watched.
struct Reply {
    status: StatusCode,
    body: Bytes,
    first: Option<Duration>,
}

fn transport(error: hyper::Error) -> CallError {
    CallError::new(ErrorKind::Transport, error.to_string())
}

fn handshake_failed(error: hyper::Error) -> CallError {
    CallError::new(ErrorKind::Connect, error.to_string())
}

impl Probe for HyperProbe {
    async fn call(&mut self) -> Result<(), CallError> {
        if self.http2 {
            self.call_http2().await
        } else {
            self.call_http1().await
        }
    }

    fn first_item(&self) -> Option<Duration> {
        self.first_item
    }
}
