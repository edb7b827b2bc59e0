//! One connection's private state: its place in the [`ConnState`] machine, the stream
//! decoder (with the first frame read by hand so the version can be peeked), and the
//! datagram rate limiter.

use std::time::Instant;

use protocol::game::{
    ClientMessage, ConnState, DisconnectReason, FrameReader, PROTOCOL_VERSION, StreamDecoder,
    decode_stream_payload, peek_hello_version,
};

use super::config::SessionConfig;
use super::output::PlayerId;

/// A connection the core knows.
#[derive(Debug)]
pub(super) struct Conn {
    /// Where it is in the connection's life.
    pub(super) state: ConnState,
    /// When the shell reported it; the hello deadline and rate windows count from here.
    pub(super) opened_at: Instant,
    /// The first frame, read raw so its version can be peeked before decoding.
    first: FrameReader,
    /// The first frame has been read.
    first_done: bool,
    /// Every later frame.
    stream: StreamDecoder<ClientMessage>,
    /// The player session from the hello, once one arrived.
    pub(super) player_session_id: Option<String>,
    /// The display name from the hello, kept until the player joins.
    pub(super) name: String,
    /// The slot, while the connection is in the match.
    pub(super) player: Option<PlayerId>,
    /// An `AcceptPlayerSession` call for this connection has not been answered yet.
    pub(super) accept_in_flight: bool,
    /// Datagram token bucket and abuse detection.
    limiter: DatagramLimiter,
}

impl Conn {
    pub(super) fn new(now: Instant, config: &SessionConfig) -> Self {
        Self {
            state: ConnState::AwaitingHello,
            opened_at: now,
            first: FrameReader::new(),
            first_done: false,
            stream: StreamDecoder::new(),
            player_session_id: None,
            name: String::new(),
            player: None,
            accept_in_flight: false,
            limiter: DatagramLimiter::new(now, config),
        }
    }

    /// Takes bytes from the front of `input` until one message is complete (`Some`) or
    /// `input` is used up (`None`). An error is the reason to close with.
    pub(super) fn next_message(
        &mut self,
        input: &mut &[u8],
    ) -> Result<Option<ClientMessage>, DisconnectReason> {
        if !self.first_done {
            let Some(payload) = self.first.feed(input).map_err(|e| e.disconnect_reason())? else {
                return Ok(None);
            };
            self.first_done = true;
            // A hello of another version is refused as such, even if the rest of it does
            // not decode under this version's layout.
            if peek_hello_version(&payload).is_some_and(|v| v != PROTOCOL_VERSION) {
                return Err(DisconnectReason::VersionMismatch);
            }
            return decode_stream_payload(&payload)
                .map(Some)
                .map_err(|e| e.disconnect_reason());
        }
        if input.is_empty() {
            return Ok(None);
        }
        self.stream.feed(input).map_err(|e| e.disconnect_reason())
    }

    /// True when the stream ending now would cut a frame in half.
    pub(super) fn is_mid_frame(&self) -> bool {
        if self.first_done {
            self.stream.is_mid_frame()
        } else {
            self.first.is_mid_frame()
        }
    }

    /// Runs one datagram through the rate limiter.
    pub(super) fn admit_datagram(&mut self, now: Instant, config: &SessionConfig) -> Verdict {
        self.limiter.check(now, self.opened_at, config)
    }
}

/// What the rate limiter says about one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Within the rate: process it.
    Pass,
    /// Over the rate: drop it and count it.
    Drop,
    /// Over the rate for [`SessionConfig::abuse_seconds`] seconds in a row: close.
    Abuse,
}

/// A token bucket (`datagram_rate` per second, `datagram_burst` deep) plus a count of
/// drops per whole second since the connection opened, to tell a burst from abuse.
#[derive(Debug)]
struct DatagramLimiter {
    tokens: f64,
    refilled_at: Instant,
    window: u64,
    drops_in_window: u32,
    last_abusive_window: Option<u64>,
    streak: u32,
}

impl DatagramLimiter {
    fn new(now: Instant, config: &SessionConfig) -> Self {
        Self {
            tokens: f64::from(config.datagram_burst),
            refilled_at: now,
            window: 0,
            drops_in_window: 0,
            last_abusive_window: None,
            streak: 0,
        }
    }

    fn check(&mut self, now: Instant, opened_at: Instant, config: &SessionConfig) -> Verdict {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.refilled_at = self.refilled_at.max(now);
        self.tokens = (self.tokens + elapsed * f64::from(config.datagram_rate))
            .min(f64::from(config.datagram_burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Verdict::Pass;
        }
        let window = now.saturating_duration_since(opened_at).as_secs();
        if window != self.window {
            self.window = window;
            self.drops_in_window = 0;
        }
        self.drops_in_window = self.drops_in_window.saturating_add(1);
        if self.drops_in_window == config.abuse_drops_per_sec.max(1) {
            // This second just became abusive: extend the streak if the last abusive
            // second was the one before.
            self.streak = match self.last_abusive_window {
                Some(last) if last + 1 == window => self.streak + 1,
                _ => 1,
            };
            self.last_abusive_window = Some(window);
            if self.streak >= config.abuse_seconds.max(1) {
                return Verdict::Abuse;
            }
        }
        Verdict::Drop
    }
}
