//! A mode's rules and their relaxation over waiting time (FlexMatch-style expansions).

/// Milliseconds on the caller's clock. The core never reads a clock: every `handle_*`
/// call is given `now`, so tests run on virtual time.
pub type Millis = u64;

/// A value that relaxes in steps as the ticket waits, like a FlexMatch `expansions`
/// entry: `initial` from enqueue, then each step's `value` once the wait reaches
/// `after_ms`. Steps must be in increasing `after_ms` and may only relax (checked by
/// [`MatchmakerConfig::validate`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Relaxing<T> {
    /// The value at enqueue.
    pub initial: T,
    /// `(after_ms, value)`: from a wait of `after_ms` on, the value is `value`.
    pub steps: Vec<(Millis, T)>,
}

impl<T: Copy> Relaxing<T> {
    /// A value that never relaxes.
    pub const fn fixed(value: T) -> Self {
        Relaxing {
            initial: value,
            steps: Vec::new(),
        }
    }

    /// The value for a ticket that has waited `waited_ms`.
    pub fn at(&self, waited_ms: Millis) -> T {
        let mut v = self.initial;
        for &(after, value) in &self.steps {
            if waited_ms >= after {
                v = value;
            } else {
                break;
            }
        }
        v
    }

    /// The wait at which the value next changes after `waited_ms`, if any.
    pub fn next_step_after(&self, waited_ms: Millis) -> Option<Millis> {
        self.steps
            .iter()
            .map(|&(after, _)| after)
            .find(|&after| after > waited_ms)
    }

    /// The loosest value: the last step's, or `initial` without steps.
    pub fn last(&self) -> T {
        self.steps.last().map_or(self.initial, |&(_, v)| v)
    }
}

/// The rules of one game mode.
///
/// A match has `teams` teams of `team_min..=team_max` players each, so between
/// `teams × team_min` and `teams × team_max` players; `team_min` can relax (so a match can
/// start short-handed after a wait), `team_max` cannot. A party (one ticket) always goes
/// onto one team, so no ticket may be larger than `team_max`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeRules {
    /// The mode's name, as in the HTTP API (`duel`, `squads`).
    pub name: String,
    /// Number of teams (1 or more; free-for-all is `teams` teams of one).
    pub teams: u16,
    /// Most players per team.
    pub team_max: u16,
    /// Fewest players per team, relaxing downwards.
    pub team_min: Relaxing<u16>,
    /// Largest allowed skill spread in a match: the highest minus the lowest ticket rating
    /// (a party's rating is its members' mean, FlexMatch's `partyAggregation: avg`), in
    /// displayed-rating units; relaxing upwards.
    pub skill_cap: Relaxing<f64>,
    /// Highest allowed latency from any ticket to the match's region, in ms; relaxing
    /// upwards.
    pub latency_cap_ms: Relaxing<u32>,
    /// A ticket still searching this long after enqueue becomes `TIMED_OUT`.
    pub ticket_timeout_ms: Millis,
    /// How many failed placements a ticket survives: after the `placement_retries + 1`-th
    /// failure it becomes `FAILED` with the placement's reason.
    pub placement_retries: u32,
}

impl ModeRules {
    /// The caps that apply to a ticket that has waited `waited_ms`.
    pub fn caps_at(&self, waited_ms: Millis) -> Caps {
        Caps {
            skill: self.skill_cap.at(waited_ms),
            latency_ms: self.latency_cap_ms.at(waited_ms),
            team_min: self.team_min.at(waited_ms),
        }
    }

