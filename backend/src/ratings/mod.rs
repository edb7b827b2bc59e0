//! Ratings: the pure core that turns a verified match result into new player profiles.
//!
//! **What it is:** plain functions and serde types, no I/O and no clock. [`apply`] takes a
//! verified [`MatchResult`](protocol::result::MatchResult), the season it counts for and
//! the players' current [`PlayerProfile`]s, and returns their new profiles (each one
//! version higher), the absolute scores to write to the rankings
//! ([`RankingUpdate`](crate::rankings::RankingUpdate)s), and each player's rating change.
//! [`check_against_placement`] checks that a result names exactly the players the
//! matchmaker placed. Ratings come from `skillratings`' Weng-Lin (a Bayesian
//! approximation of TrueSkill that handles teams, free-for-all and ties), not from
//! hand-written formulas.
//!
//! **What it is not:** no DynamoDB, no Redis, no SQS. Exactly-once is the store's job (the
//! match record's `attribute_not_exists` and the profiles' version check in one
//! transaction); this core only has to be a function, so that a retry with fresh
//! profiles computes the same thing.
//!
//! # Rules
//!
//! * **Boards.** A match counts on [`boards_for_match`](crate::rankings::boards_for_match):
//!   global, its mode, and with a season the season and the season+mode. Each board keeps
//!   its own Weng-Lin rating, rated independently (a new season starts from the
//!   defaults); the displayed rating is `μ − 3σ` ([`displayed_rating`]).
//! * **Sides.** Players with a `team` are grouped by team name; a player without one is a
//!   side alone (so a result with no teams is free-for-all). Sides are rated together
//!   with `weng_lin_multi_team`, ranked by placement, equal ranks tying.
//! * **A side's rank** is the best (lowest) placement among its members who stayed to
//!   the end, so a server that gives every member the team's placement and one that
//!   gives individual placements both work. A side whose members all left early ranks
//!   after every other side (tied with other such sides).
//! * **Win, loss, draw** (the same rule for teams and free-for-all): the side with the
//!   best rank wins when it is alone there; sides sharing the best rank draw (a shared
//!   first place is not a win for either); every other side loses. A result with fewer
//!   than two sides has no opponent: a draw, and no rating moves.
//! * **Left early**: always a loss, whatever the placement. In free-for-all the player
//!   ranks after everyone who stayed; in a team the player still counts in the team's
//!   strength (they played part of the match). Their rating never rises on any board:
//!   μ is capped at its old value, and σ too is kept when a smaller σ would lift `μ − 3σ`.
//! * **Cut short** (server shutdown): the match counts as a game for everyone, but no
//!   rating moves. Players who stayed draw (nobody finished); players who left early
//!   still lose, since they left before the shutdown.
//! * **Recent matches**: the last [`RECENT_MATCHES_KEPT`] (newest first by end time,
//!   then match id), with the rating change and rating after on the global board. Their
//!   placement is the side's best reported placement (the player's own in free-for-all).
//! * **Order**: results are rated in the order they are applied; a late result is rated
//!   against the current profiles, and never moves `last_match_at` backwards.
//! * **Determinism**: the output depends on the set of players, not their order in the
//!   result (sides and members are sorted by id before rating), and is the same bit for
//!   bit on every run.

mod apply;
mod placement;
mod profile;

#[cfg(test)]
mod tests;

pub use apply::{Applied, ApplyError, RatingChange, apply, weng_lin_config};
pub use placement::{
    PlacedPlayer, PlacementError, PlacementMismatch, PlacementRecord, check_against_placement,
};
pub use profile::{
    BoardRecord, CONSERVATIVE_SIGMAS, PlayerId, PlayerProfile, RECENT_MATCHES_KEPT, RatingStats,
    displayed_rating,
};
