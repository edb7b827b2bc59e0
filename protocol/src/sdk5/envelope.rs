//! Frames: the envelope fields (`Action`, `RequestId`, `StatusCode`, `ErrorMessage`) with
//! the action-specific body flattened beside them at the top level (§3.1), and the
//! client-side classification of inbound frames (§3.2).
//!
//! Envelope fields are read strictly by type (a non-string `RequestId` or a non-integer
//! `StatusCode` is [`Sdk5Error::BadEnvelope`]), `null` means absent, and an empty
//! `Action`, `RequestId` or `ErrorMessage` is the same as an absent one.

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::action::Action;
use super::error::{Sdk5Error, ServiceError, ServiceErrorKind};
use super::pushes::Push;
use super::requests::{Request, RequestBody};

/// The four envelope keys; never part of a body.
const ENVELOPE_KEYS: [&str; 4] = ["Action", "RequestId", "StatusCode", "ErrorMessage"];

/// A request as the service side receives it, or as a client builds it.
///
/// ```json
/// {"Action":"AcceptPlayerSession","RequestId":"5c3b…","GameSessionId":"arn:…","PlayerSessionId":"psess-…"}
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RequestFrame {
    /// `RequestId`: the correlation id the response must echo (never empty once parsed).
    pub request_id: String,
    /// The action and its fields.
    pub request: Request,
}

impl RequestFrame {
    /// A frame for `request` with this `RequestId`.
    pub fn new(request_id: impl Into<String>, request: impl Into<Request>) -> RequestFrame {
        RequestFrame {
            request_id: request_id.into(),
            request: request.into(),
        }
    }

    /// Decodes a text frame on the service side, dispatching on `Action`.
    ///
    /// Errors, in the order they are checked: [`Json`](Sdk5Error::Json),
    /// [`NotAnObject`](Sdk5Error::NotAnObject), [`BadEnvelope`](Sdk5Error::BadEnvelope),
    /// [`MissingAction`](Sdk5Error::MissingAction), [`UnknownAction`](Sdk5Error::UnknownAction),
    /// [`UnexpectedAction`](Sdk5Error::UnexpectedAction) (a push name),
    /// [`MissingRequestId`](Sdk5Error::MissingRequestId), [`BadField`](Sdk5Error::BadField).
    /// Unknown extra fields are ignored; `StatusCode`/`ErrorMessage` on a request are too.
    pub fn parse(text: &str) -> Result<RequestFrame, Sdk5Error> {
        let (header, body) = split_frame(text)?;
        let request_id = header.request_id;
        let Some(name) = header.action else {
            return Err(Sdk5Error::MissingAction { request_id });
        };
        let Some(action) = Action::from_name(&name) else {
            return Err(Sdk5Error::UnknownAction {
                action: name,
                request_id,
            });
        };
        let Some(decoded) = Request::decode(action, Value::Object(body)) else {
            return Err(Sdk5Error::UnexpectedAction { action, request_id });
        };
        let Some(request_id) = request_id else {
            return Err(Sdk5Error::MissingRequestId { action });
        };
        match decoded {
            Ok(request) => Ok(RequestFrame {
                request_id,
                request,
            }),
            Err(source) => Err(Sdk5Error::BadField {
                action: name,
                request_id: Some(request_id),
                source,
            }),
        }
    }

    /// The request's `Action`.
    pub const fn action(&self) -> Action {
        self.request.action()
    }

    /// Encodes the frame: `Action`, `RequestId`, then the body fields.
    pub fn to_json(&self) -> String {
        self.request.encode(&self.request_id)
    }

    /// A `StatusCode: 200` response with no body fields, echoing `Action` and `RequestId`.
    /// Right for the eight actions whose [`RequestBody::Response`] is
    /// [`EmptyBody`](super::EmptyBody); use [`ResponseFrame::success`] for the others.
    pub fn ok_response(&self) -> ResponseFrame {
        ResponseFrame {
            action: self.action().as_str().to_owned(),
            request_id: self.request_id.clone(),
            status_code: Some(200),
            error_message: None,
            body: Map::new(),
        }
    }

    /// An error response echoing `Action` and `RequestId`.
    pub fn error_response(
        &self,
        kind: ServiceErrorKind,
        message: impl Into<String>,
    ) -> ResponseFrame {
        ResponseFrame::error(self.action().as_str(), &*self.request_id, kind, message)
    }
}

/// Encodes a request frame from a typed body, for the client side:
/// `{"Action":<R::ACTION>,"RequestId":<request_id>,…body}`.
pub fn encode_request<R: RequestBody>(request_id: &str, body: &R) -> String {
    encode_frame(R::ACTION.as_str(), Some(request_id), None, None, body)
}

