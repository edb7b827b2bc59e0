//! Match results: signing and verification accept exactly what a server signed and
//! reject any change to any field, an unknown key id, a bad schema and broken rules, each
//! with its typed error; keys rotate; the signature matches an independent implementation.

use std::collections::BTreeMap;

use proptest::prelude::*;
use protocol::result::*;
use serde_json::Value;

const SECRET: [u8; 32] = {
    let mut k = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        k[i] = i as u8;
        i += 1;
    }
    k
};

fn example() -> MatchResult {
    MatchResult {
        match_id: "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gs-1".into(),
        mode: "ffa".into(),
        region: "us-east-1".into(),
        fleet_id: "fleet-1".into(),
        started_at_ms: 1_700_000_000_000,
        ended_at_ms: 1_700_000_300_000,
        cut_short: false,
        players: vec![
            PlayerResult {
                player_id: "ann".into(),
                player_session_id: "psess-1".into(),
                team: None,
                placement: 1,
                score: 12,
                stats: BTreeMap::from([("tags".into(), 3), ("items".into(), 9)]),
                left_early: false,
            },
            PlayerResult {
                player_id: "bö\"b".into(),
                player_session_id: "psess-2".into(),
                team: Some("red".into()),
                placement: 2,
                score: -1,
                stats: BTreeMap::new(),
                left_early: true,
            },
        ],
    }
}

fn ring() -> Keyring {
    Keyring::new("k1", &SECRET).unwrap()
}

/// The vector was computed with Python's `json.dumps(sort_keys=True,
/// separators=(',', ':'), ensure_ascii=False)` and `hmac`, independently of this crate;
/// it is also in `protocol/docs/wire-format.md`.
#[test]
fn signature_matches_an_independent_implementation() {
    let bytes = signed_bytes(1, "k1", &example());
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(
        text,
        "gamelift-stack.match-result\n{\"key_id\":\"k1\",\"result\":{\"cut_short\":false,\
\"ended_at_ms\":1700000300000,\"fleet_id\":\"fleet-1\",\"match_id\":\
\"arn:aws:gamelift:us-east-1::gamesession/fleet-1/gs-1\",\"mode\":\"ffa\",\"players\":[\
{\"left_early\":false,\"placement\":1,\"player_id\":\"ann\",\"player_session_id\":\"psess-1\",\
\"score\":12,\"stats\":{\"items\":9,\"tags\":3},\"team\":null},{\"left_early\":true,\
\"placement\":2,\"player_id\":\"bö\\\"b\",\"player_session_id\":\"psess-2\",\"score\":-1,\
\"stats\":{},\"team\":\"red\"}],\"region\":\"us-east-1\",\"started_at_ms\":1700000000000},\
\"schema\":1}"
    );
    let signed = ring().sign(example()).unwrap();
    assert_eq!(
        signed.signature,
        "99ed9491532a9896e39d1babb2534bba6da7d904a2dc6d70c2fa2913df88a44b"
    );
}

#[test]
fn a_signed_result_opens() {
    let signed = ring().sign(example()).unwrap();
    let body = ResultMessage::Inline(signed.clone()).to_json();
    assert_eq!(ring().open(body.as_bytes()), Ok(example()));
    assert_eq!(ring().verify(&signed), Ok(()));
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["schema"], 1);
    assert_eq!(v["key_id"], "k1");
    assert_eq!(v["result"]["players"][0]["player_session_id"], "psess-1");
}

/// Every leaf of the signed document, changed, makes verification fail.
#[test]
fn changing_any_field_is_rejected() {
    let body = ResultMessage::Inline(ring().sign(example()).unwrap()).to_json();
    let doc: Value = serde_json::from_str(&body).unwrap();
    let mut paths = Vec::new();
    leaves(&doc, &mut Vec::new(), &mut paths);
    assert!(paths.len() > 20, "walked {} leaves", paths.len());
    for path in paths {
        let mut changed = doc.clone();
        mutate(pointer(&mut changed, &path));
        let err = ring().open(changed.to_string().as_bytes());
        assert!(err.is_err(), "change at {path:?} was accepted");
    }
}

fn leaves(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                at.push(k.clone());
                leaves(x, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(i.to_string());
                leaves(x, at, out);
                at.pop();
            }
        }
        _ => out.push(at.clone()),
    }
}

fn pointer<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(v, |v, k| match v {
        Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
        other => &mut other[k.as_str()],
    })
}

fn mutate(v: &mut Value) {
    *v = match v.take() {
        Value::Null => Value::from("blue"),
        Value::Bool(b) => Value::from(!b),
        Value::Number(n) => Value::from(n.as_i64().unwrap() + 1),
        Value::String(s) => Value::from(format!("{s}x")),
        other => other,
    };
}

