#!/usr/bin/env bash
# Packaging as a user meets it: `pip install .` (no extras, not editable) into a fresh venv, then the
# console script's --version, --help and a stdio tools/list; then `pipx run` and `uvx` style launches.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
version=$(python3 -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])")

echo "pip install . (fresh venv, no extras)"
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --disable-pip-version-check "$repo"
script="$tmp/venv/bin/square-customers-mcp"

"$script" --version | tee "$tmp/version"
grep -qx "square-customers-mcp $version" "$tmp/version"
"$script" --help > "$tmp/help"
for name in SQUARE_ACCESS_TOKEN SQUARE_ENVIRONMENT SQUARE_BASE_URL SQUARE_VERSION SQUARE_READ_ONLY \
    SQUARE_SANDBOX_DB SQUARE_REDACT_PII SQUARE_CONFIRM_DESTRUCTIVE SQUARE_MCP_HTTP_TOKEN SQUARE_TOOLSETS; do
    grep -q "$name" "$tmp/help" || { echo "--help does not mention $name" >&2; exit 1; }
done

echo "stdio tools/list from the installed package (run outside the repository)"
(cd "$tmp" && SQUARE_SANDBOX_DB=:memory: "$tmp/venv/bin/python" - "$script" <<'PY'
import sys

import anyio
from mcp import Client, StdioServerParameters


async def main() -> None:
    params = StdioServerParameters(command=sys.argv[1], args=[], env={"SQUARE_SANDBOX_DB": ":memory:"})
    async with Client(params) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
        created = await client.call_tool("create_customer", {"given_name": "Packaged"})
        groups = await client.call_tool("list_customer_groups", {})
    assert len(names) == 16 and "list_customer_groups" in names and "list_customer_segments" in names, names
    assert not created.is_error, created.content
    assert not groups.is_error and groups.structured_content is not None, groups.content
    assert "VIP" in [group["name"] for group in groups.structured_content["groups"]], groups.structured_content
    print(f"{len(names)} tools; create_customer answered from the embedded sandbox")


anyio.run(main)
PY
)

echo "pipx run --spec <repo> square-customers-mcp --version"
"$tmp/venv/bin/pip" install -q --disable-pip-version-check "pipx>=1.7,<2" "uv>=0.5,<1"
PIPX_HOME="$tmp/pipx" PIPX_BIN_DIR="$tmp/pipx-bin" "$tmp/venv/bin/pipx" run --spec "$repo" square-customers-mcp --version

echo "uvx --from <repo> square-customers-mcp --version"
UV_CACHE_DIR="$tmp/uv-cache" UV_TOOL_DIR="$tmp/uv-tools" "$tmp/venv/bin/uvx" --from "$repo" square-customers-mcp --version

echo "packaging.sh: passed"
