//! The game-client library (QUIC, certificate pinning, hello, inputs, interpolated
//! snapshots, events) and, as binaries, a bot and a load generator.
//!
//! **What it is not:** a renderer or an engine integration; it depends on neither the
//! server nor the backend, only on [`protocol`], exactly as a third-party client would.
//!
//! **State today:** only this crate's place in the workspace exists.
