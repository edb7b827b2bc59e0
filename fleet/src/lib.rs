//! The `fleet` tooling: package and upload a server build to GameLift, create or update
//! a fleet, and `fleet local`, a local GameLift that speaks the SDK5 WebSocket protocol to
//! server processes and the control-plane API subset to `aws-sdk-gamelift`.
//!
//! **What it is not:** a general AWS deployment tool, and not a simulator of GameLift's
//! internals beyond what a server process or the backend can observe. It shares the SDK5
//! message types with the server through [`protocol`] and knows nothing of the server's
//! internals.
//!
//! **State today:** `fleet local` is complete ([`local`]): the SDK5 WebSocket
//! ([`local::sdk_ws`]), the control-plane API in Smithy RPC v2 CBOR and AWS JSON 1.1
//! ([`local::api`], [`local::control_plane`]), the process launcher
//! ([`local::launcher`]), all driven by one sans-IO engine ([`local::engine`]) through
//! [`local::runtime`]. It also serves builds and fleet creation (recorded, not
//! deployed). [`tools`]: `fleet package`, `fleet upload`, `fleet create-fleet`,
//! `fleet update-fleet` and `fleet status`, against AWS or `fleet local` ([`aws`]).

pub mod aws;
pub mod local;
pub mod tools;
