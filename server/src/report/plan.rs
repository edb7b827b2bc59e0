//! The message plan: how one signed result becomes SQS (and maybe S3) requests.

use protocol::result::{
    RESULT_SCHEMA_VERSION, ResultMessage, ResultPointer, S3Location, SQS_MAX_MESSAGE_BYTES,
    SignedMatchResult,
};

use super::names::stem_for;

/// Bytes of [`SQS_MAX_MESSAGE_BYTES`] kept free for message attributes. SQS counts the
/// body plus every attribute's name, type and value against its limit; the reporter sends
/// no attributes today, and 4 KiB leaves room for a few (trace ids, a content type)
/// without re-deciding which results fit.
pub const ATTRIBUTE_MARGIN_BYTES: usize = 4 * 1024;

/// Largest body sent inline: `SQS_MAX_MESSAGE_BYTES - ATTRIBUTE_MARGIN_BYTES` (258,048).
pub const INLINE_LIMIT_BYTES: usize = SQS_MAX_MESSAGE_BYTES - ATTRIBUTE_MARGIN_BYTES;

/// Longest FIFO `MessageGroupId` / `MessageDeduplicationId` SQS accepts.
pub const FIFO_ID_MAX_CHARS: usize = 128;

/// Key prefix of oversized results in the bucket.
pub const S3_KEY_PREFIX: &str = "results/";

/// Lowercase hex SHA-256 of some bytes. Injected so tests can count or vary it; production
/// passes [`sha256_hex`].
pub type Sha256Hex = fn(&[u8]) -> String;

/// Lowercase hex SHA-256, the checksum the consumer verifies an S3 result against.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// Where results go.
#[derive(Debug, Clone)]
pub struct PlanConfig {
    /// Bucket for results too large for SQS.
    pub bucket: String,
    /// The queue is FIFO: every message carries a group id and a deduplication id.
    pub fifo: bool,
    /// SHA-256 for the pointer's checksum and for over-long FIFO ids.
    pub sha256_hex: Sha256Hex,
}

/// FIFO-only send parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FifoIds {
    /// `MessageGroupId`: the match id (each match its own group, so no match waits behind
    /// another's retries).
    pub group_id: String,
    /// `MessageDeduplicationId`: the match id, so a re-send within SQS's 5-minute window
    /// is dropped by SQS itself (the consumer deduplicates beyond it).
    pub dedup_id: String,
}

/// One `SendMessage` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The message body (a [`ResultMessage`] as JSON).
    pub body: String,
    /// Present for a FIFO queue.
    pub fifo: Option<FifoIds>,
}

/// One `PutObject` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Upload {
    /// Bucket.
    pub bucket: String,
    /// Object key: `results/<file stem of the match id>.json`.
    pub key: String,
    /// The signed result's JSON, byte for byte what the pointer's size and sha256 cover.
    pub body: Vec<u8>,
}

/// What to do to deliver one result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessagePlan {
    /// Send the signed result as the message body.
    Inline(OutgoingMessage),
    /// Upload first; only after the upload succeeded, send the pointer message.
    Stored {
        /// The upload.
        upload: S3Upload,
        /// The [`ResultPointer`] message.
        message: OutgoingMessage,
    },
}

/// True if SQS keeps every character of `body`. SQS allows only `#x9 #xA #xD
/// #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF` and replaces others with U+FFFD, which
/// would break the signature. JSON escapes controls, but U+FFFE and U+FFFF pass through.
pub fn sqs_safe(body: &str) -> bool {
    body.chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..))
}

fn fifo_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c.is_ascii_punctuation()
}

/// A FIFO group or deduplication id for `match_id`: the id itself when it is 1 to 128
/// characters of ASCII alphanumerics and punctuation (``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~``,
/// SQS's rule; GameLift ARNs qualify), else `sha256:` + 64 hex digits (71 characters).
pub fn fifo_id(match_id: &str, sha256_hex: Sha256Hex) -> String {
    if !match_id.is_empty()
        && match_id.len() <= FIFO_ID_MAX_CHARS
        && match_id.chars().all(fifo_id_char)
    {
        match_id.to_owned()
    } else {
        format!("sha256:{}", sha256_hex(match_id.as_bytes()))
    }
}

impl PlanConfig {
    /// Decides inline vs S3 for `signed`: inline if its body is at most
    /// [`INLINE_LIMIT_BYTES`] and [`sqs_safe`], otherwise upload to S3 and send a pointer.
    pub fn plan(&self, signed: &SignedMatchResult) -> MessagePlan {
        let match_id = &signed.result.match_id;
        let fifo = self.fifo.then(|| {
            let id = fifo_id(match_id, self.sha256_hex);
            FifoIds {
                group_id: id.clone(),
                dedup_id: id,
            }
        });
        let body = ResultMessage::Inline(signed.clone()).to_json();
        if body.len() <= INLINE_LIMIT_BYTES && sqs_safe(&body) {
            return MessagePlan::Inline(OutgoingMessage { body, fifo });
        }
        // The inline body *is* the signed result's JSON: upload exactly those bytes.
        let bytes = body.into_bytes();
        let key = format!("{S3_KEY_PREFIX}{}.json", stem_for(match_id));
        let pointer = ResultPointer {
            schema: RESULT_SCHEMA_VERSION,
            match_id: match_id.clone(),
            s3: S3Location {
                bucket: self.bucket.clone(),
                key: key.clone(),
                size: bytes.len() as u64,
                sha256: (self.sha256_hex)(&bytes),
            },
        };
        MessagePlan::Stored {
            upload: S3Upload {
                bucket: self.bucket.clone(),
                key,
                body: bytes,
            },
            message: OutgoingMessage {
                body: ResultMessage::Stored(pointer).to_json(),
                fifo,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(_: &[u8]) -> String {
        "f".repeat(64)
    }

    #[test]
    fn fifo_ids_keep_arns_and_hash_the_rest() {
        let arn = "arn:aws:gamelift:us-west-2::gamesession/fleet-1/abc";
        assert_eq!(fifo_id(arn, fake), arn);
        let long = "a".repeat(129);
        assert_eq!(fifo_id(&long, fake), format!("sha256:{}", "f".repeat(64)));
        assert_eq!(fifo_id(&"a".repeat(128), fake), "a".repeat(128));
        assert!(fifo_id("has space", fake).starts_with("sha256:"));
        assert!(fifo_id("é", fake).starts_with("sha256:"));
    }

    #[test]
    fn sqs_character_set() {
        assert!(sqs_safe("{\"a\":\"\t\u{10FFFF}\u{FFFD}\"}"));
        assert!(!sqs_safe("\u{FFFF}"));
        assert!(!sqs_safe("\u{FFFE}"));
        assert!(!sqs_safe("\u{1}"));
    }
}
