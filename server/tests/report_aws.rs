//! The reporter over real SQS and S3 APIs (the test bed's moto server): an inline
//! result arrives as the right SQS body; an oversized one is uploaded to S3 and a
//! pointer sent; an SQS outage while a match ends leaves the result in the outbox until
//! SQS is back; and SDK failures map to the right [`FailureKind`]. Passes are driven
//! explicitly with chosen `now`s: nothing sleeps.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::MessageSystemAttributeName;
use protocol::result::{Keyring, MatchResult, PlayerResult, ResultMessage, SignedMatchResult};
use server::report::{
    AwsResultQueue, Delivery, DeliveryPolicy, FailureKind, INLINE_LIMIT_BYTES, MessagePlan, Outbox,
    OutgoingMessage, PlanConfig, Reporter, ResultQueue, S3Upload, sha256_hex,
};
use tokio::runtime::Runtime;

const ARN: &str = "arn:aws:gamelift:us-east-1::gamesession/fleet-1/match-";

/// A directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        Self(std::env::temp_dir().join(tests::unique_name("outbox")))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn keyring() -> Keyring {
    Keyring::new("k1", &[7; 32]).unwrap()
}

/// A signed result of `players` players, each with 32 long stats when `fat`.
fn signed(match_id: &str, players: usize, fat: bool) -> SignedMatchResult {
    let result = MatchResult {
        match_id: match_id.into(),
        mode: "arena".into(),
        region: "us-east-1".into(),
        fleet_id: "fleet-1".into(),
        started_at_ms: 1_000,
        ended_at_ms: 2_000,
        cut_short: false,
        players: (0..players)
            .map(|i| PlayerResult {
                player_id: format!("player-{i}"),
                player_session_id: format!("psess-{i}"),
                team: None,
                placement: 1,
                score: 10,
                stats: if fat {
                    (0..32)
                        .map(|k| (format!("{k:0>2}{}", "s".repeat(62)), 1_000_000_000_000_000))
                        .collect()
                } else {
                    BTreeMap::new()
                },
                left_early: false,
            })
            .collect(),
    };
    keyring().sign(result).unwrap()
}

/// A queue (standard or FIFO) and a bucket on moto, and the SDK configuration.
struct Bed {
    sdk: aws_config::SdkConfig,
    queue_url: String,
    bucket: String,
}

fn bed(rt: &Runtime, fifo: bool) -> Bed {
    rt.block_on(async {
        let sdk = tests::aws_config().await;
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let mut create = sqs.create_queue();
        if fifo {
            create = create
                .queue_name(format!("{}.fifo", tests::unique_name("results")))
                .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true");
        } else {
            create = create.queue_name(tests::unique_name("results"));
        }
        let queue_url = create.send().await.unwrap().queue_url().unwrap().to_owned();
        let bucket = tests::unique_name("results");
        server::report::s3_client(&sdk)
            .create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        Bed {
            sdk,
            queue_url,
            bucket,
        }
    })
}

fn plan(bed: &Bed, fifo: bool) -> PlanConfig {
    PlanConfig {
        bucket: bed.bucket.clone(),
        fifo,
        sha256_hex,
    }
}

