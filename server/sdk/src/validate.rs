//! Client-side input checks of the official SDKs (Go `server/validation.go`, spec §2.5 and
//! §4), written by hand instead of with a regex engine. Each function documents the
//! pattern it implements; all of them are pure and total.

/// `^[a-zA-Z0-9.-]+$`, at most 256 characters: `FleetID` (§2.5) and `PlayerSessionId` (§4).
pub(crate) fn is_fleet_id(value: &str) -> bool {
    is_id_with(value, 256, |c| {
        c.is_ascii_alphanumeric() || c == '.' || c == '-'
    })
}

/// `^[a-zA-Z0-9.-]+$`, at most 256 characters.
pub(crate) fn is_player_session_id(value: &str) -> bool {
    is_fleet_id(value)
}

/// `^[a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?$`, at most 256 characters: `HostID` (§2.5).
pub(crate) fn is_host_id(value: &str) -> bool {
    if value.len() > 256 {
        return false;
    }
    let segment = |s: &str| is_id_with(s, 256, |c| c.is_ascii_alphanumeric() || c == '-');
    match value.split_once('/') {
        None => segment(value),
        Some((first, second)) => segment(first) && segment(second),
    }
}

/// `^[a-zA-Z0-9:/-]+$`, at most 256 characters: `GameSessionArn` in the backfill calls.
pub(crate) fn is_game_session_arn(value: &str) -> bool {
    is_id_with(value, 256, |c| {
        c.is_ascii_alphanumeric() || c == ':' || c == '/' || c == '-'
    })
}

/// `^[a-zA-Z0-9-\.]*$`, at most 128 characters (empty allowed): backfill `TicketId`.
pub(crate) fn is_ticket_id(value: &str) -> bool {
    value.is_empty()
        || is_id_with(value, 128, |c| {
            c.is_ascii_alphanumeric() || c == '-' || c == '.'
        })
}

/// `^arn:(aws|aws-cn):gamelift:([a-z]{2}-[a-z]+-\d{1}):(\d{12})?:([a-z]+)\/(.+)$`:
/// `MatchmakingConfigurationArn` in the backfill calls.
pub(crate) fn is_matchmaking_configuration_arn(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("arn:") else {
        return false;
    };
    let Some(rest) = rest
        .strip_prefix("aws:")
        .or_else(|| rest.strip_prefix("aws-cn:"))
    else {
        return false;
    };
    let Some(rest) = rest.strip_prefix("gamelift:") else {
        return false;
    };
    let Some((region, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some((account, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some((resource_type, resource)) = rest.split_once('/') else {
        return false;
    };
    is_region(region)
        && (account.is_empty() || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())))
        && !resource_type.is_empty()
        && resource_type.bytes().all(|b| b.is_ascii_lowercase())
        // `.` matches anything but a line break.
        && !resource.is_empty()
        && !resource.contains('\n')
}

/// `[a-z]{2}-[a-z]+-\d{1}` (a whole string), e.g. `us-east-1`.
fn is_region(value: &str) -> bool {
    let mut parts = value.split('-');
    let (Some(a), Some(b), Some(c), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    a.len() == 2
        && a.bytes().all(|x| x.is_ascii_lowercase())
        && !b.is_empty()
        && b.bytes().all(|x| x.is_ascii_lowercase())
        && c.len() == 1
        && c.bytes().all(|x| x.is_ascii_digit())
}

/// Non-empty, at most `max` bytes, every character allowed by `allowed`.
fn is_id_with(value: &str, max: usize, allowed: impl Fn(char) -> bool) -> bool {
    !value.is_empty() && value.len() <= max && value.chars().all(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_and_player_session_ids() {
        assert!(is_fleet_id("fleet-1a2b3c4d-5678-90ab-cdef-1234567890ab"));
        assert!(is_fleet_id("a.b-c"));
        assert!(!is_fleet_id(""));
        assert!(!is_fleet_id("fleet_1"));
        assert!(!is_fleet_id(&"a".repeat(257)));
        assert!(is_fleet_id(&"a".repeat(256)));
        assert!(is_player_session_id("psess-1234"));
        assert!(!is_player_session_id("psess 1234"));
    }

    #[test]
    fn host_ids() {
        assert!(is_host_id("my-compute"));
        assert!(is_host_id("cluster-1/task-2"));
        assert!(!is_host_id("a/b/c"));
        assert!(!is_host_id("a/"));
        assert!(!is_host_id("/a"));
        assert!(!is_host_id("a.b"));
        assert!(!is_host_id(""));
    }

    #[test]
    fn backfill_fields() {
        assert!(is_game_session_arn(
            "arn:aws:gamelift:us-west-2::gamesession/fleet-1/abc"
        ));
        assert!(!is_game_session_arn(
            "arn:aws:gamelift:us-west-2::gamesession/fleet 1"
        ));
        assert!(is_ticket_id(""));
        assert!(is_ticket_id("ticket-1.2"));
        assert!(!is_ticket_id("ticket_1"));
        assert!(!is_ticket_id(&"t".repeat(129)));
        assert!(is_matchmaking_configuration_arn(
            "arn:aws:gamelift:us-west-2:123456789012:matchmakingconfiguration/MyConfig"
        ));
        assert!(is_matchmaking_configuration_arn(
            "arn:aws-cn:gamelift:cn-north-1::matchmakingconfiguration/x"
        ));
        for bad in [
            "arn:aws:gamelift:us-west-2:1234:matchmakingconfiguration/x",
            "arn:aws:gamelift:us-west-22:123456789012:matchmakingconfiguration/x",
            "arn:aws:gamelift:us-west-2:123456789012:Matchmaking/x",
            "arn:aws:gamelift:us-west-2:123456789012:matchmakingconfiguration/",
            "arn:aws:s3:us-west-2:123456789012:matchmakingconfiguration/x",
            "arn:gcp:gamelift:us-west-2:123456789012:matchmakingconfiguration/x",
        ] {
            assert!(!is_matchmaking_configuration_arn(bad), "{bad}");
        }
    }
}
