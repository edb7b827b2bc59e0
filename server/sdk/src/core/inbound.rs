//! Inbound frames: classification (§3.2), responses completing requests, and the four
//! pushes (§5).

use std::time::Instant;

use protocol::sdk5::{
    Action, GetFleetRoleCredentialsResult, Inbound, Push, ResponseFrame, classify,
};
use tracing::{debug, info, warn};

use super::{ConnId, Core, Event, Output, Pending, ProcessState, Purpose, calls};
use crate::config::{Auth, SdkConfig, is_websocket_url};
use crate::error::SdkError;
use crate::url::connect_url;

impl Core {
    /// A text frame arrived on connection `conn` (active or draining).
    pub fn handle_text(&mut self, now: Instant, conn: ConnId, text: &str) {
        self.consecutive_timeouts = 0;
        match classify(text) {
            Err(error) => warn!(conn = conn.0, %error, "undecodable frame dropped"),
            Ok(Inbound::ErrorResponse(frame)) => {
                let Some(pending) = self.pending.remove(&frame.request_id) else {
                    debug!(request_id = %frame.request_id, "error response for no pending request");
                    return;
                };
                if pending.action == Action::ActivateServerProcess {
                    self.process_ready_in_flight = false;
                }
                let error = match frame.service_error() {
                    Some(error) => SdkError::Service(error),
                    None => SdkError::local_bad_request("error response without an error"),
                };
                self.complete(pending, Err(error));
            }
            Ok(Inbound::Response(frame)) => {
                let Some(pending) = self.pending.remove(&frame.request_id) else {
                    debug!(request_id = %frame.request_id, action = %frame.action, "response for no pending request dropped");
                    return;
                };
                self.on_response(now, pending, frame);
            }
            Ok(Inbound::Push(frame)) => self.on_push(frame.push),
        }
    }

    /// A 200 response to `pending`.
    pub(super) fn on_response(&mut self, now: Instant, pending: Pending, frame: ResponseFrame) {
        match pending.action {
            Action::ActivateServerProcess => {
                self.process_ready_in_flight = false;
                if self.state == ProcessState::Connected {
                    self.state = ProcessState::Ready;
                    self.next_health = Some(now);
                }
                self.complete(pending, Ok(frame));
            }
            Action::GetFleetRoleCredentials => {
                match frame.body::<GetFleetRoleCredentialsResult>() {
                    Ok(result) if result.is_unavailable() => {
                        self.role_credentials_unavailable = true;
                        let error = SdkError::local_bad_request(calls::NO_ROLE_CREDENTIALS);
                        self.complete(pending, Err(error));
                    }
                    Ok(result) => {
                        let arn = pending.role_arn.clone().unwrap_or_default();
                        self.role_credentials.insert(arn, result);
                        self.complete(pending, Ok(frame));
                    }
                    Err(source) => {
                        let action = pending.action;
                        self.complete(pending, Err(SdkError::BadResponse { action, source }));
                    }
                }
            }
            _ => self.complete(pending, Ok(frame)),
        }
    }

    /// One of the four pushes (§5).
    pub(super) fn on_push(&mut self, push: Push) {
        match push {
            Push::CreateGameSession(create) => {
                if !self.state.is_ready() {
                    warn!(state = ?self.state, "CreateGameSession while not ready; ignored");
                    return;
                }
                self.game_session_id = Some(create.game_session_id.clone());
                self.state = ProcessState::HostingGameSession;
                let session = create.to_game_session(self.config.fleet_id.clone());
                self.outputs
                    .push_back(Output::Event(Event::StartGameSession(session)));
            }
            Push::UpdateGameSession(update) => {
                if !self.state.is_ready() {
                    warn!(state = ?self.state, "UpdateGameSession while not ready; ignored");
                    return;
                }
                self.outputs
                    .push_back(Output::Event(Event::UpdateGameSession(update)));
            }
            Push::TerminateProcess(terminate) => {
                if self.state == ProcessState::Destroyed {
                    return;
                }
                self.termination_time_ms = Some(terminate.termination_time);
                self.outputs
                    .push_back(Output::Event(Event::ProcessTerminate {
                        termination_time_ms: terminate.termination_time,
                    }));
            }
            Push::RefreshConnection(refresh) => {
                if self.state == ProcessState::Destroyed || self.closed_for_good {
                    return;
                }
                if !is_websocket_url(&refresh.refresh_connection_endpoint) {
                    warn!(endpoint = %refresh.refresh_connection_endpoint, "RefreshConnection with a bad endpoint; ignored");
                    return;
                }
                let config = SdkConfig {
                    web_socket_url: refresh.refresh_connection_endpoint,
                    auth: Auth::Token(refresh.auth_token),
                    ..self.config.clone()
                };
                let token = uuid::Uuid::new_v4().to_string();
                let url = connect_url(&config, &token, 0);
                info!(endpoint = %config.web_socket_url, "RefreshConnection: opening the new endpoint");
                self.config = config;
                self.attempt = None;
                self.start_attempt(Purpose::Refresh, url);
            }
        }
    }
}
