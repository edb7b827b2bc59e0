//! Serde helpers that put a hard cap on every variable-length field of the game wire.
//!
//! bincode's configured limit already bounds the bytes a `String` may claim, but a
//! sequence's declared length is only a hint to serde, which pre-allocates up to 1 MiB from
//! it. These helpers refuse a declared length above the field's cap *before* allocating,
//! and refuse to encode a value the peer would reject, so both sides agree on the caps
//! listed in `protocol/docs/wire-format.md`.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{self, Serializer};
use serde::{Deserialize, Serialize};

/// Serialises a sequence, failing if it holds more than `MAX` elements.
pub(crate) fn ser_vec<T: Serialize, S: Serializer, const MAX: usize>(
    v: &[T],
    s: S,
) -> Result<S::Ok, S::Error> {
    if v.len() > MAX {
        return Err(ser::Error::custom(format_args!(
            "sequence of {} elements exceeds the cap of {MAX}",
            v.len()
        )));
    }
    v.serialize(s)
}

/// Deserialises a sequence, refusing a declared length above `MAX` before allocating.
pub(crate) fn de_vec<'de, T: Deserialize<'de>, D: Deserializer<'de>, const MAX: usize>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    struct Capped<T, const MAX: usize>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for Capped<T, MAX> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a sequence of at most {MAX} elements")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let declared = seq.size_hint().unwrap_or(0);
            if declared > MAX {
                return Err(de::Error::invalid_length(declared, &self));
            }
            let mut out = Vec::with_capacity(declared);
            while let Some(item) = seq.next_element()? {
                if out.len() == MAX {
                    return Err(de::Error::invalid_length(MAX + 1, &self));
                }
                out.push(item);
            }
            Ok(out)
        }
    }

    d.deserialize_seq(Capped::<T, MAX>(PhantomData))
}

/// Serialises a string, failing if it is longer than `MAX` bytes.
pub(crate) fn ser_str<S: Serializer, const MAX: usize>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    if v.len() > MAX {
        return Err(ser::Error::custom(format_args!(
            "string of {} bytes exceeds the cap of {MAX}",
            v.len()
        )));
    }
    s.serialize_str(v)
}

/// Deserialises a string of at most `MAX` bytes of UTF-8.
pub(crate) fn de_str<'de, D: Deserializer<'de>, const MAX: usize>(
    d: D,
) -> Result<String, D::Error> {
    let v = String::deserialize(d)?;
    if v.len() > MAX {
        return Err(de::Error::invalid_length(
            v.len(),
            &"a string within its cap",
        ));
    }
    Ok(v)
}
