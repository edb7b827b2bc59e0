//! Which message is legal in which connection state.
//!
//! The session server and the client library both track a [`ConnState`] per connection
//! and check every decoded message against it; anything else is a protocol violation
//! closed with [`DisconnectReason::IllegalMessage`](super::DisconnectReason::IllegalMessage).
//! The channel a message may use is fixed by its type and enforced by the codec.

use super::messages::{ClientMessage, ServerMessage};

/// The life of one client connection, as both ends see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnState {
    /// QUIC is up; the server waits (with a deadline) for the client's `Hello`.
    AwaitingHello,
    /// `Hello` arrived; the server is asking GameLift to accept the player session.
    Admitting,
    /// `Welcome` was sent: the player is in the match.
    InMatch,
    /// A `Disconnect` or `Leave` was sent; nothing more is expected.
    Closing,
}

/// A message that is not legal in the connection's current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind} is not legal in state {state:?}")]
pub struct IllegalMessage {
    /// The message kind.
    pub kind: &'static str,
    /// The state it arrived in.
    pub state: ConnState,
}

/// Whether the server may accept `msg` from a client in `state`.
///
/// | state | legal client messages |
/// |---|---|
/// | `AwaitingHello` | `Hello` |
/// | `Admitting` | `Leave` |
/// | `InMatch` | `Inputs`, `Ack`, `Leave` |
/// | `Closing` | none |
pub fn check_client(state: ConnState, msg: &ClientMessage) -> Result<(), IllegalMessage> {
    use ClientMessage as C;
    use ConnState as S;
    let legal = matches!(
        (state, msg),
        (S::AwaitingHello, C::Hello(_))
            | (S::Admitting, C::Leave)
            | (S::InMatch, C::Inputs(_) | C::Ack(_) | C::Leave)
    );
    verdict(legal, msg.kind(), state)
}

/// Whether a client may accept `msg` from the server in `state`.
///
/// | state | legal server messages |
/// |---|---|
/// | `AwaitingHello` | `Disconnect` (the client sent `Hello`, the server refuses at once) |
/// | `Admitting` | `Welcome`, `Disconnect` |
/// | `InMatch` | `Snapshot`, `Event`, `Disconnect` |
/// | `Closing` | `Disconnect` |
///
/// A client that has sent `Hello` is in `Admitting`; `AwaitingHello` is the client's state
/// only before that.
pub fn check_server(state: ConnState, msg: &ServerMessage) -> Result<(), IllegalMessage> {
    use ConnState as S;
    use ServerMessage as M;
    let legal = matches!(
        (state, msg),
        (_, M::Disconnect(_))
            | (S::Admitting, M::Welcome(_))
            | (S::InMatch, M::Snapshot(_) | M::Event(_))
    );
    verdict(legal, msg.kind(), state)
}

fn verdict(legal: bool, kind: &'static str, state: ConnState) -> Result<(), IllegalMessage> {
    if legal {
        Ok(())
    } else {
        Err(IllegalMessage { kind, state })
    }
}
