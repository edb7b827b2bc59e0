//! The matchmaking core: a sans-IO state machine that groups tickets into fair matches.
//!
//! **What it is:** pools of `SEARCHING` tickets per mode and region, a matching pass run on
//! [`Matchmaker::handle_timeout`], and the ticket lifecycle through placement
//! (`SEARCHING` → `PLACING` → `COMPLETED`, or `TIMED_OUT`, `CANCELLED`, `FAILED`), in the
//! style of `quinn-proto`: `handle_*` calls take `now` (milliseconds on the caller's
//! clock) and the core queues [`Output`]s that the shell drains with
//! [`Matchmaker::poll`]. Tests drive it on virtual time.
//!
//! **What it is not:** no clock, no tasks, no I/O, no persistence. The shell (HTTP API,
//! GameLift placement) reads ratings from profiles, mints the API's ticket ids, places
//! [`ProposedMatch`]es, stores the [`PlacementRecord`](crate::ratings::PlacementRecord)
//! ([`ProposedMatch::placement_record`]) and reports back. The state is in memory in one
//! process: several backend instances need the pools partitioned by mode (and region) or
//! moved to a shared store (see `architecture.md`). No backfill, no acceptance step, no
//! attribute rules (platform, maps) yet, no wait estimate.
//!
//! # Rules
//!
//! * **Pools.** A ticket is in the pool of every configured region whose latency is within
//!   its mode's loosest latency cap, ordered by rating. A match is in one region.
//! * **A mode** ([`ModeRules`]) has `teams` teams of `team_min..=team_max` players, a
//!   skill cap (highest minus lowest ticket rating; a party's rating is its mean), a
//!   latency cap (every ticket to the match's region), a ticket time limit and a placement
//!   retry budget. `team_min`, the skill cap and the latency cap relax in steps with the
//!   ticket's wait, like FlexMatch expansions ([`Relaxing`]).
//! * **Matching.** Each tick examines the due tickets oldest first (new and returned
//!   tickets at once, others when a cap relaxes and at least every
//!   `recheck_interval_ms`; a re-examination is skipped in O(regions) when the ticket's
//!   caps and its pools are unchanged since its last fruitless one). An examined ticket
//!   is the *anchor*; its caps at its wait apply (FlexMatch `expansionAgeSelection:
//!   oldest` when the anchor is the oldest, stricter otherwise). In each region under its latency cap, best latency first, the
//!   `candidate_window` tickets nearest in rating within the skill cap are gathered and
//!   taken **oldest first** while the spread stays under the cap, the latency under the
//!   cap and the parties still fit the teams, up to a full match. A full match in the
//!   first region that has one wins; otherwise the largest with at least
//!   `teams × team_min` players. Cost per anchor: `O(regions × (log n + window))`.
//! * **Teams.** Parties stay together on one team. Balance by greedy largest-first into
//!   the lightest team, then improving swaps; the quality measure is the team rating
//!   gap (highest minus lowest team mean rating), reported in each proposal.
//! * **One live ticket per player**, party members included: a second is refused with
//!   [`EnqueueError::PlayerAlreadyQueued`].
//! * **Cancel vs placement.** Calls are applied in order, so the race has two outcomes
//!   and never both: a cancel before the placement succeeded cancels the ticket, abandons
//!   the match ([`Output::MatchAbandoned`]) and returns the other tickets to the pool with
//!   their original enqueue time; a success then gets [`UnknownMatch`] and the shell must
//!   end the game session. A cancel after success gets
//!   [`CancelError::AlreadyFinal`]`(COMPLETED)`.
//! * **Placement failure** costs each ticket one retry: it searches again (same enqueue
//!   time) or, with the budget spent, is `FAILED` with the placement's reason.
//! * **Time limit.** A ticket still searching `ticket_timeout_ms` after enqueue (returned
//!   tickets included) is `TIMED_OUT` on the next tick.

mod core;
mod median;
mod rules;
mod teams;
#[cfg(test)]
mod tests;

pub use self::core::{
    CancelError, CancelOutcome, EnqueueError, MatchId, MatchPlayer, Matchmaker, ModeStats, Output,
    PlayerEntry, ProposedMatch, TicketChange, TicketId, TicketRequest, TicketView, UnknownMatch,
};
pub(crate) use self::core::{IdMap, KeyMap};
pub use self::rules::{Caps, ConfigError, MatchmakerConfig, Millis, ModeRules, Relaxing};
