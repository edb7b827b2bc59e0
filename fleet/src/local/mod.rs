//! `fleet local`: a GameLift on this machine, for server processes (the SDK5 WebSocket)
//! and for backends (the control-plane API), so nothing needs an AWS account.
//!
//! | module | what |
//! |---|---|
//! | [`engine`] | the sans-IO fleet: processes, game sessions, player sessions, placements, every time rule |
//! | [`runtime`] | the shared engine, its driver task, the registry of live connections |
//! | [`sdk_ws`] | the SDK5 WebSocket endpoint server processes connect to |
//! | [`api`] | the control-plane wire layer (Smithy RPC v2 CBOR and AWS JSON 1.1) |
//! | [`control_plane`] | the API's shapes mapped onto the engine |
//! | [`launcher`] | the runtime configuration and the processes it keeps running |
//! | [`cli`] | the `fleet local` flags and run loop |
//!
//! What it is not: a model of GameLift's internals beyond what a server process or a
//! backend can observe. Not modelled: aliases, queues with several fleets or regions,
//! FlexMatch (backfill answers 400), fleet certificates (GetComputeCertificate answers
//! 400, so servers fall back to a self-signed certificate), SigV4 process auth, and
//! search filter expressions other than `hasAvailablePlayerSessions`.
//!
//! Differs from GameLift on purpose: UpdateFleetCapacity to 0 instances refuses new game
//! sessions but terminates nothing (GameLift scales in unprotected instances); builds are
//! zips in the S3 bucket given by `--build-bucket`, and fleets created with CreateFleet
//! are recorded and describable but launch no processes: the processes that run are
//! those of the fleet started on the command line (see [`control_plane`]).

pub mod api;
pub mod cli;
pub mod control_plane;
pub mod engine;
pub mod launcher;
pub mod runtime;
pub mod sdk_ws;
