//! The SDK over a real socket. The peer here is a tiny WebSocket server on `127.0.0.1:0`
//! (tokio-tungstenite's `accept_hdr_async`) that speaks the spec's frames with the
//! `protocol::sdk5` types: not a mock of AWS, just the other end of the wire. Every wait
//! is on a socket or a channel; nothing sleeps to synchronise.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use gamelift_server_sdk::core::{ProcessParameters, ProcessState, Timing};
use gamelift_server_sdk::url::query_pairs;
use gamelift_server_sdk::{
    Auth, ConnectOptions, GameLiftServer, ProcessHandler, SdkConfig, SdkError,
};
use protocol::sdk5::{
    Action, CreateGameSession, GameSession, PushFrame, RefreshConnection, Request, RequestFrame,
    ServiceErrorKind, TerminateProcess,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request as HttpRequest, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

type Ws = WebSocketStream<TcpStream>;

/// What the game's callbacks saw.
#[derive(Debug)]
enum Seen {
    Start(Box<GameSession>),
    Terminate(i64),
}

/// A handler that reports every callback on a channel and is always healthy.
struct Recorder(mpsc::UnboundedSender<Seen>);

impl ProcessHandler for Recorder {
    async fn on_start_game_session(&self, game_session: GameSession) {
        let _ = self.0.send(Seen::Start(Box::new(game_session)));
    }

    async fn on_process_terminate(&self, termination_time_ms: i64) {
        let _ = self.0.send(Seen::Terminate(termination_time_ms));
    }
}

/// The service end: a listener and the connections it accepted.
struct Peer {
    listener: TcpListener,
    url: String,
}

impl Peer {
    async fn bind(path: &str) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}{path}", listener.local_addr().unwrap());
        Peer { listener, url }
    }

    /// Accepts one WebSocket; returns it with the request's path and query.
    // The handshake callback's signature is tungstenite's.
    #[allow(clippy::result_large_err)]
    async fn accept(&self) -> (Ws, String) {
        let (tcp, _) = self.listener.accept().await.unwrap();
        let uri = Arc::new(Mutex::new(String::new()));
        let seen = uri.clone();
        let ws = tokio_tungstenite::accept_hdr_async(
            tcp,
            move |request: &HttpRequest, response: Response| {
                *seen.lock().unwrap() = request.uri().to_string();
                Ok(response)
            },
        )
        .await
        .unwrap();
        let uri = uri.lock().unwrap().clone();
        (ws, uri)
    }
}

fn config(url: &str) -> SdkConfig {
    SdkConfig {
        web_socket_url: url.to_owned(),
        process_id: "proc-1".into(),
        host_id: "host-1".into(),
        fleet_id: "fleet-1".into(),
        auth: Auth::Token("token-1".into()),
        sdk_tool_name: None,
        sdk_tool_version: None,
    }
}

fn options() -> ConnectOptions {
    ConnectOptions {
        timing: Timing {
            drain: Duration::from_millis(50),
            ..Timing::default()
        },
        ..ConnectOptions::default()
    }
}

