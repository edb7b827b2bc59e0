//! Asking the backend for a match over its HTTP API (`/v1/matchmaking/tickets`), as a game
//! client does before it connects to the game server.
//!
//! **What it is:** [`Matchmaking`], a small client over hyper (HTTP/1.1; HTTPS with the
//! system's roots through rustls on ring) with the bearer token of the player: create a
//! ticket, read it, cancel it, and [`Matchmaking::wait_for_match`], which polls the ticket
//! until it is final and returns the [`ConnectionInfo`] of a `COMPLETED` one. Errors keep
//! the API's error shape ([`MatchmakingError::Api`]).
//!
//! **What it is not:** a token source (the game's login flow, or `backend dev-token` for
//! local runs, provides one), nor the event stream (polling at half a second is enough for
//! a client that waits tens of seconds, and costs the backend one cheap read).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use protocol::http::{ConnectionInfo, CreateTicketRequest, ErrorBody, Ticket, TicketState};

/// How often [`Matchmaking::wait_for_match`] reads the ticket.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Largest response body read, in bytes.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Why a matchmaking call failed.
#[derive(Debug, thiserror::Error)]
pub enum MatchmakingError {
    /// The base URL is not an `http://` or `https://` URL.
    #[error("backend URL {0:?} is not an http(s) URL")]
    BadUrl(String),
    /// No HTTP answer (connection refused, reset, TLS).
    #[error("HTTP request failed: {0}")]
    Transport(String),
    /// The API answered with its error shape.
    #[error("{status}: {error}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The code and message.
        error: protocol::http::ApiError,
    },
    /// The answer is not what the API documents.
    #[error("unexpected answer ({status}): {detail}")]
    Unexpected {
        /// The HTTP status.
        status: u16,
        /// What was wrong.
        detail: String,
    },
    /// The ticket ended without a match (timed out, cancelled or failed).
    #[error("ticket {id} ended {state:?}")]
    NoMatch {
        /// The ticket id.
        id: String,
        /// Its final state.
        state: Box<TicketState>,
    },
    /// [`Matchmaking::wait_for_match`]'s own limit passed while the ticket was still open.
    #[error("ticket {0} still open after the wait")]
    Timeout(String),
}

/// The status and the body (at most [`MAX_RESPONSE_BYTES`]) of a response.
async fn read(
    response: hyper::Response<hyper::body::Incoming>,
) -> Result<(StatusCode, Bytes), MatchmakingError> {
    let status = response.status();
    let bytes = http_body_util::Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map_err(|e| MatchmakingError::Transport(e.to_string()))?
        .to_bytes();
    Ok((status, bytes))
}

