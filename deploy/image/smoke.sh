#!/usr/bin/env bash
# Smoke-test an image without a container runtime that can set cgroups or rlimits: two
# replicas of IMAGE run under `buildah run --isolation chroot` (host network) against a Redis
# and the Anthropic emulator started here from the workspace's .venv. Passes when both
# answer /ready, run as the image's non-root user, and a validation computed on the first
# is a Redis hit on the second.
#
#   sudo deploy/image/smoke.sh [IMAGE]          # default localhost/quipu:dev
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=${1:-localhost/quipu:dev}
KEY=smoke-key-0123456789abcdef0123
VENV=.venv
SERVER=$($VENV/bin/python -c 'from quipu.testing.redis_server import find_server_binary as f; print(f())')
pids=()
ctrs=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for ctr in "${ctrs[@]}"; do buildah rm "$ctr" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

"$SERVER" --port 18600 --bind 127.0.0.1 --save "" >/dev/null 2>&1 & pids+=($!)
$VENV/bin/quipu emulator --port 18601 >/dev/null 2>&1 & pids+=($!)
for port in 18610 18611; do
    ctr=$(buildah from "$IMAGE")
    ctrs+=("$ctr")
    buildah run --isolation chroot --env PORT=$port --env API_KEY=$KEY \
        --env REDIS_URL=redis://127.0.0.1:18600/0 --env ANTHROPIC_API_KEY=emulator \
        --env ANTHROPIC_BASE_URL=http://127.0.0.1:18601 "$ctr" -- quipu serve \
        >"/tmp/quipu-smoke-$port.log" 2>&1 & pids+=($!)
done
for port in 18610 18611; do
    for _ in $(seq 120); do curl -sf "localhost:$port/ready" >/dev/null && break; sleep 0.5; done
    curl -sf "localhost:$port/ready"; echo " <- replica on $port"
done
ps -o user=,cmd= -C quipu | sort -u
curl -sf -X POST localhost:18601/_emulator/script -H 'content-type: application/json' -d '{"rules":
  [{"tool": "record_review", "tool_use": [{"name": "record_review", "input":
  {"observations": [], "confidence_adjustment": 0, "needs_review": false}}]}]}' >/dev/null
body='{"dte_data": {"tipo_dte": "33", "folio": "55", "fecha_emision": "2025-10-20",
  "rut_emisor": "76354771-K", "rut_receptor": "96790240-3", "monto_neto": 100000,
  "monto_iva": 19000, "monto_total": 119000}, "company_id": 1, "history": [{"tipo_dte": "33",
  "folio": "1000", "fecha_emision": "2025-09-10", "monto_total": 119000}]}'
status() {
    curl -sf -o /dev/null -D - -X POST "localhost:$1/api/ai/validate" -H "Authorization: Bearer $KEY" \
        -H 'content-type: application/json' -d "$body" | tr -d '\r' | sed -n 's/^cache-status: //ip'
}
first=$(status 18610); sleep 0.3; second=$(status 18611)
echo "replica 1: $first"
echo "replica 2: $second"
[[ $first == *"stored"* && $second == *"hit"*"detail=redis"* ]] && echo "smoke test passed"
