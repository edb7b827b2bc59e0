//! Shared by the `api_*` tests: a fixed-answer fleet core ([`Fixture`], our own
//! `ControlPlane`, not a mock of AWS) that records what it was asked, the shapes it
//! answers with (every member set), the server on `127.0.0.1:0`, an `aws-sdk-gamelift`
//! client pointed at it, and a raw HTTP/1.1 exchange for requests no SDK would send.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::tls;
use aws_smithy_types::retry::RetryConfig;
use fleet::local::api::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A fleet core with fixed answers that records every request and can be told to fail.
#[derive(Default)]
pub(crate) struct Fixture {
    pub(crate) seen: Mutex<Vec<Request>>,
    pub(crate) fail: Mutex<Option<ApiError>>,
}

impl Fixture {
    pub(crate) fn last(&self) -> Request {
        self.seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request")
    }

    pub(crate) fn fail_next(&self, kind: ErrorKind, message: &str) {
        *self.fail.lock().unwrap() = Some(ApiError::new(kind, message));
    }
}

impl ControlPlane for Fixture {
    async fn call(&self, request: Request) -> Result<Response, ApiError> {
        self.seen.lock().unwrap().push(request.clone());
        if let Some(err) = self.fail.lock().unwrap().take() {
            return Err(err);
        }
        Ok(answer(&request))
    }
}

pub(crate) const FLEET: &str = "fleet-2222bbbb-3333-cccc-4444-dddd5555eeee";
pub(crate) const FLEET_ARN: &str =
    "arn:aws:gamelift:us-east-1:123456789012:fleet/fleet-2222bbbb-3333-cccc-4444-dddd5555eeee";

pub(crate) fn game_session_arn(n: u32) -> String {
    format!("arn:aws:gamelift:us-east-1::gamesession/{FLEET}/gsess-{n}")
}

pub(crate) fn game_session(n: u32) -> GameSession {
    GameSession {
        game_session_id: Some(game_session_arn(n)),
        name: Some(format!("match {n}")),
        fleet_id: Some(FLEET.into()),
        fleet_arn: Some(FLEET_ARN.into()),
        // Milliseconds that are not exact in binary: the codec must keep them anyway.
        creation_time: Some(Timestamp::from_millis(1_700_000_000_123)),
        termination_time: Some(Timestamp::from_millis(1_700_000_360_007)),
        current_player_session_count: Some(3),
        maximum_player_session_count: Some(8),
        status: Some(GameSessionStatus::Terminated),
        status_reason: Some(GameSessionStatusReason::TriggeredOnProcessTerminate),
        game_properties: vec![
            GameProperty {
                key: "mode".into(),
                value: "ranked".into(),
            },
            GameProperty {
                key: "map".into(),
                value: "harbour".into(),
            },
        ],
        ip_address: Some("127.0.0.1".into()),
        dns_name: Some("localhost".into()),
        port: Some(7777),
        player_session_creation_policy: Some(PlayerSessionCreationPolicy::DenyAll),
        creator_id: Some("creator-1".into()),
        game_session_data: Some("{\"seed\":42}".into()),
        matchmaker_data: Some("{\"matchId\":\"m-1\"}".into()),
        location: Some("us-east-1".into()),
        compute_name: Some("local-compute".into()),
    }
}

pub(crate) fn player_session(player: &str, data: Option<&str>) -> PlayerSession {
    PlayerSession {
        player_session_id: Some(format!("psess-{player}")),
        player_id: Some(player.into()),
        game_session_id: Some(game_session_arn(1)),
        fleet_id: Some(FLEET.into()),
        fleet_arn: Some(FLEET_ARN.into()),
        creation_time: Some(Timestamp::from_millis(1_700_000_001_999)),
        termination_time: Some(Timestamp::from_millis(1_700_000_061_001)),
        status: Some(PlayerSessionStatus::Timedout),
        ip_address: Some("127.0.0.1".into()),
        dns_name: Some("localhost".into()),
        port: Some(7777),
        player_data: data.map(str::to_owned),
    }
}

pub(crate) fn placement() -> GameSessionPlacement {
    GameSessionPlacement {
        placement_id: Some("placement-1".into()),
        game_session_queue_name: Some("default".into()),
        status: Some(GameSessionPlacementState::Fulfilled),
        game_properties: vec![GameProperty {
            key: "mode".into(),
            value: "duel".into(),
        }],
        maximum_player_session_count: Some(2),
        game_session_name: Some("duel".into()),
        game_session_id: Some("gsess-9".into()),
        game_session_arn: Some(game_session_arn(9)),
        game_session_region: Some("us-east-1".into()),
        player_latencies: vec![PlayerLatency {
            player_id: Some("alice".into()),
            region_identifier: Some("us-east-1".into()),
            latency_in_milliseconds: Some(12.3),
        }],
        start_time: Some(Timestamp::from_millis(1_700_000_000_001)),
        end_time: Some(Timestamp::from_millis(1_700_000_002_502)),
        ip_address: Some("127.0.0.1".into()),
        dns_name: Some("localhost".into()),
        port: Some(7778),
        placed_player_sessions: vec![PlacedPlayerSession {
            player_id: Some("alice".into()),
            player_session_id: Some("psess-alice".into()),
        }],
        game_session_data: Some("data".into()),
        matchmaker_data: Some("mm".into()),
        priority_configuration_override: Some(PriorityConfigurationOverride {
            placement_fallback_strategy: Some(PlacementFallbackStrategy::None),
            location_order: vec!["us-east-1".into(), "local".into()],
        }),
    }
}

