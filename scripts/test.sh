#!/usr/bin/env bash
# The project's one test command (README, CI's `.ci/run`).
#
#   scripts/test.sh [--no-lint] [ARGS...]
#
# 1. Installs what is missing, idempotently: redis-server, chromium and chromedriver
#    (Debian packages) and moto's server (PyPI, pinned, in a virtualenv under the ignored
#    .local/ folder).
# 2. Starts redis-server, a 3-node Redis Cluster (three more redis-servers, masters
#    only) and moto's server on free loopback ports and exports the environment the
#    tests read (REDIS_URL, REDIS_CLUSTER_URLS, AWS_ENDPOINT_URL, MOTO_URL, AWS_REGION,
#    dummy credentials; see `tests/src/lib.rs`), and GLS_REQUIRE_CHROMIUM=1 so that the
#    web page test fails rather than skips without Chromium.
# 3. Runs cargo fmt --check, clippy -D warnings, the protocol crate's dependency rule,
#    the whole workspace suite (cargo nextest if installed, else cargo test), the doc
#    tests, and (when the backend is tested) scripts/schemathesis.sh: schemathesis from
#    PyPI, pinned, in its own virtualenv under .local/, over the backend's OpenAPI
#    document, failing on any 5xx.
# 4. Stops every server on any exit. Server logs are in .local/run/*.log.
#
# ARGS go to the test runner, e.g. `scripts/test.sh -p protocol` or a test-name filter.
# Package selections (-p/--package/--exclude) also apply to the doc tests; other ARGS do
# not. `--no-lint` skips fmt and clippy for fast local iteration.
set -euo pipefail

# Pinned: moto 5.2.1's S3 multipart reply breaks the Rust SDK.
MOTO_VERSION="5.2.5"
# Bounded waits for the servers to answer, in tenths of a second.
REDIS_WAIT_TENTHS=100
MOTO_WAIT_TENTHS=600
# Bounded wait for the cluster to report cluster_state:ok on every node, in tenths.
CLUSTER_WAIT_TENTHS=150
# Nodes of the test bed's Redis Cluster (all masters, no replicas).
CLUSTER_NODES=3

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOCAL_DIR="$ROOT/.local"
RUN_DIR="$LOCAL_DIR/run"
VENV="$LOCAL_DIR/venv"

SCRIPT_START=$SECONDS
SECTION_NAME=""
SECTION_START=$SECONDS

section() {
    end_section
    SECTION_NAME="$*"
    SECTION_START=$SECONDS
    printf '\n==> %s\n' "$SECTION_NAME"
}

end_section() {
    if [[ -n "$SECTION_NAME" ]]; then
        printf '    (%s: %ss)\n' "$SECTION_NAME" "$((SECONDS - SECTION_START))"
        SECTION_NAME=""
    fi
}

die() {
    printf '\nscripts/test.sh: error: %s\n' "$*" >&2
    exit 1
}

# --- arguments -------------------------------------------------------------------------

LINT=1
RUNNER_ARGS=()
DOC_ARGS=()
SELECTS_PACKAGES=0
while (($#)); do
    case "$1" in
    --no-lint)
        LINT=0
        ;;
    -h | --help)
        awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    -p | --package | --exclude)
        (($# >= 2)) || die "$1 needs a value"
        [[ "$1" == --exclude ]] || SELECTS_PACKAGES=1
        RUNNER_ARGS+=("$1" "$2")
        DOC_ARGS+=("$1" "$2")
        shift
        ;;
    -p?* | --package=* | --exclude=*)
        [[ "$1" == --exclude=* ]] || SELECTS_PACKAGES=1
        RUNNER_ARGS+=("$1")
        DOC_ARGS+=("$1")
        ;;
    *)
        RUNNER_ARGS+=("$1")
        ;;
    esac
    shift
done
# `--workspace` unless the caller picked packages.
WORKSPACE_ARGS=(--workspace)
if ((SELECTS_PACKAGES)); then
    WORKSPACE_ARGS=()
fi

# --- servers: start, wait, stop --------------------------------------------------------

REDIS_PID=""
REDIS_PORT=""
MOTO_PID=""
MOTO_PORT=""
CLUSTER_PIDS=() # one per cluster node, index 0..CLUSTER_NODES-1
CLUSTER_PORTS=()
TESTS_RAN=0 # once set, a failure also prints the tails of the server logs
TOTAL_LINE="" # "tests: N passed, 0 failed", printed last on success

