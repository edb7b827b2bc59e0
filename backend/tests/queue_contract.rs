//! The result-queue contract: one suite of functions over `&dyn ResultQueue`, run
//! against [`EmbeddedQueue`] (in a temporary directory, with paused tokio time) and
//! against [`SqsQueue`] on the test bed's moto server, standard and FIFO (real time). Durations are whole seconds so the same suite means
//! the same thing to SQS; nothing here sleeps in real time under paused time.
//!
//! Below the suite: what only the embedded queue promises (restart, its own redrive).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use backend::provision::{ProvisionConfig, init};
use backend::queue::{
    EmbeddedQueue, MAX_BATCH, MAX_BODY_BYTES, QueueError, REDRIVE_REASON, Received, ResultQueue,
    SqsQueue,
};
use tokio::time::{Instant, sleep};

/// A directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        TempDir(std::env::temp_dir().join(tests::unique_name("queue")))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Receive counts the embedded queues of the suite allow before redriving.
const MAX_RECEIVES: u32 = 5;

const SECOND: Duration = Duration::from_secs(1);
const NO_WAIT: Duration = Duration::ZERO;
const VISIBILITY: Duration = Duration::from_secs(10);

/// Receives until `want` messages came or a 1 s poll comes back empty (SQS may return
/// fewer than are available per call).
async fn drain(queue: &dyn ResultQueue, want: usize, visibility: Duration) -> Vec<Received> {
    let mut all = Vec::new();
    while all.len() < want {
        let batch = queue.receive(MAX_BATCH, SECOND, visibility).await.unwrap();
        if batch.is_empty() {
            break;
        }
        all.extend(batch);
    }
    all
}

fn bodies(received: &[Received]) -> Vec<&str> {
    let mut bodies: Vec<&str> = received.iter().map(|r| r.body.as_str()).collect();
    bodies.sort_unstable();
    bodies
}

/// A sent message is received once with count 1 and its body; deleted, it is gone
/// for good, even after its visibility timeout.
async fn send_receive_delete(queue: &dyn ResultQueue) {
    let id = queue.send("result-1").await.unwrap();
    let got = queue.receive(MAX_BATCH, SECOND, SECOND).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, id);
    assert_eq!(got[0].body, "result-1");
    assert_eq!(got[0].receive_count, 1);
    queue.delete(&[got[0].receipt.clone()]).await.unwrap();
    sleep(2 * SECOND).await;
    assert!(
        queue
            .receive(MAX_BATCH, SECOND, SECOND)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A receive returns at most `max`, and a batch delete removes every message in it.
async fn at_most_max_per_receive(queue: &dyn ResultQueue) {
    for i in 0..13 {
        queue.send(&format!("m{i:02}")).await.unwrap();
    }
    let two = queue.receive(2, SECOND, VISIBILITY).await.unwrap();
    assert!((1..=2).contains(&two.len()), "{two:?}");
    let rest = drain(queue, 13 - two.len(), VISIBILITY).await;
    for batch in [&two[..], &rest[..]] {
        assert!(batch.iter().all(|r| r.receive_count == 1));
    }
    let mut all = two;
    all.extend(rest);
    let expected: Vec<String> = (0..13).map(|i| format!("m{i:02}")).collect();
    assert_eq!(bodies(&all), expected);
    for chunk in all.chunks(MAX_BATCH) {
        let receipts: Vec<_> = chunk.iter().map(|r| r.receipt.clone()).collect();
        queue.delete(&receipts).await.unwrap();
    }
    sleep(VISIBILITY + SECOND).await;
    assert!(
        queue
            .receive(MAX_BATCH, NO_WAIT, SECOND)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        queue.receive(MAX_BATCH + 1, NO_WAIT, SECOND).await,
        Err(QueueError::InvalidArgument(_))
    ));
}

/// In flight, a message is invisible; after the visibility timeout it comes back, same
/// id and body, count 2, new receipt.
async fn redelivered_after_visibility_timeout(queue: &dyn ResultQueue) {
    queue.send("slow").await.unwrap();
    let first = queue.receive(1, SECOND, 3 * SECOND).await.unwrap();
    assert_eq!(first.len(), 1);
    sleep(SECOND).await;
    assert!(queue.receive(1, NO_WAIT, SECOND).await.unwrap().is_empty());
    sleep(3 * SECOND).await;
    let second = queue.receive(1, SECOND, 3 * SECOND).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].id, first[0].id);
    assert_eq!(second[0].body, "slow");
    assert_eq!(second[0].receive_count, 2);
    assert_ne!(second[0].receipt, first[0].receipt);
}