/// A response frame (service → process): envelope plus the action-specific body,
/// kept as raw JSON fields until the receiver asks for a type ([`body`](Self::body)).
///
/// ```json
/// {"Action":"AcceptPlayerSession","RequestId":"5c3b…","StatusCode":200}
/// {"Action":"AcceptPlayerSession","RequestId":"5c3b…","StatusCode":400,"ErrorMessage":"…"}
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseFrame {
    /// `Action`, echoed from the request (empty if a peer did not echo it; then it is not
    /// written either).
    pub action: String,
    /// `RequestId`, echoed from the request.
    pub request_id: String,
    /// `StatusCode`; `None` if the frame had none (which counts as "not 200").
    pub status_code: Option<i64>,
    /// `ErrorMessage`, on errors.
    pub error_message: Option<String>,
    /// Every other top-level field. Envelope keys put here are not written.
    pub body: Map<String, Value>,
}

impl ResponseFrame {
    /// A `StatusCode: 200` response to a request of type `R`, with its typed body:
    /// `ResponseFrame::success::<DescribePlayerSessions>(id, &result)`.
    pub fn success<R: RequestBody>(
        request_id: impl Into<String>,
        body: &R::Response,
    ) -> ResponseFrame {
        let body = match serde_json::to_value(body) {
            Ok(Value::Object(map)) => map,
            // Unreachable: every response body of this module is a struct.
            _ => Map::new(),
        };
        ResponseFrame {
            action: R::ACTION.as_str().to_owned(),
            request_id: request_id.into(),
            status_code: Some(200),
            error_message: None,
            body,
        }
    }

    /// An error response with the status code of `kind`. `action` is a string so that a
    /// service can echo even an unknown action name.
    pub fn error(
        action: impl Into<String>,
        request_id: impl Into<String>,
        kind: ServiceErrorKind,
        message: impl Into<String>,
    ) -> ResponseFrame {
        ResponseFrame {
            action: action.into(),
            request_id: request_id.into(),
            status_code: Some(i64::from(kind.status_code())),
            error_message: Some(message.into()),
            body: Map::new(),
        }
    }

    /// True when `StatusCode` is exactly 200.
    pub fn is_success(&self) -> bool {
        self.status_code == Some(200)
    }

    /// The §3.1 error class, or `None` for a 200.
    pub fn error_kind(&self) -> Option<ServiceErrorKind> {
        match self.status_code {
            Some(200) => None,
            // A missing StatusCode is Go's 0, which maps to InternalService.
            code => Some(ServiceErrorKind::from_status_code(code.unwrap_or(0))),
        }
    }

    /// The error as a client surfaces it, or `None` for a 200.
    pub fn service_error(&self) -> Option<ServiceError> {
        self.error_kind().map(|kind| ServiceError {
            kind,
            status_code: self.status_code,
            message: self.error_message.clone().unwrap_or_default(),
        })
    }

    /// Decodes the body fields as `T`, typically `R::Response` of the pending request.
    /// Missing fields take their defaults; a wrongly typed field is
    /// [`Sdk5Error::BadField`].
    pub fn body<T: DeserializeOwned>(&self) -> Result<T, Sdk5Error> {
        serde_json::from_value(Value::Object(self.body.clone())).map_err(|source| {
            Sdk5Error::BadField {
                action: self.action.clone(),
                request_id: Some(self.request_id.clone()).filter(|id| !id.is_empty()),
                source,
            }
        })
    }

    /// Encodes the frame: `Action`, `RequestId`, `StatusCode`, `ErrorMessage` (each if
    /// present), then the body fields.
    pub fn to_json(&self) -> String {
        let request_id = Some(self.request_id.as_str()).filter(|id| !id.is_empty());
        let body = BodyFields(&self.body);
        let message = self.error_message.as_deref();
        encode_frame(&self.action, request_id, self.status_code, message, &body)
    }
}

/// A push as the service side sends it. [`to_json`](Self::to_json) always writes
/// `"StatusCode":200`, which makes every SDK treat it as a push whether or not it has a
/// `RequestId` (§3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushFrame {
    /// `RequestId`: optional on pushes (whether the real service sends one is not known).
    pub request_id: Option<String>,
    /// The push.
    pub push: Push,
}

impl PushFrame {
    /// A push frame without a `RequestId`.
    pub fn new(push: impl Into<Push>) -> PushFrame {
        PushFrame {
            request_id: None,
            push: push.into(),
        }
    }

    /// The push's `Action`.
    pub const fn action(&self) -> Action {
        self.push.action()
    }

    /// Encodes the frame: `Action`, `RequestId` (if any), `"StatusCode":200`, then the body.
    pub fn to_json(&self) -> String {
        let request_id = self.request_id.as_deref().filter(|id| !id.is_empty());
        self.push.encode(request_id)
    }
}

/// What an inbound text frame is to the client side, decided by [`classify`].
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// Rule 1: `StatusCode` is not 200 (or missing) and `RequestId` is non-empty. Fails the
    /// pending request with that id; nothing else is done with the frame, even if its
    /// `Action` names a push.
    ErrorResponse(ResponseFrame),
    /// Rule 2: one of the four push actions.
    Push(PushFrame),
    /// Rule 3: everything else completes the pending request with this `RequestId`
    /// (status 200 whenever the id is non-empty). An id that matches nothing, including
    /// the empty one, is to be logged and dropped.
    Response(ResponseFrame),
}

