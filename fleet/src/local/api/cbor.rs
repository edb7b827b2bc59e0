//! Smithy RPC v2 CBOR, the protocol `aws-sdk-gamelift` 1.13x speaks, on top of the SDK's
//! own codec crate (`aws-smithy-cbor`'s `Encoder` and `Decoder`).
//!
//! # Wire format
//!
//! - Request: `POST /service/GameLift/operation/<Operation>` with `smithy-protocol:
//!   rpc-v2-cbor`, `Content-Type: application/cbor`, and the input structure as a CBOR
//!   map keyed by member name. The SDK writes indefinite-length maps and definite-length
//!   arrays; both forms are read. An empty body is an empty input structure.
//! - Success: `200`, `smithy-protocol: rpc-v2-cbor`, `Content-Type: application/cbor`,
//!   the output structure as a CBOR map (absent members omitted).
//! - Error: the status of [`ErrorKind::status`], the same headers, and a map holding
//!   `__type` (the absolute shape id, `com.amazonaws.gamelift#NotFoundException`) and
//!   `Message`. The SDK's `cbor_errors::parse_error_metadata` strips the namespace and
//!   dispatches on the name; the typed exception parsers read `Message`.
//! - Integers are CBOR major type 0/1 in the smallest width; a Smithy `float`
//!   (`LatencyInMilliseconds`) is written single precision, because the SDK reads it with
//!   `Decoder::float`, which rejects doubles; timestamps are tag 1 around a double of
//!   epoch seconds (`Encoder::timestamp`), which the SDK reads with
//!   `Decoder::timestamp` and truncates to the millisecond. The instant is written half a
//!   microsecond past its millisecond so that every millisecond reads back exactly.
//!
//! # Bad input
//!
//! Anything that is not one well-formed CBOR item, trailing bytes, maps with non-string
//! keys, nesting deeper than [`MAX_DEPTH`], and members of the wrong type are a
//! `SerializationException`; none of them panics.

use aws_smithy_cbor::data::Type;
use aws_smithy_cbor::decode::DeserializeError;
use aws_smithy_cbor::{Decoder, Encoder};
use aws_smithy_types::DateTime;

use super::error::{ApiError, ErrorKind};
use super::ops::{Operation, Request};
use super::outputs::Response;
use super::shapes::Timestamp;
use super::value::Value;

/// The `Content-Type` of every request and response body.
pub const CONTENT_TYPE: &str = "application/cbor";

/// The `smithy-protocol` header value that selects this protocol.
pub const SMITHY_PROTOCOL: &str = "rpc-v2-cbor";

/// How deeply arrays and maps may nest in a request; the deepest input here is 3 levels.
pub const MAX_DEPTH: u32 = 32;

/// Decodes the body of a request for the operation named `operation`.
pub fn decode_request(operation: &str, body: &[u8]) -> Result<Request, ApiError> {
    let operation = Operation::from_name(operation).ok_or_else(|| {
        ApiError::new(
            ErrorKind::UnknownOperation,
            format!("unknown operation {operation:?}"),
        )
    })?;
    Request::from_value(operation, decode(body)?)
}

/// Encodes a successful response's body.
pub fn encode_response(response: &Response) -> Vec<u8> {
    encode(&response.to_value())
}

/// Encodes an error's body: `{"__type": <shape id>, "Message": <message>}`.
pub fn encode_error(error: &ApiError) -> Vec<u8> {
    encode(&Value::Map(vec![
        ("__type".to_owned(), Value::Str(error.kind.shape_id())),
        ("Message".to_owned(), Value::Str(error.message.clone())),
    ]))
}

/// The HTTP status an error is sent with under this protocol.
pub fn status(kind: ErrorKind) -> u16 {
    kind.status()
}

/// Decodes one complete CBOR item; an empty body is an empty structure.
pub(crate) fn decode(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(Value::Map(Vec::new()));
    }
    let decoder = &mut Decoder::new(body);
    let value = decode_item(decoder, 0).map_err(malformed)?;
    if decoder.position() != body.len() {
        return Err(malformed(DeserializeError::expected_end_of_stream(
            decoder.position(),
        )));
    }
    Ok(value)
}

fn malformed(err: DeserializeError) -> ApiError {
    ApiError::new(
        ErrorKind::Serialization,
        format!("request body is not valid CBOR for this operation: {err}"),
    )
}

