#!/usr/bin/env bash
# Install everything (Python packages, Chromium and CJK fonts for the browser test), run the
# whole test suite, then the retrieval quality gate on the shipped question set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  fi
fi
.venv/bin/python -m pytest "$@"
GATE_INDEX=$(mktemp -d)
.venv/bin/qa index seeds --index-dir "$GATE_INDEX" --quiet
.venv/bin/qa eval --index-dir "$GATE_INDEX" --gate tests/data/quality_gate.json --out test-output/eval >/dev/null
rm -rf "$GATE_INDEX"
