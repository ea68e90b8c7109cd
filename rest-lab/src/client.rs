//! [`RestClient`]: the HTTP calls of the REST lab, shared by the self-test suite, the
//! interactive mode and the benchmark.
//!
//! Two kinds of call: the general ones return an [`ApiReply`] (status, headers that
//! matter, JSON body) so tests can look at anything; the typed ones (`fetch_*`) decode
//! the success envelope straight into [`User`] values for the benchmark's hot loop.

use std::time::Duration;

use lab_kit::tls::ClientTls;
use lab_kit::token::Bearer;
use reqwest::{Method, StatusCode, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use user_store::User;

/// Largest reply body the client reads; past it the reply is a [`RestError::BadBody`],
/// so a server that never stops sending cannot take all of the client's memory. A list
/// of 50,000 users fits.
pub const MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;

/// Default limit on each request.
pub const DEFAULT_TIMEOUT: Duration = lab_kit::args::DEFAULT_CLIENT_TIMEOUT.0;

/// Why a call did not produce the expected reply.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// The base URL is not usable.
    #[error("invalid server URL {url:?}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request could not be sent or its response not read (refused, timed out, reset).
    #[error("{method} {url} failed: {}", lab_kit::error_chain(error))]
    Http {
        /// The method.
        method: Method,
        /// The full URL.
        url: String,
        /// What reqwest said.
        error: reqwest::Error,
    },
    /// The response body is not what the API promises.
    #[error("unexpected response body: {0}")]
    BadBody(String),
    /// The server answered with an error status.
    #[error("server answered {status}: {message}")]
    Api {
        /// The status code.
        status: StatusCode,
        /// The envelope's message.
        message: String,
    },
}

/// How the client connects.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Limit on each request, connecting included.
    pub timeout: Duration,
    /// Speak HTTP/2 cleartext with prior knowledge instead of HTTP/1.1.
    pub http2: bool,
    /// Keep connections open between requests (`false`: a new TCP connection, and
    /// HTTP/2 session, for every request).
    pub reuse_connections: bool,
    /// For `https://`: whom to trust and the certificate to show (the system's CAs
    /// and none when `None`). Its ALPN is set here: `h2` with `http2`, else `http/1.1`.
    pub tls: Option<ClientTls>,
    /// Sent as `Authorization: Bearer` on every request (marked sensitive, so not
    /// logged by the HTTP stack).
    pub token: Option<Bearer>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: DEFAULT_TIMEOUT,
            http2: false,
            reuse_connections: true,
            tls: None,
            token: None,
        }
    }
}

/// A response as the general calls return it.
#[derive(Debug, Clone)]
pub struct ApiReply {
    /// The status code.
    pub status: StatusCode,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The `Location` header, if any.
    pub location: Option<String>,
    /// The body parsed as JSON (`Value::Null` for an empty body).
    pub body: Value,
}

impl ApiReply {
    /// True when the `Content-Type` is `application/json`.
    pub fn is_json(&self) -> bool {
        self.content_type
            .as_deref()
            .is_some_and(|ct| ct.starts_with("application/json"))
    }

    /// The envelope's `message` (errors and deletes), or empty.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    /// The envelope's `data`, decoded.
    ///
    /// # Errors
    ///
    /// [`RestError::Api`] for an error status, [`RestError::BadBody`] when `data` does
    /// not decode.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, RestError> {
        if !self.status.is_success() {
            return Err(RestError::Api {
                status: self.status,
                message: self.message().to_owned(),
            });
        }
        T::deserialize(&self.body["data"]).map_err(|e| RestError::BadBody(e.to_string()))
    }
}

/// A client for one REST lab server.
#[derive(Debug, Clone)]
pub struct RestClient {
    http: reqwest::Client,
    /// The base URL parsed once: each request only sets its path, instead of parsing a
    /// whole URL string (host, IDNA and all) per request.
    base_url: reqwest::Url,
    timeout: Duration,
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

impl RestClient {
    /// A client for the server at `base_url` (like `http://127.0.0.1:5000`) with the
    /// default options.
    ///
    /// # Errors
    ///
    /// [`RestError::BadUrl`] when the URL is not `http://host[:port]`.
    pub fn new(base_url: &str) -> Result<Self, RestError> {
        RestClient::with_options(base_url, &ClientOptions::default())
    }

