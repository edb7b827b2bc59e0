//! Refusals: bad tokens, bad bodies, rate limits, routing errors, CORS, and RS256 tokens
//! from a JWKS.

use super::harness::*;

/// Missing, malformed, forged and expired tokens, the wrong scheme, a subject that is
/// not a player id and an unsigned token are each 401 with the error shape and
/// `WWW-Authenticate`, and create nothing.
#[tokio::test(start_paused = true)]
async fn bad_tokens_are_refused() {
    let api = Api::start(Options::default());
    let forged = mint_dev_token(
        b"another-key-0123456789abcdef-0123456789",
        "p-1",
        now_secs(),
        Duration::from_secs(600),
        None,
        None,
    )
    .unwrap();
    let expired = mint_dev_token(
        KEY,
        "p-1",
        now_secs() - 7_200,
        Duration::from_secs(600),
        None,
        None,
    )
    .unwrap();
    let bad_subject = mint_dev_token(
        KEY,
        "p 1/x",
        now_secs(),
        Duration::from_secs(600),
        None,
        None,
    )
    .unwrap();
    // alg "none": the payload of a valid token with its signature dropped.
    let valid = token("p-1");
    let payload = valid.split('.').nth(1).unwrap();
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    let cases = [
        None,
        Some("Bearer".to_owned()),
        Some("Bearer not-a-jwt".to_owned()),
        Some(format!("Bearer {forged}")),
        Some(format!("Bearer {expired}")),
        Some(format!("Basic {valid}")),
        Some(format!("Bearer {bad_subject}")),
        Some(format!("Bearer {unsigned}")),
    ];
    for auth in cases {
        let mut request = Request::post("/v1/matchmaking/tickets")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(auth) = &auth {
            request = request.header(header::AUTHORIZATION, auth);
        }
        let reply = api
            .send(request.body(Body::from(duel().to_string())).unwrap())
            .await;
        reply.assert_error(401, "unauthorized");
        assert_eq!(
            reply.headers[header::WWW_AUTHENTICATE],
            "Bearer",
            "{auth:?}"
        );
    }
    assert_eq!(api.searching().await, 0);
    assert_eq!(api.create("p-1", duel()).await.status, StatusCode::CREATED);
}

/// Each bad body is a 4xx with the error shape and changes nothing: afterwards the
/// player's first valid ticket is created, and it is the only one searching.
#[tokio::test(start_paused = true)]
async fn bad_bodies_change_nothing() {
    let api = Api::start(Options::default());
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"mode": "ranked-9v9", "latencies_ms": {US: 40}}),
            400,
            "unknown mode",
        ),
        (
            json!({"mode": "Duel!", "latencies_ms": {US: 40}}),
            400,
            "mode",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {US: 0}}),
            400,
            "latency",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {US: 99_999}}),
            400,
            "latency",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {}}),
            400,
            "latencies_ms",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {"mars-1": 40}}),
            400,
            "region",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {"US EAST": 40}}),
            400,
            "region",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {US: -5}}),
            400,
            "invalid",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {US: 40}, "player": "p-2"}),
            400,
            "unknown field",
        ),
        (
            json!({"mode": "duel", "party": ["p-1"], "latencies_ms": {US: 40}}),
            400,
            "caller",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {US: 40}, "attributes": {"rating": 99}}),
            400,
            "reserved",
        ),
        (
            json!({"mode": "duel", "party": ["p-2"], "latencies_ms": {US: 40}}),
            403,
            "joined",
        ),
        (json!({"latencies_ms": {US: 40}}), 400, "mode"),
        // A wrongly typed field deep in the body is named by its path.
        (
            json!({"mode": "duel", "latencies_ms": {US: "fast"}}),
            400,
            "latencies_ms.us-east-1",
        ),
        (json!([1, 2]), 400, "invalid"),
    ];
    for (body, status, needle) in cases {
        let reply = api.create("p-1", body.clone()).await;
        let code = match status {
            400 => "invalid_request",
            _ => "forbidden",
        };
        reply.assert_error(status, code);
        let message = reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .to_lowercase();
        assert!(message.contains(needle), "{body}: {message}");
    }
    // A region the matchmaker does not serve: well-formed, but no region is reachable.
    api.create(
        "p-1",
        json!({"mode": "duel", "latencies_ms": {"ap-south-1": 40}}),
    )
    .await
    .assert_error(400, "invalid_request");

    let raw = |content_type: Option<&str>, body: Vec<u8>| {
        let mut request = Request::post("/v1/matchmaking/tickets")
            .header(header::AUTHORIZATION, format!("Bearer {}", token("p-1")));
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        request.body(Body::from(body)).unwrap()
    };
    api.send(raw(Some("application/json"), b"{\"mode\": \"du".to_vec()))
        .await
        .assert_error(400, "invalid_request");
    api.send(raw(Some("text/plain"), duel().to_string().into_bytes()))
        .await
        .assert_error(415, "unsupported_media_type");
    api.send(raw(None, duel().to_string().into_bytes()))
        .await
        .assert_error(415, "unsupported_media_type");
    let mut huge = format!(
        "{{\"mode\": \"duel\", \"latencies_ms\": {{\"{US}\": 40}}, \"attributes\": {{\"pad\": \""
    );
    huge.push_str(&"x".repeat(protocol::http::MAX_REQUEST_BODY_BYTES));
    huge.push_str("\"}}");
    api.send(raw(Some("application/json"), huge.into_bytes()))
        .await
        .assert_error(413, "payload_too_large");

    assert_eq!(api.searching().await, 0);
    let ticket = api.create("p-1", duel()).await;
    assert_eq!(ticket.status, StatusCode::CREATED, "{}", ticket.body);
    assert_eq!(api.searching().await, 1);
}

