//! The SDK5 WebSocket endpoint server processes connect to (spec `gamelift-sdk5.md` §2).
//!
//! The upgrade is refused with HTTP 403 for a missing or wrong auth token, SigV4 query
//! auth (fleet local only issues tokens), a fleet id that is not this fleet's, or a
//! process id that is already connected, so the SDKs report
//! `WEBSOCKET_CONNECT_FAILURE_FORBIDDEN` as they would against GameLift. After the
//! upgrade every text frame goes to the engine, whose answers come back through the
//! [`FleetHandle`] driver. Binary frames are ignored (as every SDK ignores them); a frame
//! over [`MAX_FRAME_BYTES`] closes the connection; any path is accepted (`/`, `/prod`,
//! `/prod/`), as the SDKs differ on the trailing slash.

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};

use super::engine::ConnId;
use super::runtime::{FleetHandle, Outbound};

/// Largest frame or message accepted from a process. The SDK's own fields are small;
/// GameLift's largest field (MatchmakerData, 390,000 characters) only travels the other way.
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
struct Ws {
    fleet: FleetHandle,
    token: String,
    fleet_id: String,
}

/// The WebSocket endpoint's router: any path upgrades.
pub fn router(fleet: FleetHandle, auth_token: String) -> Router {
    let fleet_id = fleet.with_engine(|e, _| e.config().fleet_id.clone());
    let state = Ws {
        fleet,
        token: auth_token,
        fleet_id,
    };
    Router::new().fallback(upgrade).with_state(state)
}

/// Lenient query parsing: the C++ and C# SDKs do not URL-encode values (spec §2.1).
fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn forbidden(why: impl Into<String>) -> Response {
    let why = why.into();
    tracing::warn!(reason = %why, "refusing an SDK connection");
    (StatusCode::FORBIDDEN, why).into_response()
}

async fn upgrade(
    State(ws): State<Ws>,
    RawQuery(query): RawQuery,
    upgrade: WebSocketUpgrade,
) -> Response {
    let query = query.unwrap_or_default();
    let auth = query_value(&query, "Authorization").unwrap_or_default();
    if auth == "SigV4" {
        return forbidden("fleet local accepts token authorization only (GAMELIFT_SDK_AUTH_TOKEN)");
    }
    if auth != ws.token {
        return forbidden("invalid or missing auth token");
    }
    if let Some(fleet) =
        query_value(&query, "FleetId").filter(|f| !f.is_empty() && *f != ws.fleet_id)
    {
        return forbidden(format!("unknown fleet {fleet}"));
    }
    let process_id = query_value(&query, "pID").unwrap_or_default();
    let token = query_value(&query, "IdempotencyToken").unwrap_or_default();
    let (conn, outbound) = ws.fleet.register();
    if let Err(e) = ws
        .fleet
        .with_engine(|engine, now| engine.connect(now, conn, &process_id, &token))
    {
        ws.fleet.unregister(conn);
        return forbidden(e.to_string());
    }
    tracing::info!(process_id = %process_id, conn, "server process connected");
    let fleet = ws.fleet.clone();
    let failed = ws.fleet.clone();
    upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_failed_upgrade(move |_| {
            failed.with_engine(|e, now| e.disconnect(now, conn));
            failed.unregister(conn);
        })
        .on_upgrade(move |socket| serve(socket, fleet, conn, outbound))
}

async fn serve(
    socket: WebSocket,
    fleet: FleetHandle,
    conn: ConnId,
    mut outbound: tokio::sync::mpsc::UnboundedReceiver<Outbound>,
) {
    let (mut sink, mut stream) = socket.split();
    loop {
        tokio::select! {
            inbound = stream.next() => match inbound {
                Some(Ok(Message::Text(text))) => {
                    fleet.with_engine(|e, now| e.handle_frame(now, conn, text.as_str()));
                }
                Some(Ok(Message::Binary(_))) => {
                    tracing::debug!(conn, "ignoring a binary frame");
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => break,
                Some(Err(e)) => {
                    tracing::info!(conn, error = %e, "SDK connection failed");
                    break;
                }
            },
            out = outbound.recv() => match out {
                Some(Outbound::Text(text)) => {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close(code, reason)) => {
                    let frame = CloseFrame { code, reason: reason.into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    break;
                }
                None => break,
            },
        }
    }
    fleet.with_engine(|e, now| e.disconnect(now, conn));
    fleet.unregister(conn);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_leniently() {
        let q = "pID=p-1&sdkVersion=5.6.0&Authorization=abc%2Bdef&FleetId=fleet-1&Empty";
        assert_eq!(query_value(q, "pID").as_deref(), Some("p-1"));
        assert_eq!(query_value(q, "Authorization").as_deref(), Some("abc+def"));
        assert_eq!(query_value(q, "Empty").as_deref(), Some(""));
        assert_eq!(query_value(q, "Missing"), None);
        // Unencoded values (C++/C#) and stray percent signs survive.
        assert_eq!(query_value("pID=a:b/c", "pID").as_deref(), Some("a:b/c"));
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
