//! Encoding and decoding of game messages: one explicit bincode configuration, hard size
//! limits per channel, a length-prefixed framing for the stream, typed errors.

use std::marker::PhantomData;

use bincode::config::{Configuration, Limit, LittleEndian, Varint};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::messages::{ClientMessage, DisconnectReason, ServerMessage, Snapshot};
use super::{Channel, FRAME_HEADER_LEN, MAX_DATAGRAM_SIZE, MAX_STREAM_MESSAGE_SIZE};

/// The one bincode configuration of the game wire: little endian, variable-length integers
/// (zig-zag for signed), and a decode limit of `N` bytes that bounds every allocation.
type WireConfig<const N: usize> = Configuration<LittleEndian, Varint, Limit<N>>;

/// bincode's decode limit counts the *in-memory* size of every value it decodes (an `i32`
/// claims 4 bytes even when its varint is 1 byte, a list length claims 8), not wire
/// bytes. A legitimate message of the channel's wire limit claims at most about 3× that
/// (a minimal `ItemState`: 4 wire bytes, 12 claimed), so decoding gets 4× the wire limit:
/// the documented allocation bound (`protocol/docs/wire-format.md` §3). With the wire
/// limit itself, a full snapshot of 64 players (1,152 claimed bytes for the players
/// alone) failed with `LimitExceeded` although it was ~500 wire bytes.
const DECODE_BUDGET_FACTOR: usize = 4;

fn wire_config<const N: usize>() -> WireConfig<N> {
    bincode::config::standard()
        .with_little_endian()
        .with_variable_int_encoding()
        .with_limit::<N>()
}

/// A message of the game wire: [`ClientMessage`] or [`ServerMessage`]. Sealed.
pub trait Message: Serialize + DeserializeOwned + private::Sealed {
    /// The channel this message travels on.
    fn channel(&self) -> Channel;
    /// A short name for logs and errors.
    fn kind(&self) -> &'static str;
}

mod private {
    pub trait Sealed {}
    impl Sealed for super::ClientMessage {}
    impl Sealed for super::ServerMessage {}
}

impl Message for ClientMessage {
    fn channel(&self) -> Channel {
        ClientMessage::channel(self)
    }
    fn kind(&self) -> &'static str {
        ClientMessage::kind(self)
    }
}

impl Message for ServerMessage {
    fn channel(&self) -> Channel {
        ServerMessage::channel(self)
    }
    fn kind(&self) -> &'static str {
        ServerMessage::kind(self)
    }
}

/// Why a message could not be encoded. Either means a bug in the sender: the message
/// breaks a cap the receiver would enforce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The encoded message is larger than its channel allows.
    #[error("{kind} message of {size} bytes exceeds the {limit}-byte limit of its channel")]
    TooLarge {
        /// Message kind.
        kind: &'static str,
        /// Encoded size in bytes.
        size: usize,
        /// The channel's limit.
        limit: usize,
    },
    /// A field breaks its cap (a string too long, a list too long).
    #[error("{kind} message breaks a field cap: {detail}")]
    FieldCap {
        /// Message kind.
        kind: &'static str,
        /// Which cap, from the encoder.
        detail: String,
    },
}

/// Why received bytes were rejected. Every variant is the peer's fault; the connection
/// should be closed with [`disconnect_reason`](Self::disconnect_reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A datagram or frame with no payload.
    #[error("empty message")]
    Empty,
    /// The message (or a frame's declared length) exceeds the channel's limit.
    #[error("message of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Size received or declared.
        size: usize,
        /// The channel's limit.
        limit: usize,
    },
    /// The bytes end before the message does.
    #[error("message truncated")]
    Truncated,
    /// Bytes remain after a complete message.
    #[error("{extra} unexpected bytes after the message")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// Anything else that does not decode: an enum tag this version does not define,
    /// invalid UTF-8, a bool other than 0/1, an integer out of range, a list or string
    /// over its cap.
    #[error("malformed message: {detail}")]
    Malformed {
        /// What the decoder reported.
        detail: String,
    },
    /// A message arrived on the wrong channel (for example a snapshot on the stream).
    #[error("{kind} message is not allowed on the {got:?} channel")]
    WrongChannel {
        /// Message kind.
        kind: &'static str,
        /// Where it arrived.
        got: Channel,
    },
}

impl DecodeError {
    /// The reason to send when closing a connection over this error.
    pub const fn disconnect_reason(&self) -> DisconnectReason {
        match self {
            Self::TooLarge { .. } => DisconnectReason::MessageTooLarge,
            Self::WrongChannel { .. } => DisconnectReason::IllegalMessage,
            _ => DisconnectReason::MalformedMessage,
        }
    }
}

fn map_decode_error(e: bincode::error::DecodeError) -> DecodeError {
    use bincode::error::DecodeError as B;
    match e {
        B::UnexpectedEnd { .. } => DecodeError::Truncated,
        other => DecodeError::Malformed {
            detail: other.to_string(),
        },
    }
}

