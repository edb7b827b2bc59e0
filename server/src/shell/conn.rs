//! One connection's task: finishes the handshake, forwards stream bytes to the shell,
//! writes the frames the shell queued, and reports the connection lost. It decides
//! nothing, and never touches datagrams (the shell reads them at each tick).

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
    /// An encoded stream frame.
    Frame(Bytes),
    /// Send `Disconnect { reason }` if there is a stream, then close with `reason.code()`.
    Close(DisconnectReason),
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
    let mut send: Option<quinn::SendStream> = None;
    let mut recv: Option<quinn::RecvStream> = None;
    let mut reading = true;
    let mut out_open = true;
    let closed = conn.closed();
    tokio::pin!(closed);
    loop {
        tokio::select! {
            bi = conn.accept_bi(), if send.is_none() => match bi {
                Ok((s, r)) => {
                    send = Some(s);
                    recv = Some(r);
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
                Some(Out::Frame(frame)) => {
                    if let Some(s) = send.as_mut()
                        && s.write_chunk(frame).await.is_err()
                    {
                        conn.close(close_code(DisconnectReason::InternalError), b"write failed");
                    }
                }
                Some(Out::Close(reason)) => {
                    if let Some(s) = send.as_mut() {
                        let msg = ServerMessage::Disconnect(Disconnect { reason });
                        if let Ok(frame) = encode(&msg)
                            && s.write_all(&frame).await.is_ok()
                            && s.finish().is_ok()
                        {
                            let _ = tokio::time::timeout(DISCONNECT_FLUSH, s.stopped()).await;
                        }
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
