#!/usr/bin/env bash
# The provider-adapter compatibility suite (tests/compat): the published tool list through each pinned
# adapter's schema converter. Its own fresh venv, since the `compat` extra pulls in eight SDKs that the
# main run does not need. Offline apart from the install; no provider is ever called.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/compat-ci.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$tmp/venv/bin/pip" install -q --disable-pip-version-check -e '.[dev,compat]' --config-settings editable_mode=strict
installed=$SECONDS

# -m compat overrides the default `not compat` from pyproject's addopts; extra arguments go to pytest.
status=0
"$tmp/venv/bin/python" -m pytest -p no:cacheprovider -m compat tests/compat "$@" || status=$?
echo "compat: install $((installed - start))s, tests $((SECONDS - installed))s, total $((SECONDS - start))s"
exit "$status"