    /// A client with explicit options.
    ///
    /// # Errors
    ///
    /// [`RestError::BadUrl`] when the URL is not `http://host[:port]`.
    pub fn with_options(base_url: &str, options: &ClientOptions) -> Result<Self, RestError> {
        let bad = |reason: &str| RestError::BadUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let parsed = reqwest::Url::parse(base_url).map_err(|e| bad(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("the lab serves http:// and https://"));
        }
        // reqwest builds a TLS configuration for every client; it takes rustls' default.
        lab_kit::tls::install_default_provider();
        let mut builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .tcp_nodelay(true)
            .no_proxy();
        if parsed.scheme() == "https" {
            let tls = match &options.tls {
                Some(tls) => tls.clone(),
                None => ClientTls::new(None, None, &[]).map_err(|e| bad(&e.to_string()))?,
            };
            let alpn = if options.http2 {
                lab_kit::tls::ALPN_H2
            } else {
                lab_kit::tls::ALPN_HTTP1
            };
            builder = builder.tls_backend_preconfigured((*tls.with_alpn(alpn).config()).clone());
        }
        if let Some(token) = &options.token {
            let mut value = header::HeaderValue::from_str(&token.header_value())
                .map_err(|_| bad("the token cannot go in a header"))?;
            value.set_sensitive(true);
            let mut headers = header::HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value);
            builder = builder.default_headers(headers);
        }
        if options.http2 {
            builder = builder.http2_prior_knowledge();
        }
        if !options.reuse_connections {
            builder = builder.pool_max_idle_per_host(0);
        }
        let http = builder.build().map_err(|e| bad(&e.to_string()))?;
        Ok(RestClient {
            http,
            base_url: parsed,
            timeout: options.timeout,
        })
    }

