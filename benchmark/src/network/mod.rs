//! `--link`: the network between every client and its server, emulated in-process
//! (the kernel's `tc netem` needs privileges and a module many machines lack). Each
//! direction of a connection goes through a [`pipe`] that holds each chunk for the
//! link's delay, passes it through a bottleneck shared by every connection of the run,
//! and now and then holds it for a retransmission timeout, in order, as TCP makes loss
//! look to an application. The probes' own connections are [`shaped::Wire`]s, shaped in
//! the client's stream with no extra hop; a [`relay::Relay`] in front of a server does
//! the same for clients that open their connections themselves (reqwest, push's
//! clients, an independent tool through `benchmark relay`), at the cost of one hop.
//!
//! What it does not model: slow start and the congestion window's growth, real segment
//! loss, reordering and the MTU; a chunk is what one read returned (up to 16 KiB), not
//! a segment.

pub(crate) mod pipe;
pub(crate) mod relay;
pub(crate) mod shaped;
pub(crate) mod windows;
