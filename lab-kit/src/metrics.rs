//! A lab server's Prometheus metrics, in the text exposition format (0.0.4), made with
//! the Prometheus project's own Rust client (`prometheus-client`): the process's CPU
//! seconds and resident memory, open connections, requests by route, method and
//! outcome, requests in flight, and a latency histogram by route.
//!
//! Off unless a server is asked for them (`--metrics` on the REST and WebSocket ports,
//! `--metrics-addr` beside the gRPC and socket servers): a server without them pays one
//! `Option` check a request. Routes are a lab's fixed names (`/api/users/{id}`,
//! `/users.v1.UserService/GetUser`), anything else `other`, so no client can grow the
//! label set.

use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeLabelValue, EncodeMetric, LabelValueEncoder,
};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The `Content-Type` of a `/metrics` reply: Prometheus's text format.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The path every lab serves its metrics on.
pub const PATH: &str = "/metrics";

/// How a request ended, as its `status` label says it: an HTTP status code, a gRPC
/// status code (`0` is OK), or a socket line's `ok` or `error`.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP reply's status code.
    Http(u16),
    /// A gRPC call's status code (0 to 16).
    Grpc(u16),
    /// A socket reply line: `true` for `"status":"ok"`.
    Line(bool),
}

impl EncodeLabelValue for Outcome {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> fmt::Result {
        match self {
            Outcome::Http(code) | Outcome::Grpc(code) => write!(encoder, "{code}"),
            Outcome::Line(true) => encoder.write_str("ok"),
            Outcome::Line(false) => encoder.write_str("error"),
        }
    }
}

/// The labels of a request count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: Outcome,
}

/// The label of a latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: &'static str,
}

/// Makes each route's latency histogram: 25 us to about 0.8 s, doubling.
#[derive(Debug, Clone, Copy)]
struct LatencyBuckets;

impl MetricConstructor<Histogram> for LatencyBuckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(25e-6, 2.0, 16))
    }
}

/// The process's CPU time and resident memory, read at each scrape.
#[derive(Debug)]
struct Process;

impl Collector for Process {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        if let Some(cpu) = process_cpu_time() {
            let counter = ConstCounter::new(cpu.as_secs_f64());
            let metric = encoder.encode_descriptor(
                "process_cpu_seconds",
                "User and system CPU time the server's process has spent, in seconds",
                None,
                counter.metric_type(),
            )?;
            counter.encode(metric)?;
        }
        if let Some(bytes) = resident_memory() {
            let gauge = ConstGauge::new(i64::try_from(bytes).unwrap_or(i64::MAX));
            let metric = encoder.encode_descriptor(
                "process_resident_memory_bytes",
                "Resident memory of the server's process, in bytes",
                None,
                gauge.metric_type(),
            )?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}

/// On-CPU time of every thread of this process so far.
pub fn process_cpu_time() -> Option<Duration> {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    let secs = u64::try_from(now.tv_sec).ok()?;
    let nanos = u32::try_from(now.tv_nsec).ok()?;
    Some(Duration::new(secs, nanos))
}

/// Resident memory of this process in bytes, from `/proc/self/status` (`None` off
/// Linux).
pub fn resident_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The metrics of one server: cheap to clone (one `Arc`), shared by every connection.
#[derive(Debug, Clone)]
pub struct ServerMetrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabel, Histogram, LatencyBuckets>,
    in_flight: Gauge,
    connections: Gauge,
}

impl Inner {
    /// Runs `with` on the request counter of `route`, `method` and `status`, made on
    /// first use (the one place a request's labels are put together).
    fn counter<R>(
        &self,
        route: &'static str,
        method: &'static str,
        status: Outcome,
        with: impl FnOnce(&Counter) -> R,
    ) -> R {
        with(&self.requests.get_or_create(&RequestLabels {
            route,
            method,
            status,
        }))
    }
}

impl Default for ServerMetrics {
    fn default() -> Self {
        ServerMetrics::new()
    }
}

