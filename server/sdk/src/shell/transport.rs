//! One WebSocket connection as a task: TCP, TLS for `wss://` (rustls on ring, native
//! roots unless the caller gave a `ClientConfig`), the handshake, then text frames in
//! both directions. Binary frames are ignored; pings are answered by tungstenite.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tracing::{Instrument, debug, info_span};

use crate::core::ConnId;

/// How long to wait for the peer's close frame after sending ours.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// `User-Agent` of the upgrade request.
const USER_AGENT: &str = concat!("gamelift-rust-sdk/", env!("CARGO_PKG_VERSION"));

/// From the driver to a connection task.
#[derive(Debug)]
pub(crate) enum ConnCommand {
    /// Send a text frame.
    Text(String),
    /// Send a close frame with this code, then wind down.
    Close(u16),
}

/// From a connection task to the driver.
#[derive(Debug)]
pub(crate) enum ConnEvent {
    /// The handshake completed.
    Connected(ConnId),
    /// The connection could not be opened.
    ConnectFailed(ConnId, String),
    /// A text frame arrived.
    Text(ConnId, String),
    /// The connection ended; the peer's close code if it sent a close frame.
    Closed(ConnId, Option<u16>),
}

/// Any byte stream a WebSocket can run over.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Starts a connection task for `url`; returns the sender that commands it.
pub(crate) fn spawn(
    conn: ConnId,
    url: String,
    tls: Option<Arc<ClientConfig>>,
    connect_timeout: Duration,
    events: mpsc::UnboundedSender<ConnEvent>,
) -> mpsc::UnboundedSender<ConnCommand> {
    let (tx, rx) = mpsc::unbounded_channel();
    let span = info_span!("gamelift_connection", conn = conn.0);
    tokio::spawn(run(conn, url, tls, connect_timeout, rx, events).instrument(span));
    tx
}

/// The connection task.
async fn run(
    conn: ConnId,
    url: String,
    tls: Option<Arc<ClientConfig>>,
    connect_timeout: Duration,
    mut commands: mpsc::UnboundedReceiver<ConnCommand>,
    events: mpsc::UnboundedSender<ConnEvent>,
) {
    let ws = match tokio::time::timeout(connect_timeout, open(&url, tls)).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(error)) => {
            let _ = events.send(ConnEvent::ConnectFailed(conn, error));
            return;
        }
        Err(_) => {
            let error = format!("no handshake within {connect_timeout:?}");
            let _ = events.send(ConnEvent::ConnectFailed(conn, error));
            return;
        }
    };
    let _ = events.send(ConnEvent::Connected(conn));
    let (mut sink, mut stream) = ws.split();
    let mut close_code = None;
    let mut close_deadline: Option<tokio::time::Instant> = None;
    loop {
        let grace = close_deadline.unwrap_or_else(|| tokio::time::Instant::now() + CLOSE_GRACE);
        tokio::select! {
            command = commands.recv(), if close_deadline.is_none() => match command {
                Some(ConnCommand::Text(text)) => {
                    if let Err(error) = sink.send(Message::text(text)).await {
                        debug!(%error, "send failed");
                        break;
                    }
                }
                Some(ConnCommand::Close(code)) => {
                    close_deadline = Some(tokio::time::Instant::now() + CLOSE_GRACE);
                    let frame = CloseFrame { code: CloseCode::from(code), reason: "".into() };
                    if sink.send(Message::Close(Some(frame))).await.is_err() {
                        break;
                    }
                }
                None => {
                    // The driver is gone: close quietly.
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
            },
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let _ = events.send(ConnEvent::Text(conn, text.as_str().to_owned()));
                }
                Some(Ok(Message::Close(frame))) => {
                    close_code = frame.map(|f| u16::from(f.code));
                    debug!(?close_code, "close frame received");
                    // tungstenite queued the close reply; send it and report at once
                    // rather than waiting for the peer to drop TCP.
                    let _ = tokio::time::timeout(CLOSE_GRACE, sink.flush()).await;
                    break;
                }
                // Binary frames are ignored by every SDK; pings are answered automatically.
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    debug!(%error, "connection error");
                    break;
                }
                None => break,
            },
            () = tokio::time::sleep_until(grace), if close_deadline.is_some() => break,
        }
    }
    let _ = events.send(ConnEvent::Closed(conn, close_code));
}

/// TCP (+ TLS) + WebSocket handshake.
async fn open(
    url: &str,
    tls: Option<Arc<ClientConfig>>,
) -> Result<WebSocketStream<Box<dyn Io>>, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("bad URL: {e}"))?;
    let secure = match uri.scheme_str() {
        Some("wss") => true,
        Some("ws") => false,
        other => return Err(format!("unsupported scheme {other:?}")),
    };
    let host = uri
        .host()
        .ok_or("URL has no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("TCP connect to {host}:{port}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = if secure {
        let config = match tls {
            Some(config) => config,
            None => default_tls_config()?,
        };
        let name =
            ServerName::try_from(host.clone()).map_err(|e| format!("TLS name {host:?}: {e}"))?;
        let tls_stream = TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake with {host}: {e}"))?;
        Box::new(tls_stream)
    } else {
        Box::new(tcp)
    };
    let mut request = url
        .into_client_request()
        .map_err(|e| format!("bad request URL: {e}"))?;
    request
        .headers_mut()
        .insert("User-Agent", HeaderValue::from_static(USER_AGENT));
    let (ws, _response) = tokio_tungstenite::client_async(request, stream)
        .await
        .map_err(|e| format!("WebSocket handshake: {e}"))?;
    Ok(ws)
}

/// rustls with the ring provider (explicitly, whatever else is linked) and the
/// platform's root certificates, built once.
pub fn default_tls_config() -> Result<Arc<ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            let native = rustls_native_certs::load_native_certs();
            for error in &native.errors {
                debug!(%error, "skipping a native root certificate source");
            }
            let (added, _ignored) = roots.add_parsable_certificates(native.certs);
            if added == 0 {
                return Err("no usable native root certificates".to_owned());
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS configuration: {e}"))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Ok(Arc::new(config))
        })
        .clone()
}