/// Every message now in the queue (moto returns all visible ones within a 1 s poll).
fn received(rt: &Runtime, bed: &Bed) -> Vec<aws_sdk_sqs::types::Message> {
    rt.block_on(async {
        aws_sdk_sqs::Client::new(&bed.sdk)
            .receive_message()
            .queue_url(&bed.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .send()
            .await
            .unwrap()
            .messages()
            .to_vec()
    })
}

/// A queue client whose SQS (and S3) endpoint is a closed loopback port, one attempt
/// per call.
fn unreachable(rt: &Runtime, bed: &Bed) -> AwsResultQueue {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let retry = aws_sdk_sqs::config::retry::RetryConfig::standard().with_max_attempts(1);
    let sqs = aws_sdk_sqs::config::Builder::from(&bed.sdk)
        .endpoint_url(&url)
        .retry_config(retry.clone())
        .build();
    let s3 = aws_sdk_s3::config::Builder::from(&bed.sdk)
        .endpoint_url(&url)
        .force_path_style(true)
        .retry_config(retry)
        .build();
    AwsResultQueue::new(
        rt.handle().clone(),
        aws_sdk_sqs::Client::from_conf(sqs),
        aws_sdk_s3::Client::from_conf(s3),
        &bed.queue_url,
    )
}

/// An inline result arrives in SQS with the signed result's JSON as its body, and
/// leaves the outbox. The client comes from the server's own loader, which must honour
/// `AWS_ENDPOINT_URL`.
#[test]
fn inline_result_arrives_in_sqs() {
    let rt = runtime();
    let bed = bed(&rt, false);
    let dir = TempDir::new();
    let (outbox, _) = Outbox::open(&dir.0).unwrap();
    let sdk = rt.block_on(server::report::load_sdk_config()).unwrap();
    assert_eq!(sdk.endpoint_url(), bed.sdk.endpoint_url());
    let queue = AwsResultQueue::from_config(rt.handle().clone(), &sdk, &bed.queue_url);
    let mut reporter = Reporter::new(
        outbox,
        plan(&bed, false),
        DeliveryPolicy::with_defaults(),
        queue,
    );
    let result = signed(&format!("{ARN}inline"), 2, false);
    assert!(matches!(
        plan(&bed, false).plan(&result),
        MessagePlan::Inline(_)
    ));
    assert_eq!(
        reporter.report(&result, Instant::now()).unwrap(),
        Delivery::Sent
    );
    assert!(reporter.outbox().pending().unwrap().is_empty());
    let got = received(&rt, &bed);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].body().unwrap(),
        ResultMessage::Inline(result.clone()).to_json()
    );
    let ResultMessage::Inline(back) =
        ResultMessage::from_json(got[0].body().unwrap().as_bytes()).unwrap()
    else {
        panic!("not inline");
    };
    assert_eq!(back, result);
    keyring().verify(&back).unwrap();
}

/// A result over the inline limit is uploaded to S3, then a pointer sent; the object is
/// the signed result, of the pointer's size and SHA-256.
#[test]
fn oversized_result_goes_to_s3_then_a_pointer() {
    let rt = runtime();
    let bed = bed(&rt, false);
    let dir = TempDir::new();
    let (outbox, _) = Outbox::open(&dir.0).unwrap();
    let queue = AwsResultQueue::from_config(rt.handle().clone(), &bed.sdk, &bed.queue_url);
    let mut reporter = Reporter::new(
        outbox,
        plan(&bed, false),
        DeliveryPolicy::with_defaults(),
        queue,
    );
    let result = signed(&format!("{ARN}big"), 99, true);
    assert!(ResultMessage::Inline(result.clone()).to_json().len() > INLINE_LIMIT_BYTES);
    assert_eq!(
        reporter.report(&result, Instant::now()).unwrap(),
        Delivery::Sent
    );
    let got = received(&rt, &bed);
    assert_eq!(got.len(), 1);
    let ResultMessage::Stored(pointer) =
        ResultMessage::from_json(got[0].body().unwrap().as_bytes()).unwrap()
    else {
        panic!("not a pointer: {:?}", got[0].body());
    };
    assert_eq!(pointer.match_id, result.result.match_id);
    assert_eq!(pointer.s3.bucket, bed.bucket);
    let bytes = rt.block_on(async {
        let object = server::report::s3_client(&bed.sdk)
            .get_object()
            .bucket(&pointer.s3.bucket)
            .key(&pointer.s3.key)
            .send()
            .await
            .unwrap();
        object.body.collect().await.unwrap().into_bytes().to_vec()
    });
    assert_eq!(bytes.len() as u64, pointer.s3.size);
    assert_eq!(sha256_hex(&bytes), pointer.s3.sha256);
    let stored: SignedMatchResult = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(stored, result);
}