/// Extending the visibility keeps the message hidden past its first timeout, and it
/// still comes back after the extension runs out.
async fn extend_visibility_keeps_it_hidden(queue: &dyn ResultQueue) {
    queue.send("long batch").await.unwrap();
    let got = queue.receive(1, SECOND, 3 * SECOND).await.unwrap();
    sleep(2 * SECOND).await;
    queue
        .extend_visibility(&got[0].receipt, 6 * SECOND)
        .await
        .unwrap();
    sleep(3 * SECOND).await; // 5 s after the receive: past the first timeout.
    assert!(queue.receive(1, NO_WAIT, SECOND).await.unwrap().is_empty());
    sleep(4 * SECOND).await; // 7 s after the extension.
    let again = queue.receive(1, SECOND, SECOND).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].receive_count, 2);
}

/// A receipt of an earlier delivery deletes nothing (and extends nothing): the message
/// redelivered to someone else stays, and its current receipt still deletes it.
async fn stale_receipt_does_not_delete(queue: &dyn ResultQueue) {
    queue.send("contested").await.unwrap();
    let first = queue.receive(1, SECOND, 2 * SECOND).await.unwrap();
    sleep(3 * SECOND).await;
    let second = queue.receive(1, SECOND, 2 * SECOND).await.unwrap();
    assert_eq!(second[0].receive_count, 2);
    // SQS may report the stale receipt as invalid; either way nothing is deleted.
    let _ = queue.delete(&[first[0].receipt.clone()]).await;
    assert!(
        queue
            .extend_visibility(&first[0].receipt, VISIBILITY)
            .await
            .is_err()
    );
    sleep(3 * SECOND).await;
    let third = queue.receive(1, SECOND, 2 * SECOND).await.unwrap();
    assert_eq!(third.len(), 1, "the stale delete removed the message");
    assert_eq!(third[0].receive_count, 3);
    queue.delete(&[third[0].receipt.clone()]).await.unwrap();
    sleep(3 * SECOND).await;
    assert!(queue.receive(1, SECOND, SECOND).await.unwrap().is_empty());
}

/// `dead_letter` puts the body in the DLQ with its reason and takes it off the main
/// queue, leaving other messages alone.
async fn dead_letter_moves_with_reason(queue: &dyn ResultQueue) {
    queue.send("forged").await.unwrap();
    queue.send("genuine").await.unwrap();
    let got = drain(queue, 2, 2 * SECOND).await;
    let forged = got.iter().find(|r| r.body == "forged").unwrap();
    let genuine = got.iter().find(|r| r.body == "genuine").unwrap();
    queue.dead_letter(forged, "bad_signature").await.unwrap();
    let dlq = queue.peek_dead_letters(10).await.unwrap();
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].body, "forged");
    assert_eq!(dlq[0].reason, "bad_signature");
    sleep(3 * SECOND).await;
    let left = drain(queue, 2, VISIBILITY).await;
    assert_eq!(bodies(&left), ["genuine"]);
    assert_eq!(left[0].id, genuine.id);
}

/// A long poll on an empty queue returns as soon as a message is sent, not at the end
/// of its wait.
async fn long_poll_returns_on_send(queue: &dyn ResultQueue) {
    let start = Instant::now();
    let (got, ()) = tokio::join!(queue.receive(MAX_BATCH, 20 * SECOND, VISIBILITY), async {
        sleep(2 * SECOND).await;
        queue.send("late").await.unwrap();
    });
    let got = got.unwrap();
    assert_eq!(bodies(&got), ["late"]);
    let waited = start.elapsed();
    assert!(waited >= 2 * SECOND && waited < 10 * SECOND, "{waited:?}");
}

/// An empty long poll returns empty once its wait has passed, not before.
async fn empty_poll_returns_after_wait(queue: &dyn ResultQueue) {
    let start = Instant::now();
    let got = queue
        .receive(MAX_BATCH, 3 * SECOND, VISIBILITY)
        .await
        .unwrap();
    assert!(got.is_empty());
    let waited = start.elapsed();
    assert!(waited >= 3 * SECOND && waited < 8 * SECOND, "{waited:?}");
}

/// A long poll wakes when an in-flight message's visibility runs out during its wait.
async fn long_poll_returns_on_visibility_expiry(queue: &dyn ResultQueue) {
    queue.send("retry me").await.unwrap();
    queue.receive(1, SECOND, 3 * SECOND).await.unwrap();
    let start = Instant::now();
    let got = queue.receive(1, 20 * SECOND, VISIBILITY).await.unwrap();
    assert_eq!(bodies(&got), ["retry me"]);
    assert!(start.elapsed() < 10 * SECOND, "{:?}", start.elapsed());
}