/// Past its burst a player gets 429 with `Retry-After` and the error shape; other
/// players are unaffected; after the refill the player passes again.
#[tokio::test(start_paused = true)]
async fn per_player_rate_limit() {
    let api = Api::start(Options {
        rate: RateLimit {
            burst: 2,
            per_second: 1,
        },
        ..Options::default()
    });
    for _ in 0..2 {
        let r = api.call(Method::GET, "/v1/party", Some("p-1"), None).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let limited = api.call(Method::GET, "/v1/party", Some("p-1"), None).await;
    limited.assert_error(429, "rate_limited");
    assert_eq!(limited.headers[header::RETRY_AFTER], "1");
    let other = api.call(Method::GET, "/v1/party", Some("p-2"), None).await;
    assert_eq!(other.status, StatusCode::OK);
    tokio::time::advance(Duration::from_secs(1)).await;
    let again = api.call(Method::GET, "/v1/party", Some("p-1"), None).await;
    assert_eq!(again.status, StatusCode::OK);
}

/// Unknown routes, wrong methods and bad path or query parameters use the error shape.
#[tokio::test(start_paused = true)]
async fn routing_errors_use_the_error_shape() {
    let api = Api::start(Options::default());
    api.call(Method::GET, "/v1/nope", None, None)
        .await
        .assert_error(404, "not_found");
    api.call(Method::GET, "/v2/matchmaking/tickets", None, None)
        .await
        .assert_error(404, "not_found");
    api.call(Method::PATCH, "/v1/party", Some("p-1"), None)
        .await
        .assert_error(405, "method_not_allowed");
    api.call(Method::GET, "/v1/matchmaking/tickets", Some("p-1"), None)
        .await
        .assert_error(405, "method_not_allowed");
    api.call(Method::GET, "/v1/leaderboards/top?limit=0", None, None)
        .await
        .assert_error(400, "invalid_request");
    api.call(Method::GET, "/v1/leaderboards/top?limit=abc", None, None)
        .await
        .assert_error(400, "invalid_request");
    api.call(Method::GET, "/v1/leaderboards/top?lmit=5", None, None)
        .await
        .assert_error(400, "invalid_request");
    api.call(
        Method::GET,
        "/v1/leaderboards/friends?players=a,,b",
        None,
        None,
    )
    .await
    .assert_error(400, "invalid_request");
    api.call(Method::GET, "/v1/players/bad%7Bid/profile", None, None)
        .await
        .assert_error(400, "invalid_request");
}

/// CORS answers the configured origin's preflight and allows no other origin.
#[tokio::test(start_paused = true)]
async fn cors_allows_the_configured_origin() {
    let api = Api::start(Options {
        cors_origin: Some("https://page.example"),
        ..Options::default()
    });
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/v1/matchmaking/tickets")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization,content-type",
            )
            .body(Body::empty())
            .unwrap()
    };
    let ok = api.send(preflight("https://page.example")).await;
    assert!(ok.status.is_success(), "{}", ok.status);
    assert_eq!(
        ok.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://page.example"
    );
    // Another origin is never echoed back, so a browser refuses the call.
    let other = api.send(preflight("https://evil.example")).await;
    let allowed = other.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN);
    assert!(
        allowed.is_none_or(|v| v == "https://page.example"),
        "{allowed:?}"
    );
}

/// RS256 tokens are verified against a JWKS fetched over HTTP (served on loopback);
/// a token for an unknown key, an HS256 token (algorithm confusion) and a token from
/// another issuer are refused. Real time: the JWKS fetch is real network I/O.
#[tokio::test]
async fn rs256_tokens_from_a_jwks() {
    use jsonwebtoken::jwk::{Jwk, JwkSet};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};

    let der = include_bytes!("../fixtures/jwt-test-rsa.der");
    let signing = EncodingKey::from_rsa_der(der);
    let mut jwk = Jwk::from_encoding_key(&signing, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some("k1".to_owned());
    let set = JwkSet { keys: vec![jwk] };
    let fetches = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&fetches);
    let jwks_app = Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let set = set.clone();
            async move { axum::Json(set) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, jwks_app).await.unwrap() });

    let issuer = "https://cognito-idp.us-east-1.amazonaws.com/pool";
    let auth = Authenticator::jwks(Arc::new(HttpJwks::new(&url).unwrap()), Some(issuer), None);
    let api = Api::start(Options {
        auth: Some(auth),
        ..Options::default()
    });
    let sign = |kid: &str, iss: &str| {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        let claims = json!({"sub": "p-1", "exp": now_secs() + 600, "iss": iss});
        jsonwebtoken::encode(&header, &claims, &signing).unwrap()
    };
    let get_party = |token: String| {
        Request::get("/v1/party")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let ok = api.send(get_party(sign("k1", issuer))).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["leader"], "p-1");
    api.send(get_party(sign("k2", issuer)))
        .await
        .assert_error(401, "unauthorized");
    api.send(get_party(sign("k1", "https://elsewhere")))
        .await
        .assert_error(401, "unauthorized");
    api.send(get_party(token("p-1")))
        .await
        .assert_error(401, "unauthorized");
    assert!(
        HttpJwks::new("http://idp.example/jwks.json").is_err(),
        "plain HTTP off loopback"
    );
    // The unknown kid refreshed the set at most once (the minimum refresh interval).
    assert!(fetches.load(Ordering::SeqCst) <= 2, "{fetches:?}");
    // A second unknown kid right after does not fetch again.
    let before = fetches.load(Ordering::SeqCst);
    api.send(get_party(sign("k3", issuer)))
        .await
        .assert_error(401, "unauthorized");
    assert_eq!(fetches.load(Ordering::SeqCst), before);
}
