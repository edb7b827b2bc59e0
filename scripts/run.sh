#!/usr/bin/env bash
# The one-command local run (README): the whole system on embedded defaults, no Redis,
# AWS or Docker.
#
#   scripts/run.sh [--bots N] [--processes N] [--debug]
#
# 1. Builds the binaries (release unless --debug).
# 2. Starts `fleet local` (a GameLift-compatible fleet on loopback) launching N
#    session-server processes, which report results into a spool directory.
# 3. Starts the backend (`backend serve --consume`): HTTP matchmaking placing matches on
#    the fleet through aws-sdk-gamelift, the result consumer reading the spool, profiles
#    and rankings in embedded stores, and the web page.
# 4. Mints dev tokens and starts the bots (`players`), which queue, play over QUIC, and
#    queue again; their summary line is printed every two seconds.
# Ctrl-C stops everything: the fleet first (matches in progress end cut short and their
# results go to the spool), then the backend. Everything lives in .local/run-demo/;
# profiles and ranks persist across runs (delete the folder to start over).
#
# Real services instead of embedded ones, through the environment:
#   BACKEND_FLAGS="--queue sqs --queue-url Q --dlq-url D --profiles dynamodb
#                  --table-prefix P --rankings redis --redis-url redis://127.0.0.1:6379"
#   SERVER_QUEUE_FLAGS="--queue sqs --queue-url Q"   (instead of the spool)
# (`backend init` creates Q, D and the tables; AWS_* variables reach every part.)
set -euo pipefail

BOTS=40
PROCESSES=16
PROFILE=release
API_PORT="${API_PORT:-8080}"
ADMIN_PORT="${ADMIN_PORT:-9090}"
while (($#)); do
    case "$1" in
    --bots) BOTS="$2"; shift ;;
    --processes) PROCESSES="$2"; shift ;;
    --debug) PROFILE=debug ;;
    -h | --help)
        awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    *) echo "scripts/run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATA="$ROOT/.local/run-demo"
mkdir -p "$DATA"

# Local-only secrets: fixed so that a restarted run keeps verifying its own results.
JWT_KEY="local-run-jwt-key-not-for-production-use"
KEYRING="local:6c6f63616c2d72756e2d726573756c742d6b65792d6e6f742d666f722d70726f64"
TLS_SECRET="local-run-tls-secret-not-for-production"

echo "==> building ($PROFILE)"
if [[ "$PROFILE" == release ]]; then
    cargo build --release --locked -p fleet -p server -p backend -p client --bins
else
    cargo build --locked -p fleet -p server -p backend -p client --bins
fi
BIN="$ROOT/target/$PROFILE"

PIDS=()
cleanup() {
    trap - EXIT INT TERM
    echo
    echo "==> stopping: bots, then the fleet (matches end cut short), then the backend"
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        # Bounded: each part stops by itself within its grace periods.
        for _ in $(seq 1 300); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    echo "==> stopped; logs in ${DATA#"$ROOT"/}/"
}
trap cleanup EXIT
# Ctrl-C is how a run is meant to end: after the clean stop, exit 0.
trap 'exit 0' INT
trap 'exit 143' TERM

# Reads the first line of FILE matching PATTERN, waiting up to 60 s for it, with a
# progress bar on stderr while it waits.
wait_line() {
    local file="$1" pattern="$2" what="$3" line i bar
    for i in $(seq 1 600); do
        line="$(grep -m1 -- "$pattern" "$file" 2>/dev/null || true)"
        if [[ -n "$line" ]]; then
            printf '\r    waiting for %s: ready%-40s\n' "$what" "" >&2
            printf '%s\n' "$line"
            return 0
        fi
        if ((i % 5 == 0)); then
            printf -v bar '%*s' $((i / 15)) ''
            printf '\r    waiting for %s [%-40s] %ds' "$what" "${bar// /#}" $((i / 10)) >&2
        fi
        sleep 0.1
    done
    printf '\n' >&2
    echo "scripts/run.sh: $what did not start within 60 s; see $file" >&2
    return 1
}

echo "==> starting fleet local with $PROCESSES session-server processes"
rm -f "$DATA/fleet.out"
"$BIN/fleet" local --sdk-listen 127.0.0.1:0 --api-listen 127.0.0.1:0 \
    --data-dir "$DATA/fleet" \
    --launch-path "$BIN/session-server" \
    --parameters "--port 0 --outbox-dir $DATA/outbox --keyring $KEYRING ${SERVER_QUEUE_FLAGS:---queue spool --spool-dir $DATA/spool} --tls-secret $TLS_SECRET --match-secs ${MATCH_SECS:-30}" \
    --processes "$PROCESSES" \
    >"$DATA/fleet.out" 2>"$DATA/fleet.log" &
FLEET_PID=$!
API_LINE="$(wait_line "$DATA/fleet.out" "api-endpoint" "fleet local")"
GAMELIFT_URL="$(awk '{print $3}' <<<"$API_LINE")"
FLEET_ID="$(sed -n 's/.*fleet-id=\([^ ]*\).*/\1/p' <<<"$API_LINE")"

echo "==> starting the backend (matchmaking, results, rankings, web page)"
rm -f "$DATA/backend.out"
# shellcheck disable=SC2086 # BACKEND_FLAGS is a list of flags
AWS_ENDPOINT_URL_GAMELIFT="$GAMELIFT_URL" AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
    "$BIN/backend" serve --listen "127.0.0.1:$API_PORT" --admin-listen "127.0.0.1:$ADMIN_PORT" \
    --jwt-hmac-key "$JWT_KEY" --placer gamelift --fleet-id "$FLEET_ID" \
    --tls-secret "$TLS_SECRET" --consume --keyring "$KEYRING" \
    --data-dir "$DATA/backend" --spool-dir "$DATA/spool" ${BACKEND_FLAGS:-} \
    >"$DATA/backend.out" 2>"$DATA/backend.log" &
BACKEND_PID=$!
wait_line "$DATA/backend.out" "listening api=" "the backend" >/dev/null

"$BIN/backend" dev-token --player bot --count "$BOTS" --ttl-secs 86400 \
    --jwt-hmac-key "$JWT_KEY" >"$DATA/tokens.txt"

echo
echo "    web page:  http://127.0.0.1:$API_PORT/web/?player=bot-000&mode=duel"
echo "    API:       http://127.0.0.1:$API_PORT/openapi.json"
echo "    GameLift:  $GAMELIFT_URL (fleet $FLEET_ID); logs in ${DATA#"$ROOT"/}/"
echo
echo "==> $BOTS bots queueing and playing (Ctrl-C stops everything)"
"$BIN/players" --backend "http://127.0.0.1:$API_PORT" --tokens "$DATA/tokens.txt" \
    --backend-metrics "http://127.0.0.1:$ADMIN_PORT/metrics" --fleet-processes "$PROCESSES" \
    2>"$DATA/players.log" &
PLAYERS_PID=$!
# Stop order on exit: bots, fleet, backend.
PIDS=("$PLAYERS_PID" "$FLEET_PID" "$BACKEND_PID")
wait "$PLAYERS_PID"
