//! [`SqsQueue`]: the [`ResultQueue`] over Amazon SQS, following the mapping table in
//! the module documentation of [`crate::queue`].
//!
//! **What it is:** a thin translation: argument checks against SQS's limits, durations
//! rounded up to whole seconds, one SQS call per method (two for `dead_letter`), SQS
//! errors sorted into the trait's errors ([`QueueError::Unavailable`] when a retry may
//! help, [`QueueError::Refused`] when it will not). Standard and FIFO queues; on a FIFO
//! queue every send carries a `MessageGroupId` and a `MessageDeduplicationId`.
//!
//! **What it is not:** it creates no queues (see [`crate::provision`]) and sets no redrive
//! policy; the automatic move to the DLQ after `maxReceiveCount` receives is SQS's own.
//! It retries nothing itself beyond the SDK's standard retries.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
};
use sha2::{Digest, Sha256};

use super::{
    BoxFuture, DeadLetter, MAX_BATCH, MAX_BODY_BYTES, MessageId, QueueError, REASON_ATTRIBUTE,
    REDRIVE_REASON, Receipt, Received, ResultQueue, check_receive, check_visibility,
};

/// The DLQ message attribute that carries the main queue's message id (the DLQ copy
/// that [`ResultQueue::dead_letter`] sends gets a new id from SQS).
pub const ORIGINAL_ID_ATTRIBUTE: &str = "message_id";

/// Where an [`SqsQueue`] sends and receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsQueueConfig {
    /// The results queue's URL.
    pub queue_url: String,
    /// The dead-letter queue's URL (the target of the main queue's redrive policy).
    pub dlq_url: String,
    /// Both queues are FIFO queues (`.fifo` names).
    pub fifo: bool,
}

/// The result queue over SQS (standard or FIFO, with a DLQ).
///
/// FIFO ids: [`ResultQueue::send`] uses the hex SHA-256 of the body as deduplication id
/// and as group id (each message its own group, so one slow message holds up no
/// other; identical bodies sent within SQS's five-minute window are stored once).
/// [`ResultQueue::dead_letter`] uses the main queue's message id for both, so setting
/// the same message aside twice within the window puts one copy in the DLQ.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    config: SqsQueueConfig,
}

/// `d` in whole seconds, rounded up (SQS takes whole seconds; never shorter than asked).
/// Callers have checked `d` against SQS's limits, which fit in an `i32`.
fn whole_seconds_up(d: Duration) -> i32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    i32::try_from(secs).unwrap_or(i32::MAX)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Sorts an SQS failure into the trait's errors; `invalid_argument` codes become
/// [`QueueError::InvalidArgument`] (the call's input was refused, nothing was done).
fn queue_error<E>(what: &str, err: &SdkError<E>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = crate::aws::classify(err);
    let detail = format!("{what}: {}", failure.detail);
    match failure.code.as_deref() {
        Some(
            "InvalidMessageContents"
            | "MessageTooLong"
            | "InvalidParameterValue"
            | "InvalidParameterValueException"
            | "InvalidAttributeValue"
            | "InvalidAttributeName"
            | "MissingParameter"
            | "BatchRequestTooLong"
            | "TooManyEntriesInBatchRequest"
            | "EmptyBatchRequest"
            | "BatchEntryIdsNotDistinct"
            | "InvalidBatchEntryId",
        ) => QueueError::InvalidArgument(detail),
        _ if failure.transient => QueueError::Unavailable(detail),
        _ => QueueError::Refused(detail),
    }
}

/// True when the code says the receipt does not (or no longer) hold the message.
fn receipt_gone(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("ReceiptHandleIsInvalid" | "MessageNotInflight" | "InvalidReceiptHandle")
    )
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, QueueError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| QueueError::InvalidArgument(e.to_string()))
}

fn check_receipt(receipt: &Receipt) -> Result<(), QueueError> {
    if receipt.0.trim().is_empty() {
        return Err(QueueError::InvalidReceipt(receipt.0.clone()));
    }
    Ok(())
}

