//! The axum routes: both protocols on one port, each request decoded, handed to the
//! [`ControlPlane`], and its result or error encoded in the protocol it came in.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::post;
use tracing::{Instrument, debug, error, info_span};

use super::error::{ApiError, ErrorKind};
use super::ops::{Operation, Request};
use super::outputs::Response;
use super::{ControlPlane, MAX_BODY_BYTES, cbor, json};

/// The service names accepted in the RPC v2 CBOR path: the shape name, and the absolute
/// shape id with `#` replaced by `.`, as the protocol says servers should.
const SERVICE_NAMES: [&str; 2] = ["GameLift", "com.amazonaws.gamelift.GameLift"];

/// The request id header the SDKs read (`x-amzn-requestid`).
const REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");

/// Which protocol a request came in, and so which one its answer goes out in.
#[derive(Debug, Clone, Copy)]
enum Protocol {
    RpcV2Cbor,
    AwsJson11,
}

/// The control-plane API on one router: RPC v2 CBOR at
/// `POST /service/GameLift/operation/{Op}` and AWS JSON 1.1 at `POST /` dispatched on
/// `X-Amz-Target`. Identity is not checked: SigV4 headers are accepted and ignored.
pub fn router<S: ControlPlane>(state: Arc<S>) -> Router {
    Router::new()
        .route(
            "/service/{service}/operation/{operation}",
            post(rpc_v2_cbor::<S>),
        )
        .route("/", post(aws_json::<S>))
        .with_state(state)
}

async fn rpc_v2_cbor<S: ControlPlane>(
    State(plane): State<Arc<S>>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> HttpResponse {
    let protocol = Protocol::RpcV2Cbor;
    let routed = route_cbor(path, &headers);
    let operation = routed.as_ref().map(|op| op.name()).unwrap_or("?");
    let span = info_span!("control_plane", protocol = "rpc-v2-cbor", operation);
    async move {
        let operation = match routed {
            Ok(operation) => operation,
            Err(err) => return answer(protocol, Err(err)),
        };
        let content_type = headers.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes);
        let body = match read_body(body).await {
            Ok(body) => body,
            Err(err) => return answer(protocol, Err(err)),
        };
        // The protocol requires `application/cbor` with a body; smithy-rs answers 415.
        if !body.is_empty() && content_type != Some(cbor::CONTENT_TYPE.as_bytes()) {
            let err = ApiError::new(
                ErrorKind::UnsupportedMediaType,
                format!("Content-Type must be {}", cbor::CONTENT_TYPE),
            );
            return answer(protocol, Err(err));
        }
        let request = cbor::decode_request(operation.name(), &body);
        answer(protocol, dispatch(&*plane, operation, request).await)
    }
    .instrument(span)
    .await
}

/// Routes an RPC v2 CBOR request as smithy-rs servers do: an `X-Amz-Target`, a missing
/// or different `smithy-protocol`, an unknown service or operation are all
/// `UnknownOperationException` (404).
fn route_cbor(
    path: Result<Path<(String, String)>, PathRejection>,
    headers: &HeaderMap,
) -> Result<Operation, ApiError> {
    let unknown = |why: String| ApiError::new(ErrorKind::UnknownOperation, why);
    if headers.contains_key("x-amz-target") || headers.contains_key("x-amzn-target") {
        return Err(unknown(
            "RPC v2 CBOR requests must not carry X-Amz-Target".to_owned(),
        ));
    }
    if headers.get("smithy-protocol").map(HeaderValue::as_bytes)
        != Some(cbor::SMITHY_PROTOCOL.as_bytes())
    {
        return Err(unknown(format!(
            "missing or unsupported smithy-protocol header (expected {})",
            cbor::SMITHY_PROTOCOL
        )));
    }
    let Path((service, operation)) = path.map_err(|err| unknown(err.body_text()))?;
    if !SERVICE_NAMES.contains(&service.as_str()) {
        return Err(unknown(format!("unknown service {service:?}")));
    }
    Operation::from_name(&operation)
        .ok_or_else(|| unknown(format!("unknown operation {operation:?}")))
}

