//! The SDK's API as async methods of [`GameLiftServer`]. Each one runs the matching
//! [core call](crate::core) in the driver (which refuses it locally or sends the request)
//! and waits for the answer.

use protocol::sdk5::{
    DescribePlayerSessions, DescribePlayerSessionsResult, GetComputeCertificateResult,
    GetFleetRoleCredentials, GetFleetRoleCredentialsResult, PlayerSessionCreationPolicy,
    RequestBody, ResponseFrame, StartMatchBackfill, StartMatchBackfillResult, StopMatchBackfill,
};
use tokio::sync::{mpsc, oneshot};

use super::GameLiftServer;
use super::driver::{Command, Started};
use super::handler::{ProcessHandler, spawn_dispatcher};
use crate::core::{CallStart, Core, ProcessParameters, ProcessState, RequestKey};
use crate::error::SdkError;

impl GameLiftServer {
    /// `ProcessReady`: registers the game's callbacks, sends `ActivateServerProcess`
    /// (port, log paths) and waits for its answer (at most 6 s). On success health checks
    /// start at once and game sessions may arrive.
    pub async fn process_ready<H: ProcessHandler>(
        &self,
        params: ProcessParameters,
        handler: H,
    ) -> Result<(), SdkError> {
        let (sink, events) = mpsc::unbounded_channel();
        spawn_dispatcher(handler, events, self.health.clone());
        self.send(Command::SetHandler(sink))?;
        self.unit(move |core, now| core.process_ready(now, &params))
            .await
    }

    /// `ActivateGameSession`: the game session received in `on_start_game_session` is
    /// loaded and may accept players.
    pub async fn activate_game_session(&self) -> Result<(), SdkError> {
        self.unit(|core, now| core.activate_game_session(now)).await
    }

    /// `AcceptPlayerSession`: a player connected with this player-session id.
    pub async fn accept_player_session(
        &self,
        player_session_id: impl Into<String>,
    ) -> Result<(), SdkError> {
        let id = player_session_id.into();
        self.unit(move |core, now| core.accept_player_session(now, &id))
            .await
    }

    /// `RemovePlayerSession`: a player left.
    pub async fn remove_player_session(
        &self,
        player_session_id: impl Into<String>,
    ) -> Result<(), SdkError> {
        let id = player_session_id.into();
        self.unit(move |core, now| core.remove_player_session(now, &id))
            .await
    }

    /// `DescribePlayerSessions` (exactly one of the three ids must be set).
    pub async fn describe_player_sessions(
        &self,
        request: DescribePlayerSessions,
    ) -> Result<DescribePlayerSessionsResult, SdkError> {
        self.typed::<DescribePlayerSessions>(move |core, now| {
            core.describe_player_sessions(now, &request)
        })
        .await
    }

    /// `UpdatePlayerSessionCreationPolicy`: accept or deny new player sessions.
    pub async fn update_player_session_creation_policy(
        &self,
        policy: PlayerSessionCreationPolicy,
    ) -> Result<(), SdkError> {
        self.unit(move |core, now| core.update_player_session_creation_policy(now, policy))
            .await
    }

    /// `GetComputeCertificate`: path of the compute's TLS certificate.
    pub async fn get_compute_certificate(&self) -> Result<GetComputeCertificateResult, SdkError> {
        self.typed::<protocol::sdk5::GetComputeCertificate>(|core, now| {
            core.get_compute_certificate(now)
        })
        .await
    }

    /// `GetFleetRoleCredentials`, cached per `RoleArn` until 15 minutes before expiry.
    /// On a compute without role credentials (Anywhere) this and every later call fails
    /// with a `BadRequest` [`SdkError::Service`].
    pub async fn get_fleet_role_credentials(
        &self,
        request: GetFleetRoleCredentials,
    ) -> Result<GetFleetRoleCredentialsResult, SdkError> {
        let frame = self
            .call(Box::new(move |core: &mut Core, now, epoch_ms| {
                match core.get_fleet_role_credentials(now, epoch_ms, &request)? {
                    CallStart::Sent(key) => Ok(Started::Sent(key)),
                    CallStart::Cached(cached) => {
                        Ok(Started::Done(ResponseFrame::success::<
                            GetFleetRoleCredentials,
                        >("", &cached)))
                    }
                }
            }))
            .await?;
        decode::<GetFleetRoleCredentials>(&frame)
    }

