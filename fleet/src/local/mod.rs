//! `fleet local`: a local GameLift for server processes (SDK5 WebSocket) and backends (control-plane API).
pub mod api;
pub mod engine;
pub mod launcher;
