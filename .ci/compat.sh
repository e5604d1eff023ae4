#!/usr/bin/env bash
# The provider-adapter compatibility suite (tests/compat): the published tool list through each pinned
# adapter's schema converter. Its own fresh venv, since the `compat` extra pulls in eight SDKs that the
# main run does not need. Offline apart from the install; no provider is ever called.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/compat-ci.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A copy of the working tree (tracked and untracked files, not ignored ones), installed as a plain package:
# this script shares no build/ folder with other installs, so .ci/run can run it beside them.
mkdir "$tmp/src"
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' |
    tar --null -T - -cf - | tar -xf - -C "$tmp/src"
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$tmp/venv/bin/pip" install -q --disable-pip-version-check "$tmp/src[dev,compat]"
installed=$SECONDS

# -m compat overrides the default `not compat` from pyproject's addopts; extra arguments go to pytest.
status=0
(cd "$tmp/src" && "$tmp/venv/bin/python" -m pytest -p no:cacheprovider -m compat tests/compat "$@") || status=$?
echo "compat: install $((installed - start))s, tests $((SECONDS - installed))s, total $((SECONDS - start))s"
exit "$status"
