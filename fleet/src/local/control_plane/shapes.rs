//! The engine's records as the API's output shapes, and its errors as the API's
//! exceptions.

use crate::local::api::{self, ApiError, ErrorKind, Timestamp};
use crate::local::engine::{
    self, ControlError, ControlErrorKind, Engine, FleetConfig, Millis, PlacementState,
};

/// `InstanceType` reported for the one local "instance". A local fleet has no EC2 type of
/// its own; this is nominal, so that clients that expect one on an EC2 fleet find one.
pub const LOCAL_INSTANCE_TYPE: &str = "c5.large";

/// The engine's error as the exception GameLift raises for it.
pub fn api_error(e: ControlError) -> ApiError {
    let kind = match e.kind {
        ControlErrorKind::InvalidRequest => ErrorKind::InvalidRequest,
        ControlErrorKind::NotFound => ErrorKind::NotFound,
        ControlErrorKind::FleetCapacityExceeded => ErrorKind::FleetCapacityExceeded,
        ControlErrorKind::GameSessionFull => ErrorKind::GameSessionFull,
        ControlErrorKind::InvalidGameSessionStatus => ErrorKind::InvalidGameSessionStatus,
        ControlErrorKind::IdempotentParameterMismatch => ErrorKind::IdempotentParameterMismatch,
    };
    ApiError::new(kind, e.message)
}

fn ts(ms: Millis) -> Timestamp {
    Timestamp::from_millis(ms)
}

/// `None` for the empty string the engine stores for an absent value.
fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn properties(props: &[(String, String)]) -> Vec<api::GameProperty> {
    props
        .iter()
        .map(|(k, v)| api::GameProperty {
            key: k.clone(),
            value: v.clone(),
        })
        .collect()
}

fn game_session_status(s: engine::GameSessionStatus) -> api::GameSessionStatus {
    use engine::GameSessionStatus as E;
    match s {
        E::Activating => api::GameSessionStatus::Activating,
        E::Active => api::GameSessionStatus::Active,
        E::Terminating => api::GameSessionStatus::Terminating,
        E::Terminated => api::GameSessionStatus::Terminated,
        E::Error => api::GameSessionStatus::Error,
    }
}

fn status_reason(r: engine::StatusReason) -> api::GameSessionStatusReason {
    use engine::StatusReason as E;
    match r {
        E::Interrupted => api::GameSessionStatusReason::Interrupted,
        E::TriggeredOnProcessTerminate => api::GameSessionStatusReason::TriggeredOnProcessTerminate,
        E::ForceTerminated => api::GameSessionStatusReason::ForceTerminated,
    }
}

fn player_session_status(s: engine::PlayerSessionStatus) -> api::PlayerSessionStatus {
    use engine::PlayerSessionStatus as E;
    match s {
        E::Reserved => api::PlayerSessionStatus::Reserved,
        E::Active => api::PlayerSessionStatus::Active,
        E::Completed => api::PlayerSessionStatus::Completed,
        E::TimedOut => api::PlayerSessionStatus::Timedout,
    }
}

fn placement_state(s: PlacementState) -> api::GameSessionPlacementState {
    match s {
        PlacementState::Pending => api::GameSessionPlacementState::Pending,
        PlacementState::Fulfilled => api::GameSessionPlacementState::Fulfilled,
        PlacementState::Cancelled => api::GameSessionPlacementState::Cancelled,
        PlacementState::TimedOut => api::GameSessionPlacementState::TimedOut,
        PlacementState::Failed => api::GameSessionPlacementState::Failed,
    }
}

fn creation_policy(
    p: protocol::sdk5::PlayerSessionCreationPolicy,
) -> Option<api::PlayerSessionCreationPolicy> {
    use protocol::sdk5::PlayerSessionCreationPolicy as P;
    match p {
        P::AcceptAll => Some(api::PlayerSessionCreationPolicy::AcceptAll),
        P::DenyAll => Some(api::PlayerSessionCreationPolicy::DenyAll),
        P::NotSet => None,
    }
}

