//! One direction of one emulated connection: chunks read from one side, each given the
//! moment it may arrive (the bottleneck, the one-way delay and jitter, a held chunk's
//! retransmission timeout, never before the chunk ahead of it), queued with a bound,
//! and written to the other side at that moment.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use super::windows::{Seen, Watch};
use crate::settings::link::Link;

/// Largest chunk one read takes.
const CHUNK: usize = 16 * 1024;
/// Chunks a direction queues before it stops reading (backpressure, as a full window).
const QUEUE: usize = 64;

/// One direction's bottleneck, shared by every connection of a run: a chunk leaves it
/// when the chunks ahead of it have, at the link's rate.
#[derive(Debug)]
pub(crate) struct Bottleneck {
    bits_per_second: f64,
    free_at: Mutex<Option<Instant>>,
}

impl Bottleneck {
    /// A bottleneck of `bits_per_second`.
    pub(crate) fn new(bits_per_second: f64) -> Self {
        Bottleneck {
            bits_per_second,
            free_at: Mutex::new(None),
        }
    }

    /// When a chunk of `bytes` that reaches the bottleneck at `at` has left it.
    pub(crate) fn pass(&self, bytes: usize, at: Instant) -> Instant {
        let mut free_at = self.free_at.lock().unwrap_or_else(PoisonError::into_inner);
        let start = free_at.map_or(at, |free| free.max(at));
        let done = start + Duration::from_secs_f64(bytes as f64 * 8.0 / self.bits_per_second);
        *free_at = Some(done);
        done
    }
}

/// A small deterministic random source (SplitMix64): each connection's own, so a run's
/// jitter and losses do not depend on how connections interleave.
#[derive(Debug, Clone)]
pub(crate) struct Dice(u64);

impl Dice {
    /// Seeded by `seed` (a connection's number), mixed first so that neighbouring
    /// seeds give unrelated sequences rather than one sequence a step apart.
    pub(crate) fn new(seed: u64) -> Self {
        Dice(mix(seed ^ 0xD1B5_4A32_D192_ED03))
    }

    /// A number in [0, 1).
    pub(crate) fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        (mix(self.0) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// SplitMix64's finaliser: every bit of the output depends on every bit of `z`.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Chunks moved and chunks held as lost, counted as they go: one for each connection
/// and one for the whole run, so a report can say what the dice did; the run's also
/// counts connections, and those that had a chunk held.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Chunks read, either way.
    pub chunks: AtomicU64,
    /// Of those, held for a retransmission timeout.
    pub held: AtomicU64,
    /// Connections accepted (the run's tally only).
    pub connections: AtomicU64,
    /// Of those, the ones with a chunk held (the run's tally only).
    pub connections_held: AtomicU64,
}

impl Tally {
    /// Counts a chunk; true when it is the first this tally held.
    fn count(&self, lost: bool) -> bool {
        self.chunks.fetch_add(1, Ordering::Relaxed);
        lost && self.held.fetch_add(1, Ordering::Relaxed) == 0
    }
}

/// What shapes one direction.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    /// The link.
    pub link: Link,
    /// Its bottleneck in this direction, when it has a rate.
    pub bottleneck: Option<Arc<Bottleneck>>,
    /// No byte arrives before this: a new connection's first bytes wait for the TCP
    /// handshake's round trip (client to server only).
    pub not_before: Option<Instant>,
    /// Jitter and loss.
    pub dice: Dice,
    /// This connection's tally (both directions count in it), then the run's.
    pub tallies: [Arc<Tally>; 2],
    /// Reads the HTTP/2 windows this direction's sender announces, until it knows.
    pub watch: Option<(Watch, Arc<Seen>)>,
    /// The run's count of bytes moved this way.
    pub bytes: Option<Arc<AtomicU64>>,
}

impl Shape {
    /// True when nothing can hold a chunk: no delay, jitter, rate, loss or set-up
    /// round trip (`--link loopback`), so chunks go straight through.
    pub(crate) fn passes_through(&self) -> bool {
        let link = &self.link;
        link.rtt.is_zero()
            && link.jitter.is_zero()
            && link.loss == 0.0
            && self.bottleneck.is_none()
            && self.not_before.is_none()
    }

