//! The rules behind [`Sessions`]' `handle_*` entry points: hello checks, GameLift's answer,
//! in-match messages, datagrams, drops, timers and closes.

use std::time::Instant;

use protocol::game::{
    ClientMessage, ConnState, DisconnectReason, Hello, LeaveReason, PROTOCOL_VERSION, check_client,
    decode_datagram,
};

use super::conn::Verdict;
use super::{AcceptError, ConnId, Output, PlayerId, Sessions};

impl Sessions {
    /// One decoded stream message from a connection that is not closing.
    pub(super) fn on_message(&mut self, now: Instant, conn: ConnId, msg: ClientMessage) {
        let Some(state) = self.conns.get(&conn).map(|c| c.state) else {
            return;
        };
        if let Err(err) = check_client(state, &msg) {
            tracing::debug!(conn = conn.0, %err, "illegal message");
            return self.close_conn(conn, DisconnectReason::IllegalMessage);
        }
        match msg {
            ClientMessage::Hello(hello) => self.on_hello(now, conn, hello),
            ClientMessage::Leave => self.close_conn(conn, DisconnectReason::ClientLeft),
            ClientMessage::Inputs(inputs) => {
                let Some(player) = self.conns.get(&conn).and_then(|c| c.player) else {
                    return;
                };
                if inputs.frames.is_empty() {
                    return self.close_conn(conn, DisconnectReason::MalformedMessage);
                }
                let ack = inputs.ack;
                self.outputs.push_back(Output::Input { player, inputs });
                if let Some(tick) = ack {
                    self.outputs.push_back(Output::Ack { player, tick });
                }
            }
            ClientMessage::Ack(ack) => {
                if let Some(player) = self.conns.get(&conn).and_then(|c| c.player) {
                    self.outputs.push_back(Output::Ack {
                        player,
                        tick: ack.tick,
                    });
                }
            }
        }
    }

    /// A hello on a connection in `AwaitingHello`: everything the core can check alone,
    /// then a resume or a request to GameLift.
    fn on_hello(&mut self, _now: Instant, conn: ConnId, hello: Hello) {
        use DisconnectReason as R;
        let psess = hello.player_session_id;
        let reject = if hello.protocol_version != PROTOCOL_VERSION {
            Some(R::VersionMismatch)
        } else if !plausible_player_session_id(&psess) {
            Some(R::InvalidPlayerSession)
        } else if self.slots.is_removed(&psess) {
            Some(R::ExpiredPlayerSession)
        } else if self.is_live_elsewhere(conn, &psess) {
            Some(R::DuplicatePlayerSession)
        } else {
            None
        };
        if let Some(reason) = reject {
            return self.close_conn(conn, reason);
        }
        if let Some(player) = self.slots.find(&psess) {
            // Dropped within its grace (a live holder was refused above): take it back.
            if let Some(slot) = self.slots.get_mut(player) {
                slot.conn = Some(conn);
                slot.grace_until = None;
            }
            if let Some(c) = self.conns.get_mut(&conn) {
                c.state = ConnState::InMatch;
                c.player = Some(player);
                c.player_session_id = Some(psess);
            }
            self.stats.players_resumed += 1;
            tracing::debug!(conn = conn.0, player, "player returned");
            self.outputs.push_back(Output::Welcome {
                conn,
                player,
                resumed: true,
            });
            self.outputs.push_back(Output::PlayerReturned { player });
            return;
        }
        let admitting =
            self.conns.values().filter(|c| c.accept_in_flight).count() + self.orphan_accepts.len();
        if self.slots.held() + admitting >= self.slots.max_players() {
            return self.close_conn(conn, R::SessionFull);
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.state = ConnState::Admitting;
            c.accept_in_flight = true;
            c.player_session_id = Some(psess.clone());
            c.name = hello.name;
        }
        self.stats.accepts_requested += 1;
        self.outputs.push_back(Output::Accept {
            conn,
            player_session_id: psess,
        });
    }

    /// True when `psess` is in the match on a live connection, or being admitted on one
    /// (or on a lost one whose accept is still in flight), other than `conn`.
    fn is_live_elsewhere(&self, conn: ConnId, psess: &str) -> bool {
        let in_match = self
            .slots
            .find(psess)
            .and_then(|p| self.slots.iter().find(|(q, _)| *q == p))
            .is_some_and(|(_, s)| s.conn.is_some_and(|c| c != conn));
        let admitting = self.conns.iter().any(|(id, c)| {
            *id != conn && c.accept_in_flight && c.player_session_id.as_deref() == Some(psess)
        });
        in_match || admitting || self.orphan_accepts.values().any(|p| p == psess)
    }