/// A game session as `GameSession`. `CurrentPlayerSessionCount` counts the player
/// sessions holding a slot (RESERVED and ACTIVE), as GameLift does; `Location` is the
/// fleet's home Region, the only location of a local fleet.
pub fn game_session(e: &Engine, gs: &engine::GameSession) -> api::GameSession {
    let cfg = e.config();
    api::GameSession {
        game_session_id: Some(gs.id.clone()),
        name: non_empty(&gs.name),
        fleet_id: Some(cfg.fleet_id.clone()),
        fleet_arn: Some(cfg.fleet_arn()),
        creation_time: Some(ts(gs.created_at)),
        termination_time: gs.terminated_at.map(ts),
        current_player_session_count: Some(count(e.slots_used(&gs.id))),
        maximum_player_session_count: Some(count(gs.max_players)),
        status: Some(game_session_status(gs.status)),
        status_reason: gs.status_reason.map(status_reason),
        game_properties: properties(&gs.properties),
        ip_address: Some(gs.ip_address.clone()),
        dns_name: Some(gs.dns_name.clone()),
        port: Some(i32::from(gs.port)),
        player_session_creation_policy: creation_policy(gs.policy),
        creator_id: gs.creator_id.clone(),
        game_session_data: non_empty(&gs.data),
        matchmaker_data: non_empty(&gs.matchmaker_data),
        location: Some(cfg.region.clone()),
        compute_name: Some(cfg.compute_name.clone()),
    }
}

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A player session as `PlayerSession`, with the connection facts of its game session.
pub fn player_session(e: &Engine, ps: &engine::PlayerSession) -> api::PlayerSession {
    let cfg = e.config();
    let gs = e.game_session(&ps.game_session_id);
    api::PlayerSession {
        player_session_id: Some(ps.id.clone()),
        player_id: Some(ps.player_id.clone()),
        game_session_id: Some(ps.game_session_id.clone()),
        fleet_id: Some(cfg.fleet_id.clone()),
        fleet_arn: Some(cfg.fleet_arn()),
        creation_time: Some(ts(ps.created_at)),
        termination_time: ps.terminated_at.map(ts),
        status: Some(player_session_status(ps.status)),
        ip_address: gs.map(|g| g.ip_address.clone()),
        dns_name: gs.map(|g| g.dns_name.clone()),
        port: gs.map(|g| i32::from(g.port)),
        player_data: ps.player_data.clone(),
    }
}

/// A placement as `GameSessionPlacement`.
///
/// `GameSessionId` and `GameSessionArn` are both the game session's ARN, as GameLift
/// documents ("This value is the same as `GameSessionArn`"). They, the Region and the
/// connection facts are given once the placement is FULFILLED, and `PlacedPlayerSessions`
/// only then: while PENDING the game session may still fail to activate and be placed
/// again elsewhere. `PriorityConfigurationOverride` is not kept by the engine and so not
/// echoed.
pub fn placement(e: &Engine, p: &engine::Placement) -> api::GameSessionPlacement {
    let fulfilled = p.state == PlacementState::Fulfilled;
    let gs = p
        .game_session_id
        .as_deref()
        .filter(|_| fulfilled)
        .and_then(|id| e.game_session(id));
    api::GameSessionPlacement {
        placement_id: Some(p.id.clone()),
        game_session_queue_name: Some(p.queue.clone()),
        status: Some(placement_state(p.state)),
        game_properties: properties(&p.request.properties),
        maximum_player_session_count: Some(count(p.request.max_players)),
        game_session_name: p.request.name.clone(),
        game_session_id: gs.map(|g| g.id.clone()),
        game_session_arn: gs.map(|g| g.id.clone()),
        game_session_region: gs.map(|_| e.config().region.clone()),
        player_latencies: p
            .latencies
            .iter()
            .map(|(player, region, ms)| api::PlayerLatency {
                player_id: Some(player.clone()),
                region_identifier: Some(region.clone()),
                latency_in_milliseconds: Some(*ms),
            })
            .collect(),
        start_time: Some(ts(p.started_at)),
        end_time: p.ended_at.map(ts),
        ip_address: gs.map(|g| g.ip_address.clone()),
        dns_name: gs.map(|g| g.dns_name.clone()),
        port: gs.map(|g| i32::from(g.port)),
        placed_player_sessions: if fulfilled {
            p.placed
                .iter()
                .map(|(player, psess)| api::PlacedPlayerSession {
                    player_id: Some(player.clone()),
                    player_session_id: Some(psess.clone()),
                })
                .collect()
        } else {
            Vec::new()
        },
        game_session_data: p.request.data.clone(),
        matchmaker_data: gs.and_then(|g| non_empty(&g.matchmaker_data)),
        priority_configuration_override: None,
    }
}

