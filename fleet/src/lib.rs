//! The `fleet` tooling: package and upload a server build to GameLift, create or update
//! a fleet, and `fleet local`, a local GameLift that speaks the SDK5 WebSocket protocol to
//! server processes and the control-plane API subset to `aws-sdk-gamelift`.
//!
//! **What it is not:** a general AWS deployment tool, and not a simulator of GameLift's
//! internals beyond what a server process or the backend can observe. It shares the SDK5
//! message types with the server through [`protocol`] and knows nothing of the server's
//! internals.
//!
//! **State today:** only this crate's place in the workspace exists.

pub mod local;