    pub(super) fn on_accept_result(
        &mut self,
        _now: Instant,
        conn: ConnId,
        result: Result<(), AcceptError>,
    ) {
        if result.is_err() {
            self.stats.accepts_failed += 1;
        }
        if let Some(psess) = self.orphan_accepts.remove(&conn) {
            if result.is_ok() {
                self.slots.mark_removed(&psess);
                self.request_remove(psess);
            }
            return;
        }
        let Some(c) = self.conns.get_mut(&conn).filter(|c| c.accept_in_flight) else {
            tracing::warn!(
                conn = conn.0,
                "accept result for no accept in flight; ignored"
            );
            return;
        };
        c.accept_in_flight = false;
        let psess = c.player_session_id.clone().unwrap_or_default();
        if c.state != ConnState::Admitting {
            // The client left (or was closed) while GameLift was deciding.
            if result.is_ok() {
                self.slots.mark_removed(&psess);
                self.request_remove(psess);
            }
            return;
        }
        if let Err(err) = result {
            return self.close_conn(conn, err.disconnect_reason());
        }
        let name = std::mem::take(&mut c.name);
        let Some(player) = self.slots.allocate(psess.clone(), conn) else {
            // Unreachable while admissions in flight count against the slots; kept safe.
            self.slots.mark_removed(&psess);
            self.request_remove(psess);
            return self.close_conn(conn, DisconnectReason::SessionFull);
        };
        if let Some(c) = self.conns.get_mut(&conn) {
            c.state = ConnState::InMatch;
            c.player = Some(player);
        }
        self.stats.players_joined += 1;
        tracing::debug!(conn = conn.0, player, "player joined");
        self.outputs.push_back(Output::Welcome {
            conn,
            player,
            resumed: false,
        });
        self.outputs
            .push_back(Output::PlayerJoined { player, name });
    }

    pub(super) fn on_datagram(&mut self, now: Instant, conn: ConnId, bytes: &[u8]) {
        let Some(c) = self.conns.get_mut(&conn) else {
            self.stats.datagrams_ignored += 1;
            return;
        };
        match c.state {
            ConnState::Closing => {
                self.stats.datagrams_ignored += 1;
                return;
            }
            ConnState::InMatch => match c.admit_datagram(now, &self.config) {
                Verdict::Pass => {}
                Verdict::Drop => {
                    self.stats.datagrams_rate_dropped += 1;
                    return;
                }
                Verdict::Abuse => {
                    self.stats.datagrams_rate_dropped += 1;
                    return self.close_conn(conn, DisconnectReason::RateLimited);
                }
            },
            // Any datagram before `Welcome` is illegal; decoding first gives the exact
            // reason, and the connection closes either way.
            ConnState::AwaitingHello | ConnState::Admitting => {}
        }
        match decode_datagram::<ClientMessage>(bytes) {
            Ok(msg) => self.on_message(now, conn, msg),
            Err(err) => {
                tracing::debug!(conn = conn.0, %err, "bad datagram");
                self.close_conn(conn, err.disconnect_reason());
            }
        }
    }

    pub(super) fn on_conn_lost(&mut self, now: Instant, conn: ConnId) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        if c.accept_in_flight
            && let Some(psess) = c.player_session_id.clone()
        {
            self.orphan_accepts.insert(conn, psess);
        }
        let Some(player) = c.player else {
            return;
        };
        // In the match and lost without `Leave`: hold the slot for the grace period.
        if let Some(slot) = self.slots.get_mut(player) {
            slot.conn = None;
            slot.grace_until = Some(now + self.config.reconnect_grace);
        }
        self.stats.players_dropped += 1;
        tracing::debug!(conn = conn.0, player, "player dropped");
        self.outputs.push_back(Output::PlayerDropped { player });
    }

    pub(super) fn on_timeout(&mut self, now: Instant) {
        let mut late: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                c.state == ConnState::AwaitingHello
                    && c.opened_at + self.config.hello_timeout <= now
            })
            .map(|(id, _)| *id)
            .collect();
        late.sort();
        for conn in late {
            self.close_conn(conn, DisconnectReason::HelloTimeout);
        }
        for player in self.slots.expired(now) {
            self.stats.players_timed_out += 1;
            self.release_player(player, LeaveReason::TimedOut);
        }
    }

    /// Closes `conn` with `reason`; a player on it leaves for good (`Left` for
    /// `ClientLeft`, otherwise `Kicked`).
    pub(super) fn close_conn(&mut self, conn: ConnId, reason: DisconnectReason) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.state = ConnState::Closing;
        let player = c.player.take();
        self.stats.closed_by_reason[reason.code() as usize] += 1;
        tracing::debug!(conn = conn.0, ?reason, "closing connection");
        self.outputs.push_back(Output::Close { conn, reason });
        if let Some(player) = player {
            let why = if reason == DisconnectReason::ClientLeft {
                LeaveReason::Left
            } else {
                LeaveReason::Kicked
            };
            self.release_player(player, why);
        }
    }

    fn release_player(&mut self, player: PlayerId, reason: LeaveReason) {
        if let Some(slot) = self.slots.release(player) {
            self.outputs
                .push_back(Output::PlayerLeft { player, reason });
            self.request_remove(slot.player_session_id);
        }
    }

    pub(super) fn request_remove(&mut self, player_session_id: String) {
        self.stats.removes_requested += 1;
        self.outputs
            .push_back(Output::RemovePlayerSession { player_session_id });
    }
}

/// GameLift player-session ids are short printable ASCII (`psess-` and a UUID); anything
/// else cannot be one, and is refused without spending an API call on it.
fn plausible_player_session_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_graphic())
}
