//! The control plane on the running fleet: `impl ControlPlane for FleetHandle`, which
//! turns each decoded [`Request`] into a call on the [`Engine`] and the engine's records
//! into the API's output shapes ([`shapes`]).
//!
//! Rules applied here, as GameLift applies them:
//! - `FleetId` may be the fleet's id or ARN; any other fleet is `NotFoundException`.
//!   `AliasId` is `NotFoundException` (fleet local has no aliases); both or neither of
//!   `FleetId` and `AliasId` is `InvalidRequestException`.
//! - `Location`, if given, must be the fleet's home Region (its only location); any other
//!   value is `InvalidRequestException`. GameLift does not document the exception for a
//!   location the fleet lacks; an invalid parameter is the closest modeled one.
//! - `Limit` must be at least 1 (the model's constraint) and defaults to
//!   [`DEFAULT_LIMIT`]; SearchGameSessions returns at most [`SEARCH_LIMIT`] whatever is
//!   asked, DescribePlayerSessions ignores `Limit` with a `PlayerSessionId`, and the fleet
//!   operations ignore `Limit` and `NextToken` with `FleetIds`.
//! - DescribeFleetAttributes and DescribeFleetCapacity return only the fleets that exist
//!   among `FleetIds` (no error for the others); without `FleetIds`, this one fleet.
//! - CreateGameSession's custom id is `GameSessionId`, or the deprecated
//!   `IdempotencyToken` when that is absent.
//!
//! [`handle`] is the same mapping on a bare engine, for callers that hold one.

mod checks;
pub mod shapes;

use crate::local::api::{
    self, ApiError, ControlPlane, DescribeGameSessionsInput, Request, Response,
};
use crate::local::engine::{
    DesiredPlayer, Engine, GameSessionStatus, Millis, NewGameSession, PlacementRequest,
    PlayerSessionStatus,
};
use crate::local::runtime::FleetHandle;

use checks::{
    check_fleet, check_location, check_target, limit, max_players, no_aliases, this_fleet_requested,
};

/// `Limit` when a listing request has none.
pub const DEFAULT_LIMIT: u32 = 50;

/// The most game sessions one SearchGameSessions page returns (GameLift: 20, "even if
/// this value is not set or is set higher than 20").
pub const SEARCH_LIMIT: u32 = 20;

impl ControlPlane for FleetHandle {
    async fn call(&self, request: Request) -> Result<Response, ApiError> {
        self.with_engine(|engine, now| handle(engine, now, request))
    }
}

