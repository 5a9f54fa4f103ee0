#!/usr/bin/env bash
# Install Debian's headless-capable Chromium and a font for the timeline's SVG-to-PNG test
# (tests/test_timeline.py) and for regenerating docs/timeline-*.png. Idempotent: does nothing when
# /usr/bin/chromium is already there. Needs root (apt-get), as on the project's machines and CI.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -q DejaVuSans; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core fontconfig
chromium --version
