//! Which fleet, location and page size a request means, checked as GameLift checks them.

use crate::local::api::{ApiError, DescribeFleetsInput};
use crate::local::engine::Engine;

use super::DEFAULT_LIMIT;

pub(super) fn no_aliases() -> ApiError {
    ApiError::not_found("fleet local has no aliases; use FleetId")
}

/// `FleetId` or `AliasId`, exactly one, naming this fleet.
pub(super) fn check_target(
    e: &Engine,
    fleet_id: Option<&str>,
    alias_id: Option<&str>,
) -> Result<(), ApiError> {
    match (fleet_id, alias_id) {
        (Some(_), Some(_)) => Err(ApiError::invalid_request(
            "Each request must reference either a FleetId or an AliasId, but not both",
        )),
        (None, None) => Err(ApiError::invalid_request(
            "Each request must reference either a FleetId or an AliasId",
        )),
        (None, Some(_)) => Err(no_aliases()),
        (Some(f), None) => check_fleet(e, f),
    }
}

fn is_this_fleet(e: &Engine, fleet_id: &str) -> bool {
    let cfg = e.config();
    fleet_id == cfg.fleet_id || fleet_id == cfg.fleet_arn()
}

pub(super) fn check_fleet(e: &Engine, fleet_id: &str) -> Result<(), ApiError> {
    if is_this_fleet(e, fleet_id) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("Fleet {fleet_id} not found")))
    }
}

pub(super) fn check_location(e: &Engine, location: Option<&str>) -> Result<(), ApiError> {
    match location {
        Some(l) if l != e.config().region => Err(ApiError::invalid_request(format!(
            "Location {l} is not a location of fleet {} (its only location is {})",
            e.config().fleet_id,
            e.config().region
        ))),
        _ => Ok(()),
    }
}

/// Whether DescribeFleetAttributes/Capacity should return this fleet.
pub(super) fn this_fleet_requested(e: &Engine, r: &DescribeFleetsInput) -> Result<bool, ApiError> {
    if !r.fleet_ids.is_empty() {
        return Ok(r.fleet_ids.iter().any(|f| is_this_fleet(e, f)));
    }
    limit(r.limit)?;
    // One fleet fits on any page: a client has no token of ours to resume from.
    if r.next_token.is_some() {
        return Err(ApiError::invalid_request("invalid NextToken"));
    }
    Ok(true)
}

/// `Limit`, defaulted, with the model's minimum of 1.
pub(super) fn limit(limit: Option<i32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) => u32::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
            constraint(
                "limit",
                n,
                "Member must have value greater than or equal to 1",
            )
        }),
    }
}

/// `MaximumPlayerSessionCount` (the model's minimum is 0; the engine checks the maximum).
pub(super) fn max_players(n: i32) -> Result<u32, ApiError> {
    u32::try_from(n).map_err(|_| {
        constraint(
            "maximumPlayerSessionCount",
            n,
            "Member must have value greater than or equal to 0",
        )
    })
}

/// A model-constraint failure, worded as AWS services word them.
fn constraint(member: &str, value: i32, rule: &str) -> ApiError {
    ApiError::invalid_request(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
         constraint: {rule}"
    ))
}
