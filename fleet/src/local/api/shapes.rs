//! GameLift's small shared types, with the member names and wire values of the real API:
//! [`Timestamp`], the string enums (`GameSessionStatus`, `PlayerSessionStatus`, …),
//! `GameProperty`, `PlayerLatency`, `DesiredPlayerSession` and
//! `PriorityConfigurationOverride`. The session shapes are in `sessions.rs`, the fleet
//! shapes in `fleet.rs`, operation inputs and outputs in `ops.rs`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::ApiError;
use super::value::{FromValue, Members, Obj, ToValue, Value};

/// A point in time with the protocol's millisecond resolution.
///
/// On the wire it is epoch seconds: CBOR tag 1 around a double, JSON a number. Most
/// milliseconds are not exact in a double and `aws-sdk-gamelift` truncates what it
/// decodes from CBOR to the millisecond, so the CBOR codec writes the instant half a
/// microsecond late; every millisecond then reads back exactly (see `cbor.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Milliseconds since the Unix epoch.
    epoch_millis: i64,
}

impl Timestamp {
    /// The timestamp `epoch_millis` milliseconds after the Unix epoch.
    pub const fn from_millis(epoch_millis: i64) -> Self {
        Self { epoch_millis }
    }

    /// The timestamp `epoch_secs` seconds after the Unix epoch.
    pub const fn from_secs(epoch_secs: i64) -> Self {
        Self::from_millis(epoch_secs * 1000)
    }

    /// The current time.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.epoch_millis
    }

    /// Seconds since the Unix epoch, as both protocols carry it.
    pub fn as_secs_f64(self) -> f64 {
        self.epoch_millis as f64 / 1000.0
    }
}

impl From<SystemTime> for Timestamp {
    fn from(time: SystemTime) -> Self {
        let millis = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
        };
        Self::from_millis(millis)
    }
}

impl From<Timestamp> for SystemTime {
    fn from(time: Timestamp) -> Self {
        let magnitude = Duration::from_millis(time.epoch_millis.unsigned_abs());
        if time.epoch_millis >= 0 {
            UNIX_EPOCH + magnitude
        } else {
            UNIX_EPOCH - magnitude
        }
    }
}

/// Defines a string enum of the model with its exact wire values.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in the model's order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The value on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }

            /// The variant for a wire value.
            pub fn parse(wire: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == wire)
            }
        }

        impl $crate::local::api::value::ToValue for $name {
            fn to_value(&self) -> $crate::local::api::value::Value {
                $crate::local::api::value::Value::Str(self.as_str().to_owned())
            }
        }

        impl $crate::local::api::value::FromValue for $name {
            fn from_value(
                value: $crate::local::api::value::Value,
                path: &str,
            ) -> Result<Self, $crate::local::api::error::ApiError> {
                let wire =
                    <String as $crate::local::api::value::FromValue>::from_value(value, path)?;
                Self::parse(&wire).ok_or_else(|| {
                    let set: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    $crate::local::api::value::constraint_error(
                        path,
                        &format!("'{wire}'"),
                        &format!("Member must satisfy enum value set: [{}]", set.join(", ")),
                    )
                })
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// `GameSessionStatus`.
    GameSessionStatus {
        /// `ACTIVE`: hosting players.
        Active = "ACTIVE",
        /// `ACTIVATING`: placed on a process that has not activated it yet.
        Activating = "ACTIVATING",
        /// `TERMINATED`: ended.
        Terminated = "TERMINATED",
        /// `TERMINATING`: ending.
        Terminating = "TERMINATING",
        /// `ERROR`: failed.
        Error = "ERROR",
    }
}

wire_enum! {
    /// `GameSessionStatusReason`.
    GameSessionStatusReason {
        /// `INTERRUPTED`: the process was interrupted (for example a Spot reclaim).
        Interrupted = "INTERRUPTED",
        /// `TRIGGERED_ON_PROCESS_TERMINATE`: ended through the process's terminate hook.
        TriggeredOnProcessTerminate = "TRIGGERED_ON_PROCESS_TERMINATE",
        /// `FORCE_TERMINATED`: ended by a forced TerminateGameSession.
        ForceTerminated = "FORCE_TERMINATED",
    }
}

wire_enum! {
    /// `PlayerSessionCreationPolicy`.
    PlayerSessionCreationPolicy {
        /// `ACCEPT_ALL`: new player sessions are allowed.
        AcceptAll = "ACCEPT_ALL",
        /// `DENY_ALL`: new player sessions are refused.
        DenyAll = "DENY_ALL",
    }
}

wire_enum! {
    /// `PlayerSessionStatus`.
    PlayerSessionStatus {
        /// `RESERVED`: created, not yet accepted by the server process.
        Reserved = "RESERVED",
        /// `ACTIVE`: accepted by the server process.
        Active = "ACTIVE",
        /// `COMPLETED`: the player left.
        Completed = "COMPLETED",
        /// `TIMEDOUT`: not accepted within 60 seconds.
        Timedout = "TIMEDOUT",
    }
}

wire_enum! {
    /// `GameSessionPlacementState`.
    GameSessionPlacementState {
        /// `PENDING`: in the queue.
        Pending = "PENDING",
        /// `FULFILLED`: a game session was created.
        Fulfilled = "FULFILLED",
        /// `CANCELLED`: stopped by StopGameSessionPlacement.
        Cancelled = "CANCELLED",
        /// `TIMED_OUT`: not placed within the queue's timeout.
        TimedOut = "TIMED_OUT",
        /// `FAILED`: could not be placed.
        Failed = "FAILED",
    }
}

wire_enum! {
    /// `TerminationMode` of TerminateGameSession.
    TerminationMode {
        /// `TRIGGER_ON_PROCESS_TERMINATE`: ask the process to end the session.
        TriggerOnProcessTerminate = "TRIGGER_ON_PROCESS_TERMINATE",
        /// `FORCE_TERMINATE`: stop the process.
        ForceTerminate = "FORCE_TERMINATE",
    }
}

wire_enum! {
    /// `PlacementFallbackStrategy` of a priority configuration override.
    PlacementFallbackStrategy {
        /// `DEFAULT_AFTER_SINGLE_PASS`: fall back to the queue's order.
        DefaultAfterSinglePass = "DEFAULT_AFTER_SINGLE_PASS",
        /// `NONE`: only the listed locations.
        None = "NONE",
    }
}

/// `GameProperty`: a key-value pair of a game session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GameProperty {
    /// `Key` (required).
    pub key: String,
    /// `Value` (required).
    pub value: String,
}