fn query(uri: &str, key: &str) -> Option<String> {
    query_pairs(uri)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// The next request frame (ping/pong and the like skipped).
async fn next_frame(ws: &mut Ws) -> RequestFrame {
    loop {
        match ws.next().await.expect("socket open").expect("frame") {
            Message::Text(text) => return RequestFrame::parse(text.as_str()).unwrap(),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

/// The next request other than a heartbeat; heartbeats met on the way are answered.
async fn next_request(ws: &mut Ws) -> RequestFrame {
    loop {
        let frame = next_frame(ws).await;
        if frame.action() != Action::HeartbeatServerProcess {
            return frame;
        }
        send(ws, frame.ok_response().to_json()).await;
    }
}

async fn send(ws: &mut Ws, text: String) {
    ws.send(Message::text(text)).await.unwrap();
}

/// Connects, runs `process_ready` against the peer and answers the first heartbeat.
async fn ready(peer: &Peer) -> (GameLiftServer, Ws, String, mpsc::UnboundedReceiver<Seen>) {
    let (server, (mut ws, uri)) = tokio::join!(
        GameLiftServer::init_with(config(&peer.url), options()),
        peer.accept()
    );
    let server = server.unwrap();
    let (tx, seen) = mpsc::unbounded_channel();
    let ready = tokio::spawn({
        let server = server.clone();
        async move {
            server
                .process_ready(
                    ProcessParameters {
                        port: 7777,
                        log_paths: vec![],
                    },
                    Recorder(tx),
                )
                .await
        }
    });
    let activate = next_request(&mut ws).await;
    let Request::ActivateServerProcess(body) = &activate.request else {
        panic!("{activate:?}")
    };
    assert_eq!((body.port, body.sdk_language.as_str()), (7777, "Rust"));
    send(&mut ws, activate.ok_response().to_json()).await;
    ready.await.unwrap().unwrap();
    assert_eq!(server.state(), ProcessState::Ready);
    let heartbeat = next_frame(&mut ws).await;
    let Request::HeartbeatServerProcess(body) = &heartbeat.request else {
        panic!("{heartbeat:?}")
    };
    assert!(
        body.health_status,
        "first health check right after ready, default healthy"
    );
    send(&mut ws, heartbeat.ok_response().to_json()).await;
    (server, ws, uri, seen)
}

/// The upgrade request carries every query parameter of §2.1; ProcessReady completes over
/// the socket; the first heartbeat follows at once; pings are answered.
#[tokio::test]
async fn connects_with_the_spec_query_and_process_ready_round_trips() {
    let peer = Peer::bind("/prod").await;
    let (_server, mut ws, uri, _seen) = ready(&peer).await;
    assert!(uri.starts_with("/prod?"), "{uri}");
    assert_eq!(query(&uri, "pID").as_deref(), Some("proc-1"));
    assert_eq!(query(&uri, "sdkVersion").as_deref(), Some("5.6.0"));
    assert_eq!(query(&uri, "sdkLanguage").as_deref(), Some("Rust"));
    assert_eq!(query(&uri, "ComputeId").as_deref(), Some("host-1"));
    assert_eq!(query(&uri, "FleetId").as_deref(), Some("fleet-1"));
    assert_eq!(query(&uri, "Authorization").as_deref(), Some("token-1"));
    let token = query(&uri, "IdempotencyToken").unwrap();
    assert!(uuid::Uuid::parse_str(&token).is_ok(), "{token}");

    ws.send(Message::Ping(b"hi".to_vec().into())).await.unwrap();
    loop {
        match ws.next().await.unwrap().unwrap() {
            Message::Pong(payload) => {
                assert_eq!(&payload[..], b"hi");
                break;
            }
            Message::Text(_) => {}
            other => panic!("{other:?}"),
        }
    }
}

/// A pushed CreateGameSession reaches the game's callback; AcceptPlayerSession round
/// trips with the session's id; an error response becomes the typed error; a
/// TerminateProcess push reaches the callback and is kept.
#[tokio::test]
async fn game_session_player_sessions_errors_and_terminate() {
    let peer = Peer::bind("/").await;
    let (server, mut ws, _, mut seen) = ready(&peer).await;
    let arn = "arn:aws:gamelift:us-west-2::gamesession/fleet-1/gs-1";
    let push = PushFrame::new(CreateGameSession {
        game_session_id: arn.into(),
        game_session_name: "match-1".into(),
        maximum_player_session_count: 4,
        ..CreateGameSession::default()
    });
    send(&mut ws, push.to_json()).await;
    let Some(Seen::Start(session)) = seen.recv().await else {
        panic!()
    };
    assert_eq!(
        (session.game_session_id.as_str(), session.fleet_id.as_str()),
        (arn, "fleet-1")
    );
    assert_eq!(server.get_game_session_id().as_deref(), Some(arn));

    let accept = tokio::spawn({
        let server = server.clone();
        async move { server.accept_player_session("psess-1").await }
    });
    let request = next_request(&mut ws).await;
    let Request::AcceptPlayerSession(body) = &request.request else {
        panic!("{request:?}")
    };
    assert_eq!(
        (
            body.game_session_id.as_str(),
            body.player_session_id.as_str()
        ),
        (arn, "psess-1")
    );
    send(&mut ws, request.ok_response().to_json()).await;
    accept.await.unwrap().unwrap();

    let accept = tokio::spawn({
        let server = server.clone();
        async move { server.accept_player_session("psess-2").await }
    });
    let request = next_request(&mut ws).await;
    let error = request.error_response(ServiceErrorKind::NotFound, "no such player session");
    send(&mut ws, error.to_json()).await;
    let error = accept.await.unwrap().unwrap_err();
    let SdkError::Service(service) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (service.kind, service.status_code),
        (ServiceErrorKind::NotFound, Some(404))
    );
    assert_eq!(service.message, "no such player session");

    // A locally invalid id never reaches the wire.
    let error = server.accept_player_session("bad id").await.unwrap_err();
    assert!(matches!(
        error,
        SdkError::InvalidArgument {
            field: "PlayerSessionId",
            ..
        }
    ));

    send(
        &mut ws,
        PushFrame::new(TerminateProcess {
            termination_time: 1_718_000_000_000,
        })
        .to_json(),
    )
    .await;
    let Some(Seen::Terminate(at)) = seen.recv().await else {
        panic!()
    };
    assert_eq!(at, 1_718_000_000_000);
    assert_eq!(server.get_termination_time(), Some(1_718_000_000_000));

    let ending = tokio::spawn({
        let server = server.clone();
        async move { server.process_ending().await }
    });
    let request = next_request(&mut ws).await;
    assert_eq!(request.action(), Action::TerminateServerProcess);
    send(&mut ws, request.ok_response().to_json()).await;
    ending.await.unwrap().unwrap();
    server.destroy().await.unwrap();
    let Some(Ok(Message::Close(Some(frame)))) = ws.next().await else {
        panic!("expected a close")
    };
    assert_eq!(frame.code, CloseCode::Normal);
    assert!(matches!(
        server.activate_game_session().await,
        Err(SdkError::Destroyed)
    ));
}

/// An abnormal close (1011) makes the SDK reconnect to the same URL, so with the same
/// IdempotencyToken, and a request in flight is sent again with its RequestId.
#[tokio::test]
async fn an_abnormal_close_reconnects_with_the_same_idempotency_token() {
    let peer = Peer::bind("/prod").await;
    let (server, mut ws, first_uri, _seen) = ready(&peer).await;
    let call = tokio::spawn({
        let server = server.clone();
        async move { server.get_compute_certificate().await }
    });
    let lost = next_request(&mut ws).await;
    let frame = CloseFrame {
        code: CloseCode::Error,
        reason: "boom".into(),
    };
    ws.close(Some(frame)).await.unwrap();

    let (mut ws2, second_uri) = peer.accept().await;
    assert_eq!(second_uri, first_uri);
    assert_eq!(
        query(&second_uri, "IdempotencyToken"),
        query(&first_uri, "IdempotencyToken")
    );
    let again = next_request(&mut ws2).await;
    assert_eq!(
        (again.action(), &again.request_id),
        (Action::GetComputeCertificate, &lost.request_id)
    );
    let body = protocol::sdk5::GetComputeCertificateResult {
        certificate_path: "/local/cert.pem".into(),
        compute_name: "host-1".into(),
    };
    let response = protocol::sdk5::ResponseFrame::success::<protocol::sdk5::GetComputeCertificate>(
        again.request_id.clone(),
        &body,
    );
    send(&mut ws2, response.to_json()).await;
    assert_eq!(call.await.unwrap().unwrap(), body);
}

/// A 1000 close from the service is final: calls fail with ConnectionClosed and no
/// connection attempt reaches the listener.
#[tokio::test]
async fn a_normal_close_does_not_reconnect() {
    let peer = Peer::bind("/").await;
    let (server, mut ws, _, _seen) = ready(&peer).await;
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    }))
    .await
    .unwrap();
    // Wait (by polling the handle, not the clock) until the SDK has handled the close.
    loop {
        match server.get_compute_certificate().await {
            Err(SdkError::ConnectionClosed) => break,
            Err(SdkError::Timeout { .. }) | Ok(_) => panic!("unexpected"),
            Err(_) => tokio::task::yield_now().await,
        }
        // A certificate request that raced the close is still pending on the old socket;
        // the loop only continues on local refusals.
    }
    let reconnect = tokio::time::timeout(Duration::from_millis(300), peer.listener.accept()).await;
    assert!(reconnect.is_err(), "no reconnect after a 1000 close");
}