    /// `StartMatchBackfill`; returns the ticket id.
    pub async fn start_match_backfill(
        &self,
        request: StartMatchBackfill,
    ) -> Result<StartMatchBackfillResult, SdkError> {
        self.typed::<StartMatchBackfill>(move |core, now| core.start_match_backfill(now, &request))
            .await
    }

    /// `StopMatchBackfill`.
    pub async fn stop_match_backfill(&self, request: StopMatchBackfill) -> Result<(), SdkError> {
        self.unit(move |core, now| core.stop_match_backfill(now, &request))
            .await
    }

    /// `ProcessEnding`: sends `TerminateServerProcess` and stops health checks. Exit the
    /// process (code 0) soon after; call [`destroy`](Self::destroy) first.
    pub async fn process_ending(&self) -> Result<(), SdkError> {
        self.unit(|core, now| core.process_ending(now)).await
    }

    /// `Destroy`: closes the connection (1000), stops reconnecting and the driver task.
    /// Every later call fails with [`SdkError::Destroyed`].
    pub async fn destroy(&self) -> Result<(), SdkError> {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Destroy(reply)).is_ok() {
            let _ = done.await;
        }
        Ok(())
    }

    /// The game session id from `CreateGameSession`, if one arrived.
    pub fn get_game_session_id(&self) -> Option<String> {
        self.snapshot().game_session_id
    }

    /// `TerminationTime` from `TerminateProcess` in epoch **milliseconds**, if one arrived.
    pub fn get_termination_time(&self) -> Option<i64> {
        self.snapshot().termination_time_ms
    }

    /// The process state as of the driver's last step.
    pub fn state(&self) -> ProcessState {
        self.snapshot().state
    }

    /// A copy of the shared snapshot.
    fn snapshot(&self) -> super::Snapshot {
        self.shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sends a command; a gone driver means the SDK was destroyed.
    fn send(&self, command: Command) -> Result<(), SdkError> {
        self.commands.send(command).map_err(|_| SdkError::Destroyed)
    }

    /// Runs a call and waits for its response frame.
    async fn call(&self, start: super::driver::Start) -> Result<ResponseFrame, SdkError> {
        let (reply, result) = oneshot::channel();
        self.send(Command::Call { start, reply })?;
        result.await.map_err(|_| SdkError::Destroyed)?
    }

    /// A call whose response has no body.
    async fn unit(
        &self,
        start: impl FnOnce(&mut Core, std::time::Instant) -> Result<RequestKey, SdkError>
        + Send
        + 'static,
    ) -> Result<(), SdkError> {
        self.call(Box::new(move |core: &mut Core, now, _| {
            start(core, now).map(Started::Sent)
        }))
        .await
        .map(drop)
    }

    /// A call whose response body is `R::Response`.
    async fn typed<R: RequestBody>(
        &self,
        start: impl FnOnce(&mut Core, std::time::Instant) -> Result<RequestKey, SdkError>
        + Send
        + 'static,
    ) -> Result<R::Response, SdkError> {
        let frame = self
            .call(Box::new(move |core: &mut Core, now, _| {
                start(core, now).map(Started::Sent)
            }))
            .await?;
        decode::<R>(&frame)
    }
}

/// Decodes a 200 response body.
fn decode<R: RequestBody>(frame: &ResponseFrame) -> Result<R::Response, SdkError> {
    frame
        .body::<R::Response>()
        .map_err(|source| SdkError::BadResponse {
            action: R::ACTION,
            source,
        })
}
