//! # ferryboat-testkit
//!
//! - [`suite`]: the conformance suite. One public async function per behaviour; every
//!   backend (ours or a user's) and every layer runs it from its own tests.
//! - [`server`]: start a local protocol server on a free 127.0.0.1 port, wait until it
//!   answers, stop it on drop.
//! - [`hostile`]: a scriptable HTTP server that misbehaves on purpose (wrong lengths, cut
//!   bodies, endless redirects, hangs, huge bodies), to point backends at.
//! - [`counting`] and [`forwarding`]: a store that counts what reaches it, and the check that
//!   a layer forwards batch deletes, renames, listings and presigning unchanged.
//! - [`proxy`]: a WAN between a client and a local server: added round trip, bandwidth cap,
//!   and connections cut mid-stream (resets, truncated messages, lost responses).
//! - [`emulators`]: find the emulators `scripts/test` started, or skip (fail under
//!   `FERRY_REQUIRE_EMULATORS=1`).

pub mod counting;
pub mod emulators;
pub mod forwarding;
pub mod hostile;
pub mod proxy;
pub mod ranges;
pub mod server;
pub mod suite;
