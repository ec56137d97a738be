# shellcheck shell=bash
# Set-up steps shared by scripts/run and scripts/test. Each one installs what is missing and skips what is present,
# so both commands work on a fresh Debian machine with only rustup, cargo, node and npm, and are quick the second time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.10"   # 0.3.11 needs a newer rustc
WASM_BINDGEN_VERSION="0.2.129"  # must equal the wasm-bindgen pin in Cargo.toml
export PATH="$HOME/.cargo/bin:$PATH"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1  # we use Debian's Chromium; downloads cannot work offline

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

# apt_install PACKAGE… — as root only; anyone else is told what to install.
apt_install() {
  is_root || die "missing system packages: $*. Install them with: sudo apt-get install $*"
  if [ -z "${THICODE_APT_UPDATED:-}" ]; then
    apt-get update -qq
    THICODE_APT_UPDATED=1
  fi
  say "installing $* (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Rust side: the wasm32 target, rustfmt/clippy, cargo-leptos and the wasm-bindgen CLI, at pinned versions.
ensure_rust_tools() {
  command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first (https://rustup.rs)"
  if command -v rustup >/dev/null; then
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
      say "adding the wasm32-unknown-unknown target"
      rustup target add wasm32-unknown-unknown
    fi
    local have
    have="$(rustup component list --installed)"
    for component in rustfmt clippy; do
      grep -q "^$component" <<<"$have" || rustup component add "$component"
    done
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 12 minutes on 2 cores, once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes, once)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked
  fi
}

# npm_ci DIR — installs DIR's locked packages unless they are already installed from the same lock file.
npm_ci() {
  local dir="$1" stamp="$1/node_modules/.thicode-lock"
  command -v npm >/dev/null || die "npm not found: install Node.js 20+ and npm"
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    say "installing npm packages in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$stamp"
  fi
}

# Node side: wasm-opt (binaryen) for release builds; cargo-leptos finds it in node_modules/.bin.
ensure_build_node_tools() {
  npm_ci "$ROOT"
}

# The app as it is served: the server and the WASM client, split into a chunk per page (src/core/lazy.rs). Server and
# client must come from the same build (the split is not the same from one build to the next). `build_app --release`
# also writes each static file brotli- and gzip-compressed at the highest levels beside it, served as they are.
APP_BUILD_FLAGS=(--split --precompress)
build_app() {
  cargo leptos build "${APP_BUILD_FLAGS[@]}" "$@"
}

# Playwright and a Chromium to drive.
ensure_e2e_tools() {
  npm_ci "$ROOT/end2end"
  if [ -z "${CHROMIUM_PATH:-}" ]; then
    if ! command -v chromium >/dev/null; then
      apt_install chromium
    fi
    CHROMIUM_PATH="$(command -v chromium)"
    export CHROMIUM_PATH
  fi
}

# PostgreSQL for the test suite: TEST_DATABASE_URL if given; otherwise, as root, a private server on 127.0.0.1:54329
# (installed from Debian if needed, started if not running, stopped again by the caller's stop_test_postgres).
THICODE_PG_PORT="${THICODE_PG_PORT:-54329}"
THICODE_PG_DIR="${THICODE_PG_DIR:-/var/tmp/thicode-test-pg}"
THICODE_PG_STARTED=""

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

ensure_test_postgres() {
  if [ -n "${TEST_DATABASE_URL:-}" ]; then
    say "PostgreSQL: using TEST_DATABASE_URL"
    return
  fi
  is_root || die "PostgreSQL tests need TEST_DATABASE_URL (postgres://USER:PASSWORD@HOST:PORT/DB of a user allowed to CREATE DATABASE), or run as root to let this script start a private server"
  [ -n "$(pg_bin)" ] || apt_install postgresql
  local bin
  bin="$(pg_bin)"
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$THICODE_PG_PORT/postgres"
  if "$bin/pg_isready" -q -h 127.0.0.1 -p "$THICODE_PG_PORT"; then
    say "PostgreSQL: reusing the server already running on port $THICODE_PG_PORT"
    return
  fi
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  if [ ! -f "$THICODE_PG_DIR/PG_VERSION" ]; then
    say "PostgreSQL: creating a test cluster in $THICODE_PG_DIR"
    rm -rf "$THICODE_PG_DIR"
    install -d -o postgres -g postgres -m 700 "$THICODE_PG_DIR"
    runuser -u postgres -- "$bin/initdb" -D "$THICODE_PG_DIR" -U postgres --auth=trust --no-locale -E UTF8 >/dev/null
  fi
  say "PostgreSQL: starting a test server on 127.0.0.1:$THICODE_PG_PORT"
  runuser -u postgres -- "$bin/pg_ctl" -D "$THICODE_PG_DIR" -l "$THICODE_PG_DIR/server.log" -w -t 60 \
    -o "-p $THICODE_PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
  THICODE_PG_STARTED=1
}

stop_test_postgres() {
  if [ -n "$THICODE_PG_STARTED" ]; then
    runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$THICODE_PG_DIR" -m fast stop >/dev/null 2>&1 || true
  fi
}

# A Python tool from PyPI in a virtual environment of its own, kept between runs in the user's cache:
# `python_tool NAME REQUIREMENT [COMMAND]` installs REQUIREMENT once (until it is marked installed, or COMMAND is
# there) and prints the folder. A library without a command of its own (the OpenAI SDK) is known by the mark.
python_tool() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/thicode/$1"
  command -v python3 >/dev/null || apt_install python3 python3-venv >&2
  if [ ! -f "$venv/.installed" ] && { [ -z "${3:-}" ] || [ ! -x "$venv/bin/$3" ]; }; then
    say "installing $2 (PyPI, once)" >&2
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >&2 2>/dev/null; then
      apt_install python3-venv >&2
      python3 -m venv "$venv" >&2
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$2" >&2
    touch "$venv/.installed"
  fi
  echo "$venv"
}

