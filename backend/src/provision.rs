//! `backend init`: creates, idempotently, the AWS resources the backend's stores use.
//!
//! **What it is:** [`init`] creates the three DynamoDB tables of the profile store
//! ([`DynamoTables`]; on-demand billing, a string partition key `pk`, no sort key and
//! no secondary index, since every read is by key or a full scan; TTL on the placements
//! table's `expires_at`), the results queue
//! and its dead-letter queue (standard, or FIFO with [`ProvisionConfig::fifo`]) with a
//! redrive policy after [`ProvisionConfig::max_receive_count`] receives, and the S3
//! bucket for results too large for SQS (public access blocked). Anything that exists
//! already is kept: a second call with the same configuration changes nothing and
//! returns the same names and URLs, and a changed `max_receive_count` is applied to the
//! existing queue.
//!
//! **What it is not:** no IAM policies, no KMS keys, no lifecycle rules on the bucket,
//! no deletion of anything, and no CLI (the `backend init` subcommand calls [`init`]).

use std::collections::HashMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, PublicAccessBlockConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;

use crate::aws::{classify, error_code};
use crate::profiles::{DynamoTables, PLACEMENT_TTL_ATTRIBUTE};
use crate::queue::SqsQueueConfig;

/// `maxReceiveCount` of the results queue's redrive policy unless configured.
pub const DEFAULT_MAX_RECEIVE_COUNT: u32 = 5;
/// How long the results queue keeps a message (4 days, SQS's default).
pub const QUEUE_RETENTION: Duration = Duration::from_secs(4 * 24 * 60 * 60);
/// How long the DLQ keeps a message (14 days, SQS's maximum): a standard queue's
/// message keeps its original enqueue time in the DLQ, so the DLQ must keep longer.
pub const DLQ_RETENTION: Duration = Duration::from_secs(14 * 24 * 60 * 60);
/// How long [`init`] waits for a new table to become `ACTIVE`.
pub const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// What to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionConfig {
    /// Prefix of every table and queue name (say `prod-`); letters, digits, `-`, `_`.
    pub prefix: String,
    /// The S3 bucket for oversized results (a globally unique name).
    pub bucket: String,
    /// FIFO queues (`{prefix}results.fifo`, `{prefix}results-dlq.fifo`) instead of
    /// standard ones.
    pub fifo: bool,
    /// Receives of one message before SQS moves it to the DLQ (1 to 1000).
    pub max_receive_count: u32,
}

impl ProvisionConfig {
    /// Standard queues and [`DEFAULT_MAX_RECEIVE_COUNT`].
    pub fn new(prefix: &str, bucket: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            bucket: bucket.to_owned(),
            fifo: false,
            max_receive_count: DEFAULT_MAX_RECEIVE_COUNT,
        }
    }

    /// The results queue's name.
    pub fn queue_name(&self) -> String {
        format!(
            "{}results{}",
            self.prefix,
            if self.fifo { ".fifo" } else { "" }
        )
    }

    /// The dead-letter queue's name.
    pub fn dlq_name(&self) -> String {
        format!(
            "{}results-dlq{}",
            self.prefix,
            if self.fifo { ".fifo" } else { "" }
        )
    }

    fn validate(&self) -> Result<(), ProvisionError> {
        let invalid = |reason: String| Err(ProvisionError::InvalidConfig(reason));
        if !self
            .prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return invalid(format!(
                "prefix {:?}: use letters, digits, '-' and '_' only",
                self.prefix
            ));
        }
        // SQS names are at most 80 characters, the DLQ's is the longest.
        if self.dlq_name().len() > 80 {
            return invalid(format!(
                "prefix {:?} is too long for an SQS name",
                self.prefix
            ));
        }
        if !(1..=1000).contains(&self.max_receive_count) {
            return invalid(format!(
                "max_receive_count is {}, must be 1 to 1000",
                self.max_receive_count
            ));
        }
        let b = &self.bucket;
        if !(3..=63).contains(&b.len())
            || !b
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
            || !b.starts_with(|c: char| c.is_ascii_alphanumeric())
            || !b.ends_with(|c: char| c.is_ascii_alphanumeric())
        {
            return invalid(format!("bucket {b:?} is not a valid S3 bucket name"));
        }
        Ok(())
    }
}

/// What [`init`] made sure exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    /// The profile store's tables.
    pub tables: DynamoTables,
    /// The queues, as [`crate::queue::SqsQueue`] takes them.
    pub queue: SqsQueueConfig,
    /// The dead-letter queue's ARN (the redrive policy's target).
    pub dlq_arn: String,
    /// The bucket for oversized results.
    pub bucket: String,
}

