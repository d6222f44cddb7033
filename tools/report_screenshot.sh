#!/usr/bin/env bash
# Renders a session's report.html in headless Chromium (Debian's `chromium`) and saves a
# screenshot of the whole page, so the report can be looked at.
#   tools/report_screenshot.sh SESSION_DIR [OUT.png] [HEIGHT]
set -euo pipefail
dir="$(cd "$1" && pwd)"
out="${2:-$dir/report.png}"
height="${3:-4000}"
chrome="$(command -v chromium || command -v chromium-browser)"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
# No network at all: the report must not need it (and the machine's closed network refuses
# Chromium's background connections).
"$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size=1200,"$height" \
  --virtual-time-budget=5000 --screenshot="$out" "file://$dir/report.html" 2>/dev/null
echo "$out"
