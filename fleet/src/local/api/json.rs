//! AWS JSON 1.1, the protocol boto3 and the older SDKs speak.
//!
//! # Wire format
//!
//! - Request: `POST /` with `X-Amz-Target: GameLift.<Operation>`,
//!   `Content-Type: application/x-amz-json-1.1` (`1.0` is accepted too), and the input
//!   structure as a JSON object keyed by member name. An empty body is an empty input.
//! - Success: `200`, `Content-Type: application/x-amz-json-1.1`, the output structure as
//!   a JSON object (absent members omitted).
//! - Error: the status of [`status`], the same content type, an `x-amzn-ErrorType`
//!   header with the exception's name, and a body holding `__type` (the absolute shape
//!   id; botocore and the SDKs keep the part after `#`) and `Message`.
//! - Timestamps are epoch seconds as a JSON number (`1700000000.5`), what the SDKs read
//!   with `expect_timestamp_or_null(.., Format::EpochSeconds)`; a Smithy `float` is the
//!   number with the float's shortest decimal form, and a non-finite float is the string
//!   `"NaN"`, `"Infinity"` or `"-Infinity"`.
//!
//! # Bad input
//!
//! A body that is not one JSON value (serde_json also caps nesting at 128) and members
//! of the wrong type are a `SerializationException`; none of them panics.

use serde_json::{Map, Number};

use super::error::{ApiError, ErrorKind};
use super::ops::{Operation, Request};
use super::outputs::Response;
use super::value::Value;

/// The `Content-Type` of requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The AWS JSON 1.0 content type, accepted on requests as the real endpoint does.
pub const CONTENT_TYPE_1_0: &str = "application/x-amz-json-1.0";

/// What `X-Amz-Target` starts with: the service's target prefix and a dot.
pub const TARGET_PREFIX: &str = "GameLift.";

/// Decodes the body of a request for the operation named `operation` (the part of
/// `X-Amz-Target` after [`TARGET_PREFIX`]).
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

/// The HTTP status an error is sent with under this protocol: as under RPC v2 CBOR,
/// except that an unknown operation is a 400, as AWS JSON endpoints answer it.
pub fn status(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::UnknownOperation => 400,
        kind => kind.status(),
    }
}

/// Decodes one complete JSON value; an empty body is an empty structure.
pub(crate) fn decode(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(Value::Map(Vec::new()));
    }
    let json: serde_json::Value = serde_json::from_slice(body).map_err(|err| {
        ApiError::new(
            ErrorKind::Serialization,
            format!("request body is not valid JSON: {err}"),
        )
    })?;
    Ok(from_json(json))
}

fn from_json(json: serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::Str(s),
        serde_json::Value::Array(items) => Value::List(items.into_iter().map(from_json).collect()),
        serde_json::Value::Object(fields) => {
            Value::Map(fields.into_iter().map(|(k, v)| (k, from_json(v))).collect())
        }
    }
}

/// Encodes a value as compact JSON.
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    // Serialising a `serde_json::Value` cannot fail.
    serde_json::to_vec(&to_json(value)).unwrap_or_default()
}

fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(n) => serde_json::Value::Number(Number::from(*n)),
        Value::Float(x) => float(*x),
        // Via the shortest decimal form of the f32, so 12.3f32 is 12.3, not 12.300000190734863.
        Value::Float32(x) => float(x.to_string().parse().unwrap_or(f64::from(*x))),
        Value::Str(s) => serde_json::Value::String(s.clone()),
        // No output shape has a blob member; nothing encodes one.
        Value::Bytes(_) => serde_json::Value::Null,
        Value::Time(t) => float(t.as_secs_f64()),
        Value::List(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(fields) => serde_json::Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect::<Map<_, _>>(),
        ),
    }
}

fn float(x: f64) -> serde_json::Value {
    match Number::from_f64(x) {
        Some(n) => serde_json::Value::Number(n),
        None if x.is_nan() => serde_json::Value::String("NaN".to_owned()),
        None if x > 0.0 => serde_json::Value::String("Infinity".to_owned()),
        None => serde_json::Value::String("-Infinity".to_owned()),
    }
}
