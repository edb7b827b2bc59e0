//! Admission and connection sessions: the sans-IO core that decides **who** is in the match
//! and **when**.
//!
//! **What it is.** A plain struct, [`Sessions`], driven like quinn-proto: the shell reports
//! what happened (`handle_*`, each with `now`), then drains [`Sessions::poll`] for what to
//! do, and calls [`Sessions::handle_timeout`] at [`Sessions::poll_timeout`] (or every tick).
//! Per connection it runs the [`ConnState`] machine of
//! `protocol/docs/wire-format.md` §5 (`AwaitingHello → Admitting → InMatch → Closing`),
//! decodes the raw stream bytes and datagrams itself (the shell never parses), enforces
//! the hello deadline, the protocol version, message legality, a datagram rate limit and a
//! cap on pending connections, and holds player slots, including a dropped player's slot
//! for a reconnect grace period. It hands the game [`Output::PlayerJoined`],
//! [`Output::PlayerDropped`], [`Output::PlayerReturned`], [`Output::PlayerLeft`],
//! [`Output::Input`] and [`Output::Ack`], and counts everything in [`SessionStats`].
//!
//! **What it is not.** No sockets, no QUIC, no clock, no GameLift calls: it only *asks*
//! for them ([`Output::Accept`], [`Output::RemovePlayerSession`], [`Output::Close`],
//! [`Output::Refuse`]) and is told the answers. It knows nothing of the game's rules.
//!
//! **Admission.** A hello names a GameLift player session. The core checks what it can
//! alone (version, a plausible id, not used up, not live on another connection, a free
//! slot counting admissions in flight), then asks for `AcceptPlayerSession`; only an
//! `Ok` from [`Sessions::handle_accept_result`] allocates a slot and sends `Welcome`.
//!
//! **Leave, drop, return.** `Leave` removes the player for good (`RemovePlayerSession`).
//! A connection lost without `Leave` holds the slot for
//! [`SessionConfig::reconnect_grace`]: a new connection whose hello names the same player
//! session takes it back with `Welcome { resumed: true }` and **no second
//! `AcceptPlayerSession`** (the session is already ACTIVE in GameLift, which would refuse a
//! second accept). When the grace runs out the player is removed. A player session that
//! was removed is answered `ExpiredPlayerSession` without asking GameLift.
//!
//! **Edge decisions.** If GameLift accepts a player session after its connection left or
//! was lost, the core asks to remove it at once: the client has to come back through
//! matchmaking. The shell must answer every [`Output::Accept`] (the SDK's calls time out),
//! or the connection stays `Admitting` until it closes.

mod admit;
mod config;
mod conn;
mod output;
mod slots;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use protocol::game::{ConnState, DisconnectReason, MAX_PLAYERS};

pub use config::{
    DEFAULT_ABUSE_DROPS_PER_SEC, DEFAULT_ABUSE_SECONDS, DEFAULT_DATAGRAM_BURST,
    DEFAULT_DATAGRAM_RATE, DEFAULT_HELLO_TIMEOUT, DEFAULT_MAX_PENDING, DEFAULT_RECONNECT_GRACE,
    SessionConfig,
};
pub use output::{AcceptError, ConnId, Output, PlayerId, SessionStats};

use conn::Conn;
use slots::Slots;

/// The admission and connection-session core of one game session. See the module docs.
#[derive(Debug)]
pub struct Sessions {
    config: SessionConfig,
    /// The GameLift game session this process hosts; reported, never checked against the
    /// hello (GameLift's accept is what ties a player session to it).
    game_session_id: String,
    conns: HashMap<ConnId, Conn>,
    /// Connections lost while their `AcceptPlayerSession` was in flight, with the player
    /// session, so a late `Ok` can be undone with `RemovePlayerSession`.
    orphan_accepts: HashMap<ConnId, String>,
    slots: Slots,
    outputs: VecDeque<Output>,
    stats: SessionStats,
}

impl Sessions {
    /// A core for the game session `game_session_id` with `max_players` slots (capped at
    /// [`MAX_PLAYERS`]).
    pub fn new(config: SessionConfig, game_session_id: impl Into<String>, max_players: u8) -> Self {
        Self {
            config,
            game_session_id: game_session_id.into(),
            conns: HashMap::new(),
            orphan_accepts: HashMap::new(),
            slots: Slots::new(usize::from(max_players).min(MAX_PLAYERS)),
            outputs: VecDeque::new(),
            stats: SessionStats::default(),
        }
    }

    /// The game session this core admits players to.
    pub fn game_session_id(&self) -> &str {
        &self.game_session_id
    }

    /// The configuration in force.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The counters, for metrics.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// Player slots held (connected or within their reconnect grace).
    pub fn players(&self) -> usize {
        self.slots.held()
    }

    /// Player slots in this match.
    pub fn max_players(&self) -> usize {
        self.slots.max_players()
    }

    /// Connections awaiting their hello or GameLift's answer.
    pub fn pending(&self) -> usize {
        self.conns
            .values()
            .filter(|c| matches!(c.state, ConnState::AwaitingHello | ConnState::Admitting))
            .count()
    }

