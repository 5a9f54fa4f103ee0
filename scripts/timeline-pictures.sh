#!/usr/bin/env bash
# Regenerate the README's timeline pictures (docs/timeline-*.svg and their PNGs, rendered by headless
# Chromium) from the cases in tests/data/timeline/. Run after a rule changes what zdrender patches.
# Needs: the venv (.venv) and Chromium (scripts/install-chromium.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
zdrender="${ZDRENDER:-.venv/bin/zdrender}"
mkdir -p docs

picture() {  # picture NAME INPUT [zdrender timeline options...]
  local name="$1" input="$2"
  shift 2
  "$zdrender" timeline "$input" "$@" --svg "docs/timeline-$name.svg" >/dev/null
  local height profile
  height="$(sed -n 's/^<svg [^>]* height="\([0-9]*\)".*/\1/p' "docs/timeline-$name.svg")"
  profile="$(mktemp -d)"
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
    --user-data-dir="$profile" --screenshot="docs/timeline-$name.png" --window-size="960,$height" \
    "file://$PWD/docs/timeline-$name.svg" >/dev/null 2>&1
  rm -rf "$profile"
  echo "docs/timeline-$name.svg docs/timeline-$name.png (960x$height)"
}

picture cloudsql tests/data/timeline/cloudsql.yaml
picture ingress-controller tests/data/timeline/talk-demo.yaml --workload Deployment/ingress-controller