impl ServerMetrics {
    /// Every metric at zero.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "commlab_requests",
            "Requests answered, by route, method and status",
            requests.clone(),
        );
        let latency = Family::new_with_constructor(LatencyBuckets);
        registry.register(
            "commlab_request_duration_seconds",
            "Time from a request's arrival to its reply's start (headers, or the reply line), by route",
            latency.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "commlab_requests_in_flight",
            "Requests received and not yet answered",
            in_flight.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "commlab_open_connections",
            "Client connections open now",
            connections.clone(),
        );
        registry.register_collector(Box::new(Process));
        ServerMetrics {
            inner: Arc::new(Inner {
                registry,
                requests,
                latency,
                in_flight,
                connections,
            }),
        }
    }

    /// Starts timing a request on `route` (one of the lab's fixed names) by `method`;
    /// it counts as in flight until the returned timer finishes or drops.
    pub fn request(&self, route: &'static str, method: &'static str) -> RequestTimer {
        self.inner.in_flight.inc();
        RequestTimer {
            metrics: self.clone(),
            route,
            method,
            started: Instant::now(),
        }
    }

    /// One route's metrics, looked up once: for a server whose requests all take the
    /// same route (the socket lab's lines), so each request skips the label lookups.
    pub fn route(&self, route: &'static str, method: &'static str) -> RouteMetrics {
        RouteMetrics {
            metrics: self.clone(),
            route,
            method,
            latency: self
                .inner
                .latency
                .get_or_create(&RouteLabel { route })
                .clone(),
            counts: Vec::new(),
        }
    }

    /// The open-connections gauge, for whoever admits connections.
    pub fn open_connections(&self) -> OpenConnections {
        OpenConnections(self.inner.connections.clone())
    }

    /// Everything, in Prometheus's text format.
    pub fn render(&self) -> String {
        let mut text = String::with_capacity(4096);
        // Writing to a String cannot fail; an encoder error would leave the text short.
        let _ =
            prometheus_client::encoding::prometheus_text::encode(&mut text, &self.inner.registry);
        text
    }
}

/// A request being timed; counted by [`RequestTimer::finish`], and no longer in flight
/// once finished or dropped (a client that left before its reply).
#[derive(Debug)]
pub struct RequestTimer {
    metrics: ServerMetrics,
    route: &'static str,
    method: &'static str,
    started: Instant,
}

impl RequestTimer {
    /// Counts the request as answered with `outcome`, its latency up to now.
    pub fn finish(self, outcome: Outcome) {
        let inner = &self.metrics.inner;
        inner.counter(self.route, self.method, outcome, |counter| counter.inc());
        inner
            .latency
            .get_or_create(&RouteLabel { route: self.route })
            .observe(self.started.elapsed().as_secs_f64());
    }
}

impl Drop for RequestTimer {
    fn drop(&mut self) {
        self.metrics.inner.in_flight.dec();
    }
}

/// One route's metrics with its handles at hand (see [`ServerMetrics::route`]): the
/// latency histogram, and each outcome's counter once it has been met. Held by one
/// connection, so it needs no lock of its own.
#[derive(Debug)]
pub struct RouteMetrics {
    metrics: ServerMetrics,
    route: &'static str,
    method: &'static str,
    latency: Histogram,
    /// The counters of the outcomes met so far (a handful at most).
    counts: Vec<(Outcome, Counter)>,
}

impl RouteMetrics {
    /// A request starts: in flight until [`RouteMetrics::finish`] (the instant to hand
    /// it back).
    pub fn start(&self) -> Instant {
        self.metrics.inner.in_flight.inc();
        Instant::now()
    }

    /// The request started at `started` is answered with `outcome`.
    pub fn finish(&mut self, started: Instant, outcome: Outcome) {
        let inner = &self.metrics.inner;
        inner.in_flight.dec();
        self.latency.observe(started.elapsed().as_secs_f64());
        if let Some((_, counter)) = self.counts.iter().find(|(o, _)| *o == outcome) {
            counter.inc();
            return;
        }
        let counter = inner.counter(self.route, self.method, outcome, Counter::clone);
        counter.inc();
        self.counts.push((outcome, counter));
    }
}

/// The open-connections gauge: a connection adds one when admitted and takes it back
/// when it closes ([`Opened`]).
#[derive(Debug, Clone)]
pub struct OpenConnections(Gauge);