# A package from npm in a folder of its own, kept between runs in the user's cache: `npm_tool NAME PACKAGE@VERSION
# FILE` installs it once (until FILE, relative to the folder, is there) and prints the folder.
npm_tool() {
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/thicode/$1"
  if [ ! -f "$dir/$3" ]; then
    say "installing $2 (npm, once)" >&2
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --prefix "$dir" -E "$2" >&2
  fi
  echo "$dir"
}

# An S3-compatible server for the file storage tests (tests/it/files.rs): moto (PyPI) in its own virtual
# environment, kept between runs in the user's cache, started on a free local port for this run.
MOTO_VERSION="5.2.6"
THICODE_S3_PORT="${THICODE_S3_PORT:-54330}"
THICODE_S3_PID=""
ensure_s3_server() {
  if [ -n "${TEST_S3_ENDPOINT:-}" ]; then
    say "S3: using TEST_S3_ENDPOINT"
    return
  fi
  local venv
  venv="$(python_tool "moto-$MOTO_VERSION" "moto[server]==$MOTO_VERSION" moto_server)"
  export TEST_S3_ENDPOINT="http://127.0.0.1:$THICODE_S3_PORT"
  if curl -fsS "$TEST_S3_ENDPOINT/moto-api/" >/dev/null 2>&1; then
    say "S3: reusing the server already running on port $THICODE_S3_PORT"
    return
  fi
  say "S3: starting moto on 127.0.0.1:$THICODE_S3_PORT"
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$THICODE_S3_PORT" >/dev/null 2>&1 &
  THICODE_S3_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS "$TEST_S3_ENDPOINT/moto-api/" >/dev/null 2>&1 && return
    sleep 0.2
  done
  die "moto did not start on port $THICODE_S3_PORT"
}

stop_s3_server() {
  if [ -n "$THICODE_S3_PID" ]; then
    kill "$THICODE_S3_PID" 2>/dev/null || true
  fi
}

# Real MCP servers for the MCP client tests (tests/it/tools_mcp.rs): npm's reference server (server-everything) and
# PyPI's official SDK (mcp, running tests/mcp/server.py), each installed once into the user's cache. The tests start
# them on free local ports, or over stdio.
MCP_EVERYTHING_VERSION="2026.8.31"
MCP_PYTHON_VERSION="2.3.0"
ensure_mcp_servers() {
  local entry="node_modules/@modelcontextprotocol/server-everything/dist/index.js" dir
  dir="$(npm_tool "mcp-everything-$MCP_EVERYTHING_VERSION" \
    "@modelcontextprotocol/server-everything@$MCP_EVERYTHING_VERSION" "$entry")"
  export TEST_MCP_EVERYTHING="$dir/$entry"
  local venv
  venv="$(python_tool "mcp-$MCP_PYTHON_VERSION" "mcp==$MCP_PYTHON_VERSION" mcp)"
  export TEST_MCP_PYTHON="$venv/bin/python"
}

# The official OpenAI SDKs, for the tests of the OpenAI-compatible API (tests/it/openai_sdks.rs): PyPI's `openai` in
# a virtual environment and npm's `openai`, each installed once into the user's cache. The tests run
# tests/sdk/openai_client.py and tests/sdk/openai_client.mjs against a ThiCode they start.
OPENAI_PYTHON_VERSION="3.63.0"
OPENAI_NODE_VERSION="7.60.0"
ensure_openai_sdks() {
  local venv
  venv="$(python_tool "openai-$OPENAI_PYTHON_VERSION" "openai==$OPENAI_PYTHON_VERSION")"
  export TEST_OPENAI_PYTHON="$venv/bin/python"
  TEST_OPENAI_NODE="$(npm_tool "openai-node-$OPENAI_NODE_VERSION" "openai@$OPENAI_NODE_VERSION" \
    node_modules/openai/package.json)"
  export TEST_OPENAI_NODE
}

# Lighthouse (npm) for bench/lighthouse, kept in the user's cache; prints its folder.
LIGHTHOUSE_VERSION="12.2.3"
ensure_lighthouse() {
  npm_tool "lighthouse-$LIGHTHOUSE_VERSION" "lighthouse@$LIGHTHOUSE_VERSION" node_modules/lighthouse/core/index.js
}

# promtool, Prometheus' own checker of the /metrics output (tests/it/metrics.rs), from Debian's prometheus package.
ensure_metrics_tools() {
  command -v promtool >/dev/null || apt_install prometheus
}

# schemathesis (PyPI) in its own virtual environment, kept between runs in the user's cache.
SCHEMATHESIS_VERSION="4.32.5"
ensure_fuzz_tools() {
  local venv
  venv="$(python_tool "schemathesis-$SCHEMATHESIS_VERSION" "schemathesis==$SCHEMATHESIS_VERSION" schemathesis)"
  FUZZ_BIN="$venv/bin"
  FUZZ_PYTHON="$venv/bin/python"
}