/// What [`init`] can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The configuration cannot name valid resources; nothing was created.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A resource exists with settings the stores cannot use (a table with another key
    /// schema, a bucket owned by someone else).
    #[error("{resource} exists but is unusable: {detail}")]
    Conflict {
        /// The table, queue or bucket.
        resource: String,
        /// What is wrong with it.
        detail: String,
    },
    /// An AWS call failed; `transient` when running `init` again may succeed.
    #[error("{resource}: {detail}")]
    Service {
        /// The table, queue or bucket.
        resource: String,
        /// Whether a retry may help.
        transient: bool,
        /// The SDK's error.
        detail: String,
    },
    /// A new table did not become `ACTIVE` within [`TABLE_ACTIVE_TIMEOUT`].
    #[error("table {0} did not become ACTIVE in time")]
    TableNotActive(String),
}

fn service<E>(resource: &str, err: &aws_sdk_sqs::error::SdkError<E>) -> ProvisionError
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = classify(err);
    ProvisionError::Service {
        resource: resource.to_owned(),
        transient: failure.transient,
        detail: failure.detail,
    }
}

/// Creates whatever of `config`'s tables, queues and bucket is missing (see the module
/// documentation) and returns their names and URLs.
///
/// # Errors
///
/// [`ProvisionError`]; what was created before the failure stays, and a second call
/// picks up from there.
pub async fn init(
    sdk: &SdkConfig,
    config: &ProvisionConfig,
) -> Result<Provisioned, ProvisionError> {
    config.validate()?;
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let tables = DynamoTables::with_prefix(&config.prefix);
    for table in tables.all() {
        create_table(&dynamo, table).await?;
    }
    ensure_ttl(&dynamo, &tables.placements, PLACEMENT_TTL_ATTRIBUTE).await?;
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let (dlq_url, dlq_arn) = create_dlq(&sqs, config).await?;
    let queue_url = create_queue(&sqs, config, &dlq_arn).await?;
    let s3 = crate::aws::s3_client(sdk);
    create_bucket(&s3, sdk, &config.bucket).await?;
    Ok(Provisioned {
        tables,
        queue: SqsQueueConfig {
            queue_url,
            dlq_url,
            fifo: config.fifo,
        },
        dlq_arn,
        bucket: config.bucket.clone(),
    })
}

async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), ProvisionError> {
    let built = (
        AttributeDefinition::builder()
            .attribute_name("pk")
            .attribute_type(ScalarAttributeType::S)
            .build(),
        KeySchemaElement::builder()
            .attribute_name("pk")
            .key_type(KeyType::Hash)
            .build(),
    );
    let (Ok(attribute), Ok(key)) = built else {
        return Err(ProvisionError::InvalidConfig(format!(
            "table {table}: key schema does not build"
        )));
    };
    let created = client
        .create_table()
        .table_name(table)
        .attribute_definitions(attribute)
        .key_schema(key)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    match created {
        Ok(_) => tracing::info!(table, "created DynamoDB table"),
        Err(e) if error_code(&e) == Some("ResourceInUseException") => {
            tracing::debug!(table, "DynamoDB table exists");
        }
        Err(e) => return Err(service(table, &e)),
    }
    wait_active(client, table).await
}

/// Turns on DynamoDB's TTL on `attribute` of `table`, unless it is on already; TTL on
/// another attribute is a conflict (a table has one TTL attribute, and changing it is
/// the operator's call).
async fn ensure_ttl(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    attribute: &str,
) -> Result<(), ProvisionError> {
    let described = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| service(table, &e))?;
    let current = described.time_to_live_description();
    let status = current.and_then(|d| d.time_to_live_status());
    let on = matches!(
        status,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    );
    match current.and_then(|d| d.attribute_name()) {
        Some(name) if on && name == attribute => {
            tracing::debug!(table, attribute, "TTL already on");
            return Ok(());
        }
        Some(name) if on => {
            return Err(ProvisionError::Conflict {
                resource: table.to_owned(),
                detail: format!(
                    "TTL is on attribute {name:?}, the profile store sets {attribute:?}"
                ),
            });
        }
        _ => {}
    }
    let specification = TimeToLiveSpecification::builder()
        .attribute_name(attribute)
        .enabled(true)
        .build()
        .map_err(|e| ProvisionError::InvalidConfig(format!("table {table}: TTL: {e}")))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(specification)
        .send()
        .await
        .map_err(|e| service(table, &e))?;
    tracing::info!(table, attribute, "turned on DynamoDB TTL");
    Ok(())
}