impl OpenConnections {
    /// One more connection open, until the returned guard drops.
    pub fn opened(&self) -> Opened {
        self.0.inc();
        Opened(self.0.clone())
    }
}

/// An open connection's place in the gauge.
#[derive(Debug)]
pub struct Opened(Gauge);

impl Drop for Opened {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// An HTTP method's name for the `method` label, from a fixed set.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ];
    KNOWN
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("OTHER")
}

/// The value of one sample in a metrics text: the first line that is exactly `name`
/// (no labels) followed by its value, e.g. `process_cpu_seconds_total 1.25`.
pub fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (metric, value) = line.split_once(' ')?;
            (metric == name).then(|| value.trim().parse().ok())?
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_counted_timed_and_in_flight_until_finished() {
        let metrics = ServerMetrics::new();
        let open = metrics.open_connections();
        let connection = open.opened();
        let timer = metrics.request("/api/users/{id}", method_label("GET"));
        let during = metrics.render();
        assert_eq!(sample(&during, "commlab_requests_in_flight"), Some(1.0));
        assert_eq!(sample(&during, "commlab_open_connections"), Some(1.0));
        timer.finish(Outcome::Http(404));
        let left = metrics.request("/api/users", "POST");
        drop(left);
        drop(connection);
        let text = metrics.render();
        assert_eq!(sample(&text, "commlab_requests_in_flight"), Some(0.0));
        assert_eq!(sample(&text, "commlab_open_connections"), Some(0.0));
        assert!(
            text.contains(
                r#"commlab_requests_total{route="/api/users/{id}",method="GET",status="404"} 1"#
            ),
            "{text}"
        );
        // The request that was dropped counts nowhere.
        assert!(!text.contains(r#"route="/api/users","#), "{text}");
        assert!(
            text.contains(r#"commlab_request_duration_seconds_count{route="/api/users/{id}"} 1"#),
            "{text}"
        );
        assert!(
            text.contains("# TYPE commlab_requests_total counter"),
            "{text}"
        );
    }

    #[test]
    fn the_process_reports_its_cpu_and_memory() {
        let metrics = ServerMetrics::new();
        let before = sample(&metrics.render(), "process_cpu_seconds_total").unwrap();
        let started = Instant::now();
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(30) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let text = metrics.render();
        let after = sample(&text, "process_cpu_seconds_total").unwrap();
        assert!(after > before, "{before} then {after}");
        assert!(sample(&text, "process_resident_memory_bytes").unwrap() > 1e6);
    }

    #[test]
    fn outcomes_and_methods_make_bounded_labels() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("BREW"), "OTHER");
        let metrics = ServerMetrics::new();
        metrics
            .request("/users.v1.UserService/GetUser", "POST")
            .finish(Outcome::Grpc(5));
        metrics.request("echo", "LINE").finish(Outcome::Line(false));
        let text = metrics.render();
        assert!(text.contains(r#"method="POST",status="5"} 1"#), "{text}");
        assert!(
            text.contains(r#"route="echo",method="LINE",status="error"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn a_routes_handles_count_as_the_lookups_do() {
        let metrics = ServerMetrics::new();
        let mut echo = metrics.route("echo", "LINE");
        for ok in [true, true, false] {
            let started = echo.start();
            echo.finish(started, Outcome::Line(ok));
        }
        // And one the usual way, into the same counter.
        metrics.request("echo", "LINE").finish(Outcome::Line(true));
        let text = metrics.render();
        assert!(
            text.contains(r#"route="echo",method="LINE",status="ok"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(r#"route="echo",method="LINE",status="error"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"commlab_request_duration_seconds_count{route="echo"} 4"#),
            "{text}"
        );
        assert_eq!(sample(&text, "commlab_requests_in_flight"), Some(0.0));
    }

    #[test]
    fn a_sample_is_read_by_its_exact_name() {
        let text = "# HELP x_total X.\nx_total_more 3\nx_total 2.5\n";
        assert_eq!(sample(text, "x_total"), Some(2.5));
        assert_eq!(sample(text, "y"), None);
    }
}
