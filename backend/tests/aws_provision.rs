//! `provision::init` on the test bed's moto server: twice in a row changes nothing, and
//! the stores work on what it made; plus the SQS-only behaviour the contract suite
//! cannot show (SQS's own redrive) and how SQS failures are typed.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveSpecification, TimeToLiveStatus};
use aws_sdk_sqs::types::QueueAttributeName;
use backend::profiles::{CommitOutcome, DynamoProfiles, PLACEMENT_TTL_ATTRIBUTE, ProfileStore};
use backend::provision::{DEFAULT_MAX_RECEIVE_COUNT, ProvisionConfig, ProvisionError, init};
use backend::queue::{
    MAX_BODY_BYTES, QueueError, REDRIVE_REASON, Receipt, ResultQueue, SqsQueue, SqsQueueConfig,
};
use backend::ratings::{PlacedPlayer, PlacementRecord, PlayerProfile};

const SECOND: Duration = Duration::from_secs(1);

fn config(prefix: &str) -> ProvisionConfig {
    ProvisionConfig::new(
        &format!("{}-", tests::unique_name(prefix)),
        &tests::unique_name("bucket"),
    )
}

/// The placements table's TTL: (status, attribute).
async fn ttl_of(dynamo: &aws_sdk_dynamodb::Client, table: &str) -> (TimeToLiveStatus, String) {
    let out = dynamo
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .unwrap();
    let d = out.time_to_live_description().unwrap();
    (
        d.time_to_live_status().unwrap().clone(),
        d.attribute_name().unwrap_or_default().to_owned(),
    )
}

async fn max_receive_count(sqs: &aws_sdk_sqs::Client, url: &str) -> serde_json::Value {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::RedrivePolicy)
        .send()
        .await
        .unwrap();
    let policy = &out.attributes().unwrap()[&QueueAttributeName::RedrivePolicy];
    serde_json::from_str::<serde_json::Value>(policy).unwrap()["maxReceiveCount"].clone()
}

/// A second `init` returns the same names and URLs; the profile store, the queue and
/// the bucket all work on what it made.
///
/// Built with the production loader (`backend::aws::load_sdk_config`), which must
/// honour `AWS_ENDPOINT_URL` like the test bed's own configuration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_twice_then_the_stores_work() {
    let endpoint = tests::aws_config().await.endpoint_url().map(str::to_owned);
    let sdk = backend::aws::load_sdk_config().await.unwrap();
    assert_eq!(sdk.endpoint_url().map(str::to_owned), endpoint);
    assert!(backend::aws::s3_endpoint_configured(&sdk));
    let cfg = config("prov");
    let first = init(&sdk, &cfg).await.unwrap();
    let second = init(&sdk, &cfg).await.unwrap();
    assert_eq!(first, second);
    assert!(first.queue.queue_url.ends_with(&cfg.queue_name()));
    assert!(first.queue.dlq_url.ends_with(&cfg.dlq_name()));
    assert!(first.dlq_arn.ends_with(&cfg.dlq_name()));
    assert!(!first.queue.fifo);

    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let count = max_receive_count(&sqs, &first.queue.queue_url).await;
    assert_eq!(
        count.as_u64(),
        Some(u64::from(DEFAULT_MAX_RECEIVE_COUNT)),
        "{count}"
    );

    let queue = SqsQueue::new(sqs, first.queue.clone());
    let id = queue.send("hello").await.unwrap();
    let got = queue.receive(1, SECOND, SECOND).await.unwrap();
    assert_eq!((got[0].id.clone(), got[0].body.as_str()), (id, "hello"));

    let store = DynamoProfiles::new(aws_sdk_dynamodb::Client::new(&sdk), first.tables.clone());
    let mut p = PlayerProfile::new("p1");
    p.version = 1;
    let expected = BTreeMap::from([("p1".to_owned(), 0)]);
    let outcome = store.commit_result("m1", std::slice::from_ref(&p), &expected);
    assert_eq!(outcome.await.unwrap(), CommitOutcome::Applied);
    assert_eq!(store.get_profile("p1").await.unwrap(), Some(p));

    let s3 = backend::aws::s3_client(&sdk);
    s3.head_bucket().bucket(&first.bucket).send().await.unwrap();

    // Placement records carry their expiry, and the table's TTL is on for it (once:
    // the second `init` found it on).
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    assert_eq!(
        ttl_of(&dynamo, &first.tables.placements).await,
        (
            TimeToLiveStatus::Enabled,
            PLACEMENT_TTL_ATTRIBUTE.to_owned()
        )
    );
    let hour = Duration::from_secs(3600);
    let store = store.with_placement_retention(hour);
    let record = PlacementRecord {
        match_id: "arn:aws:gamelift:us-east-1::gamesession/fleet-1/m-ttl".to_owned(),
        players: vec![PlacedPlayer {
            player_id: "p1".to_owned(),
            player_session_id: "psess-1".to_owned(),
            team: None,
        }],
    };
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    store.put_placement(&record).await.unwrap();
    let item = dynamo
        .get_item()
        .table_name(&first.tables.placements)
        .key("pk", AttributeValue::S(record.match_id.clone()))
        .send()
        .await
        .unwrap();
    let Some(AttributeValue::N(expires_at)) = item.item().unwrap().get(PLACEMENT_TTL_ATTRIBUTE)
    else {
        panic!("no {PLACEMENT_TTL_ATTRIBUTE} on {item:?}");
    };
    let expires_at: u64 = expires_at.parse().unwrap();
    let earliest = (before + hour).as_secs();
    assert!(
        (earliest..earliest + 60).contains(&expires_at),
        "expires_at {expires_at}, expected about {earliest}"
    );
    assert_eq!(
        store.get_placement(&record.match_id).await.unwrap(),
        Some(record)
    );
}

