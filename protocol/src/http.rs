//! HTTP API types (in progress).
