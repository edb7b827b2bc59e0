//! The fleet tooling commands besides `fleet local`: [`package`] a server build as a
//! GameLift build zip, [`upload`] it (CreateBuild, S3, DescribeBuild), create or update a
//! fleet from a TOML description ([`fleet_config`]) and show a fleet's [`status`].
//!
//! They talk to GameLift and S3 through `aws-config` ([`crate::aws`]), so the same
//! commands work against AWS and against `fleet local` plus a local S3
//! (`AWS_ENDPOINT_URL_GAMELIFT`, `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`).
//!
//! What they are not: a build system (the binary is built beforehand, see [`package`]),
//! nor a full fleet manager (see [`fleet_config`]).

pub mod fleet_config;
pub mod package;
pub mod status;
pub mod upload;
pub mod zip;