#[test]
fn added_and_removed_fields_are_rejected() {
    let body = ResultMessage::Inline(ring().sign(example()).unwrap()).to_json();
    let doc: Value = serde_json::from_str(&body).unwrap();
    for path in [vec![], vec!["result"], vec!["result", "players", "0"]] {
        let mut extra = doc.clone();
        let path: Vec<String> = path.into_iter().map(String::from).collect();
        pointer(&mut extra, &path)
            .as_object_mut()
            .unwrap()
            .insert("bonus".into(), Value::from(1));
        let err = ring().open(extra.to_string().as_bytes()).unwrap_err();
        assert_eq!(err.reason(), "malformed", "{err}");
    }
    let mut missing = doc.clone();
    missing["result"]["players"][1]
        .as_object_mut()
        .unwrap()
        .remove("left_early");
    assert_eq!(
        ring()
            .open(missing.to_string().as_bytes())
            .unwrap_err()
            .reason(),
        "malformed"
    );
}

#[test]
fn unknown_key_ids_and_wrong_secrets_are_rejected() {
    let signed = ring().sign(example()).unwrap();
    let other = Keyring::new("k2", &[7u8; 32]).unwrap();
    assert_eq!(
        other.verify(&signed),
        Err(VerifyError::UnknownKey("k1".into()))
    );
    let same_id_other_secret = Keyring::new("k1", &[7u8; 32]).unwrap();
    assert_eq!(
        same_id_other_secret.verify(&signed),
        Err(VerifyError::BadSignature)
    );

    let mut relabelled = signed.clone();
    relabelled.key_id = "k2".into();
    let both = Keyring::new("k2", &SECRET)
        .unwrap()
        .with_key("k1", &SECRET)
        .unwrap();
    assert_eq!(both.verify(&relabelled), Err(VerifyError::BadSignature));
}

#[test]
fn keys_rotate_without_dropping_results_in_flight() {
    let old = ring();
    let in_flight = old.sign(example()).unwrap();
    // Step 1: every consumer learns k2 while k1 still signs.
    let consumer = Keyring::new("k1", &SECRET)
        .unwrap()
        .with_key("k2", &[9u8; 32])
        .unwrap();
    // Step 2: servers sign with k2.
    let new = Keyring::new("k2", &[9u8; 32]).unwrap();
    let fresh = new.sign(example()).unwrap();
    assert_eq!(fresh.key_id, "k2");
    assert_eq!(consumer.verify(&in_flight), Ok(()));
    assert_eq!(consumer.verify(&fresh), Ok(()));
    // Step 3: k1 retired.
    assert_eq!(
        new.verify(&in_flight),
        Err(VerifyError::UnknownKey("k1".into()))
    );
}

#[test]
fn bad_signatures_and_schemas_are_typed() {
    let signed = ring().sign(example()).unwrap();
    for sig in [
        "",
        "zz",
        &signed.signature[..62],
        &format!("{}00", signed.signature),
    ] {
        let mut s = signed.clone();
        s.signature = sig.into();
        assert_eq!(ring().verify(&s), Err(VerifyError::BadSignature), "{sig:?}");
    }
    let mut v: Value = serde_json::to_value(&signed).unwrap();
    v["schema"] = Value::from(2);
    let err = ring().open(v.to_string().as_bytes()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::UnsupportedSchema {
            found: Some("2".into())
        }
    );
    v.as_object_mut().unwrap().remove("schema");
    assert_eq!(
        ring().open(v.to_string().as_bytes()).unwrap_err(),
        VerifyError::UnsupportedSchema { found: None }
    );
    assert_eq!(ring().open(b"not json").unwrap_err().reason(), "malformed");
    assert_eq!(
        ring().open(b"[1,2]").unwrap_err().reason(),
        "unsupported_schema"
    );
    let huge = vec![b' '; MAX_RESULT_BYTES + 1];
    assert_eq!(ring().open(&huge).unwrap_err().reason(), "too_large");
}