pub(crate) fn fleet_attributes() -> FleetAttributes {
    FleetAttributes {
        fleet_id: Some(FLEET.into()),
        fleet_arn: Some(FLEET_ARN.into()),
        fleet_type: Some(FleetType::OnDemand),
        instance_type: Some("c5.large".into()),
        description: Some("fleet local".into()),
        name: Some("local".into()),
        creation_time: Some(Timestamp::from_millis(1_699_999_999_999)),
        termination_time: None,
        status: Some(FleetStatus::Active),
        build_id: Some("build-1".into()),
        build_arn: Some("arn:aws:gamelift:us-east-1::build/build-1".into()),
        script_id: Some("script-1".into()),
        script_arn: Some("arn:aws:gamelift:us-east-1::script/script-1".into()),
        server_launch_path: Some("/local/game/server".into()),
        server_launch_parameters: Some("--port 7777".into()),
        log_paths: vec!["/local/game/logs".into()],
        new_game_session_protection_policy: Some(ProtectionPolicy::FullProtection),
        operating_system: Some(OperatingSystem::AmazonLinux2023),
        resource_creation_limit_policy: Some(ResourceCreationLimitPolicy {
            new_game_sessions_per_creator: Some(5),
            policy_period_in_minutes: Some(15),
        }),
        metric_groups: vec!["default".into()],
        instance_role_arn: Some("arn:aws:iam::123456789012:role/fleet".into()),
        certificate_configuration: Some(CertificateConfiguration {
            certificate_type: CertificateType::Generated,
        }),
        compute_type: Some(ComputeType::Anywhere),
        anywhere_configuration: Some(AnywhereConfiguration { cost: "0.0".into() }),
    }
}

pub(crate) fn fleet_capacity() -> FleetCapacity {
    FleetCapacity {
        fleet_id: Some(FLEET.into()),
        fleet_arn: Some(FLEET_ARN.into()),
        instance_type: Some("c5.large".into()),
        instance_counts: Some(Ec2InstanceCounts {
            desired: Some(1),
            minimum: Some(0),
            maximum: Some(2),
            pending: Some(3),
            active: Some(4),
            idle: Some(5),
            terminating: Some(6),
        }),
        location: Some("us-east-1".into()),
    }
}

