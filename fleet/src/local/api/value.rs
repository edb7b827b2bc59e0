//! The document model between the typed shapes and the two wire codecs.
//!
//! Both protocols carry the same Smithy data model: structures are maps keyed by member
//! name, lists are arrays, `integer` is a number, `float` a number, `timestamp` epoch
//! seconds. The codecs (`cbor.rs`, `json.rs`) translate bytes to and from [`Value`]; the
//! shapes (`shapes.rs`, `sessions.rs`, `fleet.rs`, `ops.rs`, `outputs.rs`) read their
//! members out of a [`Value`] with [`Members`] and write them with [`Obj`]. Member names
//! therefore live in one place per shape, and the two codecs cannot disagree about them.
//!
//! Reading follows the real service: unknown members are ignored, a `null` member is an
//! absent member, a value of the wrong type is a `SerializationException`, and a missing
//! required member is an `InvalidRequestException` worded like GameLift's validation
//! errors.

use std::collections::BTreeMap;

use super::error::{ApiError, ErrorKind};
use super::shapes::Timestamp;

/// One decoded or to-be-encoded data item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// CBOR `null`/`undefined`, JSON `null`: the member is absent.
    Null,
    /// A boolean.
    Bool(bool),
    /// Any integer that fits an `i64`.
    Int(i64),
    /// A double, or any float read off the wire.
    Float(f64),
    /// A Smithy `float` member on the way out: CBOR single precision, as the SDK expects.
    Float32(f32),
    /// A text string.
    Str(String),
    /// A CBOR byte string (no operation here has a blob member; kept so an unknown member
    /// holding one is skipped rather than rejected).
    Bytes(Vec<u8>),
    /// A timestamp: CBOR tag 1, JSON epoch seconds.
    Time(Timestamp),
    /// A list.
    List(Vec<Value>),
    /// A structure or map, in wire order.
    Map(Vec<(String, Value)>),
}

impl Value {
    /// The Smithy-ish type name used in error messages.
    fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) | Value::Float32(_) => "number",
            Value::Str(_) => "string",
            Value::Bytes(_) => "blob",
            Value::Time(_) => "timestamp",
            Value::List(_) => "list",
            Value::Map(_) => "structure",
        }
    }
}

/// A shape that writes itself as a [`Value`].
pub(crate) trait ToValue {
    /// The wire form of `self`.
    fn to_value(&self) -> Value;
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Str(self.clone())
    }
}

impl ToValue for i32 {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Int(*self)
    }
}

impl ToValue for f32 {
    fn to_value(&self) -> Value {
        Value::Float32(*self)
    }
}

impl ToValue for Timestamp {
    fn to_value(&self) -> Value {
        Value::Time(*self)
    }
}

impl<T: ToValue> ToValue for Vec<T> {
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(ToValue::to_value).collect())
    }
}

impl ToValue for BTreeMap<String, String> {
    fn to_value(&self) -> Value {
        Value::Map(
            self.iter()
                .map(|(k, v)| (k.clone(), Value::Str(v.clone())))
                .collect(),
        )
    }
}

/// Builds a structure's map, omitting absent members as both protocols require.
#[derive(Debug, Default)]
pub(crate) struct Obj(Vec<(String, Value)>);

impl Obj {
    /// An empty structure.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds a member that is always present.
    pub(crate) fn field(mut self, name: &str, value: &impl ToValue) -> Self {
        self.0.push((name.to_owned(), value.to_value()));
        self
    }

    /// Adds a member when it is `Some`.
    pub(crate) fn opt<T: ToValue>(self, name: &str, value: &Option<T>) -> Self {
        match value {
            Some(value) => self.field(name, value),
            None => self,
        }
    }

    /// The finished structure.
    pub(crate) fn build(self) -> Value {
        Value::Map(self.0)
    }
}

/// A shape that reads itself from a [`Value`]; `path` names the member for error messages.
pub(crate) trait FromValue: Sized {
    /// Reads `value`, or explains what is wrong with it.
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError>;
}