/// Decodes a payload of at most `N` wire bytes with a decode (allocation) budget of `B`
/// bytes, `B = DECODE_BUDGET_FACTOR × N`.
fn decode_payload<M: Message, const N: usize, const B: usize>(
    channel: Channel,
    bytes: &[u8],
) -> Result<M, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() > N {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            limit: N,
        });
    }
    let (msg, used): (M, usize) =
        bincode::serde::decode_from_slice(bytes, wire_config::<B>()).map_err(map_decode_error)?;
    if used != bytes.len() {
        return Err(DecodeError::TrailingBytes {
            extra: bytes.len() - used,
        });
    }
    if msg.channel() != channel {
        return Err(DecodeError::WrongChannel {
            kind: msg.kind(),
            got: channel,
        });
    }
    Ok(msg)
}

/// Encodes `msg` ready for its channel: a datagram's payload as is, or a stream message
/// as one frame (4-byte little-endian length, then the payload).
pub fn encode<M: Message>(msg: &M) -> Result<Vec<u8>, EncodeError> {
    let channel = msg.channel();
    let header = match channel {
        Channel::Datagram => 0,
        Channel::Stream => FRAME_HEADER_LEN,
    };
    let mut out = vec![0u8; header];
    bincode::serde::encode_into_std_write(msg, &mut out, wire_config::<MAX_STREAM_MESSAGE_SIZE>())
        .map_err(|e| EncodeError::FieldCap {
            kind: msg.kind(),
            detail: e.to_string(),
        })?;
    let size = out.len() - header;
    let limit = channel.max_message_size();
    if size > limit {
        return Err(EncodeError::TooLarge {
            kind: msg.kind(),
            size,
            limit,
        });
    }
    if header > 0 {
        // size ≤ MAX_STREAM_MESSAGE_SIZE, which fits in a u32.
        let len = u32::try_from(size).unwrap_or(u32::MAX);
        out[..FRAME_HEADER_LEN].copy_from_slice(&len.to_le_bytes());
    }
    Ok(out)
}

/// A snapshot encoded once for every client that gets the same one but for its
/// `last_input_seq` (the clients that acknowledged the same baseline):
/// [`encode_for`](Self::encode_for) returns exactly what [`encode`] returns for
/// `ServerMessage::Snapshot` with that sequence number, by copying the bytes before and
/// after the field around the sequence number's varint.
#[derive(Debug, Clone)]
pub struct SharedSnapshot {
    /// The message encoded with `last_input_seq` 0 (a one-byte varint).
    bytes: Vec<u8>,
    /// Where that byte is.
    seq_at: usize,
}

/// `ServerMessage::Snapshot`'s variant index, as bincode writes it before the fields.
const SNAPSHOT_VARIANT: u32 = 1;

impl SharedSnapshot {
    /// Encodes `snapshot` (its `last_input_seq` is ignored).
    ///
    /// # Errors
    /// As [`encode`]: a field cap broken, or too large for a datagram even with the
    /// shortest sequence number.
    pub fn new(mut snapshot: Snapshot) -> Result<Self, EncodeError> {
        snapshot.last_input_seq = 0;
        // The fields before the sequence number, as bincode lays out an enum's newtype
        // variant then a struct: variant index, `tick`, `baseline`, one after another.
        let head = (SNAPSHOT_VARIANT, snapshot.tick, snapshot.baseline);
        let seq_at = bincode::serde::encode_to_vec(head, wire_config::<MAX_DATAGRAM_SIZE>())
            .map_err(|e| EncodeError::FieldCap {
                kind: "snapshot",
                detail: e.to_string(),
            })?
            .len();
        let bytes = encode(&ServerMessage::Snapshot(snapshot))?;
        debug_assert_eq!(bytes.get(seq_at), Some(&0), "the sequence number's varint");
        Ok(SharedSnapshot { bytes, seq_at })
    }

    /// The datagram for a client whose newest applied input is `last_input_seq`.
    ///
    /// # Errors
    /// [`EncodeError::TooLarge`] when the longer varint of a large sequence number pushes
    /// the datagram past its limit.
    pub fn encode_for(&self, last_input_seq: u32) -> Result<Vec<u8>, EncodeError> {
        // bincode's own varint (1, 3 or 5 bytes), written to the stack.
        let mut seq = [0u8; 5];
        let seq_len =
            bincode::serde::encode_into_slice(last_input_seq, &mut seq, wire_config::<5>())
                .expect("a u32 varint takes at most 5 bytes");
        let size = self.bytes.len() - 1 + seq_len;
        if size > MAX_DATAGRAM_SIZE {
            return Err(EncodeError::TooLarge {
                kind: "snapshot",
                size,
                limit: MAX_DATAGRAM_SIZE,
            });
        }
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&self.bytes[..self.seq_at]);
        out.extend_from_slice(&seq[..seq_len]);
        out.extend_from_slice(&self.bytes[self.seq_at + 1..]);
        Ok(out)
    }
}

