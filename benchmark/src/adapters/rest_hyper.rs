//! REST with the leanest correct client: hyper's client connection, HTTP/1.1 or HTTP/2
//! with prior knowledge (h2c) to the same server, one connection per client and no
//! pool, the body read up to a limit and checked. The gap between this row and
//! `REST (reqwest)` is the client library's share; between its HTTP/1.1 and HTTP/2 rows,
//! what the HTTP version costs with the same JSON.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use lab_kit::ReusableTimeout;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::users::{self, Creator, UserOp};
use super::{Adapter, ClientKind, Prepared, ProbeContext, RowInfo, SetUp};
use crate::engine::{CallError, ErrorKind, Probe};
use crate::settings::ConnectionPolicy;
use crate::traffic::Traffic;

/// Largest reply body read (as the lab's own client).
const MAX_BODY: usize = rest_lab::client::MAX_REPLY_BYTES;

/// A REST row with hyper, over HTTP/1.1 or HTTP/2.
#[derive(Debug)]
pub struct RestHyper {
    info: &'static RowInfo,
    http2: bool,
}

/// REST over HTTP/1.1 with hyper.
pub static HTTP1: RestHyper = RestHyper {
    info: &RowInfo {
        key: "rest-hyper",
        label: "REST (hyper)",
        client: "hyper",
        kind: ClientKind::Lean,
        lab: &users::REST,
        protocol: "rest",
        bytes_unmeasured: None,
        server_cpu_unmeasured: None,
    },
    http2: false,
};

/// REST over HTTP/2 with prior knowledge (h2c) with hyper, to the same server.
pub static HTTP2: RestHyper = RestHyper {
    info: &RowInfo {
        key: "rest-h2-hyper",
        label: "REST h2c (hyper)",
        client: "hyper h2",
        kind: ClientKind::Lean,
        lab: &users::REST,
        protocol: "rest-h2",
        bytes_unmeasured: None,
        server_cpu_unmeasured: None,
    },
    http2: true,
};

impl Adapter for RestHyper {
    type Plan = UserOp;
    type Probe = HyperProbe;

    fn info(&self) -> &'static RowInfo {
        self.info
    }

    async fn set_up(&self, target: &str, setup: &SetUp) -> anyhow::Result<Prepared<UserOp>> {
        users::set_up_rest(target, setup).await
    }

    fn probe(&self, plan: &UserOp, context: &ProbeContext, index: usize) -> HyperProbe {
        let authority = super::authority_of(&context.target);
        // Parsed once here, cloned per request. Ids come from the server; one that does
        // not make a path leaves "/", whose 404 counts as an error.
        let path = match plan {
            UserOp::Get { id } => format!("/api/users/{id}"),
            UserOp::List { .. } | UserOp::Create => "/api/users".to_owned(),
        };
        // HTTP/2 carries the authority in the URI (`:authority`), HTTP/1.1 in `Host`.
        let path: http::Uri = if self.http2 {
            format!("http://{authority}{path}")
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
            traffic: Arc::clone(&context.traffic),
            timeout: ReusableTimeout::new(context.timeout),
            sender: None,
            http2: self.http2,
            creator: Creator::new(&context.tag, index),
        }
    }

    async fn clean_up(&self, target: &str, ids: Vec<String>, _timeout: Duration) -> usize {
        users::clean_up_rest(target, ids).await
    }
}

/// One hyper client with its own connection.
#[derive(Debug)]
pub struct HyperProbe {
    authority: String,
    host: HeaderValue,
    /// The request's path, parsed once.
    path: http::Uri,
    plan: UserOp,
    policy: ConnectionPolicy,
    traffic: Arc<Traffic>,
    timeout: ReusableTimeout,
    sender: Option<Sender>,
    http2: bool,
    creator: Creator,
}

/// A connection's request handle, either version.
#[derive(Debug)]
enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    Http2(http2::SendRequest<Full<Bytes>>),
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
    async fn connect(&mut self) -> Result<Sender, CallError> {
        let limit = self.timeout.limit();
        let stream = super::connect(&self.authority, limit, &self.traffic).await?;
        let io = TokioIo::new(stream);
        let failed = |e: hyper::Error| CallError::new(ErrorKind::Connect, e.to_string());
        // The connection's driver runs on this client's thread, like the client.
        if self.http2 {
            let (sender, connection) = http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(failed)?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok(Sender::Http2(sender))
        } else {
            let (sender, connection) = http1::handshake(io).await.map_err(failed)?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok(Sender::Http1(sender))
        }
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
            (UserOp::List { expected }, _) => {
                let list: Envelope<Vec<IgnoredAny>> = serde_json::from_slice(body).map_err(bad)?;
                users::check_count(list.data.len(), *expected)
            }
            (UserOp::Create, Some(email)) => {
                let user: Envelope<UserFields> = serde_json::from_slice(body).map_err(bad)?;
                self.creator.created.push(user.data.id);
                users::check_email(&user.data.email, &email)
            }
            (UserOp::Create, None) => Ok(()),
        }
    }
}

async fn exchange(
    sender: &mut Sender,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes), CallError> {
    let transport = |e: hyper::Error| CallError::new(ErrorKind::Transport, e.to_string());
    let response = match sender {
        Sender::Http1(sender) => {
            sender.ready().await.map_err(transport)?;
            sender.send_request(request).await.map_err(transport)?
        }
        Sender::Http2(sender) => {
            sender.ready().await.map_err(transport)?;
            sender.send_request(request).await.map_err(transport)?
        }
    };
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| CallError::new(ErrorKind::WrongReply, e.to_string()))?
        .to_bytes();
    Ok((status, body))
}

impl Probe for HyperProbe {
    async fn call(&mut self) -> Result<(), CallError> {
        let mut sender = match self.sender.take() {
            Some(sender) => sender,
            None => self.connect().await?,
        };
        let (request, email) = self.request();
        let result = match self.timeout.run(exchange(&mut sender, request)).await {
            Ok(result) => result,
            Err(_) => Err(CallError::new(ErrorKind::Timeout, "no reply in time")),
        };
        let result = result.and_then(|(status, body)| self.check(status, &body, email));
        if result.is_ok() && self.policy == ConnectionPolicy::Reuse {
            self.sender = Some(sender);
        }
        result
    }

    fn take_created(&mut self) -> Vec<String> {
        std::mem::take(&mut self.creator.created)
    }
}
