//! `--link`: the network between every client and its server, emulated in-process
//! (the kernel's `tc netem` needs privileges and a module many machines lack). A
//! [`relay::Relay`] in front of each server accepts the clients' connections, opens one
//! to the server for each, and moves the bytes both ways through a [`pipe`] that holds
//! each chunk for the link's delay, passes it through a bottleneck shared by every
//! connection of the run, and now and then holds it for a retransmission timeout, in
//! order, as TCP makes loss look to an application.
//!
//! What it does not model: slow start and the congestion window's growth, real segment
//! loss, reordering and the MTU; a chunk is what one read returned (up to 16 KiB), not
//! a segment.

pub(crate) mod pipe;
pub(crate) mod relay;
pub(crate) mod windows;
