//! The ticket lifecycle: matching and placement, parties, one live ticket, cancellation
//! and its race with placement, placement failure and retry, time limits.

use super::harness::*;

/// Two players are matched and placed; each sees the match through GET and the event
/// stream (SEARCHING, PLACING, COMPLETED with seq 1, 2, 3), with their own player
/// session; the placement record was stored before they learned of it.
#[tokio::test(start_paused = true)]
async fn two_players_are_matched_placed_and_recorded() {
    let api = Api::start(Options::default());
    let a = api.create("p-1", duel()).await;
    assert_eq!(a.status, StatusCode::CREATED);
    let a = a.ticket();
    assert_eq!(a.state, TicketState::Searching);
    assert_eq!(a.players, ["p-1"]);
    assert_eq!(a.expires_at, a.created_at + TICKET_TIMEOUT_MS);
    let mut events = api.events("p-1", &a.id, None).await;
    let first = events.next().await.unwrap();
    assert_eq!(
        (first.seq, first.ticket.state.status()),
        (1, TicketStatus::Searching)
    );

    let b = api.create("p-2", duel()).await.ticket();
    let placing = events.next().await.unwrap();
    assert_eq!(
        (placing.seq, placing.ticket.state.status()),
        (2, TicketStatus::Placing)
    );
    let done = events.next().await.unwrap();
    assert_eq!(done.seq, 3);
    assert!(
        events.next().await.is_none(),
        "the stream ends after a final state"
    );

    let a_conn = connection(&done.ticket).clone();
    let b_now = api.get("p-2", &b.id).await.ticket();
    let b_conn = connection(&b_now);
    assert_eq!(a_conn.game_session_id, b_conn.game_session_id);
    assert_ne!(a_conn.player_session_id, b_conn.player_session_id);
    assert_eq!(api.get("p-1", &a.id).await.ticket(), done.ticket);

    let record = api
        .profiles
        .get_placement(&a_conn.game_session_id)
        .await
        .unwrap()
        .expect("the placement was recorded");
    let sessions: BTreeMap<_, _> = record
        .players
        .iter()
        .map(|p| (p.player_id.as_str(), p.player_session_id.as_str()))
        .collect();
    assert_eq!(sessions["p-1"], a_conn.player_session_id);
    assert_eq!(sessions["p-2"], b_conn.player_session_id);

    // A reconnect after the last event sees nothing more; one after seq 1 sees the rest.
    assert!(
        api.events("p-1", &a.id, Some(3))
            .await
            .next()
            .await
            .is_none()
    );
    let rest = api.events("p-1", &a.id, Some(1)).await.rest().await;
    assert_eq!(rest, [(3, TicketStatus::Completed)]);

    let text = api.metrics_text().await;
    assert!(text.contains("backend_tickets_created_total 2"), "{text}");
    assert!(
        text.contains("backend_placements_total{outcome=\"succeeded\"} 1"),
        "{text}"
    );
}

/// A party ticket may name only players who joined the caller's party: naming another
/// player is 403 and creates nothing; after the member joins, the ticket holds both,
/// the member sees it, and the member cannot queue alone meanwhile (409).
#[tokio::test(start_paused = true)]
async fn party_members_must_have_joined() {
    let api = Api::start(Options::default());
    let squad = json!({"mode": "squads", "party": ["p-2"], "latencies_ms": {EU: 30}});
    api.create("p-1", squad.clone())
        .await
        .assert_error(403, "forbidden");
    assert_eq!(api.searching().await, 0);

    // Joining someone else's party does not let p-1 name p-2.
    let join = api
        .call(
            Method::PUT,
            "/v1/party",
            Some("p-2"),
            Some(json!({"leader": "p-9"})),
        )
        .await;
    assert_eq!(join.status, StatusCode::OK);
    api.create("p-1", squad.clone())
        .await
        .assert_error(403, "forbidden");

    let join = api
        .call(
            Method::PUT,
            "/v1/party",
            Some("p-2"),
            Some(json!({"leader": "p-1"})),
        )
        .await;
    assert_eq!(join.body, json!({"leader": "p-1", "members": ["p-2"]}));
    let led = api.call(Method::GET, "/v1/party", Some("p-1"), None).await;
    assert_eq!(led.body, json!({"leader": "p-1", "members": ["p-2"]}));
    let ticket = api.create("p-1", squad).await.ticket();
    assert_eq!(ticket.players, ["p-1", "p-2"]);
    assert_eq!(api.get("p-2", &ticket.id).await.ticket().id, ticket.id);
    api.create("p-2", duel())
        .await
        .assert_error(409, "conflict");
    assert_eq!(api.searching().await, 1);

    // Joining one's own party is a 400; leaving returns the party the caller leads.
    api.call(
        Method::PUT,
        "/v1/party",
        Some("p-3"),
        Some(json!({"leader": "p-3"})),
    )
    .await
    .assert_error(400, "invalid_request");
    let left = api
        .call(Method::DELETE, "/v1/party", Some("p-2"), None)
        .await;
    assert_eq!(left.body, json!({"leader": "p-2", "members": []}));
}