/// Applies one control-plane request to `engine` at `now`.
pub fn handle(e: &mut Engine, now: Millis, request: Request) -> Result<Response, ApiError> {
    use shapes::{api_error, game_session, placement, player_session};
    match request {
        Request::CreateGameSession(r) => {
            check_target(e, r.fleet_id.as_deref(), r.alias_id.as_deref())?;
            check_location(e, r.location.as_deref())?;
            let fleet_id = e.config().fleet_id.clone();
            let new = NewGameSession {
                name: r.name,
                max_players: max_players(r.maximum_player_session_count)?,
                properties: props(r.game_properties),
                data: r.game_session_data,
                creator_id: r.creator_id,
                idempotency_token: r.game_session_id.or(r.idempotency_token),
            };
            let gs = e
                .create_game_session(now, &fleet_id, new)
                .map_err(api_error)?
                .clone();
            Ok(Response::CreateGameSession(api::GameSessionOutput {
                game_session: game_session(e, &gs),
            }))
        }
        Request::DescribeGameSessions(r) => {
            let (items, next_token) = describe_game_sessions(e, r)?;
            Ok(Response::DescribeGameSessions(api::GameSessionsOutput {
                game_sessions: items,
                next_token,
            }))
        }
        Request::DescribeGameSessionDetails(r) => {
            let (items, next_token) = describe_game_sessions(e, r)?;
            Ok(Response::DescribeGameSessionDetails(
                api::GameSessionDetailsOutput {
                    game_session_details: items
                        .into_iter()
                        .map(|g| api::GameSessionDetail {
                            game_session: Some(g),
                            // Scale-in protection means nothing to a local fleet.
                            protection_policy: Some(api::ProtectionPolicy::NoProtection),
                        })
                        .collect(),
                    next_token,
                },
            ))
        }
        Request::SearchGameSessions(r) => {
            check_target(e, r.fleet_id.as_deref(), r.alias_id.as_deref())?;
            check_location(e, r.location.as_deref())?;
            let limit = limit(r.limit)?.min(SEARCH_LIMIT);
            let fleet_id = e.config().fleet_id.clone();
            let page = e
                .search_game_sessions(
                    &fleet_id,
                    r.filter_expression.as_deref(),
                    r.sort_expression.as_deref(),
                    limit,
                    r.next_token.as_deref(),
                )
                .map_err(api_error)?;
            Ok(Response::SearchGameSessions(api::GameSessionsOutput {
                game_sessions: page.items.iter().map(|g| game_session(e, g)).collect(),
                next_token: page.next_token,
            }))
        }
        Request::TerminateGameSession(r) => {
            let force = r.termination_mode == api::TerminationMode::ForceTerminate;
            let gs = e
                .terminate_game_session(now, &r.game_session_id, force)
                .map_err(api_error)?
                .clone();
            Ok(Response::TerminateGameSession(api::GameSessionOutput {
                game_session: game_session(e, &gs),
            }))
        }
        Request::CreatePlayerSession(r) => {
            let player = DesiredPlayer {
                player_id: r.player_id,
                player_data: r.player_data,
            };
            let created = e
                .create_player_sessions(now, &r.game_session_id, vec![player])
                .map_err(api_error)?;
            let ps = created
                .into_iter()
                .next()
                .cloned()
                .ok_or_else(|| ApiError::internal("no player session was created"))?;
            Ok(Response::CreatePlayerSession(api::PlayerSessionOutput {
                player_session: player_session(e, &ps),
            }))
        }
        Request::CreatePlayerSessions(mut r) => {
            // Data for players not in PlayerIds is ignored, as GameLift documents.
            let players = r
                .player_ids
                .into_iter()
                .map(|id| DesiredPlayer {
                    player_data: r.player_data_map.remove(&id),
                    player_id: id,
                })
                .collect();
            let created: Vec<_> = e
                .create_player_sessions(now, &r.game_session_id, players)
                .map_err(api_error)?
                .into_iter()
                .cloned()
                .collect();
            Ok(Response::CreatePlayerSessions(api::PlayerSessionsOutput {
                player_sessions: created.iter().map(|ps| player_session(e, ps)).collect(),
                next_token: None,
            }))
        }
        Request::DescribePlayerSessions(r) => {
            let status = r
                .player_session_status_filter
                .as_deref()
                .map(|s| {
                    PlayerSessionStatus::parse(&s.to_ascii_uppercase()).ok_or_else(|| {
                        ApiError::invalid_request(format!(
                            "PlayerSessionStatusFilter {s:?} must be one of RESERVED, ACTIVE, \
                             COMPLETED, TIMEDOUT"
                        ))
                    })
                })
                .transpose()?;
            let limit = if r.player_session_id.is_some() {
                DEFAULT_LIMIT
            } else {
                limit(r.limit)?
            };
            let page = e
                .describe_player_sessions(
                    r.game_session_id.as_deref(),
                    r.player_id.as_deref(),
                    r.player_session_id.as_deref(),
                    status,
                    limit,
                    r.next_token.as_deref(),
                )
                .map_err(api_error)?;
            Ok(Response::DescribePlayerSessions(
                api::PlayerSessionsOutput {
                    player_sessions: page.items.iter().map(|ps| player_session(e, ps)).collect(),
                    next_token: page.next_token,
                },
            ))
        }
        Request::StartGameSessionPlacement(r) => {
            let players = r
                .desired_player_sessions
                .into_iter()
                .map(|p| {
                    Ok(DesiredPlayer {
                        player_id: p.player_id.ok_or_else(|| {
                            ApiError::invalid_request("DesiredPlayerSession needs a PlayerId")
                        })?,
                        player_data: p.player_data,
                    })
                })
                .collect::<Result<_, ApiError>>()?;
            let latencies = r
                .player_latencies
                .into_iter()
                .map(
                    |l| match (l.player_id, l.region_identifier, l.latency_in_milliseconds) {
                        (Some(p), Some(region), Some(ms)) if ms >= 0.0 => Ok((p, region, ms)),
                        _ => Err(ApiError::invalid_request(
                            "PlayerLatency needs PlayerId, RegionIdentifier and a \
                         non-negative LatencyInMilliseconds",
                        )),
                    },
                )
                .collect::<Result<_, ApiError>>()?;
            let request = PlacementRequest {
                placement_id: r.placement_id,
                queue: r.game_session_queue_name,
                game_session: NewGameSession {
                    name: r.game_session_name,
                    max_players: max_players(r.maximum_player_session_count)?,
                    properties: props(r.game_properties),
                    data: r.game_session_data,
                    creator_id: None,
                    idempotency_token: None,
                },
                players,
                latencies,
            };
            let p = e.start_placement(now, request).map_err(api_error)?.clone();
            Ok(Response::StartGameSessionPlacement(
                api::GameSessionPlacementOutput {
                    game_session_placement: placement(e, &p),
                },
            ))
        }
        Request::DescribeGameSessionPlacement(r) => {
            let p = e.placement(&r.placement_id).map_err(api_error)?;
            Ok(Response::DescribeGameSessionPlacement(
                api::GameSessionPlacementOutput {
                    game_session_placement: placement(e, p),
                },
            ))
        }
        Request::StopGameSessionPlacement(r) => {
            let p = e
                .stop_placement(now, &r.placement_id)
                .map_err(api_error)?
                .clone();
            Ok(Response::StopGameSessionPlacement(
                api::GameSessionPlacementOutput {
                    game_session_placement: placement(e, &p),
                },
            ))
        }
        Request::DescribeFleetAttributes(r) => {
            let found = this_fleet_requested(e, &r)?;
            Ok(Response::DescribeFleetAttributes(
                api::FleetAttributesOutput {
                    fleet_attributes: found
                        .then(|| shapes::fleet_attributes(e.config()))
                        .into_iter()
                        .collect(),
                    next_token: None,
                },
            ))
        }
        Request::DescribeFleetCapacity(r) => {
            let found = this_fleet_requested(e, &r)?;
            Ok(Response::DescribeFleetCapacity(api::FleetCapacityOutput {
                fleet_capacity: found
                    .then(|| shapes::fleet_capacity(e, now))
                    .into_iter()
                    .collect(),
                next_token: None,
            }))
        }
    }
}

