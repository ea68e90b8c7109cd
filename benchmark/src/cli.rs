//! The command line: every option of a run (flattened from [`Settings`]), the outputs
//! beside the report, and the subcommands.

use std::path::PathBuf;

use clap::Parser;

use crate::placement::CpuList;
use crate::settings::link::Link;
use crate::settings::push::Mechanism;
use crate::settings::sweep::Sweep;
use crate::settings::{Format, Lab, Settings};

/// A percentage for `--fail-on`: a finite number from 0 up.
fn parse_percent(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("{text:?} is not a number (a percentage, as in 10 or 2.5)"))?;
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!("{text:?} must be a percentage of 0 or more"))
    }
}

/// Measures the socket, REST, gRPC and WebSocket labs with one load generator, beside a
/// raw-TCP floor, and tells where the time goes: latency, throughput, client and server
/// CPU and bytes per request, each headline figure with its 95% interval. Servers are
/// started in-process (release builds when this is one) unless an address is given.
#[derive(Debug, Clone, Parser)]
#[command(name = "benchmark", version = lab_kit::build::VERSION)]
pub struct Cli {
    /// What to measure and how.
    #[command(flatten)]
    pub settings: Settings,
    /// Report format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Every percentile in the table, and the operation of each row.
    #[arg(long)]
    pub wide: bool,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also save this run's JSON report to FILE, to compare a later run against with
    /// `--baseline`.
    #[arg(long, value_name = "FILE")]
    pub save_baseline: Option<PathBuf>,
    /// Compare this run with a saved one (a JSON report): each row's change in p50,
    /// p99, throughput and x floor, marked when larger than the run-to-run noise (the
    /// spread of each figure over the rounds).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With `--baseline`: exit with status 3 when a figure got worse by more than
    /// PERCENT and by more than the noise.
    #[arg(long, value_name = "PERCENT", requires = "baseline", value_parser = parse_percent)]
    pub fail_on: Option<f64>,
    /// Write each row's latency histogram into DIR in HdrHistogram's formats: an
    /// interval log (`KEY.hlog`) and a percentile distribution (`KEY.hgrm`).
    #[arg(long, value_name = "DIR")]
    pub histograms: Option<PathBuf>,
    /// One whole run per value of a setting, and a summary across them:
    /// `concurrency=1,2,4,8`, `list-size=10,1000`, `rate=1000,5000` (with
    /// `--duration`), `connections=1,2,4`, `tls=off,on` (the TLS tax in one run), or
    /// one part of the `--link`: `rtt=0,1ms,10ms,50ms`, `link-rate=1mbit,10mbit,1gbit`
    /// (`rate` is the open loop's), `loss=0,1%,5%`.
    #[arg(long, value_name = "NAME=V1,V2,...", value_parser = Sweep::parse)]
    pub sweep: Option<Sweep>,
    /// Also write each chart of the HTML report as its own SVG file in DIR.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Something other than a run.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What `benchmark` does instead of a run.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Print shell completions.
    Completions(lab_kit::completions::CompletionsArgs),
    /// Show the bytes of one exchange per protocol (a request, then the same request
    /// again on the same connection), annotated by layer, and a table of bytes per
    /// request. Takes the run's targets (`--protocols`, `--rest-url`...) before the
    /// word `wire`, and `--format json` (table and JSON only: other formats are
    /// refused).
    Wire,
    /// Run one of the servers the benchmark embeds as a process of its own: the
    /// floor's echo beside external servers (then `--floor-url`), or any lab's server
    /// as the benchmark measures it. Serves until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Put the `--link` in front of any server, so an outside client (oha, wrk,
    /// h2load, curl) crosses the same emulated network as the benchmark's rows. Relays
    /// until Ctrl-C or SIGTERM.
    Relay(RelayArgs),
    /// Push compared mechanism by mechanism: S subscribers over WebSocket, Server-Sent
    /// Events, long polling, webhooks and gRPC ChatStream, one publisher, the time from
    /// publishing an event to each subscriber's having it. Takes `--client-cpus`,
    /// `--server-cpus` and `--format` before the word `push`.
    Push(PushArgs),
    /// Count each row's client and server instructions per request with valgrind's
    /// callgrind: a figure that does not depend on the machine's timing. Takes the
    /// run's row options (`--protocols`, `--client`, `--workload`) before the word
    /// `cost`, and `--format table|markdown|csv|json`.
    Cost(CostArgs),
    /// One row's client alone, as `benchmark cost` counts it (internal).
    #[command(hide = true)]
    CostClient(CostClientArgs),
    /// Put the JSON reports of a sharded run's shards (`--shard I/N --format json`)
    /// back together as one run: histograms and counts added, throughput over the
    /// shards' time together, server CPU from what each read over the same rounds.
    /// Refuses shards of different settings or builds; renders every format (`--format`
    /// and `-o` after the files).
    Merge(MergeArgs),
}