/// A second live ticket for the same player is 409 and leaves the first untouched;
/// after the first is cancelled, a new one is accepted.
#[tokio::test(start_paused = true)]
async fn one_live_ticket_per_player() {
    let api = Api::start(Options::default());
    let first = api.create("p-1", duel()).await.ticket();
    let second = api.create("p-1", duel()).await;
    second.assert_error(409, "conflict");
    assert!(
        second.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&first.id)
    );
    assert_eq!(
        api.get("p-1", &first.id).await.ticket().state,
        TicketState::Searching
    );
    assert_eq!(api.searching().await, 1);
    assert_eq!(
        api.cancel("p-1", &first.id).await.ticket().state,
        TicketState::Cancelled
    );
    assert_eq!(api.create("p-1", duel()).await.status, StatusCode::CREATED);
}

/// Another player cannot cancel (403) or see (404) a ticket; the owner's cancel is
/// final and idempotent, and a cancelled ticket never lands in a match.
#[tokio::test(start_paused = true)]
async fn cancelling_is_for_the_ticket_players() {
    let api = Api::start(Options::default());
    let t = api.create("p-1", duel()).await.ticket();
    api.cancel("p-2", &t.id)
        .await
        .assert_error(403, "forbidden");
    api.get("p-2", &t.id).await.assert_error(404, "not_found");
    assert_eq!(
        api.get("p-1", &t.id).await.ticket().state,
        TicketState::Searching
    );

    let mut events = api.events("p-1", &t.id, None).await;
    let cancelled = api.cancel("p-1", &t.id).await.ticket();
    assert_eq!(cancelled.state, TicketState::Cancelled);
    assert_eq!(
        events.rest().await,
        [(1, TicketStatus::Searching), (2, TicketStatus::Cancelled)]
    );
    assert_eq!(api.cancel("p-1", &t.id).await.ticket(), cancelled);

    // p-2 and p-3 match each other; the cancelled p-1 is in no match.
    let b = api.create("p-2", duel()).await.ticket();
    let c = api.create("p-3", duel()).await.ticket();
    let b_events = api.events("p-2", &b.id, None).await.rest().await;
    assert_eq!(b_events.last().unwrap().1, TicketStatus::Completed);
    let c_now = api.get("p-3", &c.id).await.ticket();
    assert_eq!(c_now.state.status(), TicketStatus::Completed);
    assert_eq!(
        api.get("p-1", &t.id).await.ticket().state,
        TicketState::Cancelled
    );

    api.cancel("p-1", "no-such-ticket")
        .await
        .assert_error(404, "not_found");
    api.get("p-1", "bad%20id")
        .await
        .assert_error(400, "invalid_request");
}

/// The dev placer, held at a gate until the test opens it, counting releases.
struct GatedPlacer {
    gate: tokio::sync::Semaphore,
    released: tokio::sync::Notify,
    dev: DevPlacer,
}

impl Placer for GatedPlacer {
    fn place<'a>(
        &'a self,
        proposed: &'a ProposedMatch,
    ) -> BoxFuture<'a, Result<PlacedMatch, PlacementFailure>> {
        Box::pin(async move {
            self.gate.acquire().await.unwrap().forget();
            self.dev.place(proposed).await
        })
    }

    fn release<'a>(&'a self, placed: &'a PlacedMatch) -> BoxFuture<'a, ()> {
        self.released.notify_one();
        self.dev.release(placed)
    }
}