/// RefreshConnection: a new connection to the new endpoint in token mode with a new
/// IdempotencyToken, traffic moves there, the old one is closed with 1000.
#[tokio::test]
async fn refresh_connection_moves_to_the_new_url() {
    let peer = Peer::bind("/old").await;
    let next = Peer::bind("/new").await;
    let (server, mut ws, first_uri, _seen) = ready(&peer).await;
    let push = PushFrame::new(RefreshConnection {
        refresh_connection_endpoint: next.url.clone(),
        auth_token: "token-2".into(),
    });
    send(&mut ws, push.to_json()).await;
    let (mut ws2, uri) = next.accept().await;
    assert!(uri.starts_with("/new?"), "{uri}");
    assert_eq!(query(&uri, "Authorization").as_deref(), Some("token-2"));
    assert_eq!(query(&uri, "pID").as_deref(), Some("proc-1"));
    assert_ne!(
        query(&uri, "IdempotencyToken"),
        query(&first_uri, "IdempotencyToken")
    );

    // The old connection is closed (normally) once traffic has moved.
    loop {
        match ws.next().await {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(frame.code, CloseCode::Normal);
                break;
            }
            Some(Ok(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    let call = tokio::spawn({
        let server = server.clone();
        async move { server.get_compute_certificate().await }
    });
    let request = next_request(&mut ws2).await;
    assert_eq!(request.action(), Action::GetComputeCertificate);
    send(&mut ws2, request.ok_response().to_json()).await;
    call.await.unwrap().unwrap();
}