/// Classifies an inbound frame exactly as the SDKs do (§3.2):
///
/// 1. `StatusCode != 200` (a missing one counts as ≠ 200) **and** non-empty `RequestId`
///    ⇒ [`Inbound::ErrorResponse`];
/// 2. else `Action` is `CreateGameSession`, `UpdateGameSession`, `TerminateProcess` or
///    `RefreshConnection` ⇒ [`Inbound::Push`] (its body decoded; a bad body is
///    [`Sdk5Error::BadField`]);
/// 3. else ⇒ [`Inbound::Response`], whatever the `Action` (even none or unknown).
pub fn classify(text: &str) -> Result<Inbound, Sdk5Error> {
    let (header, body) = split_frame(text)?;
    let Header {
        action,
        request_id,
        status_code,
        error_message,
    } = header;

    if status_code != Some(200) && request_id.is_some() {
        return Ok(Inbound::ErrorResponse(ResponseFrame {
            action: action.unwrap_or_default(),
            request_id: request_id.unwrap_or_default(),
            status_code,
            error_message,
            body,
        }));
    }

    let push_action = action.as_deref().and_then(Action::from_name);
    if let Some(push_action) = push_action.filter(|a| a.is_push()) {
        return match Push::decode(push_action, Value::Object(body)) {
            Some(Ok(push)) => Ok(Inbound::Push(PushFrame { request_id, push })),
            Some(Err(source)) => Err(Sdk5Error::BadField {
                action: push_action.as_str().to_owned(),
                request_id,
                source,
            }),
            // Unreachable: `push_action` is a push.
            None => Err(Sdk5Error::UnknownAction {
                action: push_action.as_str().to_owned(),
                request_id,
            }),
        };
    }

    Ok(Inbound::Response(ResponseFrame {
        action: action.unwrap_or_default(),
        request_id: request_id.unwrap_or_default(),
        status_code,
        error_message,
        body,
    }))
}

/// The envelope fields, read and removed from a frame's object.
struct Header {
    action: Option<String>,
    request_id: Option<String>,
    status_code: Option<i64>,
    error_message: Option<String>,
}

/// Parses a frame into its envelope and the remaining (body) fields.
fn split_frame(text: &str) -> Result<(Header, Map<String, Value>), Sdk5Error> {
    let value: Value = serde_json::from_str(text).map_err(Sdk5Error::Json)?;
    let Value::Object(mut object) = value else {
        return Err(Sdk5Error::NotAnObject);
    };
    let header = Header {
        action: take_string(&mut object, "Action")?,
        request_id: take_string(&mut object, "RequestId")?,
        error_message: take_string(&mut object, "ErrorMessage")?,
        status_code: match object.remove("StatusCode") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(n.as_i64().ok_or(Sdk5Error::BadEnvelope {
                field: "StatusCode",
                expected: "an integer",
            })?),
            Some(_) => {
                return Err(Sdk5Error::BadEnvelope {
                    field: "StatusCode",
                    expected: "an integer",
                });
            }
        },
    };
    Ok((header, object))
}

/// Removes a string envelope field; `null`, absent and `""` are all `None`.
fn take_string(
    object: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, Sdk5Error> {
    match object.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s).filter(|s| !s.is_empty())),
        Some(_) => Err(Sdk5Error::BadEnvelope {
            field,
            expected: "a string",
        }),
    }
}

/// The output shape of every frame. Envelope fields first (as the SDKs write them), then
/// the body, flattened.
#[derive(Serialize)]
struct Envelope<'a, B> {
    #[serde(rename = "Action", skip_serializing_if = "str_is_empty")]
    action: &'a str,
    #[serde(rename = "RequestId", skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    #[serde(rename = "StatusCode", skip_serializing_if = "Option::is_none")]
    status_code: Option<i64>,
    #[serde(rename = "ErrorMessage", skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    #[serde(flatten)]
    body: &'a B,
}

/// `skip_serializing_if` for `&str` fields.
fn str_is_empty(value: &&str) -> bool {
    value.is_empty()
}

/// A raw body map without the envelope keys (so they cannot be written twice).
struct BodyFields<'a>(&'a Map<String, Value>);

impl Serialize for BodyFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.0
                .iter()
                .filter(|(key, _)| !ENVELOPE_KEYS.contains(&key.as_str())),
        )
    }
}

/// Encodes one frame.
pub(crate) fn encode_frame<B: Serialize>(
    action: &str,
    request_id: Option<&str>,
    status_code: Option<i64>,
    error_message: Option<&str>,
    body: &B,
) -> String {
    to_json_string(&Envelope {
        action,
        request_id,
        status_code,
        error_message,
        body,
    })
}

/// Serializes a value of this module to a JSON string.
pub(crate) fn to_json_string<T: Serialize>(value: &T) -> String {
    // serde_json fails only on non-string map keys, on flattening a non-struct, or when a
    // `Serialize` impl itself errors. Every type here has string keys, flattened bodies
    // are structs or maps (`RequestBody` is sealed), and no impl here returns an error;
    // non-finite floats are written as `null`, not rejected.
    serde_json::to_string(value).expect("sdk5 values always serialize to JSON")
}