/// A placements table whose TTL is on another attribute is not changed: `init` says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ttl_on_another_attribute_is_a_conflict() {
    let sdk = tests::aws_config().await;
    let cfg = config("prov-ttl");
    let made = init(&sdk, &cfg).await.unwrap();
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let spec = |attribute: &str, enabled| {
        TimeToLiveSpecification::builder()
            .attribute_name(attribute)
            .enabled(enabled)
            .build()
            .unwrap()
    };
    for ttl in [spec(PLACEMENT_TTL_ATTRIBUTE, false), spec("other", true)] {
        dynamo
            .update_time_to_live()
            .table_name(&made.tables.placements)
            .time_to_live_specification(ttl)
            .send()
            .await
            .unwrap();
    }
    let err = init(&sdk, &cfg).await.unwrap_err();
    assert!(
        matches!(&err, ProvisionError::Conflict { resource, .. } if *resource == made.tables.placements),
        "{err}"
    );
    assert_eq!(
        ttl_of(&dynamo, &made.tables.placements).await,
        (TimeToLiveStatus::Enabled, "other".to_owned())
    );
}

/// FIFO queues get `.fifo` names and a FIFO DLQ; a changed `max_receive_count` is
/// applied to the existing queue by the next `init`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_init_and_a_changed_redrive() {
    let sdk = tests::aws_config().await;
    let mut cfg = config("prov-fifo");
    cfg.fifo = true;
    let made = init(&sdk, &cfg).await.unwrap();
    assert!(made.queue.fifo);
    assert!(made.queue.queue_url.ends_with(".fifo") && made.queue.dlq_url.ends_with(".fifo"));
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&made.queue.dlq_url)
        .attribute_names(QueueAttributeName::FifoQueue)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attrs.attributes().unwrap()[&QueueAttributeName::FifoQueue],
        "true"
    );

    cfg.max_receive_count = 9;
    let again = init(&sdk, &cfg).await.unwrap();
    assert_eq!(again, made);
    assert_eq!(
        max_receive_count(&sqs, &made.queue.queue_url)
            .await
            .as_u64(),
        Some(9)
    );
}