# Stops one server started by this script: its whole process group (each server is
# started as the leader of its own session), TERM first, KILL after 5 s.
stop_server() {
    local name="$1" pid="$2"
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "    $name (pid $pid) ignored SIGTERM; killing it" >&2
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    rm -f "$RUN_DIR/$name.pid"
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    end_section
    local i
    if [[ -n "$REDIS_PID$MOTO_PID${CLUSTER_PIDS[*]}" ]]; then
        printf '\n==> stopping servers\n'
        stop_server moto "$MOTO_PID"
        for i in "${!CLUSTER_PIDS[@]}"; do
            stop_server "redis-cluster-$((i + 1))" "${CLUSTER_PIDS[i]}"
        done
        stop_server redis "$REDIS_PID"
    fi
    rm -rf "$RUN_DIR/redis-data" "$RUN_DIR/redis-cluster-data"
    if ((status != 0 && TESTS_RAN)); then
        local log
        for log in "$RUN_DIR/redis.log" "$RUN_DIR"/redis-cluster-*.log "$RUN_DIR/moto.log"; do
            [[ -s "$log" ]] || continue
            printf '\n--- last lines of %s ---\n' "${log#"$ROOT"/}"
            tail -n 20 "$log"
        done
    fi
    if ((status == 0)); then
        printf '\n==> all green (%ss)\n' "$((SECONDS - SCRIPT_START))"
        [[ -n "$TOTAL_LINE" ]] && printf '%s\n' "$TOTAL_LINE"
    else
        printf '\n==> FAILED with status %s (%ss); server logs: %s/*.log\n' \
            "$status" "$((SECONDS - SCRIPT_START))" "${RUN_DIR#"$ROOT"/}" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A run killed with SIGKILL cannot clean up: its servers' pidfiles stay behind. Stop
# those servers (only if the pid still runs the same program) before starting new ones.
reap_stale() {
    local name="$1" program="$2" pidfile="$RUN_DIR/$1.pid" pid
    [[ -f "$pidfile" ]] || return 0
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$program"; then
        echo "    stopping $name left over from an earlier run (pid $pid)"
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

# Prints N (default 1) distinct loopback TCP ports that are free right now (the kernel's
# picks for port 0, all bound at once so that they differ), on one line.
free_port() {
    python3 - "${1:-1}" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

redis_answers() {
    [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]
}

# True when every node of the cluster (ports as arguments) reports cluster_state:ok.
cluster_ok() {
    local port
    for port in "$@"; do
        redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null |
            grep -q '^cluster_state:ok' || return 1
    done
}

# Prints the last lines of each log named, for a start-up failure.
log_tails() {
    local log
    for log in "$@"; do
        [[ -s "$log" ]] || continue
        echo "--- last lines of ${log#"$ROOT"/} ---" >&2
        tail -n 20 "$log" >&2 || true
    done
}

# Any HTTP reply (even 404) means moto's server is up.
moto_answers() {
    "$VENV/bin/python" - "$1" <<'PY' 2>/dev/null
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/data.json", timeout=2)
except urllib.error.HTTPError:
    pass
PY
}

# start_server NAME PROBE WAIT_TENTHS PID_VAR PORT_VAR CMD...
# Picks a free port, starts CMD (where @PORT@ stands for the port, and @PORT2@ for a
# second free port, e.g. a cluster bus) in the background, in its own session, output to
# .local/run/NAME.log, and waits until `PROBE PORT` succeeds.
# The pid goes into the variable PID_VAR as soon as the server starts, so that `cleanup`
# stops it whatever happens next; the port goes into PORT_VAR. If the server exits before
# answering (say another process took the port in between), tries a new port, 3 times.
start_server() {
    local name="$1" probe="$2" tenths="$3" pid_var="$4" port_var="$5"
    shift 5
    local log="$RUN_DIR/$name.log" attempt port port2 pid i arg
    local cmd=()
    for ((attempt = 1; attempt <= 3; attempt++)); do
        read -r port port2 <<<"$(free_port 2)"
        cmd=()
        for arg in "$@"; do
            arg="${arg//@PORT@/$port}"
            cmd+=("${arg//@PORT2@/$port2}")
        done
        echo "    $name: $(printf "%q " "${cmd[@]}")" >"$log"
        setsid "${cmd[@]}" >>"$log" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$RUN_DIR/$name.pid"
        printf -v "$pid_var" '%s' "$pid"
        printf -v "$port_var" '%s' "$port"
        for ((i = 0; i < tenths; i++)); do
            if "$probe" "$port"; then
                echo "    $name answers on 127.0.0.1:$port (pid $pid, after ~$((i / 10)).$((i % 10))s)"
                return 0
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "--- last lines of $log ---" >&2
            tail -n 40 "$log" >&2 || true
            die "$name did not answer on 127.0.0.1:$port within $((tenths / 10)) s"
        fi
        wait "$pid" 2>/dev/null || true
        printf -v "$pid_var" '%s' ""
        rm -f "$RUN_DIR/$name.pid"
        echo "    $name exited before answering on port $port (attempt $attempt of 3)" >&2
        tail -n 5 "$log" >&2 || true
    done
    echo "--- last lines of $log ---" >&2
    tail -n 40 "$log" >&2 || true
    die "$name failed to start (3 attempts); see ${log#"$ROOT"/}"
}

# --- install ---------------------------------------------------------------------------

as_root() {
    if [[ "$(id -u)" == 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

# Installs Debian packages, running `apt-get update` first (once per run): the package
# lists of a fresh machine may be missing or stale.
APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null ||
        die "missing: $* (and there is no apt-get here); install it yourself"
    if ((!APT_UPDATED)); then
        as_root apt-get update -q
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@"
}

section "install: redis-server (Debian package)"
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
    echo "    present: $(redis-server --version | head -n 1)"
else
    apt_install redis-server
    if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
        die "apt-get installed redis-server but redis-server/redis-cli are not on PATH"
    fi
    echo "    installed: $(redis-server --version | head -n 1)"
fi

section "install: chromium and chromedriver (Debian packages, for the web page test)"
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    echo "    present: $(chromium --version 2>/dev/null | head -n 1)"
else
    apt_install chromium chromium-driver
    if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
        die "apt-get installed chromium and chromium-driver but chromium/chromedriver are not on PATH"
    fi
    echo "    installed: $(chromium --version 2>/dev/null | head -n 1)"
fi

section "install: moto[server]==$MOTO_VERSION (virtualenv .local/venv)"
mkdir -p "$RUN_DIR"
venv_moto_version() {
    "$VENV/bin/python" - <<'PY' 2>/dev/null
import importlib.metadata as m
import flask, flask_cors  # the [server] extra
print(m.version("moto"))
PY
}
have="$(venv_moto_version || true)"
if [[ "$have" == "$MOTO_VERSION" && -x "$VENV/bin/moto_server" ]]; then
    echo "    present: moto $have"
else
    if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        # Missing, half made, or broken (say the interpreter it was made from is gone).
        if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
            apt_install python3 python3-venv
        fi
        rm -rf "$VENV"
        python3 -m venv "$VENV" || die "python3 -m venv $VENV failed"
    fi
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install -q \
        "moto[server]==$MOTO_VERSION"
    have="$(venv_moto_version || true)"
    [[ "$have" == "$MOTO_VERSION" ]] ||
        die "moto $MOTO_VERSION with its server extra did not install into $VENV (got '${have:-nothing}')"
    echo "    installed: moto $have"
fi

section "check: toolchain"
cargo --version
for tool in fmt clippy; do
    if ((LINT)) && ! cargo "$tool" --version >/dev/null 2>&1; then
        die "cargo $tool is missing (rustup component add ${tool/fmt/rustfmt}), or use --no-lint"
    fi
done
if cargo nextest --version >/dev/null 2>&1; then
    RUNNER=nextest
    cargo nextest --version | head -n 1
else
    RUNNER=cargo-test
    echo "    cargo-nextest not installed: using cargo test"
fi

# --- servers ---------------------------------------------------------------------------

section "start: redis-server and moto server on free loopback ports"
reap_stale redis redis-server
reap_stale moto moto_server
rm -rf "$RUN_DIR/redis-data"
mkdir -p "$RUN_DIR/redis-data"

start_server redis redis_answers "$REDIS_WAIT_TENTHS" REDIS_PID REDIS_PORT \
    redis-server --bind 127.0.0.1 --port @PORT@ --save '' --appendonly no \
    --daemonize no --protected-mode yes --dir "$RUN_DIR/redis-data" --logfile ''

start_server moto moto_answers "$MOTO_WAIT_TENTHS" MOTO_PID MOTO_PORT \
    "$VENV/bin/moto_server" -H 127.0.0.1 -p @PORT@

section "start: Redis Cluster ($CLUSTER_NODES masters, no replicas) on free loopback ports"
for ((n = 1; n <= CLUSTER_NODES; n++)); do
    reap_stale "redis-cluster-$n" redis-server
done
# A node finding its nodes-PORT.conf from an earlier run would still think it is in
# that run's cluster: every run starts from empty nodes.
rm -rf "$RUN_DIR/redis-cluster-data"
mkdir -p "$RUN_DIR/redis-cluster-data"
# Each node's cluster bus gets its own free port (@PORT2@): the default, PORT + 10000, is
# past 65535 for a third of the kernel's ephemeral ports.
for ((n = 1; n <= CLUSTER_NODES; n++)); do
    start_server "redis-cluster-$n" redis_answers "$REDIS_WAIT_TENTHS" \
        "CLUSTER_PIDS[$((n - 1))]" "CLUSTER_PORTS[$((n - 1))]" \
        redis-server --bind 127.0.0.1 --port @PORT@ --cluster-port @PORT2@ \
        --cluster-enabled yes \
        --cluster-config-file "$RUN_DIR/redis-cluster-data/nodes-@PORT@.conf" \
        --cluster-node-timeout 2000 --save '' --appendonly no \
        --daemonize no --protected-mode yes --dir "$RUN_DIR/redis-cluster-data" --logfile ''
done
CLUSTER_LOGS=()
CLUSTER_ADDRS=()
for ((n = 1; n <= CLUSTER_NODES; n++)); do
    CLUSTER_LOGS+=("$RUN_DIR/redis-cluster-$n.log")
    CLUSTER_ADDRS+=("127.0.0.1:${CLUSTER_PORTS[n - 1]}")
done
# `--cluster create` waits for the nodes to meet; bounded in case they never do.
if ! timeout 60 redis-cli --cluster create "${CLUSTER_ADDRS[@]}" --cluster-replicas 0 \
    --cluster-yes >"$RUN_DIR/redis-cluster-create.log" 2>&1 </dev/null; then
    log_tails "$RUN_DIR/redis-cluster-create.log" "${CLUSTER_LOGS[@]}"
    die "redis-cli --cluster create ${CLUSTER_ADDRS[*]} failed (or took over 60 s)"
fi
for ((i = 0; i < CLUSTER_WAIT_TENTHS; i++)); do
    cluster_ok "${CLUSTER_PORTS[@]}" && break
    sleep 0.1
done
if ! cluster_ok "${CLUSTER_PORTS[@]}"; then
    for port in "${CLUSTER_PORTS[@]}"; do
        echo "--- redis-cli -p $port cluster info ---" >&2
        redis-cli -h 127.0.0.1 -p "$port" cluster info >&2 2>&1 || true
    done
    log_tails "$RUN_DIR/redis-cluster-create.log" "${CLUSTER_LOGS[@]}"
    die "the Redis Cluster (${CLUSTER_ADDRS[*]}) did not reach cluster_state:ok within $((CLUSTER_WAIT_TENTHS / 10)) s"
fi
echo "    cluster_state:ok on ${CLUSTER_ADDRS[*]} (after ~$((i / 10)).$((i % 10))s more)"

# --- environment the tests read (see tests/src/lib.rs) ---------------------------------

# Nothing from the developer's own AWS setup may leak in: no profile, no session token,
# no per-service endpoint, no shared config or credentials files, no instance metadata.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN \
    AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
while read -r var; do
    unset "$var"
done < <(compgen -e | grep '^AWS_ENDPOINT_URL_' || true)
: >"$RUN_DIR/aws-empty-config"
export AWS_CONFIG_FILE="$RUN_DIR/aws-empty-config"
export AWS_SHARED_CREDENTIALS_FILE="$RUN_DIR/aws-empty-config"
export AWS_EC2_METADATA_DISABLED=true

export REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
REDIS_CLUSTER_URLS="$(printf 'redis://%s,' "${CLUSTER_ADDRS[@]}")"
export REDIS_CLUSTER_URLS="${REDIS_CLUSTER_URLS%,}"
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
export MOTO_URL="$AWS_ENDPOINT_URL"
export AWS_REGION="us-east-1"
export AWS_DEFAULT_REGION="$AWS_REGION"
export AWS_ACCESS_KEY_ID="testing"
export AWS_SECRET_ACCESS_KEY="testing"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"
# The web page test (backend/tests/web_page.rs) fails rather than skips without Chromium.
export GLS_REQUIRE_CHROMIUM=1
echo "    REDIS_URL=$REDIS_URL"
echo "    REDIS_CLUSTER_URLS=$REDIS_CLUSTER_URLS"
echo "    AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL (MOTO_URL)"
echo "    AWS_REGION=$AWS_REGION, AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"

# --- lint ------------------------------------------------------------------------------

if ((LINT)); then
    section "lint: cargo fmt --all --check"
    cargo fmt --all --check

    section "lint: cargo clippy --workspace --all-targets --locked -- -D warnings"
    cargo clippy --workspace --all-targets --locked -- -D warnings
else
    section "lint: skipped (--no-lint)"
fi

section "check: protocol depends on no tokio, quinn, aws-* or redis crate"
tree="$(cargo tree -p protocol -e normal --prefix none --locked --all-features --target all)"
forbidden="$(grep -E '^(tokio|quinn|aws-|redis)[A-Za-z0-9_-]* v' <<<"$tree" | sort -u || true)"
if [[ -n "$forbidden" ]]; then
    while read -r crate; do
        echo "    $crate" >&2
    done <<<"$forbidden"
    die "protocol/ must not depend on tokio, quinn, the AWS SDKs or redis (see shared/docs/architecture.md); found the crates above in 'cargo tree -p protocol -e normal'"
fi
echo "    ok ($(grep -c . <<<"$tree") crates in protocol's normal dependency tree)"

# --- tests -----------------------------------------------------------------------------

if [[ "$RUNNER" == nextest ]]; then
    TEST_CMD=(cargo nextest run "${WORKSPACE_ARGS[@]}" --locked --no-fail-fast "${RUNNER_ARGS[@]}")
else
    TEST_CMD=(cargo test "${WORKSPACE_ARGS[@]}" --locked --no-fail-fast "${RUNNER_ARGS[@]}")
fi
section "test: ${TEST_CMD[*]}"
TESTS_RAN=1
"${TEST_CMD[@]}" 2>&1 | tee "$RUN_DIR/tests.log"

DOC_CMD=(cargo test "${WORKSPACE_ARGS[@]}" --doc --locked "${DOC_ARGS[@]}")
section "test: ${DOC_CMD[*]}"
"${DOC_CMD[@]}" 2>&1 | tee "$RUN_DIR/doctests.log"

# Issue 6: a property-based run over the backend's OpenAPI document finds no 5xx.
if ((!SELECTS_PACKAGES)) || printf '%s\n' "${DOC_ARGS[@]}" | grep -qxE -- '(-p|--package=)?backend'; then
    section "test: scripts/schemathesis.sh (no 5xx from the backend's HTTP API)"
    scripts/schemathesis.sh
fi

# One plain closing line with the totals of both runs, so CI's log ends on the real count
# rather than on whichever crate's doc tests happened to run last.
count() { # $1 = regex with one number group, $2.. = logs; prints the sum
    local re=$1 total=0 n
    shift
    while read -r n; do total=$((total + n)); done < <(sed -nE "s/$re/\1/p" "$@")
    echo "$total"
}
if [[ "$RUNNER" == nextest ]]; then
    PASSED=$(count '.*Summary.* ([0-9]+) passed.*' "$RUN_DIR/tests.log")
else
    PASSED=$(count '^test result: .* ([0-9]+) passed;.*' "$RUN_DIR/tests.log")
fi
PASSED=$((PASSED + $(count '^test result: .* ([0-9]+) passed;.*' "$RUN_DIR/doctests.log")))
TOTAL_LINE="tests: $PASSED passed, 0 failed"
