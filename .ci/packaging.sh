#!/usr/bin/env bash
# Packaging as a user meets it: `pip install .` (no extras, not editable) into a fresh venv, then the
# console script's --version, --help and a stdio tools/list; then `pipx run` and `uvx` style launches.
# Then as a release is made: `python -m build` (an sdist, and the wheel built from it), `twine check`, the
# default pytest run from the unpacked sdist, and `uvx --from <wheel>`.
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

echo "installs one top-level package, square_customers_mcp (no generic name such as server or tools)"
# From $tmp: in the repository, the editable build's egg-info would answer instead of the installed wheel.
(cd "$tmp" && "$tmp/venv/bin/python" - <<'PY'
from importlib.metadata import files

tops = {f.parts[0] for f in files("square-customers-mcp") or () if f.parts[0] != ".." and ".dist-info" not in f.parts[0]}
assert tops == {"square_customers_mcp"}, tops
PY
)

# PyPI has a package named `tools` (its tools/__init__.py used to replace ours); a user's own server.py or
# tools.py in the working folder used to win over ours for `python -m server`.
echo "next to PyPI's 'tools' package, from a folder with its own server.py and tools.py"
"$tmp/venv/bin/pip" install -q --disable-pip-version-check "tools==1.0.38"
mkdir "$tmp/shadow"
for name in server tools; do echo "raise SystemExit('the user module $name.py was imported')" > "$tmp/shadow/$name.py"; done
(cd "$tmp/shadow" && "$script" --version && "$tmp/venv/bin/python" -m square_customers_mcp --version) | tee "$tmp/shadowed"
[ "$(grep -cx "square-customers-mcp $version" "$tmp/shadowed")" = 2 ] || { echo "shadowed by server.py/tools.py" >&2; exit 1; }

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

echo "python -m build: an sdist, and a wheel built from that sdist"
"$tmp/venv/bin/pip" install -q --disable-pip-version-check "build>=1.2,<2" "twine>=6.1,<8"
"$tmp/venv/bin/python" -m build --outdir "$tmp/dist" "$repo" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
sdist=$tmp/dist/square_customers_mcp-$version.tar.gz
wheel=$tmp/dist/square_customers_mcp-$version-py3-none-any.whl
[ -f "$sdist" ] && [ -f "$wheel" ] || { ls -l "$tmp/dist" >&2; echo "build made no sdist or no wheel" >&2; exit 1; }

echo "the sdist holds LICENSE, tests/, examples/ and docs/, and no build/, .venv, benchmark results or caches"
"$tmp/venv/bin/python" - "$sdist" "$wheel" <<'PY'
import re
import sys
import tarfile
import zipfile

with tarfile.open(sys.argv[1]) as sdist:
    names = [name.split("/", 1)[1] for name in sdist.getnames() if "/" in name]
for wanted in ("LICENSE", "README.md", "server/cli.py", "tools/__init__.py", "tests/conftest.py", "examples/", "docs/"):
    assert any(name.startswith(wanted) for name in names), f"the sdist has no {wanted}"
caches = r"build|dist|\.venv|__pycache__|\.hypothesis|\.pytest_cache|\.mypy_cache|\.ruff_cache"
unwanted = [name for name in names if re.search(rf"(^|/)({caches})/|^tests/benchmarks/results/|\.(pyc|db)$", name)]
assert not unwanted, unwanted
with zipfile.ZipFile(sys.argv[2]) as wheel:
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in wheel.namelist()), "the wheel has no LICENSE"
print(f"{len(names)} files and folders in the sdist")
PY

echo "twine check --strict (metadata, and the README renders as markdown)"
"$tmp/venv/bin/twine" check --strict "$sdist" "$wheel"

echo "pytest (the default run) from the unpacked sdist, installed from that tree with [dev,examples] into a fresh venv"
mkdir "$tmp/unpacked"
tar -xzf "$sdist" -C "$tmp/unpacked"
unpacked=$tmp/unpacked/square_customers_mcp-$version
python3 -m venv "$tmp/sdist-venv"
"$tmp/sdist-venv/bin/pip" install -q --disable-pip-version-check "${unpacked}[dev,examples]"
(cd "$unpacked" && "$tmp/sdist-venv/bin/python" -m pytest -q -p no:cacheprovider)

echo "uvx --from <wheel> square-customers-mcp --version"
UV_CACHE_DIR="$tmp/uv-cache" UV_TOOL_DIR="$tmp/uv-tools" "$tmp/venv/bin/uvx" --from "$wheel" square-customers-mcp --version |
    tee "$tmp/uvx-wheel"
grep -qx "square-customers-mcp $version" "$tmp/uvx-wheel"

echo "packaging.sh: passed"