/// What `benchmark merge` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct MergeArgs {
    /// Every shard's JSON report.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// This process's command line with each option its environment set made explicit
/// (`--rest-url=...` for `REST_URL`), so a shard's report says the whole of what it
/// ran, wherever `benchmark merge` reads it.
pub(crate) fn effective_args() -> Vec<String> {
    use clap::CommandFactory as _;
    use clap::parser::ValueSource;
    let mut args: Vec<String> = std::env::args().collect();
    let command = Cli::command();
    let Ok(matches) = command.clone().try_get_matches_from(&args) else {
        return args;
    };
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if matches.value_source(id) != Some(ValueSource::EnvVariable) {
            continue;
        }
        if let (Some(long), Some(value)) =
            (arg.get_long(), arg.get_env().and_then(std::env::var_os))
        {
            args.push(format!("--{long}={}", value.to_string_lossy()));
        }
    }
    args
}

/// What `benchmark serve` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The server: `floor` (the echo every row is divided by), `socket`, `rest`,
    /// `grpc` or `ws` (each lab's server as the benchmark embeds it).
    #[arg(value_enum)]
    pub lab: ServedLab,
    /// Where to listen; port 0 picks a free one. The address is printed on the first
    /// line of standard output.
    #[arg(long, env = "SERVE_ADDR", default_value = "127.0.0.1:7070")]
    pub addr: String,
    /// The floor's echo looks this long for the next request before it sleeps, in
    /// microseconds (the embedded floor's 200; 0 never looks).
    #[arg(long, default_value_t = 200)]
    pub spin_us: u64,
    /// CPUs for the server's runtime, one worker thread pinned to each (like 1 or
    /// 2-3); every CPU this process may use when left out.
    #[arg(long, value_name = "LIST", value_parser = CpuList::parse)]
    pub cpus: Option<CpuList>,
    /// Run the server on one thread (a current-thread runtime) rather than a worker
    /// per CPU: what `benchmark cost` counts, so no count depends on how tasks were
    /// handed between threads.
    #[arg(long)]
    pub single_thread: bool,
    /// Count requests in Prometheus metrics as a lab server with `--metrics` does
    /// (nothing serves them here: `benchmark cost --metrics` counts what they cost).
    #[arg(long)]
    pub metrics: bool,
}

/// What `benchmark relay` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct RelayArgs {
    /// The server to relay to, as `HOST:PORT`.
    #[arg(long, value_name = "HOST:PORT")]
    pub to: String,
    /// The link: a preset (`loopback`, `lan`, `region`, `continent`, `mobile`) or
    /// `rtt=20ms,rate=100mbit,jitter=2ms,loss=0.5%`, as the run's `--link`.
    #[arg(long, value_name = "PRESET|SPEC", value_parser = Link::parse)]
    pub link: Link,
    /// Where to listen; port 0 picks a free one. The address is printed on the first
    /// line of standard output.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: String,
    /// The CPU the relay's thread is pinned to (the load's side of the link); not
    /// pinned when left out.
    #[arg(long)]
    pub cpu: Option<usize>,
}

/// A server `benchmark serve` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServedLab {
    /// The floor's echo.
    Floor,
    /// The socket lab.
    Socket,
    /// The REST lab.
    Rest,
    /// The gRPC lab.
    Grpc,
    /// The WebSocket lab.
    Ws,
}

impl ServedLab {
    /// The server's identity in reports.
    pub(crate) fn lab(self) -> Lab {
        match self {
            ServedLab::Floor => Lab::Floor,
            ServedLab::Socket => Lab::Socket,
            ServedLab::Rest => Lab::Rest,
            ServedLab::Grpc => Lab::Grpc,
            ServedLab::Ws => Lab::Ws,
        }
    }
}

