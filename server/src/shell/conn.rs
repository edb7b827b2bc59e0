//! One connection's task: finishes the handshake, hands the shell the stream's send half
//! and forwards what arrives on its receive half, reports the connection lost, and
//! carries out a close (the `Disconnect` frame, then the QUIC close). It decides nothing.
//! The shell writes stream frames itself and reads datagrams at each tick, so in play
//! this task sleeps.

use std::time::Duration;

use bytes::Bytes;
use protocol::game::{Disconnect, DisconnectReason, ServerMessage, encode};
use tokio::sync::mpsc;

use crate::session::{AcceptError, ConnId};

/// Longest read from the stream at once.
const READ_CHUNK: usize = 4096;

/// How long a closing connection waits for the client to acknowledge its `Disconnect`
/// before the QUIC close (which discards unsent stream data).
const DISCONNECT_FLUSH: Duration = Duration::from_millis(500);

/// What a connection task tells the shell.
#[derive(Debug)]
pub(super) enum Ev {
    Connected {
        id: ConnId,
        conn: quinn::Connection,
    },
    HandshakeFailed {
        id: ConnId,
    },
    /// The client opened its stream; the shell writes to it from now on.
    StreamOpened {
        id: ConnId,
        send: quinn::SendStream,
    },
    Stream {
        id: ConnId,
        bytes: Bytes,
    },
    StreamFinished {
        id: ConnId,
    },
    Accepted {
        id: ConnId,
        result: Result<(), AcceptError>,
        /// GameLift's player id, when the shell asked for it.
        player_id: Option<String>,
    },
    Lost {
        id: ConnId,
    },
}

/// What the shell tells a connection task.
#[derive(Debug)]
pub(super) enum Out {
    /// Write `backlog` (frames quinn did not take yet) and `Disconnect { reason }` on
    /// `send` if there is a stream, then close with `reason.code()`.
    Close {
        reason: DisconnectReason,
        send: Option<quinn::SendStream>,
        backlog: Vec<Bytes>,
    },
    /// Close at once with `SessionFull` and no stream message.
    Refuse,
}

fn close_code(reason: DisconnectReason) -> quinn::VarInt {
    quinn::VarInt::from_u32(reason.code())
}

async fn next_chunk(
    recv: &mut Option<quinn::RecvStream>,
) -> Result<Option<quinn::Chunk>, quinn::ReadError> {
    match recv {
        Some(r) => r.read_chunk(READ_CHUNK, true).await,
        None => std::future::pending().await,
    }
}

pub(super) async fn drive(
    id: ConnId,
    connecting: quinn::Connecting,
    ev: mpsc::Sender<Ev>,
    mut out: mpsc::Receiver<Out>,
) {
    let conn = match connecting.await {
        Ok(conn) => conn,
        Err(error) => {
            tracing::debug!(conn = id.0, %error, "handshake failed");
            let _ = ev.send(Ev::HandshakeFailed { id }).await;
            return;
        }
    };
    if ev
        .send(Ev::Connected {
            id,
            conn: conn.clone(),
        })
        .await
        .is_err()
    {
        return;
    }
    let mut opened = false;
    let mut recv: Option<quinn::RecvStream> = None;
    let mut reading = true;
    let mut out_open = true;
    let closed = conn.closed();
    tokio::pin!(closed);
    loop {
        tokio::select! {
            bi = conn.accept_bi(), if !opened => match bi {
                Ok((send, r)) => {
                    opened = true;
                    recv = Some(r);
                    if ev.send(Ev::StreamOpened { id, send }).await.is_err() {
                        break;
                    }
                }
                Err(_) => break,
            },
            chunk = next_chunk(&mut recv), if reading => match chunk {
                Ok(Some(chunk)) => {
                    if ev.send(Ev::Stream { id, bytes: chunk.bytes }).await.is_err() {
                        break;
                    }
                }
                Ok(None) => {
                    reading = false;
                    let _ = ev.send(Ev::StreamFinished { id }).await;
                }
                // Reset by the client, or the connection is gone (seen below).
                Err(_) => reading = false,
            },
            _ = &mut closed => break,
            o = out.recv(), if out_open => match o {
                Some(Out::Close { reason, send, backlog }) => {
                    if let Some(s) = send {
                        say_goodbye(s, backlog, reason).await;
                    }
                    conn.close(close_code(reason), format!("{reason:?}").as_bytes());
                }
                Some(Out::Refuse) => conn.close(close_code(DisconnectReason::SessionFull), b"SessionFull"),
                None => {
                    out_open = false;
                    conn.close(close_code(DisconnectReason::ServerShutdown), b"");
                }
            },
        }
    }
    let _ = ev.send(Ev::Lost { id }).await;
}

/// Writes what the shell had queued and `Disconnect { reason }`, finishes the stream and
/// waits (briefly) for the client to have it all.
async fn say_goodbye(mut send: quinn::SendStream, backlog: Vec<Bytes>, reason: DisconnectReason) {
    for frame in backlog {
        if send.write_chunk(frame).await.is_err() {
            return;
        }
    }
    let msg = ServerMessage::Disconnect(Disconnect { reason });
    if let Ok(frame) = encode(&msg)
        && send.write_all(&frame).await.is_ok()
        && send.finish().is_ok()
    {
        let _ = tokio::time::timeout(DISCONNECT_FLUSH, send.stopped()).await;
    }
}
