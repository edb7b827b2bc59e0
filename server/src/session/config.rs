//! The admission core's tunables: named defaults and one typed config.

use std::time::Duration;

/// How long a new connection may take to deliver a complete `Hello` before it is closed
/// with `HelloTimeout`. Five seconds covers a slow mobile uplink many times over (a hello is
/// one small frame sent right after the handshake) while keeping a silent client's
/// connection cheap and short-lived.
pub const DEFAULT_HELLO_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a dropped player's slot is held for a reconnect. Fifteen seconds is longer
/// than QUIC's idle timeout (5–10 s, netcode.md §1.6) plus a client's reconnect, and short
/// enough that a player who is really gone does not hold a slot for long.
pub const DEFAULT_RECONNECT_GRACE: Duration = Duration::from_secs(15);

/// Most connections that may be waiting for their hello or for GameLift's answer at once;
/// beyond it new connections are refused at once. 64 is a whole match (`MAX_PLAYERS`)
/// connecting in the same instant; an attacker who fills it pays a full QUIC handshake per
/// connection and holds each at most [`DEFAULT_HELLO_TIMEOUT`], and players already in the
/// match are not affected. The shell counts QUIC handshakes in flight against the same cap
/// and refuses the excess at the handshake, before any TLS work.
pub const DEFAULT_MAX_PENDING: usize = 64;

/// Datagrams per second a connection may send on average. A client sends one `Inputs` per
/// tick (carrying its ack), or an `Ack` per snapshot while it sends no inputs, and an older
/// client both: at most 60/s at the default 30 Hz. 120/s is twice that (four times the
/// tick rate), so jitter and catch-up never hit it.
pub const DEFAULT_DATAGRAM_RATE: u32 = 120;

/// Datagrams a connection may send in one burst above the average rate (the bucket's
/// size): half a second at [`DEFAULT_DATAGRAM_RATE`], enough for a client that stalled and
/// flushes its queue.
pub const DEFAULT_DATAGRAM_BURST: u32 = 60;

/// Dropped datagrams within one second that make that second count as abusive. 60 is a
/// client sending at least 180/s (six times the tick rate) for the whole second.
pub const DEFAULT_ABUSE_DROPS_PER_SEC: u32 = 60;

/// Consecutive abusive seconds after which the connection is closed with `RateLimited`.
/// Three seconds in a row is no accident of jitter; a shorter burst is only dropped.
pub const DEFAULT_ABUSE_SECONDS: u32 = 3;

/// The admission core's configuration. Build it with [`Default`] and override fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Deadline from connection to a complete `Hello`; see [`DEFAULT_HELLO_TIMEOUT`].
    pub hello_timeout: Duration,
    /// How long a dropped player's slot is held; see [`DEFAULT_RECONNECT_GRACE`].
    pub reconnect_grace: Duration,
    /// Cap on connections awaiting hello or admission; see [`DEFAULT_MAX_PENDING`].
    pub max_pending: usize,
    /// Average datagrams per second per connection; see [`DEFAULT_DATAGRAM_RATE`].
    pub datagram_rate: u32,
    /// Token bucket size for datagrams; see [`DEFAULT_DATAGRAM_BURST`].
    pub datagram_burst: u32,
    /// Drops per second that mark an abusive second; see [`DEFAULT_ABUSE_DROPS_PER_SEC`].
    pub abuse_drops_per_sec: u32,
    /// Abusive seconds in a row that close the connection; see [`DEFAULT_ABUSE_SECONDS`].
    pub abuse_seconds: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            hello_timeout: DEFAULT_HELLO_TIMEOUT,
            reconnect_grace: DEFAULT_RECONNECT_GRACE,
            max_pending: DEFAULT_MAX_PENDING,
            datagram_rate: DEFAULT_DATAGRAM_RATE,
            datagram_burst: DEFAULT_DATAGRAM_BURST,
            abuse_drops_per_sec: DEFAULT_ABUSE_DROPS_PER_SEC,
            abuse_seconds: DEFAULT_ABUSE_SECONDS,
        }
    }
}
