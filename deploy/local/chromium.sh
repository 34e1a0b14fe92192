#!/usr/bin/env bash
# Debian's Chromium for the console's browser test (core/console/console.itest.ts drives it with
# playwright-core; no browser is downloaded at npm install).
#
# Usage: bash deploy/local/chromium.sh install|status
#   install  apt-get install -y chromium (only when /usr/bin/chromium is missing) and a CJK font
#            (fonts-wqy-microhei, ~5 MB, only when fontconfig knows no Chinese font): without one
#            the console's Chinese labels render as empty boxes in the screenshots
#   status   print the installed version
# Environment: CHROMIUM_PATH (default /usr/bin/chromium)
set -euo pipefail
# apt logs of an install go here (shown when it fails)
APT_LOG_DIR="${APT_LOG_DIR:-${TMPDIR:-/tmp}}"

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
log() { echo "[chromium] $*"; }
die() { echo "[chromium] ERROR: $*" >&2; exit 1; }

has_cjk_font() {
  command -v fc-list >/dev/null 2>&1 && [[ -n "$(fc-list :lang=zh family 2>/dev/null | head -n 1)" ]]
}

cmd_install() {
  if [[ -x "$CHROMIUM_PATH" ]]; then
    log "already installed: $("$CHROMIUM_PATH" --version 2>/dev/null || echo "$CHROMIUM_PATH")"
    install_font
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "chromium not found at $CHROMIUM_PATH and apt-get is not available -- install Chromium and set CHROMIUM_PATH"
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install chromium"
    sudo="sudo"
  fi
  log "installing chromium from Debian packages ..."
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium >"$APT_LOG_DIR/chromium-apt-install.log" 2>&1; then
    log "apt-get install failed; running apt-get update and retrying ..."
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -q >"$APT_LOG_DIR/chromium-apt-update.log" 2>&1 || { tail -n 20 "$APT_LOG_DIR/chromium-apt-update.log" >&2; die "apt-get update failed"; }
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium >"$APT_LOG_DIR/chromium-apt-install.log" 2>&1 || { tail -n 20 "$APT_LOG_DIR/chromium-apt-install.log" >&2; die "apt-get install chromium failed"; }
  fi
  [[ -x "$CHROMIUM_PATH" ]] || die "chromium still not found at $CHROMIUM_PATH after apt-get install"
  log "installed $("$CHROMIUM_PATH" --version 2>/dev/null)"
  install_font
}

install_font() {
  if has_cjk_font; then
    log "CJK font: $(fc-list :lang=zh family | head -n 1)"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "no Chinese font known to fontconfig and apt-get is not available -- install one (e.g. WenQuanYi Micro Hei)"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  log "installing fonts-wqy-microhei (the console's Chinese labels in the screenshots) ..."
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends fonts-wqy-microhei >"$APT_LOG_DIR/chromium-font-install.log" 2>&1 \
    || { DEBIAN_FRONTEND=noninteractive $sudo apt-get update -q >"$APT_LOG_DIR/chromium-apt-update.log" 2>&1 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends fonts-wqy-microhei >"$APT_LOG_DIR/chromium-font-install.log" 2>&1; } \
    || { tail -n 20 "$APT_LOG_DIR/chromium-font-install.log" >&2; die "apt-get install fonts-wqy-microhei failed"; }
  has_cjk_font || die "fonts-wqy-microhei installed but fontconfig still lists no Chinese font"
  log "CJK font: $(fc-list :lang=zh family | head -n 1)"
}

case "${1:-}" in
  install) cmd_install ;;
  status) if [[ -x "$CHROMIUM_PATH" ]]; then log "$("$CHROMIUM_PATH" --version 2>/dev/null)"; else log "not installed ($CHROMIUM_PATH)"; exit 1; fi ;;
  *) echo "usage: bash deploy/local/chromium.sh install|status" >&2; exit 2 ;;
esac