/// A ticket cancelled while its match is being placed is cancelled, never matched: the
/// other ticket goes back to searching, the placement that then succeeds is released
/// (nobody is coming), and the other player is matched again with someone else.
#[tokio::test(start_paused = true)]
async fn cancel_during_placement_never_lands_in_the_match() {
    let placer = Arc::new(GatedPlacer {
        gate: tokio::sync::Semaphore::new(0),
        released: tokio::sync::Notify::new(),
        dev: DevPlacer::default(),
    });
    let api = Api::start(Options {
        placer: Some(Arc::clone(&placer) as Arc<dyn Placer>),
        ..Options::default()
    });
    let a = api.create("p-1", duel()).await.ticket();
    let mut a_events = api.events("p-1", &a.id, None).await;
    let b = api.create("p-2", duel()).await.ticket();
    let mut b_events = api.events("p-2", &b.id, None).await;
    assert_eq!(
        a_events.next().await.unwrap().ticket.state,
        TicketState::Searching
    );
    assert_eq!(
        a_events.next().await.unwrap().ticket.state,
        TicketState::Placing
    );
    assert_eq!(
        b_events.next().await.unwrap().ticket.state,
        TicketState::Searching
    );
    assert_eq!(
        b_events.next().await.unwrap().ticket.state,
        TicketState::Placing
    );

    let cancelled = api.cancel("p-1", &a.id).await.ticket();
    assert_eq!(cancelled.state, TicketState::Cancelled);
    let back = b_events.next().await.unwrap();
    assert_eq!((back.seq, back.ticket.state), (3, TicketState::Searching));

    // The placement of the broken match now succeeds: the driver refuses it (the core
    // says the match is gone) and releases the game session; p-2 stays searching.
    placer.gate.add_permits(1);
    placer.released.notified().await;
    assert_eq!(api.searching().await, 1);
    assert_eq!(
        api.get("p-2", &b.id).await.ticket().state,
        TicketState::Searching
    );
    assert_eq!(
        api.get("p-1", &a.id).await.ticket().state,
        TicketState::Cancelled
    );

    placer.gate.add_permits(1);
    api.create("p-3", duel()).await.ticket();
    let done = b_events.rest().await;
    assert_eq!(
        done,
        [(4, TicketStatus::Placing), (5, TicketStatus::Completed)]
    );
    assert_eq!(a_events.rest().await, [(3, TicketStatus::Cancelled)]);
}

