#!/usr/bin/env bash
# Schema-driven run: schemathesis (version pinned in requirements.txt) against a real
# `fluxbase serve`, driven by its own /api/v1/openapi.json. Fails on any 5xx, any response that
# breaks the document (status, content type, body schema), schema-valid input that is refused,
# invalid input that is accepted, and routes that answer without credentials.
#
#   tests/schema/run.sh                      # uses target/debug/fluxbase (built if missing)
#   FLUXBASE_BIN=... SCHEMA_MAX_EXAMPLES=100 SCHEMA_SEED=random tests/schema/run.sh
#   FLUXBASE_DATABASE_URL=postgres://... tests/schema/run.sh   # against PostgreSQL
#
# Two passes: the admin, job and public routes with the service key, then the user routes
# (/api/v1/settings/...) with a user token (no stateful phase: no links among them). Bounded:
# SCHEMA_MAX_EXAMPLES cases per operation and phase (default 25), SCHEMA_MAX_TIME seconds for
# the first pass (default 70) and SCHEMA_USER_MAX_TIME for the second (default 30).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

bin=${FLUXBASE_BIN:-target/debug/fluxbase}
[[ -x $bin ]] || cargo build --bin fluxbase
st=${SCHEMATHESIS:-schemathesis}
if [[ $st == */* ]]; then st=$(cd "$(dirname "$st")" && pwd)/$(basename "$st"); fi
examples=${SCHEMA_MAX_EXAMPLES:-25}
max_time=${SCHEMA_MAX_TIME:-70}
user_max_time=${SCHEMA_USER_MAX_TIME:-30}
seed=${SCHEMA_SEED:-20261129}

work=$(mktemp -d)
server=
cleanup() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/data" "$work/functions" "$work/jobs"
cat >"$work/functions/echo.ts" <<'TS'
export default async function handler(req: Request): Promise<Response> {
  return Response.json({ method: req.method, url: req.url });
}
TS
cat >"$work/jobs/echo.ts" <<'TS'
export async function handler(payload: unknown) {
  return { payload };
}
TS

if [[ ${FLUXBASE_DATABASE_URL:-} == postgres* && -z ${FLUXBASE_ENCRYPTION_KEY:-} ]]; then
  # A PostgreSQL store takes its master key from the environment only.
  FLUXBASE_ENCRYPTION_KEY=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
  export FLUXBASE_ENCRYPTION_KEY
fi
key=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
jwt_secret=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
: >"$work/server.log"
FLUXBASE_SERVICE_KEY=$key FLUXBASE_JWT_SECRET=$jwt_secret FLUXBASE_DATA_DIR=$work/data \
  FLUXBASE_LOG=info \
  "$bin" serve --listen 127.0.0.1:0 --functions-dir "$work/functions" --jobs-dir "$work/jobs" \
  2>"$work/server.log" &
server=$!
base=
for _ in $(seq 120); do
  base=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$work/server.log" | head -n1)
  [[ -n $base ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; echo "server did not start" >&2; exit 1; }
  sleep 0.5
done
[[ -n $base ]] || { cat "$work/server.log"; echo "server did not start" >&2; exit 1; }
echo "fluxbase serve at $base (data in $work)"

# A user token for the second pass: HS256, sub and exp (one hour).
token=$(JWT_SECRET=$jwt_secret python3 - <<'PY'
import base64, hashlib, hmac, json, os, time
b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=")
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": "schema-user", "exp": int(time.time()) + 3600}).encode())
signed = head + b"." + body
mac = hmac.new(os.environ["JWT_SECRET"].encode(), signed, hashlib.sha256).digest()
print((signed + b"." + b64(mac)).decode())
PY
)

export SCHEMATHESIS_HOOKS=tests.schema.hooks
export PYTHONPATH=$repo${PYTHONPATH:+:$PYTHONPATH}
common=(
  --checks all
  --max-examples "$examples"
  --workers 1
  --request-timeout 30
  --suppress-health-check too_slow,filter_too_much
  --no-color
)
[[ $seed == random ]] || common+=(--seed "$seed")

# Run from the scratch directory, so that nothing schemathesis or hypothesis keeps lands in the
# work tree.
run_schemathesis() {
  (cd "$work" && "$st" --config-file "$repo/tests/schema/schemathesis.toml" "$@")
}

status=0
echo "==> pass 1: admin, job and public routes with the service key"
run_schemathesis run "$base/api/v1/openapi.json" "${common[@]}" \
  -H "Authorization: Bearer $key" \
  --exclude-path-regex '^/api/v1/settings/' \
  --max-time "$max_time" || status=1
echo "==> pass 2: the user routes with a user token"
run_schemathesis run "$base/api/v1/openapi.json" "${common[@]}" \
  -H "Authorization: Bearer $token" \
  --include-path-regex '^/api/v1/settings/' \
  --max-time "$user_max_time" \
  --phases examples,coverage,fuzzing || status=1

# The server survived and logged no panic.
python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)' "$base/health" ||
  { echo "server stopped answering" >&2; status=1; }
if grep -q 'panicked' "$work/server.log"; then
  grep -n -A5 'panicked' "$work/server.log" >&2
  status=1
fi
if ((status)); then
  echo "schema run failed; server log: $work/server.log" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