impl SqsQueue {
    /// A queue over `client` (build it from [`crate::aws::load_sdk_config`]).
    pub fn new(client: Client, config: SqsQueueConfig) -> Self {
        Self { client, config }
    }

    /// The configuration.
    pub fn config(&self) -> &SqsQueueConfig {
        &self.config
    }

    async fn delete_one(&self, receipt: &Receipt) -> Result<(), QueueError> {
        match self
            .client
            .delete_message()
            .queue_url(&self.config.queue_url)
            .receipt_handle(&receipt.0)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if receipt_gone(crate::aws::error_code(&e)) => Ok(()),
            Err(e) => Err(queue_error("DeleteMessage", &e)),
        }
    }
}

impl ResultQueue for SqsQueue {
    fn receive(
        &self,
        max: usize,
        wait: Duration,
        visibility: Duration,
    ) -> BoxFuture<'_, Result<Vec<Received>, QueueError>> {
        Box::pin(async move {
            check_receive(max, wait, visibility)?;
            let out = self
                .client
                .receive_message()
                .queue_url(&self.config.queue_url)
                .max_number_of_messages(max as i32)
                .wait_time_seconds(whole_seconds_up(wait))
                .visibility_timeout(whole_seconds_up(visibility))
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
                .await
                .map_err(|e| queue_error("ReceiveMessage", &e))?;
            let mut received = Vec::with_capacity(out.messages().len());
            for m in out.messages() {
                let (Some(id), Some(receipt)) = (m.message_id(), m.receipt_handle()) else {
                    return Err(QueueError::Unavailable(
                        "ReceiveMessage returned a message without id or receipt handle".to_owned(),
                    ));
                };
                let receive_count = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse::<u32>().ok())
                    .unwrap_or_else(|| {
                        tracing::warn!(message_id = id, "SQS sent no ApproximateReceiveCount");
                        1
                    });
                received.push(Received {
                    id: MessageId(id.to_owned()),
                    receipt: Receipt(receipt.to_owned()),
                    body: m.body().unwrap_or_default().to_owned(),
                    receive_count,
                });
            }
            Ok(received)
        })
    }

    fn delete<'a>(&'a self, receipts: &'a [Receipt]) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            if receipts.len() > MAX_BATCH {
                return Err(QueueError::InvalidArgument(format!(
                    "{} receipts, at most {MAX_BATCH} per delete",
                    receipts.len()
                )));
            }
            if receipts.is_empty() {
                return Ok(());
            }
            let mut entries = Vec::with_capacity(receipts.len());
            for (i, r) in receipts.iter().enumerate() {
                check_receipt(r)?;
                entries.push(
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&r.0)
                        .build()
                        .map_err(|e| QueueError::InvalidArgument(e.to_string()))?,
                );
            }
            let out = self
                .client
                .delete_message_batch()
                .queue_url(&self.config.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| queue_error("DeleteMessageBatch", &e))?;
            let failed: Vec<String> = out
                .failed()
                .iter()
                .filter(|f| !receipt_gone(Some(f.code())))
                .map(|f| {
                    format!(
                        "entry {}: {} {}",
                        f.id(),
                        f.code(),
                        f.message().unwrap_or_default()
                    )
                })
                .collect();
            if failed.is_empty() {
                return Ok(());
            }
            let detail = format!("DeleteMessageBatch: {}", failed.join("; "));
            // A sender fault will not go away; anything else (an internal error) may.
            if out.failed().iter().any(|f| f.sender_fault()) {
                Err(QueueError::Refused(detail))
            } else {
                Err(QueueError::Unavailable(detail))
            }
        })
    }

    fn extend_visibility<'a>(
        &'a self,
        receipt: &'a Receipt,
        visibility: Duration,
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            check_visibility(visibility)?;
            check_receipt(receipt)?;
            match self
                .client
                .change_message_visibility()
                .queue_url(&self.config.queue_url)
                .receipt_handle(&receipt.0)
                .visibility_timeout(whole_seconds_up(visibility))
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if receipt_gone(crate::aws::error_code(&e)) => {
                    Err(QueueError::NotInFlight(receipt.0.clone()))
                }
                // SQS reports an expired receipt handle as an invalid parameter.
                Err(e)
                    if crate::aws::error_code(&e) == Some("InvalidParameterValue")
                        && e.message()
                            .is_some_and(|m| m.to_ascii_lowercase().contains("receipt")) =>
                {
                    Err(QueueError::NotInFlight(receipt.0.clone()))
                }
                Err(e) => Err(queue_error("ChangeMessageVisibility", &e)),
            }
        })
    }

    fn dead_letter<'a>(
        &'a self,
        received: &'a Received,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            check_receipt(&received.receipt)?;
            let mut send = self
                .client
                .send_message()
                .queue_url(&self.config.dlq_url)
                .message_body(&received.body)
                .message_attributes(REASON_ATTRIBUTE, string_attribute(reason)?)
                .message_attributes(ORIGINAL_ID_ATTRIBUTE, string_attribute(&received.id.0)?);
            if self.config.fifo {
                let id = sha256_hex(received.id.0.as_bytes());
                send = send.message_group_id(&id).message_deduplication_id(&id);
            }
            send.send()
                .await
                .map_err(|e| queue_error("SendMessage to the DLQ", &e))?;
            self.delete_one(&received.receipt).await
        })
    }

    fn send<'a>(&'a self, body: &'a str) -> BoxFuture<'a, Result<MessageId, QueueError>> {
        Box::pin(async move {
            if body.len() > MAX_BODY_BYTES {
                return Err(QueueError::InvalidArgument(format!(
                    "body is {} bytes, at most {MAX_BODY_BYTES}",
                    body.len()
                )));
            }
            let mut send = self
                .client
                .send_message()
                .queue_url(&self.config.queue_url)
                .message_body(body);
            if self.config.fifo {
                let id = sha256_hex(body.as_bytes());
                send = send.message_group_id(&id).message_deduplication_id(&id);
            }
            let out = send
                .send()
                .await
                .map_err(|e| queue_error("SendMessage", &e))?;
            out.message_id()
                .map(|id| MessageId(id.to_owned()))
                .ok_or_else(|| QueueError::Unavailable("SendMessage returned no message id".into()))
        })
    }

    fn peek_dead_letters(&self, max: usize) -> BoxFuture<'_, Result<Vec<DeadLetter>, QueueError>> {
        Box::pin(async move {
            if max == 0 {
                return Ok(Vec::new());
            }
            let out = self
                .client
                .receive_message()
                .queue_url(&self.config.dlq_url)
                .max_number_of_messages(max.min(MAX_BATCH) as i32)
                .wait_time_seconds(0)
                .visibility_timeout(0)
                .message_attribute_names(REASON_ATTRIBUTE)
                .message_attribute_names(ORIGINAL_ID_ATTRIBUTE)
                .send()
                .await
                .map_err(|e| queue_error("ReceiveMessage on the DLQ", &e))?;
            Ok(out
                .messages()
                .iter()
                .map(|m| {
                    let attribute = |name: &str| {
                        m.message_attributes()
                            .and_then(|a| a.get(name))
                            .and_then(|v| v.string_value())
                            .map(str::to_owned)
                    };
                    DeadLetter {
                        // Moved by the redrive policy: SQS keeps the message id.
                        id: MessageId(
                            attribute(ORIGINAL_ID_ATTRIBUTE)
                                .unwrap_or_else(|| m.message_id().unwrap_or_default().to_owned()),
                        ),
                        body: m.body().unwrap_or_default().to_owned(),
                        reason: attribute(REASON_ATTRIBUTE)
                            .unwrap_or_else(|| REDRIVE_REASON.to_owned()),
                    }
                })
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds_up(Duration::ZERO), 0);
        assert_eq!(whole_seconds_up(Duration::from_millis(1200)), 2);
        assert_eq!(whole_seconds_up(Duration::from_secs(3)), 3);
        assert_eq!(whole_seconds_up(Duration::from_nanos(1)), 1);
        assert_eq!(whole_seconds_up(super::super::MAX_VISIBILITY), 43_200);
    }
}
