#!/usr/bin/env bash
# Property-based run of schemathesis (from PyPI) over the backend's OpenAPI document:
# `backend serve` with embedded stores and a dev token on loopback, every operation
# fuzzed (examples, coverage, fuzzing and stateful phases), and the one check issue 6
# asks for: no request gets a 5xx. Extra arguments go to `schemathesis run` (say
# `--max-examples 200`, or `--checks all` to see where the schema is looser than the
# handlers' validation).
#
# schemathesis is pinned and installed into its own virtualenv under .local/.
set -euo pipefail

SCHEMATHESIS_VERSION="4.32.5"
MAX_EXAMPLES=50
START_WAIT_TENTHS=300

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.local/schemathesis-venv"

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    echo "==> install: schemathesis==$SCHEMATHESIS_VERSION (virtualenv .local/schemathesis-venv)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

echo "==> build: backend"
cargo build --quiet --locked -p backend --bin backend
BACKEND="$ROOT/target/debug/backend"

DATA="$(mktemp -d)"
KEY="schemathesis-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
"$BACKEND" serve --jwt-hmac-key "$KEY" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
    --data-dir "$DATA/data" --rate-burst 1000000 --rate-per-second 1000000 \
    >"$DATA/stdout" 2>"$DATA/stderr" &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DATA"' EXIT

API=""
for ((i = 0; i < START_WAIT_TENTHS; i++)); do
    API="$(sed -n 's/^listening api=\([^ ]*\) .*/\1/p' "$DATA/stdout")"
    [[ -n "$API" ]] && break
    kill -0 "$PID" 2>/dev/null || { cat "$DATA/stderr" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$API" ]] || { echo "backend serve did not start" >&2; cat "$DATA/stderr" >&2; exit 1; }

TOKEN="$("$BACKEND" dev-token --player p-1 --jwt-hmac-key "$KEY")"
echo "==> schemathesis against http://$API"
# Run from the temporary folder: schemathesis keeps a cache in its working directory.
cd "$DATA"
"$VENV/bin/schemathesis" run "http://$API/openapi.json" \
    --header "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error \
    --max-examples "$MAX_EXAMPLES" \
    "$@"