pub(crate) fn answer(request: &Request) -> Response {
    let page = Some("next-page-token".to_owned());
    match request {
        Request::CreateGameSession(input) if input.name.as_deref() == Some("wrong-variant") => {
            Response::DescribeFleetCapacity(FleetCapacityOutput::default())
        }
        Request::CreateGameSession(_) => Response::CreateGameSession(GameSessionOutput {
            game_session: game_session(1),
        }),
        Request::DescribeGameSessions(_) => Response::DescribeGameSessions(GameSessionsOutput {
            game_sessions: vec![game_session(1), game_session(2)],
            next_token: page,
        }),
        Request::SearchGameSessions(_) => Response::SearchGameSessions(GameSessionsOutput {
            game_sessions: vec![game_session(3)],
            next_token: None,
        }),
        Request::DescribeGameSessionDetails(_) => {
            Response::DescribeGameSessionDetails(GameSessionDetailsOutput {
                game_session_details: vec![GameSessionDetail {
                    game_session: Some(game_session(1)),
                    protection_policy: Some(ProtectionPolicy::NoProtection),
                }],
                next_token: page,
            })
        }
        Request::TerminateGameSession(_) => Response::TerminateGameSession(GameSessionOutput {
            game_session: game_session(1),
        }),
        Request::CreatePlayerSession(input) => Response::CreatePlayerSession(PlayerSessionOutput {
            player_session: player_session(&input.player_id, input.player_data.as_deref()),
        }),
        Request::CreatePlayerSessions(input) => {
            Response::CreatePlayerSessions(PlayerSessionsOutput {
                player_sessions: input
                    .player_ids
                    .iter()
                    .map(|p| player_session(p, input.player_data_map.get(p).map(String::as_str)))
                    .collect(),
                next_token: None,
            })
        }
        Request::DescribePlayerSessions(_) => {
            Response::DescribePlayerSessions(PlayerSessionsOutput {
                player_sessions: vec![
                    player_session("alice", Some("a")),
                    player_session("bob", None),
                ],
                next_token: page,
            })
        }
        Request::StartGameSessionPlacement(_) => {
            Response::StartGameSessionPlacement(GameSessionPlacementOutput {
                game_session_placement: GameSessionPlacement {
                    status: Some(GameSessionPlacementState::Pending),
                    ..placement()
                },
            })
        }
        Request::DescribeGameSessionPlacement(_) => {
            Response::DescribeGameSessionPlacement(GameSessionPlacementOutput {
                game_session_placement: placement(),
            })
        }
        Request::StopGameSessionPlacement(_) => {
            Response::StopGameSessionPlacement(GameSessionPlacementOutput {
                game_session_placement: GameSessionPlacement {
                    status: Some(GameSessionPlacementState::Cancelled),
                    ..placement()
                },
            })
        }
        Request::DescribeFleetAttributes(_) => {
            Response::DescribeFleetAttributes(FleetAttributesOutput {
                fleet_attributes: vec![fleet_attributes()],
                next_token: page,
            })
        }
        Request::DescribeFleetCapacity(_) => Response::DescribeFleetCapacity(FleetCapacityOutput {
            fleet_capacity: vec![fleet_capacity()],
            next_token: page,
        }),
        Request::UpdateFleetCapacity(input) => {
            Response::UpdateFleetCapacity(UpdateFleetCapacityOutput {
                fleet_id: Some(input.fleet_id.clone()),
                fleet_arn: Some(FLEET_ARN.into()),
                location: Some("us-east-1".into()),
            })
        }
        Request::CreateBuild(_) => Response::CreateBuild(CreateBuildOutput {
            build: build(BuildStatus::Initialized),
            upload_credentials: Some(AwsCredentials {
                access_key_id: Some("AKIDUPLOAD".into()),
                secret_access_key: Some("upload-secret".into()),
                session_token: Some("upload-token".into()),
            }),
            storage_location: Some(S3Location {
                bucket: Some("builds".into()),
                key: Some("build-1/build.zip".into()),
                ..S3Location::default()
            }),
        }),
        Request::DescribeBuild(_) => Response::DescribeBuild(BuildOutput {
            build: build(BuildStatus::Ready),
        }),
        Request::CreateFleet(_) => Response::CreateFleet(CreateFleetOutput {
            fleet_attributes: FleetAttributes {
                status: Some(FleetStatus::New),
                ..fleet_attributes()
            },
            location_states: vec![LocationState {
                location: Some("us-east-1".into()),
                status: Some(FleetStatus::New),
            }],
        }),
        Request::UpdateRuntimeConfiguration(input) => {
            Response::UpdateRuntimeConfiguration(RuntimeConfigurationOutput {
                runtime_configuration: input.runtime_configuration.clone(),
            })
        }
        Request::DescribeRuntimeConfiguration(_) => {
            Response::DescribeRuntimeConfiguration(RuntimeConfigurationOutput {
                runtime_configuration: RuntimeConfiguration {
                    server_processes: vec![ServerProcess {
                        launch_path: "/local/game/server".into(),
                        parameters: Some("--port 7000".into()),
                        concurrent_executions: 2,
                    }],
                    max_concurrent_game_session_activations: Some(3),
                    game_session_activation_timeout_seconds: Some(300),
                },
            })
        }
    }
}

/// A build with every member set.
pub(crate) fn build(status: BuildStatus) -> Build {
    Build {
        build_id: Some("build-1".into()),
        build_arn: Some("arn:aws:gamelift:us-east-1:123456789012:build/build-1".into()),
        name: Some("arena".into()),
        version: Some("1.2.3".into()),
        status: Some(status),
        size_on_disk: Some(5_000_000_000),
        operating_system: Some(OperatingSystem::AmazonLinux2023),
        creation_time: Some(Timestamp::from_millis(1_700_000_000_123)),
        server_sdk_version: Some("5.4.0".into()),
    }
}

/// Serves the router on `127.0.0.1:0` and returns the fixture, the address and an SDK
/// client pointed at it (see [`sdk_client`]).
pub(crate) async fn start() -> (Arc<Fixture>, SocketAddr, Client) {
    let fixture = Arc::new(Fixture::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(fixture.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let config = aws_sdk_gamelift::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDLOCAL",
            "local-secret",
            None,
            None,
            "test",
        ))
        .endpoint_url(format!("http://{addr}"))
        .http_client(http)
        .retry_config(RetryConfig::disabled())
        .build();
    (fixture, addr, Client::from_conf(config))
}

/// One raw HTTP/1.1 exchange: status, lower-cased headers, body.
pub(crate) async fn raw(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, BTreeMap<String, String>, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let (mut reader, mut writer) = stream.split();
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    // The server may answer (and close) before reading an oversized body: ignore write
    // errors and read whatever answer arrived.
    let write = async {
        let _ = writer.write_all(&request).await;
    };
    let mut response = Vec::new();
    let read = async {
        let _ = reader.read_to_end(&mut response).await;
    };
    tokio::join!(write, read);
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response");
    let head = String::from_utf8(response[..split].to_vec()).unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, response[split + 4..].to_vec())
}