    /// Counts a chunk read (held as lost or not) and shows it to the window watch.
    pub(crate) fn saw(&mut self, chunk: &[u8], lost: bool) {
        if self
            .watch
            .as_mut()
            .is_some_and(|(watch, seen)| watch.feed(chunk, seen))
        {
            self.watch = None;
        }
        if let Some(bytes) = &self.bytes {
            bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        let [connection, run] = &self.tallies;
        if connection.count(lost) {
            run.connections_held.fetch_add(1, Ordering::Relaxed);
        }
        run.count(lost);
    }

    /// When a chunk of `bytes` read at `read` may arrive, given the chunk ahead of it
    /// arrives at `ahead`; and whether it was held as lost.
    pub(crate) fn arrival(
        &mut self,
        bytes: usize,
        read: Instant,
        ahead: Option<Instant>,
    ) -> (Instant, bool) {
        let sent = self.not_before.map_or(read, |earliest| earliest.max(read));
        let passed = self
            .bottleneck
            .as_ref()
            .map_or(sent, |bottleneck| bottleneck.pass(bytes, sent));
        let jitter = self.link.jitter.mul_f64(self.dice.next());
        let mut at = passed + self.link.one_way() + jitter;
        let lost = self.link.loss > 0.0 && self.dice.next() < self.link.loss;
        if lost {
            at += self.link.retransmission_timeout();
        }
        (ahead.map_or(at, |ahead| ahead.max(at)), lost)
    }
}

/// Waits until `at`, to well under a millisecond (tokio's own timer ticks in
/// milliseconds, which at a 0.5 ms round trip would double it): a thread of its own
/// sleeps to each deadline in turn and wakes whoever waits for it.
pub(crate) async fn wait_until(at: Instant) {
    if at <= Instant::now() {
        return;
    }
    let (wake, woken) = oneshot::channel();
    if clock().send((at, wake)).is_err() {
        tokio::time::sleep_until(at.into()).await;
        return;
    }
    let _ = woken.await;
}

/// A deadline and whom to wake at it, ordered by the deadline.
struct Alarm(Instant, u64, oneshot::Sender<()>);

impl PartialEq for Alarm {
    fn eq(&self, other: &Self) -> bool {
        (self.0, self.1) == (other.0, other.1)
    }
}
impl Eq for Alarm {}
impl PartialOrd for Alarm {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Alarm {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // The earliest first out of a max-heap.
        (other.0, other.1).cmp(&(self.0, self.1))
    }
}

/// The clock thread's inbox, started on first use.
fn clock() -> &'static std::sync::mpsc::Sender<(Instant, oneshot::Sender<()>)> {
    static CLOCK: std::sync::OnceLock<std::sync::mpsc::Sender<(Instant, oneshot::Sender<()>)>> =
        std::sync::OnceLock::new();
    CLOCK.get_or_init(|| {
        let (send, inbox) = std::sync::mpsc::channel::<(Instant, oneshot::Sender<()>)>();
        let _ = std::thread::Builder::new()
            .name("link-clock".into())
            .spawn(move || tick(&inbox));
        send
    })
}