/// A failed placement returns both tickets to the pool (SEARCHING again, seq keeps
/// counting) and they are placed on the retry; a second failure spends the budget and
/// fails them with the placement's reason and message.
#[tokio::test(start_paused = true)]
async fn placement_failure_returns_tickets_then_fails_them() {
    let api = Api::start(Options {
        placement_failures: 1,
        ..Options::default()
    });
    let a = api.create("p-1", duel()).await.ticket();
    let mut events = api.events("p-1", &a.id, None).await;
    api.create("p-2", duel()).await.ticket();
    let statuses: Vec<TicketStatus> = events.rest().await.into_iter().map(|e| e.1).collect();
    use TicketStatus::*;
    assert_eq!(
        statuses,
        [Searching, Placing, Searching, Placing, Completed]
    );

    let api = Api::start(Options {
        placement_failures: 2,
        ..Options::default()
    });
    let a = api.create("p-1", duel()).await.ticket();
    let mut events = api.events("p-1", &a.id, None).await;
    api.create("p-2", duel()).await.ticket();
    let rest = events.rest().await;
    assert_eq!(rest.last().unwrap(), &(5, Failed));
    match api.get("p-1", &a.id).await.ticket().state {
        TicketState::Failed { reason, message } => {
            assert_eq!(reason, FailureReason::NoCapacity);
            assert!(message.contains("capacity"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Failed players may queue again.
    assert_eq!(api.create("p-1", duel()).await.status, StatusCode::CREATED);
}

/// A placed match whose placement record cannot be stored is released (results of an
/// unrecorded match could not be checked) and fails like any placement failure: back to
/// the pool once, then failed with `internal`; nobody ever sees connection info.
#[tokio::test(start_paused = true)]
async fn a_match_that_cannot_be_recorded_is_released_and_fails() {
    let placer = Arc::new(GatedPlacer {
        gate: tokio::sync::Semaphore::new(2),
        released: tokio::sync::Notify::new(),
        dev: DevPlacer::default(),
    });
    let api = Api::start(Options {
        placer: Some(Arc::clone(&placer) as Arc<dyn Placer>),
        no_placement_records: true,
        ..Options::default()
    });
    let a = api.create("p-1", duel()).await.ticket();
    let mut events = api.events("p-1", &a.id, None).await;
    api.create("p-2", duel()).await.ticket();
    placer.released.notified().await;
    let statuses: Vec<TicketStatus> = events.rest().await.into_iter().map(|e| e.1).collect();
    use TicketStatus::*;
    assert_eq!(statuses, [Searching, Placing, Searching, Placing, Failed]);
    placer.released.notified().await;
    match api.get("p-1", &a.id).await.ticket().state {
        TicketState::Failed { reason, message } => {
            assert_eq!(reason, FailureReason::Internal);
            assert!(message.contains("could not be recorded"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let metrics = api.metrics_text().await;
    assert!(
        metrics.contains("backend_placements_total{outcome=\"failed\"} 2"),
        "{metrics}"
    );
}

/// A full fleet is retried with backoff within the placement: the tickets stay PLACING
/// and are placed once a process is free, spending none of their retry budget.
#[tokio::test(start_paused = true)]
async fn no_capacity_is_retried_with_backoff() {
    let api = Api::start(Options {
        placement_failures: 3,
        capacity_retries: 3,
        ..Options::default()
    });
    let start = tokio::time::Instant::now();
    let a = api.create("p-1", duel()).await.ticket();
    let mut events = api.events("p-1", &a.id, None).await;
    api.create("p-2", duel()).await.ticket();
    let statuses: Vec<TicketStatus> = events.rest().await.into_iter().map(|e| e.1).collect();
    use TicketStatus::*;
    assert_eq!(statuses, [Searching, Placing, Completed]);
    // Backoff of 1 s, 2 s and 4 s (virtual time).
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(7) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
}

/// A ticket without a match times out at its time limit (virtual time).
#[tokio::test(start_paused = true)]
async fn lonely_tickets_time_out() {
    let api = Api::start(Options::default());
    let start = tokio::time::Instant::now();
    let t = api.create("p-1", duel()).await.ticket();
    let rest = api.events("p-1", &t.id, None).await.rest().await;
    assert_eq!(rest.last().unwrap(), &(2, TicketStatus::TimedOut));
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(TICKET_TIMEOUT_MS)
            && waited < Duration::from_millis(TICKET_TIMEOUT_MS + 1_000),
        "{waited:?}"
    );
    let t = api.get("p-1", &t.id).await.ticket();
    assert_eq!(t.state, TicketState::TimedOut);
    assert!(t.updated_at >= t.expires_at && t.updated_at < t.expires_at + 200);
}

/// A placer that never answers: matches stay PLACING.
struct ParkedPlacer;

impl Placer for ParkedPlacer {
    fn place<'a>(
        &'a self,
        _proposed: &'a ProposedMatch,
    ) -> BoxFuture<'a, Result<PlacedMatch, PlacementFailure>> {
        Box::pin(std::future::pending())
    }

    fn release<'a>(&'a self, _placed: &'a PlacedMatch) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

/// A matching pass over many new tickets runs in steps, and the driver answers requests
/// between them: the matchmaking numbers, asked again and again from the first tick on,
/// show the pool partly matched on the way to empty, rather than every request waiting
/// out the whole pass.
#[tokio::test(start_paused = true)]
async fn requests_are_answered_between_steps_of_a_long_pass() {
    const TICKETS: u64 = 1_000;
    let api = Api::start(Options {
        placer: Some(Arc::new(ParkedPlacer)),
        ..Options::default()
    });
    for i in 0..TICKETS {
        let reply = api.create(&format!("p-{i}"), duel()).await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    assert_eq!(
        api.searching().await,
        TICKETS,
        "not matched before the tick"
    );
    // The driver's tick (100 ms) starts the pass; from then on, ask until it is over.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut seen = Vec::new();
    while seen.last() != Some(&0) {
        assert!(seen.len() < 10_000, "the pass never ended: {seen:?}");
        seen.push(api.searching().await);
    }
    let partly = seen.iter().filter(|&&n| 0 < n && n < TICKETS).count();
    assert!(partly >= 2, "{seen:?}");
}

/// A ticket is named only by the id the API handed out: the same UUID in capitals or
/// without hyphens names no ticket (404), for GET and DELETE alike.
#[tokio::test(start_paused = true)]
async fn only_the_exact_ticket_id_names_a_ticket() {
    let api = Api::start(Options::default());
    let ticket = api.create("p-1", duel()).await.ticket();
    assert_eq!(api.get("p-1", &ticket.id).await.ticket().id, ticket.id);
    for other in [ticket.id.to_uppercase(), ticket.id.replace('-', "")] {
        api.get("p-1", &other).await.assert_error(404, "not_found");
        api.cancel("p-1", &other)
            .await
            .assert_error(404, "not_found");
    }
    assert_eq!(
        api.get("p-1", &ticket.id).await.ticket().state,
        TicketState::Searching,
        "still searching: nothing cancelled it"
    );
}