    /// How long each request may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.base_url.as_str().trim_end_matches('/')
    }

    /// The full URL of `path` (which may carry a `?query`) under the base URL.
    fn url(&self, path: &str) -> reqwest::Url {
        let (path, query) = match path.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path, None),
        };
        let mut url = self.base_url.clone();
        let prefix = self.base_url.path().trim_end_matches('/');
        if prefix.is_empty() {
            url.set_path(path);
        } else {
            url.set_path(&format!("{prefix}{path}"));
        }
        url.set_query(query);
        url
    }

    /// Sends any request (`path` starts with `/`) with an optional JSON body.
    ///
    /// # Errors
    ///
    /// [`RestError::Http`] when nothing usable came back, [`RestError::BadBody`] when the
    /// body is not JSON.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<ApiReply, RestError> {
        let url = self.url(path);
        let mut request = self.http.request(method.clone(), url.clone());
        if let Some(body) = body {
            request = request.json(body);
        }
        self.execute(method, url.into(), request).await
    }

    async fn execute(
        &self,
        method: Method,
        url: String,
        request: reqwest::RequestBuilder,
    ) -> Result<ApiReply, RestError> {
        let failed = |error| RestError::Http {
            method: method.clone(),
            url: url.clone(),
            error,
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let header_text = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header_text(header::CONTENT_TYPE);
        let location = header_text(header::LOCATION);
        let bytes = read_body(response, failed).await?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| {
                RestError::BadBody(format!("{e}: {}", String::from_utf8_lossy(&bytes)))
            })?
        };
        Ok(ApiReply {
            status,
            content_type,
            location,
            body,
        })
    }

    /// `GET /api/users`.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn list_users(&self) -> Result<ApiReply, RestError> {
        self.send(Method::GET, "/api/users", None).await
    }

    /// `GET /api/users/{id}`.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn get_user(&self, id: &str) -> Result<ApiReply, RestError> {
        self.send(Method::GET, &format!("/api/users/{id}"), None)
            .await
    }

    /// `POST /api/users` with a name and an email.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn create_user(&self, name: &str, email: &str) -> Result<ApiReply, RestError> {
        let body = json!({"name": name, "email": email});
        self.send(Method::POST, "/api/users", Some(&body)).await
    }

    /// `PUT /api/users/{id}` with the fields that change.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn update_user(
        &self,
        id: &str,
        name: Option<&str>,
        email: Option<&str>,
    ) -> Result<ApiReply, RestError> {
        let mut body = serde_json::Map::new();
        if let Some(name) = name {
            body.insert("name".into(), name.into());
        }
        if let Some(email) = email {
            body.insert("email".into(), email.into());
        }
        self.send(
            Method::PUT,
            &format!("/api/users/{id}"),
            Some(&Value::Object(body)),
        )
        .await
    }

    /// `DELETE /api/users/{id}`.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn delete_user(&self, id: &str) -> Result<ApiReply, RestError> {
        self.send(Method::DELETE, &format!("/api/users/{id}"), None)
            .await
    }

    /// `GET /api/users/search?q=...` (`None` sends no `q` at all).
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn search(&self, q: Option<&str>) -> Result<ApiReply, RestError> {
        let url = self.url("/api/users/search");
        let mut request = self.http.get(url.clone());
        if let Some(q) = q {
            request = request.query(&[("q", q)]);
        }
        self.execute(Method::GET, url.into(), request).await
    }

    /// `GET /health`.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn health(&self) -> Result<ApiReply, RestError> {
        self.send(Method::GET, "/health", None).await
    }

    /// `GET /api/users/{id}`: the reply's `data`, decoded straight into a [`User`] (the
    /// `*_data` methods return the data; the others, the whole [`ApiReply`]).
    ///
    /// # Errors
    ///
    /// [`RestError::Http`], [`RestError::Api`] for an error status, [`RestError::BadBody`].
    pub async fn get_user_data(&self, id: &str) -> Result<User, RestError> {
        self.fetch(self.url(&format!("/api/users/{id}"))).await
    }

    /// `GET /api/users`, decoded straight into [`User`]s.
    ///
    /// # Errors
    ///
    /// As [`get_user_data`](Self::get_user_data).
    pub async fn list_users_data(&self) -> Result<Vec<User>, RestError> {
        self.fetch(self.url("/api/users")).await
    }

    /// `POST /api/users`, decoded straight into the created [`User`].
    ///
    /// # Errors
    ///
    /// As [`get_user_data`](Self::get_user_data).
    pub async fn create_user_data(&self, name: &str, email: &str) -> Result<User, RestError> {
        let reply = self.create_user(name, email).await?;
        reply.data()
    }

    async fn fetch<T: DeserializeOwned>(&self, url: reqwest::Url) -> Result<T, RestError> {
        // The URL is only needed for an error, and reqwest's error carries it.
        let failed = |error: reqwest::Error| RestError::Http {
            method: Method::GET,
            url: error.url().map(ToString::to_string).unwrap_or_default(),
            error,
        };
        let response = self.http.get(url).send().await.map_err(failed)?;
        let status = response.status();
        let bytes = read_body(response, failed).await?;
        if !status.is_success() {
            let message = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            return Err(RestError::Api { status, message });
        }
        serde_json::from_slice::<Envelope<T>>(&bytes)
            .map(|envelope| envelope.data)
            .map_err(|e| RestError::BadBody(e.to_string()))
    }
}

/// Reads a reply body, up to [`MAX_REPLY_BYTES`].
async fn read_body(
    mut response: reqwest::Response,
    failed: impl Fn(reqwest::Error) -> RestError,
) -> Result<Vec<u8>, RestError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(&failed)? {
        if bytes.len() + chunk.len() > MAX_REPLY_BYTES {
            return Err(RestError::BadBody(format!(
                "a reply body larger than {MAX_REPLY_BYTES} bytes"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
