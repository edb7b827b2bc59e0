//! The handlers: validate, call the driver or a store, map the answer. Each carries its
//! OpenAPI description (`utoipa::path`), from which `/openapi.json` is generated.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use protocol::http::{
    AroundQuery, BoardId, BoardQuery, CreateTicketRequest, ErrorBody, ErrorCode, FriendsQuery,
    JoinPartyRequest, LeaderboardEntry, LeaderboardPage, MatchmakingStats, Party, PlayerRank,
    Profile, RecentMatches, RecentMatchesQuery, TICKET_EVENT_NAME, Ticket, TicketEvent, TopQuery,
    validate_player_id, validate_ticket_id,
};
use tokio::sync::broadcast;

use super::AppState;
use super::error::HttpError;
use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use super::tickets::{MatchmakerHandle, NewTicket, Snapshot};
use crate::matchmaking::PlayerEntry;
use crate::rankings::RankedPage;
use crate::ratings::{PlayerProfile, RatingStats};

/// `POST /v1/matchmaking/tickets`.
#[utoipa::path(post, path = "/v1/matchmaking/tickets", tag = "matchmaking",
    request_body = CreateTicketRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The ticket, searching", body = Ticket),
        (status = 400, description = "Invalid body or unknown mode", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "A party member has not joined the caller's party", body = ErrorBody),
        (status = 409, description = "A player already has a live ticket", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Body is not JSON", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub(crate) async fn create_ticket(
    State(app): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiJson(request): ApiJson<CreateTicketRequest>,
) -> Result<(StatusCode, Json<Ticket>), HttpError> {
    request.validate(&caller)?;
    if !app.modes.contains(&request.mode) {
        return Err(HttpError::invalid(format!(
            "unknown mode {:?}",
            request.mode
        )));
    }
    {
        let parties = app.parties.lock().expect("parties lock");
        if let Some(member) = request
            .party
            .iter()
            .find(|m| parties.leader_of(m) != Some(caller.as_str()))
        {
            return Err(HttpError::new(
                ErrorCode::Forbidden,
                format!("player {member} has not joined your party"),
            ));
        }
    }
    let ids: Vec<String> = std::iter::once(caller.clone())
        .chain(request.party.iter().cloned())
        .collect();
    let profiles = app
        .profiles
        .get_profiles(&ids)
        .await
        .map_err(|e| HttpError::unavailable(&e))?;
    let board = BoardId {
        season: None,
        mode: Some(request.mode.clone()),
    };
    let new_rating = RatingStats::new().rating;
    let players = ids
        .into_iter()
        .map(|id| {
            let rating = profiles
                .get(&id)
                .and_then(|p| p.stats(&board))
                .map_or(new_rating, |s| s.rating);
            PlayerEntry { id, rating }
        })
        .collect();
    let ticket = app
        .matchmaker
        .create(NewTicket {
            caller,
            mode: request.mode,
            players,
            latencies_ms: request.latencies_ms.into_iter().collect(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// `GET /v1/matchmaking/tickets/{ticket_id}`.
#[utoipa::path(get, path = "/v1/matchmaking/tickets/{ticket_id}", tag = "matchmaking",
    params(("ticket_id" = String, Path, description = "The ticket id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ticket", body = Ticket),
        (status = 400, description = "Malformed ticket id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
        (status = 404, description = "No such ticket among the caller's", body = ErrorBody),
    ))]
pub(crate) async fn get_ticket(
    State(app): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Ticket>, HttpError> {
    validate_ticket_id(&id)?;
    Ok(Json(app.matchmaker.get(id, caller).await?))
}

/// `DELETE /v1/matchmaking/tickets/{ticket_id}`.
#[utoipa::path(delete, path = "/v1/matchmaking/tickets/{ticket_id}", tag = "matchmaking",
    params(("ticket_id" = String, Path, description = "The ticket id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ticket after the attempt: CANCELLED, or the state that won the race", body = Ticket),
        (status = 400, description = "Malformed ticket id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
        (status = 403, description = "Not the caller's ticket", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
    ))]
pub(crate) async fn cancel_ticket(
    State(app): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Ticket>, HttpError> {
    validate_ticket_id(&id)?;
    Ok(Json(app.matchmaker.cancel(id, caller).await?))
}

/// `GET /v1/matchmaking/tickets/{ticket_id}/events`: server-sent events, one
/// `event: ticket` per state change with `id: <seq>`; `Last-Event-ID` resumes.
#[utoipa::path(get, path = "/v1/matchmaking/tickets/{ticket_id}/events", tag = "matchmaking",
    params(
        ("ticket_id" = String, Path, description = "The ticket id"),
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this seq"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "text/event-stream of TicketEvent JSON", body = TicketEvent, content_type = "text/event-stream"),
        (status = 400, description = "Malformed ticket id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
        (status = 404, description = "No such ticket among the caller's", body = ErrorBody),
    ))]
pub(crate) async fn ticket_events(
    State(app): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, HttpError> {
    validate_ticket_id(&id)?;
    let last_seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let sub = app.matchmaker.subscribe(id, caller.clone()).await?;
    let state = EventState {
        pending: Some(sub.current),
        updates: sub.updates,
        last_seen,
        viewer: caller,
    };
    let stream = futures_util::stream::unfold(state, next_event);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

struct EventState {
    pending: Option<Arc<Snapshot>>,
    updates: Option<broadcast::Receiver<Arc<Snapshot>>>,
    last_seen: u64,
    viewer: String,
}

async fn next_event(mut st: EventState) -> Option<(Result<Event, Infallible>, EventState)> {
    loop {
        let snap = match st.pending.take() {
            Some(snap) => snap,
            None => match st.updates.as_mut()?.recv().await {
                Ok(snap) => snap,
                // Closed: the ticket is final and was sent. Lagged: the client stalled;
                // end the stream, and a reconnect with Last-Event-ID catches up.
                Err(_) => return None,
            },
        };
        if snap.is_final() {
            st.updates = None;
        }
        if snap.seq <= st.last_seen {
            // Already seen: skip it, or end if it was the final one.
            st.updates.as_ref()?;
            continue;
        }
        st.last_seen = snap.seq;
        let event = TicketEvent {
            seq: snap.seq,
            ticket: snap.render(&st.viewer),
        };
        let data = serde_json::to_string(&event).expect("tickets serialize");
        let event = Event::default()
            .event(TICKET_EVENT_NAME)
            .id(snap.seq.to_string())
            .data(data);
        return Some((Ok(event), st));
    }
}

/// `GET /v1/matchmaking/stats`.
#[utoipa::path(get, path = "/v1/matchmaking/stats", tag = "matchmaking",
    responses((status = 200, description = "Live numbers per mode", body = MatchmakingStats)))]
pub(crate) async fn stats(
    State(app): State<Arc<AppState>>,
) -> Result<Json<MatchmakingStats>, HttpError> {
    Ok(Json(app.matchmaker.stats().await?))
}

/// `GET /v1/party`.
#[utoipa::path(get, path = "/v1/party", tag = "party", security(("bearer" = [])),
    responses(
        (status = 200, description = "The party the caller joined, else the one it leads", body = Party),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ))]
pub(crate) async fn get_party(
    State(app): State<Arc<AppState>>,
    Caller(caller): Caller,
) -> Json<Party> {
    Json(app.parties.lock().expect("parties lock").party_of(&caller))
}

/// `PUT /v1/party`: join a leader's party.
#[utoipa::path(put, path = "/v1/party", tag = "party", security(("bearer" = [])),
    request_body = JoinPartyRequest,
    responses(
        (status = 200, description = "The party joined", body = Party),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Body is not JSON", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub(crate) async fn join_party(
    State(app): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiJson(request): ApiJson<JoinPartyRequest>,
) -> Result<Json<Party>, HttpError> {
    request.validate(&caller)?;
    let mut parties = app.parties.lock().expect("parties lock");
    Ok(Json(parties.join(&caller, &request.leader)))
}

/// `DELETE /v1/party`: leave the party joined.
#[utoipa::path(delete, path = "/v1/party", tag = "party", security(("bearer" = [])),
    responses(
        (status = 200, description = "The party the caller leads", body = Party),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ))]
