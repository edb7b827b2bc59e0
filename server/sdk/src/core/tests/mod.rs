//! Core tests: the state machine driven with virtual `Instant`s, no sockets, no sleeps.
//! [`Harness`] plays the shell and, where needed, the service.

mod classify;
mod connection;
mod health;
mod lifecycle;

use std::time::{Duration, Instant};

use protocol::sdk5::{CreateGameSession, Push, PushFrame, RequestFrame, ResponseFrame};

use super::*;
use crate::config::{Auth, SdkConfig};
use crate::url::query_pairs;

/// A core plus a virtual clock and the outputs it produced so far.
struct Harness {
    core: Core,
    now: Instant,
    /// Everything polled and not yet taken by a test.
    out: Vec<Output>,
}

fn config() -> SdkConfig {
    SdkConfig {
        web_socket_url: "wss://gamelift.example/prod".into(),
        process_id: "proc-1".into(),
        host_id: "host-1".into(),
        fleet_id: "fleet-1".into(),
        auth: Auth::Token("token-1".into()),
        sdk_tool_name: None,
        sdk_tool_version: None,
    }
}

impl Harness {
    /// Not connected yet.
    fn unconnected(jitter: Jitter) -> Harness {
        Harness {
            core: Core::new(config(), Timing::default(), jitter),
            now: Instant::now(),
            out: Vec::new(),
        }
    }

    /// Connected on the first attempt (no jitter).
    fn connected() -> Harness {
        let mut h = Harness::unconnected(Jitter::fixed(0.5));
        h.core.connect(h.now, 1_722_852_000);
        let (conn, _) = h.take_connect();
        h.core.handle_connected(h.now, conn);
        assert!(matches!(h.take_event(), Event::Initialized));
        h
    }

    /// Connected and `ProcessReady` acknowledged (first health check answered healthy).
    fn ready() -> Harness {
        let mut h = Harness::connected();
        h.core.process_ready(h.now, &params()).unwrap();
        let (_, activate) = h.take_send();
        h.reply_ok(&activate);
        assert!(h.complete().1.is_ok());
        h.core.handle_timeout(h.now);
        let Event::HealthCheck { id } = h.take_event() else {
            panic!("no health check")
        };
        h.core.handle_health_result(h.now, id, true);
        let (_, heartbeat) = h.take_send();
        h.reply_ok(&heartbeat);
        h
    }

    /// Ready and hosting a game session `gs-1`.
    fn hosting() -> Harness {
        let mut h = Harness::ready();
        h.push(CreateGameSession {
            game_session_id: "arn:aws:gamelift:us-west-2::gamesession/fleet-1/gs-1".into(),
            ..CreateGameSession::default()
        });
        assert!(matches!(h.take_event(), Event::StartGameSession(_)));
        h
    }

    fn poll(&mut self) {
        while let Some(output) = self.core.poll_output() {
            self.out.push(output);
        }
    }

    /// Removes and returns the first output matching `f`.
    fn take<T>(
        &mut self,
        what: &str,
        f: impl Fn(&Output) -> bool,
        map: impl FnOnce(Output) -> T,
    ) -> T {
        self.poll();
        let Some(index) = self.out.iter().position(f) else {
            panic!("no {what} output in {:?}", self.out);
        };
        map(self.out.remove(index))
    }

    fn take_connect(&mut self) -> (ConnId, String) {
        self.take(
            "Connect",
            |o| matches!(o, Output::Connect { .. }),
            |o| match o {
                Output::Connect { conn, url } => (conn, url),
                _ => unreachable!(),
            },
        )
    }

    /// The next sent frame, parsed as the service would.
    fn take_send(&mut self) -> (ConnId, RequestFrame) {
        self.take(
            "Send",
            |o| matches!(o, Output::Send { .. }),
            |o| match o {
                Output::Send { conn, text } => (conn, RequestFrame::parse(&text).unwrap()),
                _ => unreachable!(),
            },
        )
    }

    fn take_close(&mut self) -> (ConnId, u16) {
        self.take(
            "Close",
            |o| matches!(o, Output::Close { .. }),
            |o| match o {
                Output::Close { conn, code } => (conn, code),
                _ => unreachable!(),
            },
        )
    }

    fn take_event(&mut self) -> Event {
        self.take(
            "Event",
            |o| matches!(o, Output::Event(_)),
            |o| match o {
                Output::Event(event) => event,
                _ => unreachable!(),
            },
        )
    }

    /// The next completed call.
    fn complete(&mut self) -> (RequestKey, Result<ResponseFrame, SdkError>) {
        self.take(
            "Complete",
            |o| matches!(o, Output::Complete { .. }),
            |o| match o {
                Output::Complete { key, result } => (key, result),
                _ => unreachable!(),
            },
        )
    }

    /// True when nothing matching `f` is waiting.
    fn none(&mut self, f: impl Fn(&Output) -> bool) -> bool {
        self.poll();
        !self.out.iter().any(f)
    }

    fn active(&self) -> ConnId {
        self.core.active_connection().expect("an active connection")
    }

    fn reply_ok(&mut self, request: &RequestFrame) {
        let conn = self.active();
        self.core
            .handle_text(self.now, conn, &request.ok_response().to_json());
    }

    fn push(&mut self, push: impl Into<Push>) {
        let conn = self.active();
        self.core
            .handle_text(self.now, conn, &PushFrame::new(push).to_json());
    }

    /// Moves the clock to `now + by`, firing every deadline on the way in order.
    fn advance(&mut self, by: Duration) {
        let target = self.now + by;
        while let Some(at) = self.core.poll_timeout().filter(|at| *at <= target) {
            self.now = self.now.max(at);
            self.core.handle_timeout(self.now);
        }
        self.now = target;
    }
}

fn params() -> ProcessParameters {
    ProcessParameters {
        port: 7777,
        log_paths: vec!["/local/game/logs".into()],
    }
}

fn query(url: &str, key: &str) -> Option<String> {
    query_pairs(url)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}
