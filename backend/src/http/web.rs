//! The web page (`backend/web/`), embedded in the binary and served from the API's router.
//!
//! **What it is:** the page's four static files ([`FILES`], compiled in with
//! `include_str!`) served at `/web/` (`index.html`) and `/web/{app.js,style.css,config.js}`,
//! with `/` and `/web` redirecting to `/web/` (query kept, so `/?player=p-1` works). Each
//! answer carries its content type, a Content-Security-Policy that allows only this origin's
//! scripts, styles and API calls, `X-Content-Type-Options: nosniff`, no referrer, and
//! `Cache-Control: no-cache`. The page reads only the public routes (leaderboards, profiles,
//! matchmaking numbers), so it works for an anonymous visitor.
//!
//! **What it is not:** no templating and no build step: the files are the ones in
//! `backend/web/`, byte for byte, and the same folder can be copied as-is to an S3 website
//! bucket, where `config.js` (or `?api=`) points the page at the API and the backend's
//! `--cors-origin` allows the bucket's origin. The CSP here applies only to the page served
//! by the backend (whose API is its own origin, so `?api=` naming another origin is blocked
//! there by `connect-src 'self'`); a bucket sets its own headers. Not in `/openapi.json`.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// The page's files: name under `/web/`, content type, bytes.
pub const FILES: [(&str, &str, &str); 4] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../web/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../web/style.css"),
    ),
    (
        "config.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/config.js"),
    ),
];

/// The Content-Security-Policy of every file: scripts, styles and `fetch` from this
/// origin only, no inline code, no framing, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The page's routes, merged into the API's router (before its fallback).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let mut router = Router::new()
        .route("/", get(to_page))
        .route("/web", get(to_page))
        .route("/web/", get(|| async { file("index.html") }));
    for (name, _, _) in FILES {
        router = router.route(
            &format!("/web/{name}"),
            get(move || async move { file(name) }),
        );
    }
    router
}

/// `/` and `/web`: a redirect to `/web/`, with the query string.
async fn to_page(uri: Uri) -> Redirect {
    match uri.query() {
        Some(query) => Redirect::to(&format!("/web/?{query}")),
        None => Redirect::to("/web/"),
    }
}

fn file(name: &str) -> Response {
    let Some((_, content_type, body)) = FILES.iter().find(|(n, _, _)| *n == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let headers: [(HeaderName, HeaderValue); 5] = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    (headers, *body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_page_names_is_served() {
        let index = FILES[0].2;
        for (name, _, _) in &FILES[1..] {
            assert!(
                index.contains(&format!("\"{name}\"")),
                "index.html does not reference {name}"
            );
        }
        // The CSP forbids inline scripts and styles: the page must have none.
        assert!(!index.contains("<script>") && !index.contains("style="));
        assert!(!index.contains("<style"));
    }
}