/// DescribeGameSessions and DescribeGameSessionDetails: the page, as `GameSession`s.
fn describe_game_sessions(
    e: &Engine,
    r: DescribeGameSessionsInput,
) -> Result<(Vec<api::GameSession>, Option<String>), ApiError> {
    if r.alias_id.is_some() {
        return Err(no_aliases());
    }
    if let Some(f) = r.fleet_id.as_deref() {
        check_fleet(e, f)?;
    }
    check_location(e, r.location.as_deref())?;
    let status = r
        .status_filter
        .as_deref()
        .map(|s| {
            GameSessionStatus::parse(&s.to_ascii_uppercase()).ok_or_else(|| {
                ApiError::invalid_request(format!(
                    "StatusFilter {s:?} must be one of ACTIVE, ACTIVATING, TERMINATING, \
                     TERMINATED, ERROR"
                ))
            })
        })
        .transpose()?;
    let limit = limit(r.limit)?;
    // The engine lists by fleet: a request naming only a game session needs no fleet.
    let fleet_id = r.fleet_id.is_some().then(|| e.config().fleet_id.clone());
    let page = e
        .describe_game_sessions(
            fleet_id.as_deref(),
            r.game_session_id.as_deref(),
            status,
            limit,
            r.next_token.as_deref(),
        )
        .map_err(shapes::api_error)?;
    Ok((
        page.items
            .iter()
            .map(|g| shapes::game_session(e, g))
            .collect(),
        page.next_token,
    ))
}

fn props(props: Vec<api::GameProperty>) -> Vec<(String, String)> {
    props.into_iter().map(|p| (p.key, p.value)).collect()
}
