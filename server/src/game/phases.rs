//! The phase machine: waiting for players, countdown, play, end.
//!
//! | phase | ends when | next |
//! |---|---|---|
//! | `WaitingForPlayers` | `expected_players` are connected | `Countdown` |
//! | | the wait times out with at least `min_players` connected | `Countdown` |
//! | | the wait times out with fewer | `Ended(NotEnoughPlayers)` |
//! | `Countdown` | `countdown_ticks` have passed | `Playing` |
//! | `Playing` | a player (free-for-all) or team reaches `score_limit` | `Ended(ScoreLimit)` |
//! | | `duration_ticks` have passed | `Ended(TimeUp)` |
//! | `Countdown`, `Playing` | no player is present (connected or within grace) | `Ended(NotEnoughPlayers)` |
//! | any but `Ended` | [`Match::shutdown`] | `Ended(ServerShutdown)` |
//!
//! Players stand at their spawn points until play begins; inputs are still consumed so
//! `last_input_seq` keeps moving.

use protocol::game::{EndReason, EventKind, Phase, PhaseState};

use super::sim::Match;
use super::standings::{self, MatchResults};

impl Match {
    /// Moves to the next phase when the current one is over. Called at the end of a step.
    pub(crate) fn advance_phase(&mut self) {
        let tick = self.tick;
        match self.phase.phase {
            Phase::WaitingForPlayers => {
                let connected = self.connected_count();
                if connected >= usize::from(self.expected_players) {
                    self.start_countdown();
                } else if tick >= self.phase.ends_at_tick {
                    if connected >= usize::from(self.min_players) {
                        self.start_countdown();
                    } else {
                        self.end(EndReason::NotEnoughPlayers);
                    }
                }
            }
            Phase::Countdown => {
                if self.present_count() == 0 {
                    self.end(EndReason::NotEnoughPlayers);
                } else if tick >= self.phase.ends_at_tick {
                    let ends_at_tick = tick.saturating_add(self.params.duration_ticks);
                    self.phase = PhaseState {
                        phase: Phase::Playing,
                        ends_at_tick,
                    };
                    self.emit(EventKind::MatchStarted { ends_at_tick });
                }
            }
            Phase::Playing => {
                if self.present_count() == 0 {
                    self.end(EndReason::NotEnoughPlayers);
                } else if self.score_limit_reached() {
                    self.end(EndReason::ScoreLimit);
                } else if tick >= self.phase.ends_at_tick {
                    self.end(EndReason::TimeUp);
                }
            }
            Phase::Ended => {}
        }
    }

    fn start_countdown(&mut self) {
        let starts_at_tick = self.tick.saturating_add(self.rules.countdown_ticks);
        self.phase = PhaseState {
            phase: Phase::Countdown,
            ends_at_tick: starts_at_tick,
        };
        self.emit(EventKind::Countdown { starts_at_tick });
    }

    fn score_limit_reached(&self) -> bool {
        let limit = self.params.score_limit;
        if limit == 0 {
            return false;
        }
        if self.params.teams == 0 {
            self.players.iter().any(|p| p.score >= limit)
        } else {
            let totals = standings::team_scores(&self.current_standings(), self.params.teams);
            totals.iter().any(|&s| s >= limit)
        }
    }

    /// Ends the match: final standings, results, and the `MatchEnded` event (always the
    /// last event of a match).
    pub(crate) fn end(&mut self, reason: EndReason) {
        self.phase = PhaseState {
            phase: Phase::Ended,
            ends_at_tick: self.tick,
        };
        let players = self.current_standings();
        let results = MatchResults {
            reason,
            cut_short: reason == EndReason::ServerShutdown,
            ended_at_tick: self.tick,
            team_scores: standings::team_scores(&players, self.params.teams),
            players,
        };
        let standings = results.standings();
        self.results = Some(results);
        self.emit(EventKind::MatchEnded { reason, standings });
    }
}
