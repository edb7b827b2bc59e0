//! The SigV4 *query* signature of §2.3 (not standard AWS request signing) and the UTC
//! date formatting it needs, both pure functions of their inputs (the time is a
//! parameter, in Unix seconds).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::config::AwsCredentials;
use crate::url::encode_component;

/// `X-Amz-Algorithm`.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The service name in the signing scope.
const SERVICE: &str = "gamelift";
/// The scope terminator.
const TERMINATOR: &str = "aws4_request";

/// The query parameters a SigV4-signed connection adds (§2.3 step 9), in this order:
/// `Authorization=SigV4`, `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
/// `X-Amz-Signature`, and `X-Amz-Security-Token` when there is a session token.
///
/// `params` are the pairs to sign (the SDK signs `ComputeId`, `FleetId`, `pID`); they
/// are sorted by key here, so their order does not matter.
pub fn sign_query(
    params: &[(&str, &str)],
    credentials: &AwsCredentials,
    unix_secs: u64,
) -> Vec<(&'static str, String)> {
    let (date, datetime) = format_amz_date(unix_secs);
    let scope = format!("{date}/{}/{SERVICE}/{TERMINATOR}", credentials.region);

    let mut sorted: Vec<_> = params.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let canonical = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&");
    let hashed_canonical = hex::encode(Sha256::digest(canonical.as_bytes()));
    let string_to_sign = format!("{ALGORITHM}\n{datetime}\n{scope}\n{hashed_canonical}");

    let k_date = hmac(format!("AWS4{}", credentials.secret_key).as_bytes(), &date);
    let k_region = hmac(&k_date, &credentials.region);
    let k_service = hmac(&k_region, SERVICE);
    let k_signing = hmac(&k_service, TERMINATOR);
    let signature = hex::encode(hmac(&k_signing, &string_to_sign));

    let mut out = vec![
        ("Authorization", "SigV4".to_owned()),
        ("X-Amz-Algorithm", ALGORITHM.to_owned()),
        (
            "X-Amz-Credential",
            format!("{}/{scope}", credentials.access_key),
        ),
        ("X-Amz-Date", datetime),
        ("X-Amz-Signature", signature),
    ];
    if let Some(token) = credentials.session_token.as_ref().filter(|t| !t.is_empty()) {
        out.push(("X-Amz-Security-Token", token.clone()));
    }
    out
}

/// HMAC-SHA256 of `data` under `key`.
fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// `(YYYYMMDD, YYYYMMDD'T'HHMMSS'Z')` in UTC for a Unix time in seconds.
pub fn format_amz_date(unix_secs: u64) -> (String, String) {
    let days = unix_secs / 86_400;
    let secs_of_day = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let date = format!("{year:04}{month:02}{day:02}");
    let datetime = format!(
        "{date}T{:02}{:02}{:02}Z",
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60
    );
    (date, datetime)
}

/// Days since 1970-01-01 → proleptic Gregorian `(year, month, day)`
/// (Howard Hinnant's `civil_from_days`, for non-negative day counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-08-05T10:00:00Z.
    const VECTOR_TIME: u64 = 1_722_852_000;

    #[test]
    fn published_test_vector() {
        let credentials = AwsCredentials {
            region: "us-east-1".into(),
            access_key: "testAccessKey".into(),
            secret_key: "testSecretKey".into(),
            session_token: Some("testSessionToken".into()),
        };
        let query = sign_query(
            &[("param2", "value2"), ("param1", "value1")],
            &credentials,
            VECTOR_TIME,
        );
        let get = |key: &str| {
            query
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("Authorization"), Some("SigV4"));
        assert_eq!(get("X-Amz-Algorithm"), Some("AWS4-HMAC-SHA256"));
        assert_eq!(
            get("X-Amz-Credential"),
            Some("testAccessKey/20240805/us-east-1/gamelift/aws4_request")
        );
        assert_eq!(get("X-Amz-Date"), Some("20240805T100000Z"));
        assert_eq!(
            get("X-Amz-Signature"),
            Some("2601fe291f4b43a63f6ffb0e1d9085a1edbaa2a866c96511e153af3408bfe771")
        );
        assert_eq!(get("X-Amz-Security-Token"), Some("testSessionToken"));
    }

    #[test]
    fn no_security_token_without_a_session_token() {
        let credentials = AwsCredentials {
            region: "us-east-1".into(),
            access_key: "a".into(),
            secret_key: "s".into(),
            session_token: None,
        };
        let query = sign_query(&[("pID", "p")], &credentials, VECTOR_TIME);
        assert!(query.iter().all(|(k, _)| *k != "X-Amz-Security-Token"));
        assert_eq!(query.len(), 5);
    }

    #[test]
    fn dates() {
        assert_eq!(
            format_amz_date(0),
            ("19700101".into(), "19700101T000000Z".into())
        );
        assert_eq!(format_amz_date(VECTOR_TIME).1, "20240805T100000Z");
        // Leap day and end of a leap year.
        assert_eq!(format_amz_date(951_782_400).1, "20000229T000000Z");
        assert_eq!(format_amz_date(1_735_689_599).1, "20241231T235959Z");
        assert_eq!(format_amz_date(4_107_542_400).1, "21000301T000000Z");
    }
}