/// Sleeps to each deadline in turn, waking its waiter; new deadlines come in between.
fn tick(inbox: &std::sync::mpsc::Receiver<(Instant, oneshot::Sender<()>)>) {
    use std::sync::mpsc::RecvTimeoutError;
    let mut alarms = std::collections::BinaryHeap::new();
    let mut number = 0u64;
    loop {
        let now = Instant::now();
        while alarms.peek().is_some_and(|Alarm(at, ..)| *at <= now) {
            if let Some(Alarm(_, _, wake)) = alarms.pop() {
                let _ = wake.send(());
            }
        }
        let next = match alarms.peek() {
            Some(Alarm(at, ..)) => inbox.recv_timeout(at.saturating_duration_since(now)),
            None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match next {
            Ok((at, wake)) => {
                number += 1;
                alarms.push(Alarm(at, number, wake));
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Moves bytes from `from` to `to` as `shape` says, until `from` ends (then shuts `to`
/// down) or either side fails.
pub(crate) async fn run<R, W>(mut from: R, mut to: W, mut shape: Shape)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    if shape.passes_through() {
        return pass_through(from, to, shape).await;
    }
    let (queue, mut arrivals) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE);
    let reader = tokio::spawn(async move {
        let mut ahead = None;
        loop {
            let mut chunk = vec![0u8; CHUNK];
            let n = match from.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            chunk.truncate(n);
            let (at, lost) = shape.arrival(n, Instant::now(), ahead);
            shape.saw(&chunk, lost);
            ahead = Some(at);
            if queue.send((at, chunk)).await.is_err() {
                return;
            }
        }
    });
    while let Some((at, chunk)) = arrivals.recv().await {
        wait_until(at).await;
        if to.write_all(&chunk).await.is_err() {
            reader.abort();
            return;
        }
    }
    let _ = to.shutdown().await;
}

/// [`run`] for a shape that holds nothing: each chunk written as soon as it is read,
/// in the one task, so the emulator's own cost is one relay hop and no more.
async fn pass_through<R, W>(mut from: R, mut to: W, mut shape: Shape)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = match from.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        shape.saw(&chunk[..n], false);
        if to.write_all(&chunk[..n]).await.is_err() {
            return;
        }
    }
    let _ = to.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(link: &str) -> Shape {
        let link = Link::parse(link).unwrap();
        Shape {
            bottleneck: link.rate_bps.map(|r| Arc::new(Bottleneck::new(r))),
            link,
            not_before: None,
            dice: Dice::new(1),
            tallies: Default::default(),
            watch: None,
            bytes: None,
        }
    }

    #[test]
    fn chunks_arrive_after_the_one_way_delay_and_in_order() {
        let mut shape = shape("rtt=20ms,jitter=5ms");
        let start = Instant::now();
        let mut ahead = None;
        for i in 0..100u32 {
            let read = start + Duration::from_micros(u64::from(i) * 10);
            let (at, lost) = shape.arrival(100, read, ahead);
            assert!(!lost);
            assert!(at >= read + Duration::from_millis(10));
            assert!(at <= read + Duration::from_millis(15) || Some(at) == ahead);
            assert!(ahead.is_none_or(|ahead| at >= ahead), "reordered");
            ahead = Some(at);
        }
    }

    #[test]
    fn the_bottleneck_spaces_chunks_at_its_rate_across_connections() {
        // 10 Mbit/s: 1.25 MB/s, so 12,500 bytes take 10 ms, whoever sends them.
        let (mut a, mut b) = (shape("rate=10mbit"), shape("rate=10mbit"));
        let shared = Arc::new(Bottleneck::new(10e6));
        a.bottleneck = Some(Arc::clone(&shared));
        b.bottleneck = Some(shared);
        let start = Instant::now();
        let (first, _) = a.arrival(12_500, start, None);
        let (second, _) = b.arrival(12_500, start, None);
        assert_eq!(first - start, Duration::from_millis(10));
        assert_eq!(second - start, Duration::from_millis(20));
    }

    #[test]
    fn a_held_chunk_holds_the_ones_behind_it() {
        let mut shape = shape("rtt=10ms,loss=50%");
        let start = Instant::now();
        let mut ahead = None;
        let mut held = 0;
        for i in 0..200u32 {
            let read = start + Duration::from_millis(u64::from(i));
            let (at, lost) = shape.arrival(10, read, ahead);
            if lost {
                held += 1;
                assert!(at >= read + Duration::from_millis(5 + 210));
            }
            ahead = Some(at);
        }
        // Half of 200, give or take what a fair coin does.
        assert!((70..130).contains(&held), "{held}");
    }

    #[tokio::test]
    async fn the_clock_wakes_at_the_deadline_not_a_millisecond_tick_later() {
        let mut late = Vec::new();
        for _ in 0..20 {
            let at = Instant::now() + Duration::from_micros(300);
            wait_until(at).await;
            late.push(Instant::now() - at);
        }
        late.sort();
        // The median: a loaded machine may be late now and then, never early.
        assert!(late[10] < Duration::from_micros(700), "{late:?}");
    }

    #[test]
    fn neighbouring_connections_lose_independently() {
        // Over 40 connections of 250 chunks each, 5% loss: 500 held, give or take
        // what independent dice do (a standard deviation is 22).
        let held: usize = (0..40u64)
            .map(|seed| {
                let mut dice = Dice::new(seed);
                (0..250)
                    .filter(|_| {
                        dice.next();
                        dice.next() < 0.05
                    })
                    .count()
            })
            .sum();
        assert!((434..566).contains(&held), "{held}");
    }

    #[test]
    fn the_dice_are_uniform_enough() {
        let mut dice = Dice::new(7);
        let draws: Vec<f64> = (0..10_000).map(|_| dice.next()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }
}
