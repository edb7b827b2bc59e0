//! Parties: how a player says they play with another, so that player may queue them.
//!
//! A ticket's `party` lists other players, and the backend must not let a caller queue
//! players who never agreed to it. So each member first joins the caller's party with
//! their own token (`PUT /v1/party` with [`JoinPartyRequest`]); a ticket may then name
//! exactly the players whose party leader is the caller. A player is in at most one party
//! (joining another leaves the first); `DELETE /v1/party` leaves it.

use serde::{Deserialize, Serialize};

use super::validate::{ValidationError, validate_player_id};

/// Body of `PUT /v1/party`: the caller joins `leader`'s party.
///
/// ```json
/// {"leader": "p-1"}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JoinPartyRequest {
    /// The player whose party the caller joins (not the caller).
    pub leader: String,
}

impl JoinPartyRequest {
    /// Checks the leader's id; a leader equal to `caller` is refused as well.
    pub fn validate(&self, caller: &str) -> Result<(), ValidationError> {
        validate_player_id(&self.leader)?;
        if self.leader == caller {
            return Err(ValidationError::PartyIncludesCaller);
        }
        Ok(())
    }
}

/// A party: its leader and the players who joined it, in joining order. The response of
/// `GET`, `PUT` and `DELETE /v1/party`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Party {
    /// The leader: the player who may queue the members with a ticket.
    pub leader: String,
    /// The members who joined, excluding the leader; empty when nobody has.
    pub members: Vec<String>,
}
