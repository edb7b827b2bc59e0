//! Proves the test bed is real: the servers `scripts/test.sh` starts answer the same
//! clients the project uses in production. SQS and DynamoDB go through the Rust AWS SDK
//! (to moto's server, over the workspace's one rustls HTTPS client); Redis sorted sets go
//! through the `redis` crate on tokio. Each test names its queue, table or key with
//! [`tests::unique_name`], so they run in parallel against the shared servers.

use std::collections::HashMap;

use anyhow::{Context, anyhow, ensure};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TableStatus,
};
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::QueueAttributeName;
use redis::AsyncCommands;

/// Turns an SDK error into one that shows the service's code and message, not only
/// "service error".
fn sdk<E: std::error::Error>(call: &'static str) -> impl FnOnce(E) -> anyhow::Error {
    move |error| anyhow!("{call}: {}", DisplayErrorContext(&error))
}

#[tokio::test]
async fn sqs_queue_sends_receives_and_deletes_a_message() -> anyhow::Result<()> {
    let sqs = aws_sdk_sqs::Client::new(&tests::aws_config().await);
    let name = tests::unique_name("bed-queue");

    let created = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .map_err(sdk("CreateQueue"))?;
    let queue_url = created
        .queue_url()
        .context("CreateQueue returned no queue URL")?;
    ensure!(
        queue_url.ends_with(&name),
        "queue URL {queue_url} does not name {name}"
    );

    let body = format!(r#"{{"match_id":"{name}","winner":"alice"}}"#);
    let sent = sqs
        .send_message()
        .queue_url(queue_url)
        .message_body(&body)
        .send()
        .await
        .map_err(sdk("SendMessage"))?;
    let sent_id = sent
        .message_id()
        .context("SendMessage returned no message id")?;

    // Long polling bounds the wait; moto answers as soon as the message is there.
    let received = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(5)
        .send()
        .await
        .map_err(sdk("ReceiveMessage"))?;
    let messages = received.messages();
    assert_eq!(
        messages.len(),
        1,
        "expected exactly the one message: {messages:?}"
    );
    let message = &messages[0];
    assert_eq!(message.message_id(), Some(sent_id));
    assert_eq!(message.body(), Some(body.as_str()));
    let receipt = message
        .receipt_handle()
        .context("received message has no receipt handle")?;

    sqs.delete_message()
        .queue_url(queue_url)
        .receipt_handle(receipt)
        .send()
        .await
        .map_err(sdk("DeleteMessage"))?;

    // Deleted, not merely in flight: neither visible nor invisible messages remain.
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .map_err(sdk("GetQueueAttributes"))?;
    let attributes = attributes
        .attributes()
        .context("GetQueueAttributes returned no attributes")?;
    for counter in [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
    ] {
        assert_eq!(
            attributes.get(&counter).map(String::as_str),
            Some("0"),
            "{counter:?} after DeleteMessage"
        );
    }

    sqs.delete_queue()
        .queue_url(queue_url)
        .send()
        .await
        .map_err(sdk("DeleteQueue"))?;
    Ok(())
}

#[tokio::test]
async fn dynamodb_table_puts_and_gets_an_item() -> anyhow::Result<()> {
    let dynamodb = aws_sdk_dynamodb::Client::new(&tests::aws_config().await);
    let table = tests::unique_name("bed-table");

    let created = dynamodb
        .create_table()
        .table_name(&table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()?,
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(sdk("CreateTable"))?;
    let description = created
        .table_description()
        .context("CreateTable returned no description")?;
    assert_eq!(description.table_name(), Some(table.as_str()));

    let described = dynamodb
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .map_err(sdk("DescribeTable"))?;
    assert_eq!(
        described.table().and_then(|t| t.table_status()),
        Some(&TableStatus::Active)
    );

    let item = HashMap::from([
        (
            "pk".to_owned(),
            AttributeValue::S("player#alice".to_owned()),
        ),
        ("rating".to_owned(), AttributeValue::N("1500".to_owned())),
        (
            "history".to_owned(),
            AttributeValue::L(vec![AttributeValue::S("match-1".to_owned())]),
        ),
    ]);
    dynamodb
        .put_item()
        .table_name(&table)
        .set_item(Some(item.clone()))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await
        .map_err(sdk("PutItem"))?;

    let got = dynamodb
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("player#alice".to_owned()))
        .consistent_read(true)
        .send()
        .await
        .map_err(sdk("GetItem"))?;
    assert_eq!(got.item(), Some(&item));

    // The same conditional put again is refused: the conditional writes that make result
    // processing exactly-once work on the bed.
    let again = dynamodb
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("player#alice".to_owned()))
        .item("rating", AttributeValue::N("9999".to_owned()))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await;
    match again {
        Err(error) => {
            let error = error.into_service_error();
            assert!(
                error.is_conditional_check_failed_exception(),
                "expected ConditionalCheckFailedException, got {}",
                DisplayErrorContext(&error)
            );
        }
        Ok(_) => panic!("a conditional put on an existing key succeeded"),
    }
    let unchanged = dynamodb
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("player#alice".to_owned()))
        .consistent_read(true)
        .send()
        .await
        .map_err(sdk("GetItem"))?;
    assert_eq!(unchanged.item(), Some(&item));

    dynamodb
        .delete_table()
        .table_name(&table)
        .send()
        .await
        .map_err(sdk("DeleteTable"))?;
    Ok(())
}

#[tokio::test]
async fn redis_sorted_set_ranks_players() -> anyhow::Result<()> {
    let mut redis = tests::redis_connection().await?;
    let key = tests::unique_name("bed-ranking");

    let added: usize = redis
        .zadd_multiple(
            &key,
            &[(1500.0, "alice"), (1720.0, "bob"), (1610.0, "carol")],
        )
        .await?;
    assert_eq!(added, 3);

    let ranking: Vec<(String, f64)> = redis.zrevrange_withscores(&key, 0, -1).await?;
    assert_eq!(
        ranking,
        [
            ("bob".to_owned(), 1720.0),
            ("carol".to_owned(), 1610.0),
            ("alice".to_owned(), 1500.0),
        ]
    );
    let bob: Option<usize> = redis.zrevrank(&key, "bob").await?;
    let alice: Option<usize> = redis.zrevrank(&key, "alice").await?;
    let nobody: Option<usize> = redis.zrevrank(&key, "nobody").await?;
    assert_eq!((bob, alice, nobody), (Some(0), Some(2), None));

    // Absolute values, written twice as a replayed result would: same outcome.
    for _ in 0..2 {
        let added: usize = redis.zadd(&key, "alice", 1800.0).await?;
        assert_eq!(added, 0, "alice was already a member");
    }
    let alice: Option<usize> = redis.zrevrank(&key, "alice").await?;
    let score: Option<f64> = redis.zscore(&key, "alice").await?;
    assert_eq!((alice, score), (Some(0), Some(1800.0)));

    let removed: usize = redis.del(&key).await?;
    assert_eq!(removed, 1);
    Ok(())
}