pub(crate) async fn leave_party(
    State(app): State<Arc<AppState>>,
    Caller(caller): Caller,
) -> Json<Party> {
    Json(app.parties.lock().expect("parties lock").leave(&caller))
}

/// Turns a rankings page into the API's, joining the profiles for names and records.
async fn page(
    app: &AppState,
    board: BoardId,
    ranked: RankedPage,
) -> Result<LeaderboardPage, HttpError> {
    let ids: Vec<String> = ranked.entries.iter().map(|e| e.player.clone()).collect();
    let profiles = if ids.is_empty() {
        BTreeMap::new()
    } else {
        app.profiles
            .get_profiles(&ids)
            .await
            .map_err(|e| HttpError::unavailable(&e))?
    };
    let entries = ranked
        .entries
        .into_iter()
        .map(|e| {
            let profile = profiles.get(&e.player);
            entry(&board, e, profile)
        })
        .collect();
    Ok(LeaderboardPage {
        board,
        total_players: ranked.total_players,
        entries,
    })
}

fn entry(
    board: &BoardId,
    e: crate::rankings::RankedEntry,
    profile: Option<&PlayerProfile>,
) -> LeaderboardEntry {
    let stats = profile.and_then(|p| p.stats(board));
    LeaderboardEntry {
        rank: e.rank,
        display_name: profile.and_then(|p| p.display_name.clone()),
        rating: e.score.rating,
        games: stats.map_or(0, |s| s.games),
        wins: stats.map_or(0, |s| s.wins),
        losses: stats.map_or(0, |s| s.losses),
        player_id: e.player,
    }
}