/// Decodes one datagram's payload. Fails for a message that belongs on the stream.
pub fn decode_datagram<M: Message>(bytes: &[u8]) -> Result<M, DecodeError> {
    decode_payload::<M, MAX_DATAGRAM_SIZE, { DECODE_BUDGET_FACTOR * MAX_DATAGRAM_SIZE }>(
        Channel::Datagram,
        bytes,
    )
}

/// Decodes one stream frame's payload (without its length prefix). Fails for a message
/// that belongs in a datagram. [`StreamDecoder`] does the framing.
pub fn decode_stream_payload<M: Message>(bytes: &[u8]) -> Result<M, DecodeError> {
    decode_payload::<M, MAX_STREAM_MESSAGE_SIZE, { DECODE_BUDGET_FACTOR * MAX_STREAM_MESSAGE_SIZE }>(
        Channel::Stream,
        bytes,
    )
}

/// Reads the protocol version from a client's first stream payload without decoding the
/// rest, so a server can answer a client of another version with
/// [`DisconnectReason::VersionMismatch`] rather than "malformed". `None` if the payload
/// is not a `Hello`.
pub fn peek_hello_version(payload: &[u8]) -> Option<u16> {
    // Variant index (u32 varint, at most 5 bytes) then the version (u16 varint, at most
    // 3 bytes); whatever follows is not looked at.
    let head = &payload[..payload.len().min(8)];
    let ((tag, version), _): ((u32, u16), usize) =
        bincode::serde::decode_from_slice(head, wire_config::<8>()).ok()?;
    (tag == 0).then_some(version)
}

/// Reads length-prefixed frames off the stream and hands out their raw payloads. It
/// buffers at most one frame, rejects a frame whose declared length is 0 or over the limit
/// as soon as its header arrives, and grows a body only as its bytes arrive, so a header
/// alone reserves nothing. After an error the stream is unusable.
#[derive(Debug, Default)]
pub struct FrameReader {
    header: [u8; FRAME_HEADER_LEN],
    header_len: usize,
    body: Vec<u8>,
    body_len: usize,
}

impl FrameReader {
    /// An empty reader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes bytes from the front of `input` until one frame is complete (its payload
    /// is returned) or `input` is exhausted (`Ok(None)`).
    pub fn feed(&mut self, input: &mut &[u8]) -> Result<Option<Vec<u8>>, DecodeError> {
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
                return Err(DecodeError::Empty);
            }
            if declared > MAX_STREAM_MESSAGE_SIZE {
                return Err(DecodeError::TooLarge {
                    size: declared,
                    limit: MAX_STREAM_MESSAGE_SIZE,
                });
            }
            self.body_len = declared;
        }
        let take = (self.body_len - self.body.len()).min(input.len());
        self.body.extend_from_slice(&input[..take]);
        *input = &input[take..];
        if self.body.len() < self.body_len {
            return Ok(None);
        }
        self.header_len = 0;
        self.body_len = 0;
        Ok(Some(std::mem::take(&mut self.body)))
    }

    /// True when a frame has started but is not complete: the stream ending now means the
    /// last message was truncated.
    pub fn is_mid_frame(&self) -> bool {
        self.header_len > 0
    }

    /// To call when the stream ends: fails with [`DecodeError::Truncated`] if a frame was
    /// cut off.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.is_mid_frame() {
            Err(DecodeError::Truncated)
        } else {
            Ok(())
        }
    }
}

/// Incremental decoder for the stream channel: feed it whatever the transport hands over,
/// get whole messages out. A [`FrameReader`] plus decoding; after an error the stream is
/// unusable and the connection should be closed.
#[derive(Debug)]
pub struct StreamDecoder<M> {
    frames: FrameReader,
    _message: PhantomData<fn() -> M>,
}

impl<M: Message> Default for StreamDecoder<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Message> StreamDecoder<M> {
    /// An empty decoder.
    pub fn new() -> Self {
        Self {
            frames: FrameReader::new(),
            _message: PhantomData,
        }
    }

    /// Consumes bytes from the front of `input` until one message is complete (returned)
    /// or `input` is exhausted (`Ok(None)`). Call again with the rest of `input` until it
    /// is empty.
    pub fn feed(&mut self, input: &mut &[u8]) -> Result<Option<M>, DecodeError> {
        match self.frames.feed(input)? {
            Some(payload) => decode_stream_payload(&payload).map(Some),
            None => Ok(None),
        }
    }

    /// True when a frame has started but is not complete.
    pub fn is_mid_frame(&self) -> bool {
        self.frames.is_mid_frame()
    }

    /// To call when the stream ends: fails with [`DecodeError::Truncated`] if a frame was
    /// cut off.
    pub fn finish(&self) -> Result<(), DecodeError> {
        self.frames.finish()
    }
}
