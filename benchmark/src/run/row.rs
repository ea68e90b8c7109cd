//! The per-row protocol of a run: what every row shares ([`Job`]), the [`Row`] trait
//! any adapter is measured through (set-up, the load in turns, clean-up), the gate that
//! reads server CPU and bytes around each round, and the registry of rows.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::adapters::shared::dial::Dial;
use crate::adapters::{
    Access, Adapter, ClientKind, ProbeContext, RowInfo, SetUp, floor, grpc_channel, grpc_hyper,
    raw, rest_hyper, rest_reqwest, socket, ws,
};
use crate::analysis::summary::Measured;
use crate::engine::probe::Probe as _;
use crate::engine::probe::Shared;
use crate::engine::progress::Progress;
use crate::engine::traffic::{SetUpTimes, Traffic};
use crate::engine::turns::Place;
use crate::engine::{Gate, Load, Part, run_load};
use crate::network::relay;
use crate::placement::Placement;
use crate::security::Security;
use crate::servers::Target;
use crate::settings::shard::Shard;
use crate::settings::{ClientChoice, ConnectionPolicy, Lab, Settings, Workload};

/// Set-up and clean-up may take this many request timeouts in all.
const SETUP_TIMEOUTS: u32 = 4;

#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
struct Interrupted;

/// What every row of a run shares.
#[derive(Debug)]
pub(crate) struct Job<'a> {
    /// The options.
    pub settings: &'a Settings,
    /// Where load and servers run.
    pub placement: &'a Placement,
    /// Runs set-up and clean-up.
    pub control: &'a tokio::runtime::Runtime,
    /// Set by Ctrl-C.
    pub stop: &'a Arc<AtomicBool>,
    /// Unique to this run, in every email it makes.
    pub tag: String,
    /// Where rows show their progress.
    pub progress: Progress,
    /// Held while a row sets up: rows of one lab set up one after the other, so a list
    /// row finds the users another row made.
    pub setting_up: std::sync::Mutex<()>,
    /// The run's TLS and token (`--tls`, `--auth`).
    pub security: &'a Security,
    /// How set-up and clean-up reach the servers, from `security`.
    pub access: Access,
    /// This process's shard of the run (`--shard`), if it is one.
    pub shard: Option<Shard>,
    /// Under `--link`, what every connection across it shares (bottlenecks, tally).
    pub link: Option<relay::Shared>,
}

impl Job<'_> {
    /// Runs `work` on the control runtime within `SETUP_TIMEOUTS` request timeouts,
    /// giving up at once on Ctrl-C.
    fn bounded<T>(
        &self,
        what: &str,
        work: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let limit = self.settings.timeout * SETUP_TIMEOUTS;
        let stop = Arc::clone(self.stop);
        self.control.block_on(async move {
            let stopped = async {
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            };
            tokio::select! {
                done = tokio::time::timeout(limit, work) => match done {
                    Ok(result) => result,
                    Err(_) => bail!("{what} took longer than {limit:?} (--timeout x {SETUP_TIMEOUTS})"),
                },
                () = stopped => Err(Interrupted.into()),
            }
        })
    }

    fn load(&self) -> Load {
        let clients = self.settings.clients();
        let part = self.shard.map(|shard| Part { shard, clients });
        Load {
            // A shard runs its share of the clients and of the connections.
            clients: self.shard.map_or(clients, |s| s.share_of(clients)),
            connections: self.shard.map_or(self.settings.connection_count(), |s| {
                s.share_of(self.settings.connection_count()).max(1)
            }),
            threads: self.placement.client_threads,
            cpus: self.placement.client_cpus.clone(),
            warmup: self.settings.warmup,
            length: self.settings.length(),
            rounds: self.settings.rounds,
            rate: self.settings.rate,
            part,
        }
    }
}

/// A row as the run sees it: any adapter, whatever its plan and probe types.
pub(crate) trait Row: Sync {
    /// The row's fixed facts.
    fn info(&self) -> &'static RowInfo;

    /// Set-up, the measured load in turns at `place`, clean-up once every row has
    /// measured: everything the report needs of the row.
    ///
    /// # Errors
    ///
    /// When set-up fails or the load generator cannot start.
    fn measure(
        &self,
        job: &Job<'_>,
        target: &Target,
        place: &Place<'_>,
    ) -> anyhow::Result<Measured>;

    /// Sets up, then sends `warmup` and `requests` requests one after the other from
    /// one client on one kept connection, then cleans up: the least machinery around
    /// the row's client, on the calling thread's `runtime`, for `benchmark cost` to
    /// count instructions of (no engine, no timers of its own, no progress).
    ///
    /// # Errors
    ///
    /// When set-up or a request fails.
    fn drive(
        &self,
        runtime: &tokio::runtime::Runtime,
        target: &Target,
        settings: &Settings,
        warmup: u64,
        requests: u64,
    ) -> anyhow::Result<()>;
}