fn store_error(e: &dyn std::fmt::Display) -> HttpError {
    HttpError::unavailable(e)
}

/// `GET /v1/leaderboards/top`.
#[utoipa::path(get, path = "/v1/leaderboards/top", tag = "leaderboards", params(TopQuery),
    responses(
        (status = 200, description = "Rows offset+1 ..= offset+limit", body = LeaderboardPage),
        (status = 400, description = "Invalid query", body = ErrorBody),
    ))]
pub(crate) async fn top(
    State(app): State<Arc<AppState>>,
    ApiQuery(query): ApiQuery<TopQuery>,
) -> Result<Json<LeaderboardPage>, HttpError> {
    query.validate()?;
    let board = query.board();
    let ranked = app
        .rankings
        .top(&board, u64::from(query.offset()), u64::from(query.limit()))
        .await
        .map_err(|e| store_error(&e))?;
    Ok(Json(page(&app, board, ranked).await?))
}

/// `GET /v1/leaderboards/around/{player_id}`.
#[utoipa::path(get, path = "/v1/leaderboards/around/{player_id}", tag = "leaderboards",
    params(("player_id" = String, Path, description = "The player"), AroundQuery),
    responses(
        (status = 200, description = "Rows around the player; empty when unranked", body = LeaderboardPage),
        (status = 400, description = "Invalid query or player id", body = ErrorBody),
    ))]
pub(crate) async fn around(
    State(app): State<Arc<AppState>>,
    ApiPath(player): ApiPath<String>,
    ApiQuery(query): ApiQuery<AroundQuery>,
) -> Result<Json<LeaderboardPage>, HttpError> {
    validate_player_id(&player)?;
    query.validate()?;
    let board = query.board();
    let ranked = app
        .rankings
        .around(&board, &player, u64::from(query.radius()))
        .await
        .map_err(|e| store_error(&e))?;
    Ok(Json(page(&app, board, ranked).await?))
}

/// `GET /v1/leaderboards/rank/{player_id}`.
#[utoipa::path(get, path = "/v1/leaderboards/rank/{player_id}", tag = "leaderboards",
    params(("player_id" = String, Path, description = "The player"), BoardQuery),
    responses(
        (status = 200, description = "The player's row, null when unranked", body = PlayerRank),
        (status = 400, description = "Invalid query or player id", body = ErrorBody),
        (status = 404, description = "Unknown player", body = ErrorBody),
    ))]
