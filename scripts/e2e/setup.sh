#!/usr/bin/env bash
# Installs what the end-to-end tests need on Debian 12: Chromium, ripgrep and code-server 4.96.4
# (the real VS Code workbench, served to a browser). Idempotent: a second run only checks.
#
# code-server's own postinstall cannot run on machines without general internet access (its
# shrinkwrap pins @vscode/proxy-agent to a git URL), so this follows the recipe in
# ENVIRONMENT.md: install with --ignore-scripts, then install VS Code's production dependencies
# and rebuild only the native modules the workbench and the extension host need.
#
# Environment:
#   SPECTER_E2E_CACHE   where code-server goes (default: <repo>/.cache)
#   SPECTER_E2E_NO_APT  set to 1 to never call apt-get (fail instead when a binary is missing)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${SPECTER_E2E_CACHE:-$ROOT/.cache}"
CODE_SERVER_VERSION=4.96.4
PREFIX="$CACHE/code-server-$CODE_SERVER_VERSION"
PKG="$PREFIX/node_modules/code-server"
MARKER="$PKG/.specter-setup-done"
T0=$(date +%s)

log() { printf '[e2e-setup %3ss] %s\n' "$(($(date +%s) - T0))" "$*"; }

# --- Debian packages ------------------------------------------------------------------------
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
# node-gyp rebuilds of node-pty / argon2 need a compiler, make and python3.
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if ((${#missing[@]} > 0)); then
  if [[ "${SPECTER_E2E_NO_APT:-0}" == 1 ]]; then
    echo "missing: ${missing[*]} (SPECTER_E2E_NO_APT=1, not installing)" >&2
    exit 1
  fi
  SUDO=()
  [[ "$(id -u)" != 0 ]] && SUDO=(sudo)
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
log "chromium: $(command -v chromium), rg: $(command -v rg)"

# --- code-server ----------------------------------------------------------------------------
if [[ -f "$MARKER" ]]; then
  log "code-server $CODE_SERVER_VERSION already set up in $PKG"
  exit 0
fi

# The npm registry is reachable; nothing else is. No project .npmrc applies inside the cache.
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
export npm_config_loglevel=error

mkdir -p "$PREFIX"
if [[ ! -f "$PKG/package.json" ]]; then
  log "npm install code-server@$CODE_SERVER_VERSION --ignore-scripts"
  [[ -f "$PREFIX/package.json" ]] || echo '{"name":"specter-e2e-code-server","private":true}' >"$PREFIX/package.json"
  npm install --prefix "$PREFIX" --ignore-scripts --omit=dev --no-save "code-server@$CODE_SERVER_VERSION"
fi

VSCODE="$PKG/lib/vscode"
rm -f "$VSCODE/npm-shrinkwrap.json"

log "npm install (lib/vscode, production, no scripts)"
(cd "$VSCODE" && npm install --ignore-scripts --omit=dev --no-save)
log "npm install (lib/vscode/extensions, production, no scripts)"
(cd "$VSCODE/extensions" && npm install --ignore-scripts --omit=dev --no-save)

# kerberos is left out on purpose: it needs libkrb5 headers and only serves proxy authentication.
log "npm rebuild native modules (node-pty, @parcel/watcher, @vscode/spdlog, native-watchdog)"
(cd "$VSCODE" && npm rebuild node-pty @parcel/watcher @vscode/spdlog native-watchdog)
# argon2 (password hashing of code-server's login page) is hoisted next to code-server.
log "npm rebuild argon2"
(cd "$PREFIX" && npm rebuild argon2)

# The server looks up node_modules.asar at run time; a link to the plain folder satisfies it.
ln -sfn node_modules "$VSCODE/node_modules.asar"
RG_BIN="$VSCODE/node_modules/@vscode/ripgrep/bin"
mkdir -p "$RG_BIN"
ln -sfn "$(command -v rg)" "$RG_BIN/rg"

node "$PKG/out/node/entry.js" --version >/dev/null
touch "$MARKER"
log "code-server $CODE_SERVER_VERSION ready in $PKG"
