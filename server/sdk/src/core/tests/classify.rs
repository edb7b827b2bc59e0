//! Frame classification as the client sees it (§3.2): error response before push, push
//! with `StatusCode: 200`, responses matched by `RequestId` only.

use protocol::sdk5::{ServiceErrorKind, TerminateProcess};

use super::*;

#[test]
fn classification_error_response_beats_push_action() {
    let mut h = Harness::hosting();
    h.core.accept_player_session(h.now, "psess-1").unwrap();
    let (_, frame) = h.take_send();
    let conn = h.active();
    // A non-200 frame with a RequestId is an error response even if its Action is a push.
    let text = format!(
        r#"{{"Action":"TerminateProcess","RequestId":"{}","StatusCode":404,"ErrorMessage":"no such player session","TerminationTime":1}}"#,
        frame.request_id
    );
    h.core.handle_text(h.now, conn, &text);
    let error = h.complete().1.unwrap_err();
    assert_eq!(error.service_kind(), Some(ServiceErrorKind::NotFound));
    assert!(
        error.to_string().contains("no such player session"),
        "{error}"
    );
    assert!(
        h.none(|o| matches!(o, Output::Event(_))),
        "no push handler may run"
    );
    assert_eq!(h.core.termination_time_ms(), None);
}

#[test]
fn classification_push_with_request_id_and_200_is_a_push() {
    let mut h = Harness::hosting();
    let conn = h.active();
    h.core.handle_text(
        h.now,
        conn,
        r#"{"Action":"TerminateProcess","RequestId":"r-1","StatusCode":200,"TerminationTime":1718000000000}"#,
    );
    assert_eq!(
        h.take_event(),
        Event::ProcessTerminate {
            termination_time_ms: 1_718_000_000_000
        }
    );
    assert_eq!(h.core.termination_time_ms(), Some(1_718_000_000_000));
    h.push(TerminateProcess {
        termination_time: 5,
    });
    assert_eq!(
        h.take_event(),
        Event::ProcessTerminate {
            termination_time_ms: 5
        }
    );
}

#[test]
fn classification_responses_complete_by_request_id_only() {
    let mut h = Harness::hosting();
    let key = h.core.accept_player_session(h.now, "psess-1").unwrap();
    let (_, frame) = h.take_send();
    let conn = h.active();
    // An unknown RequestId and garbage are dropped; the right id completes the call,
    // whatever the Action says.
    h.core.handle_text(
        h.now,
        conn,
        r#"{"Action":"AcceptPlayerSession","RequestId":"other","StatusCode":200}"#,
    );
    h.core.handle_text(h.now, conn, "not json");
    assert!(h.none(|o| matches!(o, Output::Complete { .. })));
    let text = format!(r#"{{"RequestId":"{}","StatusCode":200}}"#, frame.request_id);
    h.core.handle_text(h.now, conn, &text);
    let (done, result) = h.complete();
    assert_eq!(done, key);
    assert!(result.is_ok());
}
