//! One connection's private state: its place in the [`ConnState`] machine, the stream
//! decoder (with the first frame read by hand so the version can be peeked), and the
//! datagram rate limiter.

use std::time::Instant;

use protocol::game::{
    ClientMessage, ConnState, DisconnectReason, FRAME_HEADER_LEN, MAX_STREAM_MESSAGE_SIZE,
    PROTOCOL_VERSION, StreamDecoder, decode_stream_payload, peek_hello_version,
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
    /// The first frame, read by hand so its version can be peeked before decoding.
    first: FirstFrame,
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
            first: FirstFrame::default(),
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
        if !self.first.done {
            return self.first.feed(input);
        }
        if input.is_empty() {
            return Ok(None);
        }
        self.stream.feed(input).map_err(|e| e.disconnect_reason())
    }

    /// True when the stream ending now would cut a frame in half.
    pub(super) fn is_mid_frame(&self) -> bool {
        if self.first.done {
            self.stream.is_mid_frame()
        } else {
            self.first.header_len > 0
        }
    }

    /// Runs one datagram through the rate limiter.
    pub(super) fn admit_datagram(&mut self, now: Instant, config: &SessionConfig) -> Verdict {
        self.limiter.check(now, self.opened_at, config)
    }
}

/// The first stream frame, buffered by hand: the server must read a hello's version even
/// when the rest of a newer client's hello does not decode.
#[derive(Debug, Default)]
struct FirstFrame {
    header: [u8; FRAME_HEADER_LEN],
    header_len: usize,
    body_len: usize,
    body: Vec<u8>,
    done: bool,
}

impl FirstFrame {
    fn feed(&mut self, input: &mut &[u8]) -> Result<Option<ClientMessage>, DisconnectReason> {
        if self.header_len < FRAME_HEADER_LEN {
            let take = (FRAME_HEADER_LEN - self.header_len).min(input.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&input[..take]);
            self.header_len += take;
            *input = &input[take..];
            if self.header_len < FRAME_HEADER_LEN {
                return Ok(None);
            }
            let declared = u32::from_le_bytes(self.header) as usize;
            if declared == 0 {
                return Err(DisconnectReason::MalformedMessage);
            }
            if declared > MAX_STREAM_MESSAGE_SIZE {
                return Err(DisconnectReason::MessageTooLarge);
            }
            self.body_len = declared;
        }
        // The body grows only as bytes arrive: a header alone reserves nothing.
        let take = (self.body_len - self.body.len()).min(input.len());
        self.body.extend_from_slice(&input[..take]);
        *input = &input[take..];
        if self.body.len() < self.body_len {
            return Ok(None);
        }
        self.done = true;
        let payload = std::mem::take(&mut self.body);
        if peek_hello_version(&payload).is_some_and(|v| v != PROTOCOL_VERSION) {
            return Err(DisconnectReason::VersionMismatch);
        }
        decode_stream_payload(&payload)
            .map(Some)
            .map_err(|e| e.disconnect_reason())
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