/// A row's gate: waits for the row's turn, and reads the server's CPU time and the
/// connection's bytes around each of its rounds, so what other rows did between them
/// is not counted.
struct Turn<'a> {
    place: &'a Place<'a>,
    target: &'a Target,
    traffic: &'a Traffic,
    before: (Option<Duration>, (u64, u64), SetUpTimes),
    server_cpu: Option<Duration>,
    bytes: (u64, u64),
    set_up: SetUpTimes,
}

impl Gate for Turn<'_> {
    fn open(&mut self, round: u32) -> bool {
        self.place.wait_turn(round)
    }

    fn start(&mut self, _round: u32) {
        self.before = (
            self.target.cpu_time(),
            self.traffic.snapshot(),
            self.traffic.set_up_times(),
        );
    }

    fn close(&mut self, _round: u32) {
        let (sent, received) = self.traffic.snapshot();
        let (cpu_before, (sent_before, received_before), set_up_before) = self.before;
        let used = self
            .target
            .cpu_time()
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before));
        self.server_cpu = self.server_cpu.zip(used).map(|(a, b)| a + b);
        self.bytes.0 += sent - sent_before;
        self.bytes.1 += received - received_before;
        self.set_up
            .add(self.traffic.set_up_times().since(set_up_before));
        self.place.pass();
    }
}

impl<A: Adapter> Row for A {
    fn info(&self) -> &'static RowInfo {
        Adapter::info(self)
    }

    fn drive(
        &self,
        runtime: &tokio::runtime::Runtime,
        target: &Target,
        settings: &Settings,
        warmup: u64,
        requests: u64,
    ) -> anyhow::Result<()> {
        let info = Adapter::info(self);
        let tag = format!("cost-{}-{}", std::process::id(), info.key);
        let setup = SetUp {
            workload: settings.workload,
            list_size: settings.list_size,
            tag: tag.clone(),
            timeout: settings.timeout,
            payload: settings.payload,
            access: Access::default(),
        };
        runtime.block_on(async {
            let prepared = self
                .set_up(&target.address, &setup)
                .await
                .with_context(|| format!("setting up {}", info.label))?;
            let context = ProbeContext {
                target: target.address.clone(),
                authority: target.authority.clone(),
                relayed: target.address.clone(),
                timeout: settings.timeout,
                policy: ConnectionPolicy::Reuse,
                dial: Dial::new(Arc::default(), None),
                token: None,
                sharing: false,
                tag,
                created: Arc::default(),
            };
            let outcome = {
                let mut probe = self.probe(&prepared.plan, &context, &A::Link::default(), 0);
                let mut outcome = Ok(());
                for sent in 0..warmup + requests {
                    if let Err(e) = probe.call().await {
                        outcome = Err(anyhow::anyhow!(
                            "{}: request {} of {} failed: {}",
                            info.label,
                            sent + 1,
                            warmup + requests,
                            e.message
                        ));
                        break;
                    }
                }
                outcome
            };
            let mut created = prepared.created;
            created.append(&mut context.created.lock().unwrap_or_else(|e| e.into_inner()));
            self.clean_up(&target.address, created, &setup).await;
            outcome
        })
    }

    fn measure(
        &self,
        job: &Job<'_>,
        target: &Target,
        place: &Place<'_>,
    ) -> anyhow::Result<Measured> {
        let info = Adapter::info(self);
        let settings = job.settings;
        // Rows of one lab set up at once: each tags its users with its own key.
        let tag = format!("{}-{}", job.tag, info.key);
        let setup = SetUp {
            workload: settings.workload,
            list_size: settings.list_size,
            tag: tag.clone(),
            timeout: settings.timeout,
            payload: settings.payload,
            access: job.access.clone(),
        };
        let prepared = {
            let _one_at_a_time = job.setting_up.lock();
            job.bounded("set-up", self.set_up(&target.address, &setup))
                .with_context(|| format!("setting up {}", info.label))?
        };
        let traffic = Arc::new(Traffic::default());
        let tls = job.security.client(info.alpn)?;
        let context = ProbeContext {
            target: target.address.clone(),
            authority: target.authority.clone(),
            relayed: target
                .relayed_address()
                .unwrap_or_else(|| target.address.clone()),
            timeout: settings.timeout,
            policy: settings.connection,
            dial: Dial::new(Arc::clone(&traffic), tls)
                .over_link(settings.link.zip(job.link.clone())),
            token: job.access.token.clone(),
            sharing: settings.sharing(),
            tag,
            created: Arc::default(),
        };
        let shared = Arc::new(Shared::new(Arc::clone(job.stop)));
        let load = job.load();
        let mut turn = Turn {
            place,
            target,
            traffic: &traffic,
            before: (None, (0, 0), SetUpTimes::default()),
            server_cpu: Some(Duration::ZERO),
            bytes: (0, 0),
            set_up: SetUpTimes::default(),
        };
        let result = std::thread::scope(|scope| {
            let (shared, length, clients) = (&shared, load.length, load.clients);
            let progress = &job.progress;
            scope.spawn(move || {
                crate::engine::progress::follow(progress, info.label, clients, length, shared);
            });
            run_load(
                &load,
                shared,
                |_| A::Link::default(),
                |link, index| self.probe(&prepared.plan, &context, link, index),
                &mut turn,
            )
        });
        // Clean up only when no row is measuring any more.
        place.leave_and_wait_for_all();
        let result = result.with_context(|| format!("measuring {}", info.label))?;
        let (server_cpu, bytes, set_up) = (turn.server_cpu, turn.bytes, turn.set_up);

        let mut to_remove = prepared.created;
        // Every probe has dropped with its load thread, handing over what it made.
        to_remove.append(&mut context.created.lock().unwrap_or_else(|e| e.into_inner()));
        let total = to_remove.len();
        let left = if total == 0 {
            0
        } else {
            let cleaning = async { Ok(self.clean_up(&target.address, to_remove, &setup).await) };
            job.bounded("clean-up", cleaning).unwrap_or(total)
        };
        Ok(Measured {
            info,
            operation: prepared.operation,
            server_id: prepared.server_id,
            items: prepared.items,
            load: result,
            load_cpus: load.cpu_count(),
            server_cpu,
            bytes: (!info.connects_itself()).then_some(bytes),
            connections_opened: (!info.connects_itself()).then(|| traffic.opened()),
            set_up: (!info.connects_itself()).then_some(set_up),
            users_left: (left, total),
        })
    }
}