/// SQS unreachable while a server finishes a match: the result waits in the outbox
/// (across a restart of the reporter), and is delivered once SQS answers again.
#[test]
fn result_waits_in_the_outbox_while_sqs_is_unreachable() {
    let rt = runtime();
    let bed = bed(&rt, false);
    let dir = TempDir::new();
    let (outbox, _) = Outbox::open(&dir.0).unwrap();
    let mut reporter = Reporter::new(
        outbox,
        plan(&bed, false),
        DeliveryPolicy::with_defaults(),
        unreachable(&rt, &bed),
    );
    let result = signed(&format!("{ARN}outage"), 2, false);
    let t0 = Instant::now();
    let Delivery::Deferred { retry_at: Some(at) } = reporter.report(&result, t0).unwrap() else {
        panic!("delivered to a closed port?");
    };
    assert_eq!(reporter.outbox().pending().unwrap(), vec![result.clone()]);
    // Still down at the next attempt: still waiting.
    let pass = reporter.retry_pending(at).unwrap();
    assert_eq!((pass.sent, pass.remaining), (0, 1));
    let retry_at = reporter.policy().next_attempt_at().unwrap();
    assert!(received(&rt, &bed).is_empty());

    // The process restarts with SQS back: the outbox on disk still has the result.
    let (outbox, policy, _) = reporter.into_parts();
    drop(outbox);
    let (outbox, report) = Outbox::open(&dir.0).unwrap();
    assert_eq!(outbox.pending().unwrap().len(), 1, "{report:?}");
    let queue = AwsResultQueue::from_config(rt.handle().clone(), &bed.sdk, &bed.queue_url);
    let mut reporter = Reporter::new(outbox, plan(&bed, false), policy, queue);
    // Before the backoff runs out nothing is tried.
    let early = reporter.retry_pending(t0).unwrap();
    assert_eq!((early.sent, early.remaining), (0, 1));
    let pass = reporter
        .retry_pending(retry_at + Duration::from_millis(1))
        .unwrap();
    assert_eq!((pass.sent, pass.remaining), (1, 0));
    assert!(reporter.outbox().pending().unwrap().is_empty());
    let got = received(&rt, &bed);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].body().unwrap(),
        ResultMessage::Inline(result).to_json()
    );
}

/// A FIFO queue gets the match id as message group (and deduplication) id.
#[test]
fn fifo_messages_carry_the_match_id() {
    let rt = runtime();
    let bed = bed(&rt, true);
    let dir = TempDir::new();
    let (outbox, _) = Outbox::open(&dir.0).unwrap();
    let queue = AwsResultQueue::from_config(rt.handle().clone(), &bed.sdk, &bed.queue_url);
    let mut reporter = Reporter::new(
        outbox,
        plan(&bed, true),
        DeliveryPolicy::with_defaults(),
        queue,
    );
    let match_id = format!("{ARN}fifo");
    assert_eq!(
        reporter
            .report(&signed(&match_id, 2, false), Instant::now())
            .unwrap(),
        Delivery::Sent
    );
    let got = received(&rt, &bed);
    assert_eq!(got.len(), 1);
    let group = got[0]
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId));
    assert_eq!(group, Some(&match_id));
}

/// Failure kinds: unreachable = Network (retry); a missing queue or bucket = Denied
/// (retry loudly: a configuration to fix, the result stays in the outbox); a message
/// SQS refuses = Invalid (set aside).
#[test]
fn sdk_failures_map_to_failure_kinds() {
    let rt = runtime();
    let bed = bed(&rt, false);
    let message = OutgoingMessage {
        body: "{}".into(),
        fifo: None,
    };
    let err = unreachable(&rt, &bed).send(&message).unwrap_err();
    assert_eq!(err.kind, FailureKind::Network, "{}", err.detail);

    let mut missing_queue = AwsResultQueue::from_config(
        rt.handle().clone(),
        &bed.sdk,
        format!("{}-gone", bed.queue_url),
    );
    let err = missing_queue.send(&message).unwrap_err();
    assert_eq!(err.kind, FailureKind::Denied, "{}", err.detail);
    let upload = S3Upload {
        bucket: tests::unique_name("no-such-bucket"),
        key: "results/x.json".into(),
        body: b"{}".to_vec(),
    };
    let err = missing_queue.put_object(&upload).unwrap_err();
    assert_eq!(err.kind, FailureKind::Denied, "{}", err.detail);

    let mut queue = AwsResultQueue::from_config(rt.handle().clone(), &bed.sdk, &bed.queue_url);
    // Over SQS's (and moto's) current limit of 1 MiB; the plan never sends this.
    let too_long = OutgoingMessage {
        body: "x".repeat(1024 * 1024 + 1),
        fifo: None,
    };
    let err = queue.send(&too_long).unwrap_err();
    assert_eq!(err.kind, FailureKind::Invalid, "{}", err.detail);
    assert!(received(&rt, &bed).is_empty());

    // Through the reporter: a missing queue defers, and the result stays.
    let dir = TempDir::new();
    let (outbox, _) = Outbox::open(&dir.0).unwrap();
    let mut reporter = Reporter::new(
        outbox,
        plan(&bed, false),
        DeliveryPolicy::with_defaults(),
        missing_queue,
    );
    let result = signed(&format!("{ARN}misconfigured"), 2, false);
    let delivery = reporter.report(&result, Instant::now()).unwrap();
    assert!(
        matches!(delivery, Delivery::Deferred { .. }),
        "{delivery:?}"
    );
    assert_eq!(reporter.outbox().pending().unwrap(), vec![result]);
}