async fn aws_json<S: ControlPlane>(
    State(plane): State<Arc<S>>,
    headers: HeaderMap,
    body: Body,
) -> HttpResponse {
    let protocol = Protocol::AwsJson11;
    let routed = route_json(&headers);
    let operation = routed.as_ref().map(|op| op.name()).unwrap_or("?");
    let span = info_span!("control_plane", protocol = "awsJson1_1", operation);
    async move {
        let operation = match routed {
            Ok(operation) => operation,
            Err(err) => return answer(protocol, Err(err)),
        };
        let body = match read_body(body).await {
            Ok(body) => body,
            Err(err) => return answer(protocol, Err(err)),
        };
        let request = json::decode_request(operation.name(), &body);
        answer(protocol, dispatch(&*plane, operation, request).await)
    }
    .instrument(span)
    .await
}

/// Routes an AWS JSON 1.1 request on `X-Amz-Target: GameLift.<Op>`. A missing or foreign
/// target, or a body that is not `application/x-amz-json-1.x`, names no operation here:
/// `UnknownOperationException` (400).
fn route_json(headers: &HeaderMap) -> Result<Operation, ApiError> {
    let unknown = |why: String| ApiError::new(ErrorKind::UnknownOperation, why);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence != json::CONTENT_TYPE && essence != json::CONTENT_TYPE_1_0 {
        return Err(unknown(format!(
            "unsupported Content-Type {content_type:?} (expected {})",
            json::CONTENT_TYPE
        )));
    }
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unknown("missing X-Amz-Target header".to_owned()))?;
    target
        .strip_prefix(json::TARGET_PREFIX)
        .and_then(Operation::from_name)
        .ok_or_else(|| unknown(format!("unknown operation {target:?}")))
}

/// Reads the whole body, up to [`MAX_BODY_BYTES`].
async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                ErrorKind::Serialization,
                format!("request body is larger than {MAX_BODY_BYTES} bytes or could not be read"),
            )
        })
}

/// Hands a decoded request to the fleet core and checks its answer is for the same
/// operation (a mismatch is a bug in the core: `InternalServiceException`).
async fn dispatch<S: ControlPlane>(
    plane: &S,
    operation: Operation,
    request: Result<Request, ApiError>,
) -> Result<Response, ApiError> {
    let response = plane.call(request?).await?;
    if response.operation() != operation {
        error!(
            answered = response.operation().name(),
            "control plane answered a different operation"
        );
        return Err(ApiError::internal("internal error"));
    }
    Ok(response)
}

/// Encodes a result in `protocol`, with the headers the SDKs expect.
fn answer(protocol: Protocol, result: Result<Response, ApiError>) -> HttpResponse {
    let (status, body) = match (&result, protocol) {
        (Ok(response), Protocol::RpcV2Cbor) => (200, cbor::encode_response(response)),
        (Ok(response), Protocol::AwsJson11) => (200, json::encode_response(response)),
        (Err(err), Protocol::RpcV2Cbor) => (cbor::status(err.kind), cbor::encode_error(err)),
        (Err(err), Protocol::AwsJson11) => (json::status(err.kind), json::encode_error(err)),
    };
    if let Err(err) = &result {
        debug!(status, error = %err, "request failed");
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut headers = HeaderMap::new();
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, id);
    }
    match protocol {
        Protocol::RpcV2Cbor => {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(cbor::CONTENT_TYPE),
            );
            headers.insert(
                "smithy-protocol",
                HeaderValue::from_static(cbor::SMITHY_PROTOCOL),
            );
        }
        Protocol::AwsJson11 => {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(json::CONTENT_TYPE),
            );
            if let Err(err) = &result {
                headers.insert(
                    "x-amzn-errortype",
                    HeaderValue::from_static(err.kind.name()),
                );
            }
        }
    }
    (status, headers, body).into_response()
}