/// Whether a row runs under the settings.
pub(crate) fn selected(info: &RowInfo, settings: &Settings) -> bool {
    let lab_wanted = info.lab.key == Lab::Floor || info.protocol.is_some_and(|p| settings.wants(p));
    // No REST route carries a free payload.
    let lab_wanted = lab_wanted && !(settings.payload.is_some() && info.lab.key == Lab::Rest);
    let kind_wanted = match (settings.client, info.kind) {
        (_, ClientKind::Both) | (ClientChoice::All, _) => true,
        (ClientChoice::Both, kind) => kind != ClientKind::Raw,
        (ClientChoice::Standard, kind) => kind == ClientKind::Standard,
        (ClientChoice::Lean, kind) => kind == ClientKind::Lean,
        (ClientChoice::Raw, kind) => kind == ClientKind::Raw,
    };
    // The raw client sends the get workload's one request (the WebSocket's echo), one
    // connection per client.
    let workload_fits = info.kind != ClientKind::Raw
        || (settings.workload == Workload::Get
            && settings.payload.is_none()
            && !settings.sharing());
    lab_wanted && kind_wanted && workload_fits
}

/// Every row the benchmark knows, in report order.
pub(crate) fn all() -> Vec<&'static dyn Row> {
    vec![
        &floor::FloorEcho,
        &socket::SocketLab,
        &rest_reqwest::HTTP1,
        &rest_hyper::HTTP1,
        &raw::REST,
        &rest_reqwest::HTTP2,
        &rest_hyper::HTTP2,
        &raw::REST_H2,
        &grpc_channel::GrpcChannel,
        &grpc_hyper::GrpcHyper,
        &raw::GRPC,
        &ws::WsLab,
        &raw::WEBSOCKET,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::tests::settings;

    #[test]
    fn the_client_choice_picks_the_rows() {
        let keys = |args: &[&str]| -> Vec<&str> {
            let s = settings(args);
            all()
                .into_iter()
                .filter(|r| selected(r.info(), &s))
                .map(|r| r.info().key)
                .collect()
        };
        assert_eq!(
            keys(&[]),
            ["floor", "socket", "rest-reqwest", "grpc-channel", "ws"]
        );
        assert_eq!(
            keys(&["--client", "lean"]),
            ["floor", "socket", "rest-hyper", "grpc-hyper", "ws"]
        );
        assert_eq!(
            keys(&["--client", "both", "--protocols", "rest"]),
            ["floor", "rest-reqwest", "rest-hyper"]
        );
        assert_eq!(
            keys(&["--client", "both", "--protocols", "rest-h2"]),
            ["floor", "rest-h2-reqwest", "rest-h2-hyper"]
        );
        assert_eq!(
            keys(&["--client", "lean", "--protocols", "rest,rest-h2,grpc"]),
            ["floor", "rest-hyper", "rest-h2-hyper", "grpc-hyper"]
        );
    }
}
