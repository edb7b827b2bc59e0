//! The SDK5 WebSocket endpoint over real sockets: refusals at the upgrade (bad token,
//! SigV4, another fleet, a duplicate process id) and bad frames (malformed, oversize)
//! that cost the sender its connection at most and never touch other processes.

use std::time::Duration;

use fleet::local::engine::FleetConfig;
use fleet::local::runtime::FleetHandle;
use fleet::local::sdk_ws;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

const WAIT: Duration = Duration::from_secs(10);

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn fleet() -> (String, FleetHandle) {
    let handle = FleetHandle::new(FleetConfig::local("fleet-1"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, sdk_ws::router(handle.clone(), "tok".into())).into_future());
    let driver = handle.clone();
    tokio::spawn(async move { driver.run(std::future::pending()).await });
    (format!("ws://{addr}"), handle)
}

async fn connect(base: &str, query: &str) -> Result<Ws, WsError> {
    let url = format!("{base}/?{query}");
    let addr = base.trim_start_matches("ws://");
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio_tungstenite::client_async(url, tcp)
        .await
        .map(|(ws, _)| ws)
}

fn status(r: Result<Ws, WsError>) -> u16 {
    match r {
        Err(WsError::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => 101,
    }
}

async fn call(ws: &mut Ws, frame: &str) -> serde_json::Value {
    ws.send(Message::text(frame)).await.unwrap();
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("an answer")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

const READY: &str = r#"{"Action":"ActivateServerProcess","RequestId":"r1","SdkVersion":"5.6.0","SdkLanguage":"Rust","Port":7777,"LogPaths":[]}"#;

#[tokio::test]
async fn the_upgrade_refuses_what_gamelift_refuses() {
    let (url, _fleet) = fleet().await;
    assert_eq!(status(connect(&url, "pID=a&Authorization=nope").await), 403);
    assert_eq!(status(connect(&url, "pID=a").await), 403, "no token");
    assert_eq!(
        status(connect(&url, "pID=a&Authorization=SigV4&X-Amz-Signature=x").await),
        403
    );
    assert_eq!(
        status(connect(&url, "pID=a&Authorization=tok&FleetId=fleet-2").await),
        403
    );
    assert_eq!(
        status(connect(&url, "Authorization=tok").await),
        403,
        "no pID"
    );
    // While the first connection lives, another with the same pID (and another
    // IdempotencyToken, so not its reconnect) is a duplicate.
    let _first = connect(
        &url,
        "pID=a&Authorization=tok&FleetId=fleet-1&IdempotencyToken=t1",
    )
    .await
    .expect("the first connection is accepted");
    let dup = connect(&url, "pID=a&Authorization=tok&IdempotencyToken=t2").await;
    assert_eq!(status(dup), 403, "a second process with the same id");
    let again = connect(&url, "pID=a&Authorization=tok&IdempotencyToken=t1").await;
    assert_eq!(
        status(again),
        101,
        "the same process reconnecting takes over"
    );
}

#[tokio::test]
async fn bad_frames_cost_the_sender_at_most_its_connection() {
    let (url, fleet) = fleet().await;
    let mut good = connect(&url, "pID=good&Authorization=tok&IdempotencyToken=g")
        .await
        .unwrap();
    let mut bad = connect(&url, "pID=bad&Authorization=tok&IdempotencyToken=b")
        .await
        .unwrap();

    // Malformed and unknown frames: an error answer where there is a RequestId to echo,
    // silence otherwise; the connection stays up.
    bad.send(Message::text("{not json")).await.unwrap();
    bad.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    let r = call(&mut bad, r#"{"Action":"Explode","RequestId":"x"}"#).await;
    assert_eq!(
        (r["StatusCode"].as_i64(), r["Action"].as_str()),
        (Some(400), Some("Explode"))
    );
    let r = call(&mut bad, READY).await;
    assert_eq!(r["StatusCode"], 200, "still served after bad frames");

    // An oversize frame closes the sender's connection.
    let huge = format!(
        r#"{{"Action":"HeartbeatServerProcess","RequestId":"h","Pad":"{}"}}"#,
        "x".repeat(sdk_ws::MAX_FRAME_BYTES)
    );
    let _ = bad.send(Message::text(huge)).await;
    let closed = tokio::time::timeout(WAIT, async {
        loop {
            match bad.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the oversize sender is disconnected");

    // The other process is unaffected.
    let r = call(&mut good, READY).await;
    assert_eq!(r["StatusCode"], 200);
    assert_eq!(
        fleet.with_engine(|e, now| e.idle_processes(now)),
        1,
        "only the good process is placeable"
    );
}