    /// The wait after `waited_ms` at which any cap next relaxes.
    pub fn next_relaxation_after(&self, waited_ms: Millis) -> Option<Millis> {
        [
            self.skill_cap.next_step_after(waited_ms),
            self.latency_cap_ms.next_step_after(waited_ms),
            self.team_min.next_step_after(waited_ms),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Most players in one match.
    pub fn max_players(&self) -> usize {
        usize::from(self.teams) * usize::from(self.team_max)
    }
}

/// The caps in force for one ticket at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Caps {
    /// Largest skill spread.
    pub skill: f64,
    /// Highest latency to the region, ms.
    pub latency_ms: u32,
    /// Fewest players per team.
    pub team_min: u16,
}

/// The whole matchmaker's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchmakerConfig {
    /// The modes, in display order.
    pub modes: Vec<ModeRules>,
    /// The regions (GameLift locations) matches may be placed in. Latencies to other
    /// regions are ignored.
    pub regions: Vec<String>,
    /// A waiting ticket is re-examined as the anchor of a match at least this often (it is
    /// also re-examined when one of its caps relaxes or it returns to the pool); new
    /// tickets are examined on the first tick after enqueue.
    pub recheck_interval_ms: Millis,
    /// Window of the wait statistics ([`ModeStats`](super::ModeStats)).
    pub stats_window_ms: Millis,
    /// How many nearest-rated tickets per region are considered around an anchor.
    pub candidate_window: usize,
}

/// Why a configuration is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// Two modes share a name.
    #[error("mode {0:?} is configured twice")]
    DuplicateMode(String),
    /// Two regions share a name.
    #[error("region {0:?} is configured twice")]
    DuplicateRegion(String),
    /// `teams` or `team_max` is 0, or `team_min` exceeds `team_max` or is 0.
    #[error("mode {0:?}: teams, team_max and team_min must be ≥ 1 and team_min ≤ team_max")]
    TeamShape(String),
    /// Steps out of order, or a step that tightens instead of relaxing, or a NaN cap.
    #[error("mode {mode:?}: the {rule} expansion steps must be in increasing time and only relax")]
    Expansion {
        /// The mode.
        mode: String,
        /// Which rule (`skill_cap`, `latency_cap_ms`, `team_min`).
        rule: &'static str,
    },
    /// A zero ticket timeout, recheck interval or candidate window.
    #[error("timeouts, the recheck interval and the candidate window must be positive")]
    Zero,
}

fn monotone<T: Copy>(r: &Relaxing<T>, relaxes: impl Fn(T, T) -> bool) -> bool {
    let mut prev_after = None;
    let mut prev = r.initial;
    for &(after, v) in &r.steps {
        if prev_after.is_some_and(|p| after <= p) || !relaxes(prev, v) {
            return false;
        }
        prev_after = Some(after);
        prev = v;
    }
    true
}

impl MatchmakerConfig {
    /// Checks the configuration; [`Matchmaker::new`](super::Matchmaker::new) calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.recheck_interval_ms == 0 || self.candidate_window == 0 {
            return Err(ConfigError::Zero);
        }
        for (i, r) in self.regions.iter().enumerate() {
            if self.regions[..i].contains(r) {
                return Err(ConfigError::DuplicateRegion(r.clone()));
            }
        }
        for (i, m) in self.modes.iter().enumerate() {
            if self.modes[..i].iter().any(|o| o.name == m.name) {
                return Err(ConfigError::DuplicateMode(m.name.clone()));
            }
            let mins_ok = monotone(&m.team_min, |a, b| b <= a)
                && m.team_min.initial <= m.team_max
                && m.team_min.last() >= 1;
            if m.teams == 0 || m.team_max == 0 || !mins_ok {
                return Err(ConfigError::TeamShape(m.name.clone()));
            }
            let exp = |rule| ConfigError::Expansion {
                mode: m.name.clone(),
                rule,
            };
            let skill_ok = m.skill_cap.initial >= 0.0 && monotone(&m.skill_cap, |a, b| b >= a);
            if !skill_ok {
                return Err(exp("skill_cap"));
            }
            if !monotone(&m.latency_cap_ms, |a, b| b >= a) {
                return Err(exp("latency_cap_ms"));
            }
            if m.ticket_timeout_ms == 0 {
                return Err(ConfigError::Zero);
            }
        }
        Ok(())
    }
}
