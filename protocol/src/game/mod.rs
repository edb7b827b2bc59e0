//! The game wire between game clients and the session server.
//!
//! **Transport.** One QUIC connection per player. Latest-wins state travels in QUIC
//! datagrams, one message per datagram (client `Inputs` and `Ack`, server `Snapshot`).
//! Everything that must arrive in order travels on one bidirectional stream that the
//! client opens, as length-prefixed frames (client `Hello` and `Leave`; server `Welcome`,
//! `Event` and `Disconnect`). Which channel a message uses is fixed by its type.
//!
//! **Encoding.** bincode 2 with one explicit configuration (little endian, variable-length
//! integers, zig-zag for signed ones); see `protocol/docs/wire-format.md` for every byte.
//! bincode never appears in this module's API: callers see [`encode`],
//! [`decode_datagram`], [`StreamDecoder`] and typed errors.
//!
//! **Limits.** A datagram message is at most [`MAX_DATAGRAM_SIZE`] bytes (it must fit in
//! one QUIC datagram at the minimum MTU), a stream message at most
//! [`MAX_STREAM_MESSAGE_SIZE`]. Every string and list has a cap (the `MAX_*` constants),
//! checked on encode and on decode before anything is allocated.
//!
//! **Versioning.** [`PROTOCOL_VERSION`] changes whenever the layout changes. `Hello` is
//! variant 0 with the version as its first field in every version, so a server can read
//! any client's version ([`peek_hello_version`]) and refuse it with a typed reason.
//!
//! **State.** [`check_client`] and [`check_server`] say which message is legal in which
//! [`ConnState`].
//!
//! What it is not: no sockets, no timers, no game rules. The session server owns those.

mod bounded;
mod codec;
mod delta;
mod messages;
mod state;
mod view;

pub use codec::{
    DecodeError, EncodeError, FrameReader, Message, SharedSnapshot, StreamDecoder, decode_datagram,
    decode_stream_payload, encode, peek_hello_version,
};
pub use delta::{PlayerDelta, delta_fields};
pub use messages::*;
pub use state::{ConnState, IllegalMessage, check_client, check_server};
pub use view::{ApplyError, WorldView, apply_snapshot};

/// The game wire's version. Bumped on any change to the layout of a message.
/// Version 2: delta snapshots carry changed players as per-field deltas.
/// Version 3: `Inputs` carries the client's snapshot acknowledgement (`ack`).
pub const PROTOCOL_VERSION: u16 = 3;

/// The TLS ALPN protocol id of the game wire; a server refuses other ALPNs at the handshake.
/// It names the protocol family, not the layout version, which `Hello` carries.
pub const ALPN: &[u8] = b"gls/1";

/// Largest datagram message, in bytes. quinn guarantees a little over 1,100 bytes of
/// datagram payload at QUIC's minimum 1,200-byte MTU (1,162 measured); 1,150 leaves room.
pub const MAX_DATAGRAM_SIZE: usize = 1150;

/// Largest stream message (the payload of one frame), in bytes.
pub const MAX_STREAM_MESSAGE_SIZE: usize = 16 * 1024;

/// Length of a stream frame's header: the payload length as a little-endian `u32`.
pub const FRAME_HEADER_LEN: usize = 4;

/// The two ways a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// An unreliable, unordered QUIC datagram: one message per datagram, no framing.
    Datagram,
    /// The connection's ordered, reliable stream: length-prefixed frames.
    Stream,
}

impl Channel {
    /// The most bytes one message may take on this channel (excluding a frame header).
    pub const fn max_message_size(self) -> usize {
        match self {
            Self::Datagram => MAX_DATAGRAM_SIZE,
            Self::Stream => MAX_STREAM_MESSAGE_SIZE,
        }
    }
}
