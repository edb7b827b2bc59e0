//! The connection URL: the base WebSocket URL plus every query parameter of §2.1, in
//! token mode or signed with SigV4 (§2.3).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::config::{Auth, SdkConfig};
use crate::sigv4;

/// `sdkVersion`: the SDK 5 protocol level this client implements (the Go SDK release
/// whose behaviour it follows).
pub const SDK_VERSION: &str = "5.6.0";
/// `sdkLanguage` (the official SDKs send `Go`, `Cpp`, `CSharp`).
pub const SDK_LANGUAGE: &str = "Rust";

/// Everything but the RFC 3986 unreserved characters is percent-encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one query key or value.
pub(crate) fn encode_component(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// The full connection URL for `config`:
/// `pID`, `sdkVersion`, `sdkLanguage`, `ComputeId`, `FleetId`, `IdempotencyToken`, and
/// either `Authorization=<token>` or the SigV4 parameters signed at `unix_secs`.
///
/// Keys are sorted (as Go's `url.Values.Encode` does) and every value is
/// percent-encoded. A base URL that already has a query keeps it.
pub fn connect_url(config: &SdkConfig, idempotency_token: &str, unix_secs: u64) -> String {
    let mut params: Vec<(&str, String)> = vec![
        ("pID", config.process_id.clone()),
        ("sdkVersion", SDK_VERSION.to_owned()),
        ("sdkLanguage", SDK_LANGUAGE.to_owned()),
        ("ComputeId", config.host_id.clone()),
        ("FleetId", config.fleet_id.clone()),
        ("IdempotencyToken", idempotency_token.to_owned()),
    ];
    match &config.auth {
        Auth::Token(token) => params.push(("Authorization", token.clone())),
        Auth::SigV4(credentials) => {
            let signed = [
                ("ComputeId", config.host_id.as_str()),
                ("FleetId", config.fleet_id.as_str()),
                ("pID", config.process_id.as_str()),
            ];
            params.extend(sigv4::sign_query(&signed, credentials, unix_secs));
        }
    }
    params.sort_by(|a, b| a.0.cmp(b.0));
    let query = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&");
    let base = with_path(&config.web_socket_url);
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}{query}")
}

/// `ws://host:port` has no path, and `ws://host:port?query` would put no request target
/// before the query: give such a URL the root path, as browsers and the C++ SDK do.
fn with_path(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    if rest[authority_end..].starts_with('/') {
        url.to_owned()
    } else {
        format!(
            "{scheme}://{}/{}",
            &rest[..authority_end],
            &rest[authority_end..]
        )
    }
}

#[cfg(test)]
mod path_tests {
    use super::with_path;

    #[test]
    fn a_url_without_a_path_gets_the_root_path() {
        assert_eq!(with_path("ws://127.0.0.1:5757"), "ws://127.0.0.1:5757/");
        assert_eq!(with_path("ws://h:1?x=1"), "ws://h:1/?x=1");
        assert_eq!(with_path("wss://h/prod"), "wss://h/prod");
        assert_eq!(with_path("wss://h/prod/"), "wss://h/prod/");
    }
}

/// Splits a URL's query into decoded `(key, value)` pairs (for tests and logs).
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    let Some((_, query)) = url.split_once('?') else {
        return Vec::new();
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AwsCredentials;

    fn config(auth: Auth) -> SdkConfig {
        SdkConfig {
            web_socket_url: "wss://abc.execute-api.us-west-2.amazonaws.com/prod".into(),
            process_id: "proc 1".into(),
            host_id: "cluster/task".into(),
            fleet_id: "fleet-1".into(),
            auth,
            sdk_tool_name: None,
            sdk_tool_version: None,
        }
    }

    fn get(pairs: &[(String, String)], key: &str) -> Option<String> {
        pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    #[test]
    fn token_mode_has_every_parameter_encoded() {
        let url = connect_url(&config(Auth::Token("a+b/c=".into())), "tok-1", 0);
        assert!(url.starts_with("wss://abc.execute-api.us-west-2.amazonaws.com/prod?"));
        assert!(url.contains("pID=proc%201"), "{url}");
        assert!(url.contains("ComputeId=cluster%2Ftask"), "{url}");
        assert!(url.contains("Authorization=a%2Bb%2Fc%3D"), "{url}");
        let pairs = query_pairs(&url);
        let keys: Vec<_> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "Authorization",
                "ComputeId",
                "FleetId",
                "IdempotencyToken",
                "pID",
                "sdkLanguage",
                "sdkVersion"
            ]
        );
        assert_eq!(get(&pairs, "pID").as_deref(), Some("proc 1"));
        assert_eq!(get(&pairs, "sdkLanguage").as_deref(), Some("Rust"));
        assert_eq!(get(&pairs, "sdkVersion").as_deref(), Some(SDK_VERSION));
        assert_eq!(get(&pairs, "FleetId").as_deref(), Some("fleet-1"));
        assert_eq!(get(&pairs, "IdempotencyToken").as_deref(), Some("tok-1"));
        assert_eq!(get(&pairs, "Authorization").as_deref(), Some("a+b/c="));
    }

    #[test]
    fn sigv4_mode_signs_compute_fleet_and_process() {
        let credentials = AwsCredentials {
            region: "us-west-2".into(),
            access_key: "AKID".into(),
            secret_key: "secret".into(),
            session_token: Some("sess".into()),
        };
        let url = connect_url(
            &config(Auth::SigV4(credentials.clone())),
            "tok",
            1_722_852_000,
        );
        let pairs = query_pairs(&url);
        let expected = sigv4::sign_query(
            &[
                ("pID", "proc 1"),
                ("FleetId", "fleet-1"),
                ("ComputeId", "cluster/task"),
            ],
            &credentials,
            1_722_852_000,
        );
        for (key, value) in expected {
            assert_eq!(get(&pairs, key), Some(value), "{key}");
        }
        assert_eq!(get(&pairs, "Authorization").as_deref(), Some("SigV4"));
        assert_eq!(
            get(&pairs, "X-Amz-Credential").as_deref(),
            Some("AKID/20240805/us-west-2/gamelift/aws4_request")
        );
        assert_eq!(get(&pairs, "pID").as_deref(), Some("proc 1"));
    }

    #[test]
    fn an_existing_query_is_kept() {
        let mut c = config(Auth::Token("t".into()));
        c.web_socket_url = "ws://127.0.0.1:9/?stage=x".into();
        let url = connect_url(&c, "i", 0);
        assert!(url.starts_with("ws://127.0.0.1:9/?stage=x&"), "{url}");
    }
}
