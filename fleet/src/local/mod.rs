//! `fleet local`: a local GameLift for server processes (SDK5 WebSocket) and backends (control-plane API).
pub mod api;
pub mod cli;
pub mod control_plane;
pub mod engine;
pub mod launcher;
pub mod runtime;
pub mod sdk_ws;