/// The fleet as `FleetAttributes`: an ACTIVE, ON_DEMAND fleet of compute type EC2.
///
/// EC2 rather than ANYWHERE because everything else about the local fleet is a managed
/// EC2 fleet's: the launcher starts processes with the `GAMELIFT_SDK_*` variables set,
/// the only location is the home Region (an Anywhere fleet's is a `custom-…` location,
/// which CreateGameSession would then require), and DescribeFleetCapacity, which GameLift
/// serves for EC2 and container fleets only, answers. `CreationTime` is left out: the
/// engine does not record when the fleet started.
pub fn fleet_attributes(cfg: &FleetConfig) -> api::FleetAttributes {
    api::FleetAttributes {
        fleet_id: Some(cfg.fleet_id.clone()),
        fleet_arn: Some(cfg.fleet_arn()),
        fleet_type: Some(api::FleetType::OnDemand),
        instance_type: Some(LOCAL_INSTANCE_TYPE.into()),
        description: Some("fleet local: a local GameLift fleet".into()),
        name: Some(cfg.fleet_id.clone()),
        status: Some(api::FleetStatus::Active),
        new_game_session_protection_policy: Some(api::ProtectionPolicy::NoProtection),
        metric_groups: vec!["default".into()],
        certificate_configuration: Some(api::CertificateConfiguration {
            certificate_type: api::CertificateType::Disabled,
        }),
        compute_type: Some(api::ComputeType::Ec2),
        ..api::FleetAttributes::default()
    }
}

/// The fleet as `FleetCapacity`: one local instance; DESIRED, MINIMUM and MAXIMUM as
/// UpdateFleetCapacity last set them (1, 0 and 1 until then); ACTIVE unless capacity is
/// paused, IDLE while at least one process could take a game session.
pub fn fleet_capacity(e: &Engine, now: Millis) -> api::FleetCapacity {
    let cfg = e.config();
    let paused = e.capacity_paused();
    let wanted = e.capacity();
    let active = i32::from(!paused);
    let idle = i32::from(!paused && e.idle_processes(now) > 0);
    api::FleetCapacity {
        fleet_id: Some(cfg.fleet_id.clone()),
        fleet_arn: Some(cfg.fleet_arn()),
        instance_type: Some(LOCAL_INSTANCE_TYPE.into()),
        instance_counts: Some(api::Ec2InstanceCounts {
            desired: Some(count(wanted.desired)),
            minimum: Some(count(wanted.min)),
            maximum: Some(count(wanted.max)),
            pending: Some(0),
            active: Some(active),
            idle: Some(idle),
            terminating: Some(0),
        }),
        location: Some(cfg.region.clone()),
    }
}

/// A fleet created with CreateFleet as `FleetCapacity`: nothing runs for it, so every
/// count is 0.
pub fn created_fleet_capacity(f: &super::catalog::FleetRecord) -> api::FleetCapacity {
    api::FleetCapacity {
        fleet_id: Some(f.id.clone()),
        fleet_arn: Some(f.arn.clone()),
        instance_type: f.instance_type.clone(),
        instance_counts: Some(api::Ec2InstanceCounts {
            desired: Some(0),
            minimum: Some(0),
            maximum: Some(0),
            pending: Some(0),
            active: Some(0),
            idle: Some(0),
            terminating: Some(0),
        }),
        location: f.locations.first().cloned(),
    }
}
