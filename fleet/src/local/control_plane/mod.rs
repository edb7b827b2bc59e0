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
//! - UpdateFleetCapacity records DesiredInstances, MinSize and MaxSize (checked:
//!   non-negative, MinSize ≤ DesiredInstances ≤ MaxSize) and DescribeFleetCapacity
//!   reports them. `DesiredInstances = 0` withdraws capacity: CreateGameSession fails with
//!   `FleetCapacityExceededException` and placements stay PENDING until they time out;
//!   `≥ 1` restores it. **Unlike GameLift**, scaling in terminates nothing: GameLift would
//!   shut down unprotected instances and their game sessions, here running processes and
//!   game sessions carry on; only new game sessions are refused.
//! - Builds, created fleets and runtime configurations: see [`builds`] and [`catalog`].
//!   DescribeFleetAttributes lists created fleets after this one (no paging over them);
//!   DescribeFleetCapacity reports a created fleet with every count 0, since nothing runs
//!   for it.
//!
//! [`handle`] is the same mapping on a bare engine, for callers that hold one; the
//! catalog operations need the [`FleetHandle`] and are refused there.

pub mod builds;
pub mod catalog;
mod checks;
pub mod shapes;

use crate::local::api::{
    self, ApiError, ControlPlane, DescribeGameSessionsInput, Request, Response,
};
use crate::local::engine::{
    DesiredPlayer, Engine, GameSessionStatus, InstanceCapacity, Millis, NewGameSession,
    PlacementRequest, PlayerSessionStatus,
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
        match request {
            Request::CreateBuild(r) => builds::create_build(self, r).await,
            Request::DescribeBuild(r) => builds::describe_build(self, &r.build_id).await,
            Request::CreateFleet(r) => builds::create_fleet(self, *r).await,
            Request::UpdateRuntimeConfiguration(r) => {
                builds::check_runtime(&r.runtime_configuration)?;
                let this = self.this_fleet();
                self.with_catalog(|c| {
                    let id = builds::known_fleet(c, (&this.0, &this.1), &r.fleet_id)?;
                    if id == this.0 {
                        return Err(ApiError::invalid_request(format!(
                            "the runtime configuration of {id} is set by fleet local's \
                             command line; restart it to change what runs"
                        )));
                    }
                    c.runtime.insert(id, r.runtime_configuration.clone());
                    Ok(Response::UpdateRuntimeConfiguration(
                        api::RuntimeConfigurationOutput {
                            runtime_configuration: r.runtime_configuration,
                        },
                    ))
                })
            }
            Request::DescribeRuntimeConfiguration(r) => {
                let this = self.this_fleet();
                self.with_catalog(|c| {
                    let id = builds::known_fleet(c, (&this.0, &this.1), &r.fleet_id)?;
                    Ok(Response::DescribeRuntimeConfiguration(
                        api::RuntimeConfigurationOutput {
                            runtime_configuration: c.runtime.get(&id).cloned().unwrap_or_default(),
                        },
                    ))
                })
            }
            Request::DescribeFleetAttributes(r) => {
                builds::refresh_fleet_builds(self).await?;
                let mut out = self.with_engine(|e, now| {
                    handle(e, now, Request::DescribeFleetAttributes(r.clone()))
                })?;
                if let Response::DescribeFleetAttributes(out) = &mut out {
                    self.with_catalog(|c| {
                        out.fleet_attributes.extend(
                            c.fleets
                                .values()
                                .filter(|f| requested(&r, &f.id, &f.arn))
                                .map(|f| c.fleet_attributes(f)),
                        );
                    });
                }
                Ok(out)
            }
            Request::DescribeFleetCapacity(r) => {
                let mut out = self.with_engine(|e, now| {
                    handle(e, now, Request::DescribeFleetCapacity(r.clone()))
                })?;
                if let Response::DescribeFleetCapacity(out) = &mut out {
                    self.with_catalog(|c| {
                        out.fleet_capacity.extend(
                            c.fleets
                                .values()
                                .filter(|f| requested(&r, &f.id, &f.arn))
                                .map(shapes::created_fleet_capacity),
                        );
                    });
                }
                Ok(out)
            }
            Request::DescribeGameSessions(r)
                if r.fleet_id
                    .as_deref()
                    .is_some_and(|f| self.with_catalog(|c| c.fleet(f).is_some())) =>
            {
                // A created fleet runs nothing, so it hosts no game sessions.
                Ok(Response::DescribeGameSessions(
                    api::GameSessionsOutput::default(),
                ))
            }
            other => self.with_engine(|engine, now| handle(engine, now, other)),
        }
    }
}

impl FleetHandle {
    /// The command-line fleet's id and ARN.
    fn this_fleet(&self) -> (String, String) {
        self.with_engine(|e, _| (e.config().fleet_id.clone(), e.config().fleet_arn()))
    }
}

/// Whether a DescribeFleet* request without `FleetIds`, or with this id or ARN among
/// them, asks for a fleet.
fn requested(r: &api::DescribeFleetsInput, id: &str, arn: &str) -> bool {
    r.fleet_ids.is_empty() || r.fleet_ids.iter().any(|f| f == id || f == arn)
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
        Request::UpdateFleetCapacity(r) => {
            check_fleet(e, &r.fleet_id)?;
            check_location(e, r.location.as_deref())?;
            let old = e.capacity();
            let count = |v: Option<i32>, name: &str, old: u32| match v {
                None => Ok(old),
                Some(n) => u32::try_from(n).map_err(|_| {
                    ApiError::invalid_request(format!(
                        "1 validation error detected: Value '{n}' at '{name}' failed to \
                         satisfy constraint: Member must have value greater than or equal to 0"
                    ))
                }),
            };
            let wanted = InstanceCapacity {
                desired: count(r.desired_instances, "desiredInstances", old.desired)?,
                min: count(r.min_size, "minSize", old.min)?,
                max: count(r.max_size, "maxSize", old.max)?,
            };
            if wanted.min > wanted.max || wanted.desired < wanted.min || wanted.desired > wanted.max
            {
                return Err(ApiError::invalid_request(format!(
                    "DesiredInstances ({}) must be between MinSize ({}) and MaxSize ({})",
                    wanted.desired, wanted.min, wanted.max
                )));
            }
            e.set_capacity(wanted);
            let cfg = e.config();
            Ok(Response::UpdateFleetCapacity(
                api::UpdateFleetCapacityOutput {
                    fleet_id: Some(cfg.fleet_id.clone()),
                    fleet_arn: Some(cfg.fleet_arn()),
                    location: Some(cfg.region.clone()),
                },
            ))
        }
        Request::CreateBuild(_)
        | Request::DescribeBuild(_)
        | Request::CreateFleet(_)
        | Request::UpdateRuntimeConfiguration(_)
        | Request::DescribeRuntimeConfiguration(_) => Err(ApiError::invalid_request(format!(
            "{} needs fleet local's catalog (FleetHandle), not a bare engine",
            request.operation().name()
        ))),
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