fn decode_item(d: &mut Decoder<'_>, depth: u32) -> Result<Value, DeserializeError> {
    if depth > MAX_DEPTH {
        return Err(DeserializeError::custom(
            "maximum nesting depth exceeded",
            d.position(),
        ));
    }
    Ok(match d.datatype()? {
        Type::Bool => Value::Bool(d.boolean()?),
        Type::Null => {
            d.null()?;
            Value::Null
        }
        // The protocol says servers read `undefined` as `null`.
        Type::Undefined => {
            d.skip()?;
            Value::Null
        }
        Type::U8
        | Type::U16
        | Type::U32
        | Type::U64
        | Type::I8
        | Type::I16
        | Type::I32
        | Type::I64
        | Type::Int => Value::Int(d.long()?),
        Type::F16 | Type::F32 | Type::F64 => Value::Float(d.double()?),
        Type::String | Type::StringIndef => Value::Str(d.string()?),
        Type::Bytes | Type::BytesIndef => Value::Bytes(d.blob()?.into_inner()),
        Type::Array | Type::ArrayIndef => {
            let mut items = Vec::new();
            match d.list()? {
                // No preallocation from the declared length: it is attacker-controlled.
                Some(n) => {
                    for _ in 0..n {
                        items.push(decode_item(d, depth + 1)?);
                    }
                }
                None => {
                    while d.datatype()? != Type::Break {
                        items.push(decode_item(d, depth + 1)?);
                    }
                    d.skip()?;
                }
            }
            Value::List(items)
        }
        Type::Map | Type::MapIndef => {
            let mut fields = Vec::new();
            match d.map()? {
                Some(n) => {
                    for _ in 0..n {
                        let key = d.string()?;
                        fields.push((key, decode_item(d, depth + 1)?));
                    }
                }
                None => {
                    while d.datatype()? != Type::Break {
                        let key = d.string()?;
                        fields.push((key, decode_item(d, depth + 1)?));
                    }
                    d.skip()?;
                }
            }
            Value::Map(fields)
        }
        // The only tag the protocol uses is 1 (epoch timestamp); `timestamp` rejects others.
        Type::Tag => {
            let at = d.position();
            let time = d.timestamp()?;
            let millis = time
                .to_millis()
                .map_err(|_| DeserializeError::custom("timestamp out of range", at))?;
            Value::Time(Timestamp::from_millis(millis))
        }
        Type::Break | Type::Simple | Type::Unknown(_) => {
            return Err(DeserializeError::custom(
                "unexpected CBOR item",
                d.position(),
            ));
        }
    })
}

/// Encodes a value with `aws-smithy-cbor`; structures get definite-length maps.
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    let mut encoder = Encoder::new(Vec::new());
    encode_item(&mut encoder, value);
    encoder.into_writer()
}

fn encode_item(e: &mut Encoder, value: &Value) {
    match value {
        Value::Null => {
            e.null();
        }
        Value::Bool(b) => {
            e.boolean(*b);
        }
        Value::Int(n) => {
            e.long(*n);
        }
        Value::Float(x) => {
            e.double(*x);
        }
        Value::Float32(x) => {
            e.float(*x);
        }
        Value::Str(s) => {
            e.str(s);
        }
        Value::Bytes(b) => {
            e.blob_bytes(b);
        }
        Value::Time(t) => {
            e.timestamp(&nudged(*t));
        }
        Value::List(items) => {
            e.array(items.len());
            for item in items {
                encode_item(e, item);
            }
        }
        Value::Map(fields) => {
            e.map(fields.len());
            for (key, item) in fields {
                e.str(key);
                encode_item(e, item);
            }
        }
    }
}

/// The instant written for `time`: half a microsecond past its millisecond.
///
/// Tag 1 carries a double of epoch seconds, in which most milliseconds are not exact
/// (`…000.123` is stored as `…000.12299990654`), and `aws-sdk-gamelift`'s
/// `Decoder::timestamp` truncates to the millisecond, so the plain value would read back
/// 1 ms early. Half a microsecond is two doubles' spacing at today's epoch, so decoders
/// that truncate and decoders that round to the millisecond both land on the intended
/// one; a decoder that keeps microseconds sees the extra half.
fn nudged(time: Timestamp) -> DateTime {
    let millis = time.as_millis();
    let secs = millis.div_euclid(1000);
    let subsec_nanos = u32::try_from(millis.rem_euclid(1000)).unwrap_or(0) * 1_000_000 + 500;
    DateTime::from_secs_and_nanos(secs, subsec_nanos)
}