#[test]
fn rules_are_enforced_when_signing_and_verifying() {
    type Breaker = fn(&mut MatchResult);
    let cases: Vec<(Breaker, InvalidResult)> = vec![
        (
            |r| r.match_id.clear(),
            InvalidResult::BadString {
                field: "match_id",
                max: 256,
            },
        ),
        (
            |r| r.ended_at_ms = r.started_at_ms - 1,
            InvalidResult::BadTimes,
        ),
        (|r| r.players.clear(), InvalidResult::PlayerCount(0)),
        (
            |r| r.players[1].player_id = "ann".into(),
            InvalidResult::DuplicatePlayer("ann".into()),
        ),
        (
            |r| r.players[1].player_session_id = "psess-1".into(),
            InvalidResult::DuplicatePlayerSession("psess-1".into()),
        ),
        (
            |r| r.players[0].placement = 3,
            InvalidResult::Placement {
                player: "ann".into(),
                placement: 3,
                count: 2,
            },
        ),
        (
            |r| r.players[0].score = MAX_SAFE_INTEGER + 1,
            InvalidResult::Unsafe("ann".into()),
        ),
        (
            |r| {
                r.players[0].stats.insert(String::new(), 1);
            },
            InvalidResult::Stats("ann".into()),
        ),
    ];
    for (break_it, expected) in cases {
        let mut r = example();
        break_it(&mut r);
        assert_eq!(ring().sign(r.clone()), Err(expected.clone()));
        // A buggy or hostile signer that skips validation is still caught on receipt.
        let forged = SignedMatchResult {
            schema: RESULT_SCHEMA_VERSION,
            key_id: "k1".into(),
            signature: hmac_hex(&signed_bytes(1, "k1", &r)),
            result: r,
        };
        assert_eq!(ring().verify(&forged), Err(VerifyError::Invalid(expected)));
    }
}

fn hmac_hex(data: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(&SECRET).unwrap();
    m.update(data);
    hex::encode(m.finalize().into_bytes())
}

#[test]
fn pointers_round_trip_and_are_told_apart() {
    let p = ResultPointer {
        schema: RESULT_SCHEMA_VERSION,
        match_id: "gs-1".into(),
        s3: S3Location {
            bucket: "results".into(),
            key: "2026/11/gs-1.json".into(),
            size: 300_000,
            sha256: "ab".repeat(32),
        },
    };
    let json = ResultMessage::Stored(p.clone()).to_json();
    assert_eq!(
        ResultMessage::from_json(json.as_bytes()),
        Ok(ResultMessage::Stored(p))
    );
    assert!(
        ring().open(json.as_bytes()).is_err(),
        "a pointer is not a signed result"
    );
}

#[test]
fn keyring_specs() {
    let hex1 = hex::encode(SECRET);
    let hex2 = hex::encode([5u8; 40]);
    let r = Keyring::parse(&format!("k1:{hex1}, k0:{hex2}")).unwrap();
    assert_eq!(r.active_key_id(), "k1");
    let dbg = format!("{r:?}");
    assert!(dbg.contains("k0") && !dbg.contains(&hex1[..16]), "{dbg}");
    let err = |spec: &str| Keyring::parse(spec).unwrap_err();
    assert_eq!(err(""), KeyError::Empty);
    assert_eq!(err("k1"), KeyError::BadSpec("k1:…".into()));
    assert_eq!(err("k1:zz"), KeyError::BadSpec("k1:…".into()));
    assert_eq!(err("k1:00ff"), KeyError::ShortSecret("k1".into()));
    assert_eq!(
        err(&format!("bad id:{hex1}")),
        KeyError::BadId("bad id".into())
    );
    assert_eq!(
        err(&format!("k1:{hex1},k1:{hex2}")),
        KeyError::DuplicateId("k1".into())
    );
}

fn player(i: usize) -> impl Strategy<Value = PlayerResult> {
    (
        proptest::option::of("[a-z]{1,8}"),
        -1000i64..1000,
        proptest::collection::btree_map("[a-z\u{1}\u{7f}é\"\\\\]{1,6}", -5i64..5, 0..4),
        any::<bool>(),
    )
        .prop_map(move |(team, score, stats, left_early)| PlayerResult {
            player_id: format!("p{i}"),
            player_session_id: format!("psess-{i}"),
            team,
            placement: 1,
            score,
            stats,
            left_early,
        })
}

proptest! {
    #[test]
    fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = ring().open(&body);
        let _ = ResultMessage::from_json(&body);
    }

    /// Any valid result signs, travels as JSON, and opens to the same value.
    #[test]
    fn results_round_trip(players in (1usize..6).prop_flat_map(|n| (0..n).map(player).collect::<Vec<_>>()),
                          mode in "[a-z]{1,10}", cut_short in any::<bool>()) {
        let mut r = example();
        r.mode = mode;
        r.cut_short = cut_short;
        r.players = players;
        let body = ResultMessage::Inline(ring().sign(r.clone()).unwrap()).to_json();
        prop_assert_eq!(ring().open(body.as_bytes()), Ok(r));
    }
}