/// A long poll waiting for an in-flight message re-arms when that message's visibility
/// is shortened during the wait, and gets it then, not at the end of its wait.
async fn long_poll_sees_a_shortened_visibility(queue: &dyn ResultQueue) {
    queue.send("handed back").await.unwrap();
    let held = queue.receive(1, SECOND, 100 * SECOND).await.unwrap();
    let start = Instant::now();
    let (got, ()) = tokio::join!(queue.receive(1, 20 * SECOND, VISIBILITY), async {
        sleep(2 * SECOND).await;
        queue
            .extend_visibility(&held[0].receipt, SECOND)
            .await
            .unwrap();
    });
    let got = got.unwrap();
    assert_eq!(bodies(&got), ["handed back"]);
    assert_eq!(got[0].receive_count, 2);
    assert!(start.elapsed() < 10 * SECOND, "{:?}", start.elapsed());
}

/// Concurrent receives never hand out the same message twice within its visibility.
async fn concurrent_receives_share_nothing(queue: &dyn ResultQueue) {
    for i in 0..25 {
        queue.send(&format!("m{i:02}")).await.unwrap();
    }
    let polls = (0..4).map(|_| drain(queue, 25, 100 * SECOND));
    let all: Vec<Received> = futures_util::future::join_all(polls)
        .await
        .into_iter()
        .flatten()
        .collect();
    let expected: Vec<String> = (0..25).map(|i| format!("m{i:02}")).collect();
    assert_eq!(bodies(&all), expected);
}

/// A body of exactly [`MAX_BODY_BYTES`] (the 256 KiB the reporter may send inline, with
/// its margin) goes through whole; one byte more is refused before it is sent.
async fn largest_body_round_trips(queue: &dyn ResultQueue) {
    assert_eq!(MAX_BODY_BYTES, protocol::result::SQS_MAX_MESSAGE_BYTES);
    let largest = "r".repeat(MAX_BODY_BYTES);
    queue.send(&largest).await.unwrap();
    let got = drain(queue, 1, VISIBILITY).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].body == largest, "{} bytes back", got[0].body.len());
    let err = queue.send(&format!("{largest}r")).await.unwrap_err();
    assert!(matches!(err, QueueError::InvalidArgument(_)), "{err}");
}

/// One queue instance of every contract test. Tests in `moto_differs` are `#[ignore]`d
/// on moto (run them with `--ignored` against real SQS): moto 5.2.5 still accepts an
/// earlier delivery's receipt handle in `DeleteMessage` and `ChangeMessageVisibility`,
/// which real SQS does not.
macro_rules! sqs_instance {
    ($module:ident, $fifo:expr, [$($name:ident),*], [$($differs:ident),*]) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let queue = super::sqs_queue($fifo).await;
                    super::$name(&queue).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "moto accepts stale receipt handles; run against real SQS"]
                async fn $differs() {
                    let queue = super::sqs_queue($fifo).await;
                    super::$differs(&queue).await;
                }
            )*
        }
    };
}

macro_rules! contract {
    (everywhere: [$($name:ident),* $(,)?], moto_differs: [$($differs:ident),* $(,)?] $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(start_paused = true)]
                async fn $name() {
                    let dir = super::TempDir::new();
                    let queue = super::EmbeddedQueue::open(&dir.0, super::MAX_RECEIVES).unwrap();
                    super::$name(&queue).await;
                }
            )*
            $(
                #[tokio::test(start_paused = true)]
                async fn $differs() {
                    let dir = super::TempDir::new();
                    let queue = super::EmbeddedQueue::open(&dir.0, super::MAX_RECEIVES).unwrap();
                    super::$differs(&queue).await;
                }
            )*
        }
        // Standard queues on moto, made by `provision::init`, in real time.
        sqs_instance!(sqs, false, [$($name),*], [$($differs),*]);
        // FIFO queues on moto (each message its own group).
        sqs_instance!(sqs_fifo, true, [$($name),*], [$($differs),*]);
    };
}

/// A fresh queue pair with a redrive after [`MAX_RECEIVES`] receives, as `backend init`
/// makes it, on the test bed's moto server.
async fn sqs_queue(fifo: bool) -> SqsQueue {
    let sdk = tests::aws_config().await;
    let mut config = ProvisionConfig::new(
        &format!("{}-", tests::unique_name("q")),
        &tests::unique_name("queue-blobs"),
    );
    config.fifo = fifo;
    config.max_receive_count = MAX_RECEIVES;
    let made = init(&sdk, &config).await.unwrap();
    SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), made.queue)
}

