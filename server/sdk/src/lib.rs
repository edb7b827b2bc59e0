//! Amazon GameLift Server SDK 5 for Rust (in progress).