/// Waits until `table` is `ACTIVE` and checks that its key is `pk` (string) alone.
async fn wait_active(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<(), ProvisionError> {
    let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_TIMEOUT;
    loop {
        let out = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| service(table, &e))?;
        let Some(description) = out.table() else {
            return Err(ProvisionError::Conflict {
                resource: table.to_owned(),
                detail: "DescribeTable returned no table".to_owned(),
            });
        };
        let keys: Vec<(&str, &KeyType)> = description
            .key_schema()
            .iter()
            .map(|k| (k.attribute_name(), k.key_type()))
            .collect();
        if keys != [("pk", &KeyType::Hash)] {
            return Err(ProvisionError::Conflict {
                resource: table.to_owned(),
                detail: format!("key schema is {keys:?}, the profile store needs pk (HASH) alone"),
            });
        }
        if description.table_status() == Some(&TableStatus::Active) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ProvisionError::TableNotActive(table.to_owned()));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Creates the queue `name` (only its immutable FIFO attribute at creation, so that an
/// existing queue is found rather than refused), then sets `attributes`.
async fn ensure_queue(
    client: &aws_sdk_sqs::Client,
    name: &str,
    fifo: bool,
    attributes: HashMap<QueueAttributeName, String>,
) -> Result<String, ProvisionError> {
    let mut create = client.create_queue().queue_name(name);
    if fifo {
        create = create.attributes(QueueAttributeName::FifoQueue, "true");
    }
    let url = create
        .send()
        .await
        .map_err(|e| service(name, &e))?
        .queue_url()
        .map(str::to_owned)
        .ok_or_else(|| ProvisionError::Service {
            resource: name.to_owned(),
            transient: true,
            detail: "CreateQueue returned no URL".to_owned(),
        })?;
    client
        .set_queue_attributes()
        .queue_url(&url)
        .set_attributes(Some(attributes))
        .send()
        .await
        .map_err(|e| service(name, &e))?;
    Ok(url)
}

async fn create_dlq(
    client: &aws_sdk_sqs::Client,
    config: &ProvisionConfig,
) -> Result<(String, String), ProvisionError> {
    let name = config.dlq_name();
    let attributes = HashMap::from([(
        QueueAttributeName::MessageRetentionPeriod,
        DLQ_RETENTION.as_secs().to_string(),
    )]);
    let url = ensure_queue(client, &name, config.fifo, attributes).await?;
    let out = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| service(&name, &e))?;
    let arn = out
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| ProvisionError::Service {
            resource: name.clone(),
            transient: true,
            detail: "GetQueueAttributes returned no QueueArn".to_owned(),
        })?;
    Ok((url, arn))
}

async fn create_queue(
    client: &aws_sdk_sqs::Client,
    config: &ProvisionConfig,
    dlq_arn: &str,
) -> Result<String, ProvisionError> {
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": config.max_receive_count,
    });
    let attributes = HashMap::from([
        (QueueAttributeName::RedrivePolicy, redrive.to_string()),
        (
            QueueAttributeName::MessageRetentionPeriod,
            QUEUE_RETENTION.as_secs().to_string(),
        ),
    ]);
    ensure_queue(client, &config.queue_name(), config.fifo, attributes).await
}

async fn create_bucket(
    client: &aws_sdk_s3::Client,
    sdk: &SdkConfig,
    bucket: &str,
) -> Result<(), ProvisionError> {
    let mut create = client.create_bucket().bucket(bucket);
    // us-east-1 takes no location constraint (and refuses one).
    if let Some(region) = sdk
        .region()
        .map(|r| r.as_ref())
        .filter(|r| *r != "us-east-1")
    {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => tracing::info!(bucket, "created S3 bucket"),
        Err(e) if error_code(&e) == Some("BucketAlreadyOwnedByYou") => {}
        Err(e) if error_code(&e) == Some("BucketAlreadyExists") => {
            // Ours if we may use it; someone else's otherwise.
            if let Err(head) = client.head_bucket().bucket(bucket).send().await {
                return Err(ProvisionError::Conflict {
                    resource: bucket.to_owned(),
                    detail: format!(
                        "the name is taken and the bucket is not ours: {}",
                        classify(&head).detail
                    ),
                });
            }
        }
        Err(e) => return Err(service(bucket, &e)),
    }
    client
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| service(bucket, &e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_configurations_are_refused() {
        let ok = ProvisionConfig::new("prod-", "results-bucket");
        assert!(ok.validate().is_ok());
        assert_eq!(ok.queue_name(), "prod-results");
        let fifo = ProvisionConfig {
            fifo: true,
            ..ok.clone()
        };
        assert_eq!(fifo.dlq_name(), "prod-results-dlq.fifo");
        for bad in [
            ProvisionConfig {
                prefix: "a b".into(),
                ..ok.clone()
            },
            ProvisionConfig {
                prefix: "x".repeat(70),
                ..ok.clone()
            },
            ProvisionConfig {
                max_receive_count: 0,
                ..ok.clone()
            },
            ProvisionConfig {
                max_receive_count: 1001,
                ..ok.clone()
            },
            ProvisionConfig {
                bucket: "Upper".into(),
                ..ok.clone()
            },
            ProvisionConfig {
                bucket: "ab".into(),
                ..ok.clone()
            },
            ProvisionConfig {
                bucket: "-dash".into(),
                ..ok.clone()
            },
        ] {
            assert!(
                matches!(bad.validate(), Err(ProvisionError::InvalidConfig(_))),
                "{bad:?}"
            );
        }
    }
}
