//! The result reporter (`server::report`): the durable outbox on a real temp directory,
//! the inline/S3 message plan at its size boundary, the backoff schedule with fixed
//! jitter, and the reporter against an in-memory `ResultQueue` driven in virtual time.

use std::collections::{BTreeMap, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use protocol::result::{Keyring, MatchResult, PlayerResult, ResultMessage, SignedMatchResult};
use server::report::{
    Clock, Delivery, DeliveryPolicy, FailureKind, INLINE_LIMIT_BYTES, MessagePlan, Outbox,
    OutboxError, OutgoingMessage, PlanConfig, PutOutcome, QueueError, Reporter, ResultQueue,
    S3Upload, Verdict, decode_stem, encode_id, sha256_hex, stem_for,
};

const ARN: &str = "arn:aws:gamelift:us-west-2::gamesession/fleet-1a2b3c/Match-0001";

/// A directory under the system temp dir, removed on drop (no `tempfile` dependency).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "report-test-{}-{nanos}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        Self(std::env::temp_dir().join(name))
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn sha256_is_the_real_one() {
    // FIPS 180-2 test vector.
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

fn plan_config(fifo: bool) -> PlanConfig {
    PlanConfig {
        bucket: "results-bucket".into(),
        fifo,
        sha256_hex,
    }
}

fn keyring() -> Keyring {
    Keyring::new("k1", &[7; 32]).expect("key")
}

fn player(i: usize) -> PlayerResult {
    PlayerResult {
        player_id: format!("player-{i}"),
        player_session_id: format!("psess-{i}"),
        team: None,
        placement: 1,
        score: 10,
        stats: BTreeMap::new(),
        left_early: false,
    }
}

fn result(match_id: &str) -> MatchResult {
    MatchResult {
        match_id: match_id.into(),
        mode: "arena".into(),
        region: "us-west-2".into(),
        fleet_id: "fleet-1a2b3c".into(),
        started_at_ms: 1_000,
        ended_at_ms: 2_000,
        cut_short: false,
        players: vec![player(0), player(1)],
    }
}

fn signed(match_id: &str) -> SignedMatchResult {
    keyring().sign(result(match_id)).expect("valid")
}

fn body_len(s: &SignedMatchResult) -> usize {
    ResultMessage::Inline(s.clone()).to_json().len()
}

/// A genuinely signed result whose inline SQS body is exactly `target` bytes: players
/// with 32 long stats of 16-digit values each get close, then team names (1 to 64 bytes) fill the rest.
fn sized(target: usize) -> SignedMatchResult {
    let fat_player = |i: usize| {
        let mut p = player(i);
        p.team = Some("t".into());
        p.stats = (0..32)
            .map(|k| (format!("{k:0>2}{}", "s".repeat(62)), 1_000_000_000_000_000))
            .collect();
        p
    };
    let mut r = result(ARN);
    r.players = vec![fat_player(0)];
    let len = |r: &MatchResult| body_len(&keyring().sign(r.clone()).expect("valid"));
    while len(&r) < target {
        r.players.push(fat_player(r.players.len()));
    }
    r.players.pop();
    let mut deficit = target - len(&r);
    for p in &mut r.players {
        let add = deficit.min(63);
        p.team = Some("t".repeat(1 + add));
        deficit -= add;
    }
    assert_eq!(deficit, 0, "not enough players to pad");
    let s = keyring().sign(r).expect("valid");
    assert_eq!(body_len(&s), target);
    s
}

/// An in-memory queue: answers from `script` first, then accepts everything.
#[derive(Default)]
struct MemQueue {
    script: VecDeque<FailureKind>,
    always_fail: Option<FailureKind>,
    attempts: usize,
    sent: Vec<OutgoingMessage>,
    uploads: Vec<S3Upload>,
}

impl MemQueue {
    fn failing(n: usize, kind: FailureKind) -> Self {
        Self {
            script: std::iter::repeat_n(kind, n).collect(),
            ..Self::default()
        }
    }
    fn down() -> Self {
        Self {
            always_fail: Some(FailureKind::Network),
            ..Self::default()
        }
    }
    fn answer(&mut self) -> Result<(), QueueError> {
        self.attempts += 1;
        match self.always_fail.or_else(|| self.script.pop_front()) {
            Some(kind) => Err(QueueError {
                kind,
                detail: format!("scripted {kind:?}"),
            }),
            None => Ok(()),
        }
    }
}

impl ResultQueue for MemQueue {
    fn put_object(&mut self, upload: &S3Upload) -> Result<(), QueueError> {
        self.answer()?;
        self.uploads.push(upload.clone());
        Ok(())
    }
    fn send(&mut self, message: &OutgoingMessage) -> Result<(), QueueError> {
        self.answer()?;
        self.sent.push(message.clone());
        Ok(())
    }
}

/// Virtual time: sleeping jumps the clock forward.
struct FakeClock {
    now: Instant,
    sleeps: usize,
}

impl Clock for FakeClock {
    fn now(&mut self) -> Instant {
        self.now
    }
    fn sleep_until(&mut self, at: Instant) {
        self.sleeps += 1;
        self.now = self.now.max(at);
    }
}

/// Backoff 100 ms doubling to 1 s, with jitter fixed at 0 (attempt at the half delay).
fn policy() -> DeliveryPolicy {
    DeliveryPolicy::new(Duration::from_millis(100), Duration::from_secs(1), || 0.0)
}

fn reporter(dir: &Path, queue: MemQueue) -> Reporter<MemQueue> {
    let (outbox, _) = Outbox::open(dir).expect("open");
    Reporter::new(outbox, plan_config(false), policy(), queue)
}

fn ids(v: &[SignedMatchResult]) -> Vec<&str> {
    v.iter().map(|s| s.result.match_id.as_str()).collect()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
        .collect();
    v.sort();
    v
}

/// put writes `<stem>.json`, pending lists it, remove deletes it.
#[test]
fn put_pending_remove() {
    let dir = TempDir::new();
    let (outbox, report) = Outbox::open(dir.path()).expect("open");
    assert_eq!(report.pending, 0);
    let a = signed(ARN);
    assert_eq!(outbox.put(&a).expect("put"), PutOutcome::Written);
    assert!(
        outbox
            .path_for(ARN)
            .ends_with(format!("{}.json", stem_for(ARN)))
    );
    assert_eq!(outbox.pending().expect("pending"), vec![a]);
    assert!(outbox.remove(ARN).expect("remove"));
    assert!(!outbox.remove(ARN).expect("remove again"));
    assert!(outbox.pending().expect("pending").is_empty());
}

/// The same result twice is a no-op; a different result for the same match is refused
/// and the first stays. A second process cannot open a directory in use.
#[test]
fn idempotent_and_conflicting_put() {
    let dir = TempDir::new();
    let (outbox, _) = Outbox::open(dir.path()).expect("open");
    let a = signed(ARN);
    outbox.put(&a).expect("put");
    assert_eq!(outbox.put(&a).expect("again"), PutOutcome::AlreadyPresent);
    let mut other = result(ARN);
    other.players[0].score = 99;
    let b = keyring().sign(other).expect("valid");
    assert!(matches!(outbox.put(&b), Err(OutboxError::Conflict(id)) if id == ARN));
    assert_eq!(outbox.pending().expect("pending"), vec![a]);
    assert!(matches!(
        Outbox::open(dir.path()),
        Err(OutboxError::Locked(_))
    ));
}

/// Processes sharing a root each get a slot of their own; a slot freed by a process
/// that ended is taken by the next one, with what it left.
#[test]
fn slots_are_shared_out_and_taken_over() {
    let dir = TempDir::new();
    let (a, _, slot_a) = Outbox::open_slot(dir.path(), 2).expect("first");
    let (b, _, slot_b) = Outbox::open_slot(dir.path(), 2).expect("second");
    assert_eq!((slot_a, slot_b), (0, 1));
    assert!(matches!(
        Outbox::open_slot(dir.path(), 2),
        Err(OutboxError::Locked(root)) if root == dir.path()
    ));
    b.put(&signed(ARN)).expect("put");
    drop(b);
    let (c, report, slot_c) = Outbox::open_slot(dir.path(), 2).expect("after one ended");
    assert_eq!(slot_c, 1);
    assert_eq!(report.pending, 1, "the result left behind is found");
    assert_eq!(c.pending().expect("pending"), vec![signed(ARN)]);
    drop(a);
}

/// A crash mid-write leaves only a temp file: `open` deletes it and it is never listed.
/// A truncated or foreign `.json` is renamed to `.corrupt`, not deleted.
#[test]
fn leftovers_cleaned_and_corrupt_set_aside() {
    let dir = TempDir::new();
    {
        let (outbox, _) = Outbox::open(dir.path()).expect("open");
        outbox.put(&signed("good")).expect("put");
    }
    let full = serde_json::to_string(&signed("torn")).expect("json");
    fs::write(dir.path().join("torn.123-0.tmp"), &full).expect("tmp");
    fs::write(dir.path().join("torn.json"), &full[..full.len() / 2]).expect("truncated");
    // A valid result under another match's name would never be removed: also corrupt.
    fs::write(dir.path().join("misfiled.json"), &full).expect("misfiled");
    let (outbox, report) = Outbox::open(dir.path()).expect("reopen");
    assert_eq!(report.temp_removed, 1);
    assert_eq!(report.set_aside.len(), 2);
    assert_eq!(report.pending, 1);
    assert_eq!(ids(&outbox.pending().expect("pending")), ["good"]);
    assert_eq!(
        names_in(dir.path()),
        [
            ".lock",
            "good.json",
            "misfiled.json.corrupt",
            "torn.json.corrupt"
        ]
    );
    // The corrupt file's name is free again and a second corrupt copy never overwrites.
    fs::write(dir.path().join("torn.json"), "{").expect("again");
    outbox.pending().expect("pending");
    assert!(dir.path().join("torn.json.corrupt.1").exists());
}

/// Results wait in the outbox while the queue is down, survive a restart (reopen), and
/// are re-sent oldest first by the next process.
#[test]
fn results_survive_restart_and_are_resent() {
    let dir = TempDir::new();
    let t0 = Instant::now();
    let mut r = reporter(dir.path(), MemQueue::down());
    assert!(matches!(
        r.report(&signed("first"), t0).expect("report"),
        Delivery::Deferred { retry_at: Some(_) }
    ));
    std::thread::sleep(Duration::from_millis(20)); // distinct mtimes for the order
    // Backing off: the second is stored but not even tried.
    assert!(matches!(
        r.report(&signed("second"), t0).expect("report"),
        Delivery::Deferred { .. }
    ));
    assert_eq!(r.queue().attempts, 1);
    drop(r); // the process dies

    let mut r = reporter(dir.path(), MemQueue::default());
    let pass = r.retry_pending(Instant::now()).expect("retry");
    assert_eq!((pass.sent, pass.set_aside, pass.remaining), (2, 0, 0));
    let bodies: Vec<_> = r.queue().sent.iter().map(|m| m.body.clone()).collect();
    assert!(bodies[0].contains("\"first\"") && bodies[1].contains("\"second\""));
    assert!(r.outbox().pending().expect("pending").is_empty());
}

/// At exactly the inline limit the result goes inline; one byte more goes to S3 with a
/// pointer whose size and checksum cover exactly the uploaded bytes.
#[test]
fn inline_vs_s3_at_the_boundary() {
    let plan = plan_config(false);
    let at = sized(INLINE_LIMIT_BYTES);
    match plan.plan(&at) {
        MessagePlan::Inline(m) => {
            assert_eq!(m.body.len(), INLINE_LIMIT_BYTES);
            assert_eq!(m.fifo, None);
        }
        other => panic!("expected inline, got {other:?}"),
    }
    let over = sized(INLINE_LIMIT_BYTES + 1);
    let MessagePlan::Stored { upload, message } = plan.plan(&over) else {
        panic!("expected S3");
    };
    assert_eq!(upload.key, format!("results/{}.json", stem_for(ARN)));
    assert_eq!(
        upload.body,
        ResultMessage::Inline(over.clone()).to_json().into_bytes()
    );
    let ResultMessage::Stored(ptr) =
        ResultMessage::from_json(message.body.as_bytes()).expect("pointer parses")
    else {
        panic!("expected a pointer body");
    };
    assert_eq!(ptr.match_id, ARN);
    assert_eq!(ptr.s3.bucket, "results-bucket");
    assert_eq!(ptr.s3.size, (INLINE_LIMIT_BYTES + 1) as u64);
    assert_eq!(ptr.s3.sha256, sha256_hex(&upload.body));
    assert!(message.body.len() < 1024);
}

/// A body SQS would alter (U+FFFF, which SQS replaces) goes to S3 whatever its size.
#[test]
fn sqs_unsafe_characters_go_to_s3() {
    let mut r = result(ARN);
    r.players[0].player_id = "bad\u{FFFF}".into();
    let s = keyring().sign(r).expect("valid");
    assert!(matches!(
        plan_config(false).plan(&s),
        MessagePlan::Stored { .. }
    ));
}

/// FIFO: group and deduplication id are the match id; an id SQS would refuse (too long)
/// is replaced by its SHA-256, the same on every send.
#[test]
fn fifo_ids() {
    let MessagePlan::Inline(m) = plan_config(true).plan(&signed(ARN)) else {
        panic!("inline");
    };
    let ids = m.fifo.expect("fifo ids");
    assert_eq!((ids.group_id.as_str(), ids.dedup_id.as_str()), (ARN, ARN));
    let long = format!("{ARN}/{}", "x".repeat(150));
    let MessagePlan::Inline(m) = plan_config(true).plan(&signed(&long)) else {
        panic!("inline");
    };
    let ids = m.fifo.expect("fifo ids");
    assert_eq!(
        ids.dedup_id,
        format!("sha256:{}", sha256_hex(long.as_bytes()))
    );
    assert!(ids.dedup_id.len() <= 128 && ids.group_id == ids.dedup_id);
}

/// Delays double from the base to the cap, jitter places the attempt in [d/2, d), a
/// success resets, and a permanent failure neither backs off nor counts.
#[test]
fn backoff_schedule_with_injected_jitter() {
    let mut jitter = [0.0, 0.5, 0.0, 0.0, 0.0, 0.9, 0.0].into_iter();
    let mut p = DeliveryPolicy::new(
        Duration::from_millis(100),
        Duration::from_secs(1),
        move || jitter.next().unwrap_or(0.0),
    );
    let t = Instant::now();
    let ms = |v| t + Duration::from_millis(v);
    assert!(p.ready(t) && p.next_attempt_at().is_none());
    let got: Vec<_> = (0..6)
        .map(|_| p.on_failure(t, FailureKind::Throttled))
        .collect();
    let want: Vec<_> = [50, 150, 200, 400, 500, 950]
        .into_iter()
        .map(|v| Verdict::RetryAt(ms(v)))
        .collect();
    assert_eq!(got, want);
    assert!(!p.ready(ms(949)) && p.ready(ms(950)));
    assert_eq!(p.on_failure(t, FailureKind::Invalid), Verdict::SetAside);
    assert_eq!(p.failures(), 6);
    p.on_success();
    assert!(p.ready(t) && p.failures() == 0);
    assert_eq!(
        p.on_failure(t, FailureKind::Server),
        Verdict::RetryAt(ms(50))
    );
}

/// A message refused for good is moved to `.rejected` at once (one attempt, no backoff)
/// and the next result goes through.
#[test]
fn permanent_failures_set_aside() {
    let dir = TempDir::new();
    let mut r = reporter(dir.path(), MemQueue::failing(1, FailureKind::Invalid));
    let t = Instant::now();
    assert!(matches!(
        r.report(&signed("bad"), t).expect("report"),
        Delivery::SetAside { .. }
    ));
    assert_eq!(
        r.report(&signed("good"), t).expect("report"),
        Delivery::Sent
    );
    assert_eq!(r.queue().attempts, 2);
    assert!(r.policy().ready(t));
    assert!(r.outbox().pending().expect("pending").is_empty());
    assert_eq!(names_in(dir.path()), [".lock", "bad.json.rejected"]);
}

/// An oversized result is uploaded before its pointer is sent; if the upload fails
/// nothing is sent and the result stays in the outbox.
#[test]
fn oversized_results_upload_then_point() {
    let dir = TempDir::new();
    let mut r = reporter(dir.path(), MemQueue::failing(1, FailureKind::Server));
    let big = sized(INLINE_LIMIT_BYTES + 10);
    let t = Instant::now();
    assert!(matches!(
        r.report(&big, t).expect("report"),
        Delivery::Deferred { .. }
    ));
    assert!(r.queue().sent.is_empty() && r.queue().uploads.is_empty());
    let pass = r.retry_pending(t + Duration::from_secs(1)).expect("retry");
    assert_eq!(pass.sent, 1);
    assert_eq!(r.queue().uploads.len(), 1);
    assert!(r.queue().sent[0].body.contains("\"s3\""));
}

/// Draining retries on the backoff schedule until the queue accepts…
#[test]
fn drain_until_empty() {
    let dir = TempDir::new();
    let mut r = reporter(dir.path(), MemQueue::failing(3, FailureKind::Network));
    let mut clock = FakeClock {
        now: Instant::now(),
        sleeps: 0,
    };
    let start = clock.now;
    r.report(&signed(ARN), start).expect("report");
    let pass = r
        .drain(start + Duration::from_secs(10), &mut clock)
        .expect("drain");
    assert_eq!((pass.sent, pass.remaining), (1, 0));
    // Failures at 0, +50, +150 ms (jitter 0: half of 100, 200, 400); success at +350.
    assert_eq!(clock.now - start, Duration::from_millis(350));
    assert_eq!(r.queue().attempts, 4);
}

/// …and stops at the deadline when it does not: the result stays for the next start.
#[test]
fn drain_stops_at_the_deadline() {
    let dir = TempDir::new();
    let mut r = reporter(dir.path(), MemQueue::down());
    let mut clock = FakeClock {
        now: Instant::now(),
        sleeps: 0,
    };
    let start = clock.now;
    r.report(&signed(ARN), start).expect("report");
    let deadline = start + Duration::from_secs(2);
    let pass = r.drain(deadline, &mut clock).expect("drain");
    assert_eq!(pass.remaining, 1);
    assert!(clock.now <= deadline);
    // Attempts at 0, .05, .15, .35, .75, 1.25, 1.75 s; the next (2.25 s) is past it.
    assert_eq!(r.queue().attempts, 7);
    assert_eq!(clock.sleeps, 6);
    assert_eq!(r.outbox().pending().expect("pending").len(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any string encodes to safe characters and decodes back; the outbox stem is
    /// short enough for any file system and is the encoding itself when that fits.
    #[test]
    fn file_name_encoding_round_trips(id in any::<String>()) {
        let enc = encode_id(&id);
        prop_assert!(enc.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()
            || b"_-%ABCDEF".contains(&b)));
        prop_assert_eq!(decode_stem(&enc), Some(id.clone()));
        let stem = stem_for(&id);
        prop_assert!(stem.len() <= server::report::MAX_STEM_BYTES);
        if enc.len() <= server::report::MAX_STEM_BYTES {
            prop_assert_eq!(stem, enc);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any valid match id (1 to 256 bytes, any characters) is stored, listed and removed.
    #[test]
    fn outbox_accepts_any_match_id(id in "\\PC{1,100}") {
        prop_assume!(!id.is_empty() && id.len() <= 256);
        let dir = TempDir::new();
        let (outbox, _) = Outbox::open(dir.path()).expect("open");
        outbox.put(&signed(&id)).expect("put");
        let pending = outbox.pending().expect("pending");
        prop_assert_eq!(ids(&pending), [id.as_str()]);
        prop_assert!(outbox.remove(&id).expect("remove"));
    }
}