impl ToValue for GameProperty {
    fn to_value(&self) -> Value {
        Obj::new()
            .field("Key", &self.key)
            .field("Value", &self.value)
            .build()
    }
}

impl FromValue for GameProperty {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        let mut m = Members::new(value, path)?;
        Ok(Self {
            key: m.req("Key")?,
            value: m.req("Value")?,
        })
    }
}

/// `PlayerLatency`: one player's latency to one Region.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlayerLatency {
    /// `PlayerId`.
    pub player_id: Option<String>,
    /// `RegionIdentifier`.
    pub region_identifier: Option<String>,
    /// `LatencyInMilliseconds` (a Smithy `float`).
    pub latency_in_milliseconds: Option<f32>,
}

impl ToValue for PlayerLatency {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt("PlayerId", &self.player_id)
            .opt("RegionIdentifier", &self.region_identifier)
            .opt("LatencyInMilliseconds", &self.latency_in_milliseconds)
            .build()
    }
}

impl FromValue for PlayerLatency {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        let mut m = Members::new(value, path)?;
        Ok(Self {
            player_id: m.opt("PlayerId")?,
            region_identifier: m.opt("RegionIdentifier")?,
            latency_in_milliseconds: m.opt("LatencyInMilliseconds")?,
        })
    }
}

/// `DesiredPlayerSession`: a player to reserve a slot for in a placement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredPlayerSession {
    /// `PlayerId`.
    pub player_id: Option<String>,
    /// `PlayerData`.
    pub player_data: Option<String>,
}

impl FromValue for DesiredPlayerSession {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        let mut m = Members::new(value, path)?;
        Ok(Self {
            player_id: m.opt("PlayerId")?,
            player_data: m.opt("PlayerData")?,
        })
    }
}

/// `PriorityConfigurationOverride` of a placement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriorityConfigurationOverride {
    /// `PlacementFallbackStrategy`.
    pub placement_fallback_strategy: Option<PlacementFallbackStrategy>,
    /// `LocationOrder` (required).
    pub location_order: Vec<String>,
}

impl ToValue for PriorityConfigurationOverride {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt(
                "PlacementFallbackStrategy",
                &self.placement_fallback_strategy,
            )
            .field("LocationOrder", &self.location_order)
            .build()
    }
}

impl FromValue for PriorityConfigurationOverride {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        let mut m = Members::new(value, path)?;
        Ok(Self {
            placement_fallback_strategy: m.opt("PlacementFallbackStrategy")?,
            location_order: m.req("LocationOrder")?,
        })
    }
}
