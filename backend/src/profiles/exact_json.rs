//! JSON that keeps every `f64` bit for bit.
//!
//! `serde_json` as the workspace builds it (without its `float_roundtrip` feature) may
//! parse a float's shortest decimal form one ULP off (`22.061347176569598` reads back as
//! `22.0613471765696`), and a stored rating must read back exactly: ratings are rated
//! again from it, and replicas must agree. So stored profiles write each non-integer
//! number as `{"f64bits":<u64>}` (its IEEE-754 bits), and reading puts it back. Integers
//! are written as plain numbers and parse exactly. Profiles hold no maps with
//! caller-chosen keys, so the marker object cannot collide with data.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

/// The marker key of an encoded float.
const F64_KEY: &str = "f64bits";

fn encode(value: Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => {
            let bits = n.as_f64().expect("an f64 number").to_bits();
            let mut marker = Map::new();
            marker.insert(F64_KEY.to_owned(), Value::from(bits));
            Value::Object(marker)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(encode).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, encode(v))).collect()),
        other => other,
    }
}

fn decode(value: Value) -> Result<Value, String> {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key(F64_KEY) => {
            let bits = map[F64_KEY]
                .as_u64()
                .ok_or_else(|| format!("{F64_KEY} is not a u64"))?;
            Number::from_f64(f64::from_bits(bits))
                .map(Value::Number)
                .ok_or_else(|| format!("{F64_KEY} {bits:#x} is not finite"))
        }
        Value::Array(items) => items
            .into_iter()
            .map(decode)
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| decode(v).map(|v| (k, v)))
            .collect::<Result<_, _>>()
            .map(Value::Object),
        other => Ok(other),
    }
}

/// `value` as exact JSON. Fails only on a non-finite float (which JSON cannot hold).
pub(super) fn to_vec<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&encode(serde_json::to_value(value)?))
}

/// Reads exact JSON written by [`to_vec`] (plain JSON without floats reads too).
pub(super) fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    serde_json::from_value(decode(value)?).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value that `serde_json`'s default parser reads one ULP off comes back exact,
    /// and so do the awkward ones.
    #[test]
    fn floats_round_trip_bit_for_bit() {
        let values = vec![
            22.061347176569598_f64,
            0.1,
            -0.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            5e-324,
            1.0,
        ];
        let back: Vec<f64> = from_slice(&to_vec(&values).unwrap()).unwrap();
        for (a, b) in values.iter().zip(&back) {
            assert_eq!(a.to_bits(), b.to_bits(), "{a} came back as {b}");
        }
    }

    /// Non-finite floats are refused when writing, not stored as something else.
    #[test]
    fn non_finite_is_refused() {
        assert!(
            to_vec(&vec![f64::NAN]).is_err() || {
                // serde_json writes NaN as null; reading it back as f64 must then fail.
                from_slice::<Vec<f64>>(&to_vec(&vec![f64::NAN]).unwrap()).is_err()
            }
        );
    }
}