/// The `SerializationException` for a value of the wrong type.
pub(crate) fn type_error(path: &str, expected: &str, found: &Value) -> ApiError {
    ApiError::new(
        ErrorKind::Serialization,
        format!(
            "expected {expected} for member '{path}', found {}",
            found.type_name()
        ),
    )
}

/// GameLift's wording for a failed model constraint (`InvalidRequestException`).
pub(crate) fn constraint_error(path: &str, value: &str, constraint: &str) -> ApiError {
    let at: Vec<String> = path.split('.').map(lower_camel).collect();
    ApiError::new(
        ErrorKind::InvalidRequest,
        format!(
            "1 validation error detected: Value {value} at '{}' failed to satisfy \
             constraint: {constraint}",
            at.join(".")
        ),
    )
}

/// `GameSessionId` → `gameSessionId`, as the service spells members in validation errors.
fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

impl FromValue for String {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        match value {
            Value::Str(s) => Ok(s),
            other => Err(type_error(path, "string", &other)),
        }
    }
}

impl FromValue for i32 {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        match value {
            Value::Int(n) => i32::try_from(n).map_err(|_| {
                ApiError::new(
                    ErrorKind::Serialization,
                    format!("member '{path}' is out of range for an integer: {n}"),
                )
            }),
            other => Err(type_error(path, "integer", &other)),
        }
    }
}

impl FromValue for f32 {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        match value {
            // Smithy allows a float to travel as an integer when that loses nothing.
            Value::Int(n) => Ok(n as f32),
            Value::Float(x) => Ok(x as f32),
            Value::Float32(x) => Ok(x),
            other => Err(type_error(path, "float", &other)),
        }
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        match value {
            Value::List(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    let path = format!("{path}.{i}");
                    match item {
                        // Every list in this API is dense.
                        Value::Null => Err(type_error(&path, "a list element", &Value::Null)),
                        item => T::from_value(item, &path),
                    }
                })
                .collect(),
            other => Err(type_error(path, "list", &other)),
        }
    }
}

impl FromValue for BTreeMap<String, String> {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        match value {
            Value::Map(entries) => entries
                .into_iter()
                .map(|(k, v)| {
                    let v = String::from_value(v, &format!("{path}.{k}"))?;
                    Ok((k, v))
                })
                .collect(),
            other => Err(type_error(path, "map", &other)),
        }
    }
}

/// The members of one input structure, taken out one by one.
#[derive(Debug)]
pub(crate) struct Members {
    /// Where this structure sits in the input, for error messages (empty at the top).
    path: String,
    /// Members not yet taken; whatever is left at the end is unknown and ignored.
    fields: Vec<(String, Value)>,
}

impl Members {
    /// Opens a structure; anything but a map is a `SerializationException`.
    pub(crate) fn new(value: Value, path: &str) -> Result<Self, ApiError> {
        match value {
            Value::Map(fields) => Ok(Self {
                path: path.to_owned(),
                fields,
            }),
            other => Err(type_error(
                if path.is_empty() { "<input>" } else { path },
                "structure",
                &other,
            )),
        }
    }

    fn member_path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// Removes a member; `null` counts as absent.
    fn take(&mut self, name: &str) -> Option<Value> {
        let i = self.fields.iter().position(|(k, _)| k == name)?;
        match self.fields.swap_remove(i).1 {
            Value::Null => None,
            value => Some(value),
        }
    }

    /// An optional member.
    pub(crate) fn opt<T: FromValue>(&mut self, name: &str) -> Result<Option<T>, ApiError> {
        let path = self.member_path(name);
        self.take(name)
            .map(|value| T::from_value(value, &path))
            .transpose()
    }

    /// A required member: absent is an `InvalidRequestException`, as on the real service.
    pub(crate) fn req<T: FromValue>(&mut self, name: &str) -> Result<T, ApiError> {
        let path = self.member_path(name);
        match self.take(name) {
            Some(value) => T::from_value(value, &path),
            None => Err(constraint_error(&path, "null", "Member must not be null")),
        }
    }

    /// A list member; absent reads as empty.
    pub(crate) fn list<T: FromValue>(&mut self, name: &str) -> Result<Vec<T>, ApiError> {
        Ok(self.opt(name)?.unwrap_or_default())
    }
}