/// A player's matchmaking client. Cheap to clone.
#[derive(Clone)]
pub struct Matchmaking {
    base: String,
    authorization: String,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for Matchmaking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matchmaking")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Matchmaking {
    /// A client of the backend at `base_url` (`http://127.0.0.1:8080`) acting with `token`.
    ///
    /// # Errors
    ///
    /// [`MatchmakingError::BadUrl`] unless the URL is `http://` or `https://`.
    pub fn new(base_url: &str, token: &str) -> Result<Self, MatchmakingError> {
        let base = base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://"))
            || base.parse::<hyper::Uri>().is_err()
        {
            return Err(MatchmakingError::BadUrl(base_url.to_owned()));
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| MatchmakingError::Transport(format!("TLS roots: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            base,
            authorization: format!("Bearer {token}"),
            http: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, MatchmakingError> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(hyper::header::AUTHORIZATION, &self.authorization)
            .header(hyper::header::ACCEPT, "application/json");
        if body.is_some() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| MatchmakingError::BadUrl(e.to_string()))?;
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| MatchmakingError::Transport(e.to_string()))?;
        let (status, bytes) = read(response).await?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| MatchmakingError::Unexpected {
                status: status.as_u16(),
                detail: e.to_string(),
            });
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(MatchmakingError::Api {
                status: status.as_u16(),
                error: body.error,
            }),
            Err(_) => Err(MatchmakingError::Unexpected {
                status: status.as_u16(),
                detail: String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
            }),
        }
    }

    /// `POST /v1/matchmaking/tickets`.
    ///
    /// # Errors
    ///
    /// The API's refusal (bad request, a live ticket already, rate limited) or a transport
    /// failure.
    pub async fn create_ticket(
        &self,
        request: &CreateTicketRequest,
    ) -> Result<Ticket, MatchmakingError> {
        let body = serde_json::to_vec(request).map_err(|e| MatchmakingError::Unexpected {
            status: 0,
            detail: e.to_string(),
        })?;
        self.call(Method::POST, "/v1/matchmaking/tickets", Some(body))
            .await
    }

    /// `GET /v1/matchmaking/tickets/{id}`.
    ///
    /// # Errors
    ///
    /// As [`create_ticket`](Self::create_ticket).
    pub async fn ticket(&self, id: &str) -> Result<Ticket, MatchmakingError> {
        self.call(Method::GET, &format!("/v1/matchmaking/tickets/{id}"), None)
            .await
    }

    /// `DELETE /v1/matchmaking/tickets/{id}`: the ticket as it ended (`CANCELLED`, or
    /// `COMPLETED` if a match won the race).
    ///
    /// # Errors
    ///
    /// As [`create_ticket`](Self::create_ticket).
    pub async fn cancel(&self, id: &str) -> Result<Ticket, MatchmakingError> {
        self.call(
            Method::DELETE,
            &format!("/v1/matchmaking/tickets/{id}"),
            None,
        )
        .await
    }

    /// A plain `GET` of any URL as text (no token sent): for the run's summary, which
    /// reads the backend's Prometheus counters from its admin port.
    ///
    /// # Errors
    ///
    /// A transport failure or a non-2xx answer.
    pub async fn get_text(&self, url: &str) -> Result<String, MatchmakingError> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|_| MatchmakingError::BadUrl(url.to_owned()))?;
        let response = self
            .http
            .get(uri)
            .await
            .map_err(|e| MatchmakingError::Transport(e.to_string()))?;
        let (status, bytes) = read(response).await?;
        if !status.is_success() {
            return Err(MatchmakingError::Unexpected {
                status: status.as_u16(),
                detail: "not a success".to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `GET /v1/matchmaking/stats`: players searching and median wait per mode.
    ///
    /// # Errors
    ///
    /// As [`create_ticket`](Self::create_ticket).
    pub async fn stats(&self) -> Result<protocol::http::MatchmakingStats, MatchmakingError> {
        self.call(Method::GET, "/v1/matchmaking/stats", None).await
    }

    /// Reads the ticket every [`POLL_INTERVAL`] until it is final, for at most `limit`.
    /// A rate-limited read (429) waits and tries again.
    ///
    /// # Errors
    ///
    /// [`MatchmakingError::NoMatch`] when it ends without a match,
    /// [`MatchmakingError::Timeout`] after `limit`, or a failed read.
    pub async fn wait_for_match(
        &self,
        id: &str,
        limit: Duration,
    ) -> Result<ConnectionInfo, MatchmakingError> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match self.ticket(id).await {
                Ok(ticket) => match ticket.state {
                    TicketState::Completed { connection } => return Ok(connection),
                    state if state.is_final() => {
                        return Err(MatchmakingError::NoMatch {
                            id: id.to_owned(),
                            state: Box::new(state),
                        });
                    }
                    _ => {}
                },
                Err(MatchmakingError::Api { status, .. })
                    if status == StatusCode::TOO_MANY_REQUESTS.as_u16() => {}
                Err(e) => return Err(e),
            }
            if tokio::time::Instant::now() + POLL_INTERVAL > deadline {
                return Err(MatchmakingError::Timeout(id.to_owned()));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}