contract!(
    everywhere: [
        send_receive_delete,
        at_most_max_per_receive,
        redelivered_after_visibility_timeout,
        extend_visibility_keeps_it_hidden,
        dead_letter_moves_with_reason,
        long_poll_returns_on_send,
        empty_poll_returns_after_wait,
        long_poll_returns_on_visibility_expiry,
        long_poll_sees_a_shortened_visibility,
        concurrent_receives_share_nothing,
        largest_body_round_trips,
    ],
    moto_differs: [stale_receipt_does_not_delete],
);

/// Embedded only: sent, in-flight and dead-lettered messages survive a reopen; what was
/// in flight is visible again at once, with its receive count kept; deletes stay done.
#[tokio::test(start_paused = true)]
async fn embedded_survives_reopen() {
    let dir = TempDir::new();
    {
        let queue = EmbeddedQueue::open(&dir.0, MAX_RECEIVES).unwrap();
        for body in ["in flight", "waiting", "deleted", "dead"] {
            queue.send(body).await.unwrap();
        }
        let got = drain(&queue, 4, VISIBILITY).await;
        let by_body = |b: &str| got.iter().find(|r| r.body == b).unwrap().clone();
        queue.delete(&[by_body("deleted").receipt]).await.unwrap();
        queue
            .dead_letter(&by_body("dead"), "unknown_match")
            .await
            .unwrap();
        // "waiting" visible again, "in flight" still hidden when the process stops.
        queue
            .extend_visibility(&by_body("waiting").receipt, Duration::ZERO)
            .await
            .unwrap();
    }
    // Behind `Arc<dyn ResultQueue>`, as the consumer holds it.
    let embedded = EmbeddedQueue::open(&dir.0, MAX_RECEIVES).unwrap();
    let queue: Arc<dyn ResultQueue> = Arc::new(embedded.clone());
    let got = queue.receive(MAX_BATCH, NO_WAIT, VISIBILITY).await.unwrap();
    assert_eq!(bodies(&got), ["in flight", "waiting"]);
    assert!(got.iter().all(|r| r.receive_count == 2), "{got:?}");
    let dlq = embedded.dlq_messages();
    assert_eq!(dlq.len(), 1);
    assert_eq!(
        (dlq[0].body.as_str(), dlq[0].reason.as_str()),
        ("dead", "unknown_match")
    );
    // New ids do not collide with the old ones.
    let new = queue.send("after restart").await.unwrap();
    assert!(got.iter().all(|r| r.id != new));
}

/// Embedded only: a message never deleted is delivered `max_receives` times, then the
/// next receive moves it to the DLQ with `max_receives_exceeded` instead of delivering
/// it, and it never comes back; messages behind it are delivered in the same poll.
#[tokio::test(start_paused = true)]
async fn embedded_redrives_after_max_receives() {
    let dir = TempDir::new();
    let queue = EmbeddedQueue::open(&dir.0, 3).unwrap();
    queue.send("poison").await.unwrap();
    for count in 1..=3 {
        let got = queue.receive(1, 20 * SECOND, SECOND).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].receive_count, count);
        sleep(2 * SECOND).await;
    }
    queue.send("fine").await.unwrap();
    let got = queue.receive(MAX_BATCH, NO_WAIT, SECOND).await.unwrap();
    assert_eq!(bodies(&got), ["fine"]);
    let dlq = queue.dlq_messages();
    assert_eq!(dlq.len(), 1);
    assert_eq!(
        (dlq[0].body.as_str(), dlq[0].reason.as_str()),
        ("poison", REDRIVE_REASON)
    );
    queue.delete(&[got[0].receipt.clone()]).await.unwrap();
    assert!(queue.is_empty());
    // The redrive is durable.
    drop(queue);
    let queue = EmbeddedQueue::open(&dir.0, 3).unwrap();
    assert!(queue.is_empty());
    assert_eq!(queue.dlq_messages().len(), 1);
}

/// Embedded only: receive counts survive a reopen, so a message that keeps crashing
/// its consumer is still redriven across restarts.
#[tokio::test(start_paused = true)]
async fn embedded_receive_counts_survive_reopen() {
    let dir = TempDir::new();
    for count in 1..=2 {
        let queue = EmbeddedQueue::open(&dir.0, 2).unwrap();
        if count == 1 {
            queue.send("crashes the consumer").await.unwrap();
        }
        let got = queue.receive(1, NO_WAIT, VISIBILITY).await.unwrap();
        assert_eq!(got[0].receive_count, count);
    }
    let queue = EmbeddedQueue::open(&dir.0, 2).unwrap();
    assert!(
        queue
            .receive(1, NO_WAIT, VISIBILITY)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(queue.dlq_messages()[0].reason, REDRIVE_REASON);
}
