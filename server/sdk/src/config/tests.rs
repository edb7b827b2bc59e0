//! Precedence (§2.5: a non-empty environment value wins), `ManagedResource`, and the
//! client-side validation of the configuration.

use std::collections::HashMap;

use super::*;

fn params() -> ServerParameters {
    ServerParameters {
        web_socket_url: "wss://param.example/prod".into(),
        process_id: "param-process".into(),
        host_id: "param-host".into(),
        fleet_id: "fleet-param".into(),
        auth_token: "param-token".into(),
        ..ServerParameters::default()
    }
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

#[test]
fn parameters_alone_are_used_when_the_environment_is_empty() {
    let config = params().resolve_with(env(&[])).unwrap();
    assert_eq!(config.web_socket_url, "wss://param.example/prod");
    assert_eq!(config.process_id, "param-process");
    assert_eq!(config.host_id, "param-host");
    assert_eq!(config.fleet_id, "fleet-param");
    assert_eq!(config.auth, Auth::Token("param-token".into()));
}

#[test]
fn a_non_empty_environment_value_wins_over_every_parameter() {
    let config = params()
        .resolve_with(env(&[
            (ENV_WEBSOCKET_URL, "ws://env.example:8080"),
            (ENV_PROCESS_ID, "env-process"),
            (ENV_HOST_ID, "env-host"),
            (ENV_FLEET_ID, "fleet-env"),
            (ENV_AUTH_TOKEN, "env-token"),
            (ENV_TOOL_NAME, "Wrapper"),
            (ENV_TOOL_VERSION, "1.2.0"),
        ]))
        .unwrap();
    assert_eq!(config.web_socket_url, "ws://env.example:8080");
    assert_eq!(config.process_id, "env-process");
    assert_eq!(config.host_id, "env-host");
    assert_eq!(config.fleet_id, "fleet-env");
    assert_eq!(config.auth, Auth::Token("env-token".into()));
    assert_eq!(config.sdk_tool_name.as_deref(), Some("Wrapper"));
    assert_eq!(config.sdk_tool_version.as_deref(), Some("1.2.0"));
}

#[test]
fn an_empty_environment_value_does_not_replace_a_parameter() {
    let config = params()
        .resolve_with(env(&[(ENV_PROCESS_ID, ""), (ENV_AUTH_TOKEN, "")]))
        .unwrap();
    assert_eq!(config.process_id, "param-process");
    assert_eq!(config.auth, Auth::Token("param-token".into()));
}

#[test]
fn sigv4_keys_come_from_parameters_only_when_the_variable_is_unset_or_empty() {
    let p = ServerParameters {
        auth_token: String::new(),
        aws_region: "eu-west-1".into(),
        access_key: "PARAMKEY".into(),
        secret_key: "param-secret".into(),
        ..params()
    };
    let config = p
        .resolve_with(env(&[
            (ENV_REGION, "us-east-1"),
            (ENV_ACCESS_KEY, ""),
            (ENV_SECRET_KEY, "env-secret"),
            (ENV_SESSION_TOKEN, "env-session"),
        ]))
        .unwrap();
    assert_eq!(
        config.auth,
        Auth::SigV4(AwsCredentials {
            region: "us-east-1".into(),
            access_key: "PARAMKEY".into(),
            secret_key: "env-secret".into(),
            session_token: Some("env-session".into()),
        })
    );
}

#[test]
fn a_token_wins_over_sigv4_keys() {
    let p = ServerParameters {
        aws_region: "us-east-1".into(),
        access_key: "K".into(),
        secret_key: "S".into(),
        ..params()
    };
    assert_eq!(
        p.resolve_with(env(&[])).unwrap().auth,
        Auth::Token("param-token".into())
    );
}

#[test]
fn managed_resource_becomes_a_fresh_uuid() {
    let e = env(&[(ENV_PROCESS_ID, MANAGED_RESOURCE)]);
    let first = params().resolve_with(&e).unwrap().process_id;
    let second = params().resolve_with(&e).unwrap().process_id;
    assert!(uuid::Uuid::parse_str(&first).is_ok(), "{first}");
    assert_ne!(first, second);
}

#[test]
fn init_from_environment_alone() {
    let config = ServerParameters::default()
        .resolve_with(env(&[
            (ENV_WEBSOCKET_URL, "ws://127.0.0.1:1/"),
            (ENV_PROCESS_ID, "p"),
            (ENV_HOST_ID, "h"),
            (ENV_FLEET_ID, "f"),
            (ENV_AUTH_TOKEN, "t"),
        ]))
        .unwrap();
    assert_eq!(config.process_id, "p");
}

#[test]
fn validation_errors() {
    let check = |p: ServerParameters| p.resolve_with(env(&[])).unwrap_err();
    assert_eq!(
        check(ServerParameters {
            web_socket_url: String::new(),
            ..params()
        }),
        ConfigError::MissingWebSocketUrl
    );
    assert!(matches!(
        check(ServerParameters {
            web_socket_url: "https://x/".into(),
            ..params()
        }),
        ConfigError::InvalidWebSocketUrl(_)
    ));
    assert_eq!(
        check(ServerParameters {
            process_id: String::new(),
            ..params()
        }),
        ConfigError::MissingProcessId
    );
    assert!(matches!(
        check(ServerParameters {
            fleet_id: "fleet_1".into(),
            ..params()
        }),
        ConfigError::InvalidFleetId(_)
    ));
    assert!(matches!(
        check(ServerParameters {
            host_id: "a/b/c".into(),
            ..params()
        }),
        ConfigError::InvalidHostId(_)
    ));
    assert_eq!(
        check(ServerParameters {
            auth_token: String::new(),
            aws_region: "us-east-1".into(),
            secret_key: "s".into(),
            ..params()
        }),
        ConfigError::NoAuthStrategy {
            missing: "AccessKey"
        }
    );
    let container = ServerParameters {
        auth_token: String::new(),
        aws_region: "us-east-1".into(),
        ..params()
    };
    assert_eq!(
        container
            .resolve_with(env(&[(ENV_COMPUTE_TYPE, "CONTAINER")]))
            .unwrap_err(),
        ConfigError::ContainerCredentialsUnsupported
    );
}

#[test]
fn debug_output_redacts_secrets() {
    let p = ServerParameters {
        secret_key: "very-secret".into(),
        ..params()
    };
    let text = format!("{p:?} {:?}", p.resolve_with(env(&[])).unwrap());
    assert!(
        !text.contains("very-secret") && !text.contains("param-token"),
        "{text}"
    );
}
