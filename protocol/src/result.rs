//! Match results (in progress).