/// What `benchmark cost` takes, beside the run's options that pick the rows
/// (`--protocols`, `--client`) and the workload (`--workload`, `--payload`).
#[derive(Debug, Clone, clap::Args)]
pub struct CostArgs {
    /// Requests at the first point; the second sends twice as many.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: u64,
    /// Unmeasured requests before them, at both points (connection set-up, first-use
    /// allocations).
    #[arg(long, default_value_t = 100)]
    pub warmup: u64,
    /// Count each point this many times and take the median. With the wall clock
    /// held (libfaketime), SCHED_FIFO and no address randomisation a count repeats
    /// within 0.3%; without them an HTTP/2 server's moves by up to 2.4% from one
    /// process to the next, and five repeats are not always enough for 1%.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeats: u32,
    /// Only these rows, by key (`floor`, `socket`, `rest-hyper`, `grpc-channel`, ...);
    /// every row the run's options select when left out.
    #[arg(long, value_delimiter = ',', value_name = "KEY,...")]
    pub rows: Vec<String>,
    /// The valgrind to count with.
    #[arg(long, env = "VALGRIND", default_value = "valgrind")]
    pub valgrind: PathBuf,
    /// Keep callgrind's output files in DIR (otherwise they go to a temporary folder
    /// that is removed).
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// The libfaketime library that holds the counted processes' wall clock (found
    /// where Debian's `faketime` package puts it when left out).
    #[arg(long, env = "FAKETIME_LIB", value_name = "PATH")]
    pub faketime: Option<PathBuf>,
    /// Count the servers with their Prometheus metrics on (`--metrics`,
    /// `--metrics-addr`): set beside a run without it, the difference is what the
    /// metrics cost a request.
    #[arg(long)]
    pub metrics: bool,
}

/// What `benchmark push` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct PushArgs {
    /// Subscribers per mechanism (1 to 10000).
    #[arg(long, default_value_t = 100, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub subscribers: usize,
    /// Events published per mechanism, each once every subscriber has the one before
    /// (or at --rate).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub events: u64,
    /// Publish R events a second on a fixed schedule, whether or not the subscribers
    /// have the ones before (an open loop: what a busy feed does), rather than each as
    /// soon as every subscriber has the last.
    #[arg(long, value_name = "R", value_parser = crate::settings::parse_rate)]
    pub rate: Option<f64>,
    /// Only these mechanisms (`ws,sse,poll,hook,grpc`); every one when left out.
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub mechanisms: Vec<Mechanism>,
    /// Longest the publisher waits for every subscriber to have an event before it
    /// counts the missing copies late and goes on.
    #[arg(long, value_name = "DURATION", default_value_t = lab_kit::args::Span(std::time::Duration::from_secs(2)),
          value_parser = lab_kit::args::span_up_to(std::time::Duration::from_secs(60)))]
    pub timeout: lab_kit::args::Span,
}

impl PushArgs {
    /// What `--workload push` asks for: `--subscribers`, `--iterations` events,
    /// `--timeout`, every mechanism.
    pub fn from_settings(settings: &Settings) -> PushArgs {
        PushArgs {
            subscribers: settings.subscribers.unwrap_or(100),
            events: settings.iterations,
            rate: settings.rate,
            mechanisms: Vec::new(),
            timeout: lab_kit::args::Span(settings.timeout),
        }
    }

    /// The mechanisms to measure, in the report's order.
    pub fn mechanisms(&self) -> Vec<Mechanism> {
        Mechanism::ALL
            .into_iter()
            .filter(|m| self.mechanisms.is_empty() || self.mechanisms.contains(m))
            .collect()
    }
}

/// What the hidden `benchmark cost-client` takes: one row's client, alone.
#[derive(Debug, Clone, clap::Args)]
pub struct CostClientArgs {
    /// The row's key.
    #[arg(long)]
    pub row: String,
    /// Its server's address (`host:port` or the lab's URL).
    #[arg(long)]
    pub target: String,
    /// Measured requests.
    #[arg(long)]
    pub requests: u64,
    /// Requests before them.
    #[arg(long)]
    pub warmup: u64,
    /// The CPU to run on: the server's, so the two take strict turns and every read
    /// finds a whole request or reply (a count that does not depend on timing).
    #[arg(long)]
    pub cpu: Option<usize>,
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::*;
    use crate::settings::{ClientChoice, Protocol};

    pub(crate) fn settings(args: &[&str]) -> Settings {
        let mut all = vec!["benchmark"];
        all.extend_from_slice(args);
        Cli::parse_from(all).settings
    }

    #[test]
    fn defaults_match_the_original_lab() {
        let s = settings(&[]);
        assert_eq!(s.iterations, 50);
        assert_eq!(s.length(), crate::settings::Length::Iterations(50));
        assert_eq!(s.timeout, Duration::from_secs(5));
        assert_eq!(s.client, ClientChoice::Standard);
        assert!(
            [
                Protocol::Socket,
                Protocol::Rest,
                Protocol::Grpc,
                Protocol::Ws
            ]
            .into_iter()
            .all(|p| s.wants(p))
        );
    }

    #[test]
    fn bad_options_are_refused() {
        for args in [
            &["--duration", "1s", "--iterations", "5"][..],
            &["--concurrency", "0"],
            &["--protocols", "smtp"],
            &["--client-cpus", "x"],
            &["--server-pid", "nope"],
        ] {
            let mut all = vec!["benchmark"];
            all.extend_from_slice(args);
            assert!(Cli::try_parse_from(all).is_err(), "{args:?}");
        }
    }
}