/// A configuration that cannot name valid resources is refused before any call.
#[tokio::test]
async fn invalid_configurations_create_nothing() {
    let sdk = tests::aws_config().await;
    let mut cfg = config("prov-bad");
    cfg.max_receive_count = 0;
    let err = init(&sdk, &cfg).await.unwrap_err();
    assert!(matches!(err, ProvisionError::InvalidConfig(_)), "{err}");
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let tables = dynamo.list_tables().send().await.unwrap();
    assert!(
        !tables
            .table_names()
            .iter()
            .any(|t| t.starts_with(&cfg.prefix))
    );
}

/// SQS's own redrive: a message received `maxReceiveCount` times and never deleted is
/// moved to the DLQ by SQS, keeping its id; `peek_dead_letters` reports it with
/// [`REDRIVE_REASON`].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_redrives_after_max_receives() {
    let sdk = tests::aws_config().await;
    let mut cfg = config("redrive");
    cfg.max_receive_count = 2;
    let made = init(&sdk, &cfg).await.unwrap();
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), made.queue);
    let id = queue.send("poison").await.unwrap();
    for count in 1..=2 {
        // The long poll returns when the 1 s visibility of the last delivery ends.
        let got = queue.receive(1, 10 * SECOND, SECOND).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].receive_count, count);
    }
    let got = queue.receive(1, 3 * SECOND, SECOND).await.unwrap();
    assert!(got.is_empty(), "{got:?}");
    let dlq = queue.peek_dead_letters(10).await.unwrap();
    assert_eq!(dlq.len(), 1);
    assert_eq!((&dlq[0].id, dlq[0].body.as_str()), (&id, "poison"));
    assert_eq!(dlq[0].reason, REDRIVE_REASON);
}

/// Bad arguments are typed errors and send nothing; a missing queue is refused for
/// good; an unreachable endpoint is transient.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_failures_are_typed() {
    let sdk = tests::aws_config().await;
    let made = init(&sdk, &config("typed")).await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = SqsQueue::new(sqs.clone(), made.queue.clone());

    let big = "x".repeat(MAX_BODY_BYTES + 1);
    let err = queue.send(&big).await.unwrap_err();
    assert!(matches!(err, QueueError::InvalidArgument(_)), "{err}");
    let err = queue.receive(11, SECOND, SECOND).await.unwrap_err();
    assert!(matches!(err, QueueError::InvalidArgument(_)), "{err}");
    let err = queue.delete(&[Receipt(String::new())]).await.unwrap_err();
    assert!(matches!(err, QueueError::InvalidReceipt(_)), "{err}");
    let receipts = vec![Receipt("r".into()); 11];
    let err = queue.delete(&receipts).await.unwrap_err();
    assert!(matches!(err, QueueError::InvalidArgument(_)), "{err}");
    let err = queue
        .extend_visibility(&Receipt("never-issued".into()), SECOND)
        .await
        .unwrap_err();
    assert!(matches!(err, QueueError::NotInFlight(_)), "{err}");
    assert!(
        queue
            .receive(10, Duration::ZERO, SECOND)
            .await
            .unwrap()
            .is_empty(),
        "a refused call sent something"
    );

    let missing = SqsQueue::new(
        sqs,
        SqsQueueConfig {
            queue_url: format!("{}-gone", made.queue.queue_url),
            ..made.queue.clone()
        },
    );
    let err = missing.send("lost?").await.unwrap_err();
    assert!(
        matches!(err, QueueError::Refused(_)) && !err.is_transient(),
        "{err}"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable = aws_sdk_sqs::config::Builder::from(&sdk)
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .retry_config(aws_sdk_sqs::config::retry::RetryConfig::standard().with_max_attempts(1))
        .build();
    let down = SqsQueue::new(aws_sdk_sqs::Client::from_conf(unreachable), made.queue);
    let err = down.send("later").await.unwrap_err();
    assert!(
        matches!(err, QueueError::Unavailable(_)) && err.is_transient(),
        "{err}"
    );
}