pub(crate) async fn rank(
    State(app): State<Arc<AppState>>,
    ApiPath(player): ApiPath<String>,
    ApiQuery(query): ApiQuery<BoardQuery>,
) -> Result<Json<PlayerRank>, HttpError> {
    validate_player_id(&player)?;
    query.validate()?;
    let board = query.board();
    let profile = app
        .profiles
        .get_profile(&player)
        .await
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| HttpError::not_found("no such player"))?;
    let ranking = app
        .rankings
        .rank(&board, &player)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(Json(PlayerRank {
        entry: ranking.entry.map(|e| entry(&board, e, Some(&profile))),
        board,
        total_players: ranking.total_players,
        player_id: player,
    }))
}

/// `GET /v1/leaderboards/friends`: the listed players' rows (the backend keeps no friend
/// lists; the caller's client sends them, and nobody is added to the list).
#[utoipa::path(get, path = "/v1/leaderboards/friends", tag = "leaderboards", params(FriendsQuery),
    responses(
        (status = 200, description = "The ranked players among those listed, best first", body = LeaderboardPage),
        (status = 400, description = "Invalid query", body = ErrorBody),
    ))]
pub(crate) async fn friends(
    State(app): State<Arc<AppState>>,
    ApiQuery(query): ApiQuery<FriendsQuery>,
) -> Result<Json<LeaderboardPage>, HttpError> {
    query.validate()?;
    let board = query.board();
    let ranked = app
        .rankings
        .friends(&board, &query.players.0)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(Json(page(&app, board, ranked).await?))
}

/// `GET /v1/players/{player_id}/profile`.
#[utoipa::path(get, path = "/v1/players/{player_id}/profile", tag = "players",
    params(("player_id" = String, Path, description = "The player")),
    responses(
        (status = 200, description = "The profile", body = Profile),
        (status = 400, description = "Invalid player id", body = ErrorBody),
        (status = 404, description = "Unknown player", body = ErrorBody),
    ))]
pub(crate) async fn profile(
    State(app): State<Arc<AppState>>,
    ApiPath(player): ApiPath<String>,
) -> Result<Json<Profile>, HttpError> {
    validate_player_id(&player)?;
    let profile = app
        .profiles
        .get_profile(&player)
        .await
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| HttpError::not_found("no such player"))?;
    // Profiles change only when a result is applied, so the last match is the last write.
    let updated_at = profile.overall.last_match_at.unwrap_or(0);
    Ok(Json(profile.to_http(updated_at)))
}

/// `GET /v1/players/{player_id}/matches`.
#[utoipa::path(get, path = "/v1/players/{player_id}/matches", tag = "players",
    params(("player_id" = String, Path, description = "The player"), RecentMatchesQuery),
    responses(
        (status = 200, description = "Recent matches, newest first", body = RecentMatches),
        (status = 400, description = "Invalid query or player id", body = ErrorBody),
        (status = 404, description = "Unknown player", body = ErrorBody),
    ))]
pub(crate) async fn matches(
    State(app): State<Arc<AppState>>,
    ApiPath(player): ApiPath<String>,
    ApiQuery(query): ApiQuery<RecentMatchesQuery>,
) -> Result<Json<RecentMatches>, HttpError> {
    validate_player_id(&player)?;
    query.validate()?;
    let mut profile = app
        .profiles
        .get_profile(&player)
        .await
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| HttpError::not_found("no such player"))?;
    profile.recent.truncate(query.limit() as usize);
    Ok(Json(RecentMatches {
        player_id: player,
        matches: profile.recent,
    }))
}

/// `GET /healthz`: the process serves HTTP.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "Alive")))]
pub(crate) async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: the matchmaking driver answers.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses(
        (status = 200, description = "Ready"),
        (status = 503, description = "Not ready", body = ErrorBody),
    ))]
pub(crate) async fn readyz(State(app): State<Arc<AppState>>) -> axum::response::Response {
    ready(&app.matchmaker).await
}

/// How long `/readyz` waits for the driver.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

pub(crate) async fn ready(matchmaker: &MatchmakerHandle) -> axum::response::Response {
    match tokio::time::timeout(READY_TIMEOUT, matchmaker.ping()).await {
        Ok(Ok(())) => Json(serde_json::json!({"status": "ready"})).into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(_) => {
            HttpError::new(ErrorCode::Unavailable, "matchmaking does not answer").into_response()
        }
    }
}
