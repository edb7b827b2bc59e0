//! The pure steps of the decision table, one rejection each.

use std::collections::BTreeMap;

use protocol::result::{
    Keyring, MatchResult, PlayerResult, ResultMessage, ResultPointer, S3Location,
};
use sha2::{Digest, Sha256};

use super::*;
use crate::ratings::PlacedPlayer;

fn keyring() -> Keyring {
    Keyring::new("k1", &[7; 32]).unwrap()
}

fn result(match_id: &str, players: usize) -> MatchResult {
    MatchResult {
        match_id: match_id.to_owned(),
        mode: "duel".to_owned(),
        region: "us-east-1".to_owned(),
        fleet_id: "fleet-1".to_owned(),
        started_at_ms: 1_700_000_000_000,
        ended_at_ms: 1_700_000_060_000,
        cut_short: false,
        players: (0..players)
            .map(|i| PlayerResult {
                player_id: format!("p{i}"),
                player_session_id: format!("ps{i}"),
                team: None,
                placement: i as u32 + 1,
                score: 0,
                stats: BTreeMap::new(),
                left_early: false,
            })
            .collect(),
    }
}

fn signed_body(r: &MatchResult) -> String {
    ResultMessage::Inline(keyring().sign(r.clone()).unwrap()).to_json()
}

fn reason(r: Result<impl std::fmt::Debug, Rejection>) -> &'static str {
    r.unwrap_err().reason
}

#[test]
fn decode_rejects_each_bad_body_with_its_reason() {
    let ring = keyring();
    assert_eq!(reason(decode(b"{not json", &ring)), "malformed_json");
    assert_eq!(reason(decode(b"{\"schema\":1}", &ring)), "malformed_result");
    assert_eq!(
        reason(decode(b"{\"schema\":2}", &ring)),
        "unsupported_schema_version"
    );
    let big = vec![b' '; protocol::result::MAX_RESULT_BYTES + 1];
    assert_eq!(reason(decode(&big, &ring)), "too_large");

    let r = result("m-1", 2);
    let mut signed = ring.sign(r.clone()).unwrap();
    signed.key_id = "k2".to_owned();
    let body = ResultMessage::Inline(signed).to_json();
    assert_eq!(reason(decode(body.as_bytes(), &ring)), "unknown_key_id");

    let mut signed = ring.sign(r.clone()).unwrap();
    signed.result.players[0].score = 1;
    let body = ResultMessage::Inline(signed).to_json();
    assert_eq!(reason(decode(body.as_bytes(), &ring)), "bad_signature");

    assert_eq!(
        decode(signed_body(&r).as_bytes(), &ring).unwrap(),
        Decoded::Verified(r)
    );
}

/// A result over the player cap is refused by its count, even with a valid MAC (signed
/// here without `Keyring::sign`'s validation, as a buggy server might).
#[test]
fn too_many_players_has_its_own_reason() {
    let ring = keyring();
    let r = result("m-big", protocol::result::MAX_RESULT_PLAYERS + 1);
    let mut signed = ring.sign(result("m-big", 2)).unwrap();
    signed.result = r.clone();
    let bytes = protocol::result::signed_bytes(signed.schema, &signed.key_id, &r);
    signed.signature = hmac_hex(&[7; 32], &bytes);
    let body = ResultMessage::Inline(signed).to_json();
    assert_eq!(reason(decode(body.as_bytes(), &ring)), "too_many_players");
}

fn hmac_hex(secret: &[u8], bytes: &[u8]) -> String {
    // HMAC-SHA256 by hand (RFC 2104), to forge a valid MAC over an invalid result.
    let mut key = [0u8; 64];
    key[..secret.len()].copy_from_slice(secret);
    let inner: Vec<u8> = key
        .iter()
        .map(|b| b ^ 0x36)
        .chain(bytes.iter().copied())
        .collect();
    let inner = Sha256::digest(&inner);
    let outer: Vec<u8> = key
        .iter()
        .map(|b| b ^ 0x5c)
        .chain(inner.iter().copied())
        .collect();
    hex::encode(Sha256::digest(&outer))
}

#[test]
fn blobs_are_checked_against_their_pointer() {
    let ring = keyring();
    let r = result("m-2", 2);
    let bytes = signed_body(&r).into_bytes();
    let pointer = |size: u64, sha: String, match_id: &str| ResultPointer {
        schema: 1,
        match_id: match_id.to_owned(),
        s3: S3Location {
            bucket: "b".to_owned(),
            key: "k".to_owned(),
            size,
            sha256: sha,
        },
    };
    let sha = hex::encode(Sha256::digest(&bytes));
    let len = bytes.len() as u64;
    assert_eq!(
        open_blob(&bytes, &pointer(len, sha.clone(), "m-2"), &ring).unwrap(),
        r
    );
    assert_eq!(
        reason(open_blob(
            &bytes,
            &pointer(len + 1, sha.clone(), "m-2"),
            &ring
        )),
        "blob_mismatch"
    );
    assert_eq!(
        reason(open_blob(
            &bytes,
            &pointer(len, "00".repeat(32), "m-2"),
            &ring
        )),
        "blob_mismatch"
    );
    assert_eq!(
        reason(open_blob(&bytes, &pointer(len, sha, "m-3"), &ring)),
        "pointer_mismatch"
    );
    let inner = ResultMessage::Stored(pointer(1, "00".repeat(32), "m-2")).to_json();
    let inner = inner.into_bytes();
    let inner_sha = hex::encode(Sha256::digest(&inner));
    assert_eq!(
        reason(open_blob(
            &inner,
            &pointer(inner.len() as u64, inner_sha, "m-2"),
            &ring
        )),
        "pointer_mismatch"
    );
}

#[test]
fn placements_must_exist_and_name_the_players() {
    let r = result("m-4", 2);
    assert_eq!(reason(check_placement(&r, None)), "unknown_match");
    let mut record = PlacementRecord {
        match_id: "m-4".to_owned(),
        players: r
            .players
            .iter()
            .map(|p| PlacedPlayer {
                player_id: p.player_id.clone(),
                player_session_id: p.player_session_id.clone(),
                team: None,
            })
            .collect(),
    };
    assert!(check_placement(&r, Some(&record)).is_ok());
    record.players[1].player_id = "intruder".to_owned();
    assert_eq!(
        reason(check_placement(&r, Some(&record))),
        "players_mismatch"
    );
}
