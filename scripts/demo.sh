#!/usr/bin/env bash
# The quick-start demo: a local sandbox, the runbook's cleanup on it, and verify before and after.
set -euo pipefail

state="$(mktemp -d)"
export XDG_STATE_HOME="$state"   # a private sandbox: a sandbox started elsewhere is left alone
log="$state/sandbox.log"

chroma-cleanup sandbox --corrupt lines >"$log" 2>&1 &
sandbox_pid=$!
stop_sandbox() {
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
    rm -rf "$state"
}
trap stop_sandbox EXIT

for _ in $(seq 1 180); do
    [ -f "$state/chroma-cleanup/sandbox.json" ] && break
    if ! kill -0 "$sandbox_pid" 2>/dev/null; then
        echo "the sandbox did not start:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 1
done
[ -f "$state/chroma-cleanup/sandbox.json" ] || { echo "the sandbox took too long to start" >&2; cat "$log" >&2; exit 1; }
cat "$log"

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }

step chroma-cleanup verify --env sandbox
echo "(the sandbox seeds a damaged lines snapshot, so this verify is expected to fail)"
chroma-cleanup verify --env sandbox || echo "verify exit code: $? (1 = a snapshot is not healthy)"

step chroma-cleanup all --env sandbox --dry-run
chroma-cleanup all --env sandbox --dry-run

step chroma-cleanup all --env sandbox --stop-executions --yes
chroma-cleanup all --env sandbox --stop-executions --yes

step chroma-cleanup verify --env sandbox --collection words
echo "(right after a cleanup there is no snapshot until the pipeline rebuilds it, and verify says so)"
chroma-cleanup verify --env sandbox --collection words || echo "verify exit code: $? (1 = no healthy snapshot yet)"

step python scripts/sandbox_rebuild.py
echo "(stands in for the fixed ingest pipeline: embeds the reset words and lines and uploads new snapshots)"
python scripts/sandbox_rebuild.py

step chroma-cleanup verify --env sandbox
chroma-cleanup verify --env sandbox