    /// True when a new connection would be refused: a shell may then refuse QUIC
    /// handshakes (`Incoming::refuse`) before spending CPU on them.
    pub fn is_pending_full(&self) -> bool {
        self.pending() >= self.config.max_pending
    }

    /// The state of a connection the core knows.
    pub fn conn_state(&self, conn: ConnId) -> Option<ConnState> {
        self.conns.get(&conn).map(|c| c.state)
    }

    /// The player a connection plays as, while it is in the match.
    pub fn player_of(&self, conn: ConnId) -> Option<PlayerId> {
        self.conns.get(&conn).and_then(|c| c.player)
    }

    /// A QUIC connection finished its handshake. Refused at once ([`Output::Refuse`]) when
    /// [`SessionConfig::max_pending`] connections are already pending.
    pub fn handle_connected(&mut self, now: Instant, conn: ConnId) {
        self.stats.connections += 1;
        if self.conns.contains_key(&conn) || self.orphan_accepts.contains_key(&conn) {
            tracing::warn!(
                conn = conn.0,
                "connection id reused while still known; ignored"
            );
            return;
        }
        if self.is_pending_full() {
            self.stats.refused_pending_cap += 1;
            tracing::debug!(conn = conn.0, "too many pending connections; refused");
            self.outputs.push_back(Output::Refuse { conn });
            return;
        }
        self.conns.insert(conn, Conn::new(now, &self.config));
    }

    /// Bytes arrived on the connection's stream (any split; the core reassembles frames).
    pub fn handle_stream_bytes(&mut self, now: Instant, conn: ConnId, bytes: &[u8]) {
        self.stats.stream_bytes += bytes.len() as u64;
        let mut input = bytes;
        loop {
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            if c.state == ConnState::Closing {
                return;
            }
            match c.next_message(&mut input) {
                Ok(Some(msg)) => self.on_message(now, conn, msg),
                Ok(None) => return,
                Err(reason) => return self.close_conn(conn, reason),
            }
        }
    }

    /// The client finished its stream. Cutting a frame in half is malformed; otherwise
    /// nothing happens until the connection is lost.
    pub fn handle_stream_finished(&mut self, _now: Instant, conn: ConnId) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if c.state != ConnState::Closing && c.is_mid_frame() {
            self.close_conn(conn, DisconnectReason::MalformedMessage);
        }
    }

    /// One datagram arrived on the connection.
    pub fn handle_datagram(&mut self, now: Instant, conn: ConnId, bytes: &[u8]) {
        self.stats.datagrams_received += 1;
        self.on_datagram(now, conn, bytes);
    }

    /// GameLift answered the `AcceptPlayerSession` asked for by [`Output::Accept`].
    pub fn handle_accept_result(
        &mut self,
        now: Instant,
        conn: ConnId,
        result: Result<(), AcceptError>,
    ) {
        self.on_accept_result(now, conn, result);
    }

    /// The QUIC connection is gone, for any reason (idle timeout, reset, or after an
    /// [`Output::Close`]). A player in the match is dropped and keeps their slot for the
    /// reconnect grace.
    pub fn handle_conn_lost(&mut self, now: Instant, conn: ConnId) {
        self.on_conn_lost(now, conn);
    }

    /// Closes a connection from the server's side (for example a kick); a player on it
    /// leaves for good (`Kicked`).
    pub fn close(&mut self, _now: Instant, conn: ConnId, reason: DisconnectReason) {
        if self
            .conns
            .get(&conn)
            .is_some_and(|c| c.state != ConnState::Closing)
        {
            self.close_conn(conn, reason);
        }
    }

    /// Closes every connection with `reason` (`MatchEnded`, `ServerShutdown`) and asks to
    /// remove every player session, dropped ones included. The game gets no `PlayerLeft`:
    /// it is ending the match itself, and nobody left early.
    pub fn close_all(&mut self, _now: Instant, reason: DisconnectReason) {
        let mut ids: Vec<ConnId> = self.conns.keys().copied().collect();
        ids.sort();
        for conn in ids {
            let Some(c) = self.conns.get_mut(&conn) else {
                continue;
            };
            if c.state == ConnState::Closing {
                continue;
            }
            c.player = None; // released below, without a game event
            self.close_conn(conn, reason);
        }
        let players: Vec<PlayerId> = self.slots.iter().map(|(p, _)| p).collect();
        for player in players {
            if let Some(slot) = self.slots.release(player) {
                self.request_remove(slot.player_session_id);
            }
        }
    }

    /// Runs the timers due at `now`: hello deadlines and reconnect grace periods.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.on_timeout(now);
    }

    /// The earliest instant at which [`handle_timeout`](Self::handle_timeout) has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let hello = self
            .conns
            .values()
            .filter(|c| c.state == ConnState::AwaitingHello)
            .map(|c| c.opened_at + self.config.hello_timeout)
            .min();
        [hello, self.slots.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The next output, oldest first.
    pub fn poll(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }
}
