#!/usr/bin/env bash
# Quick start: install, index seeds/ (skipped when unchanged), serve the chat page and API.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/qa index seeds
exec .venv/bin/qa serve "$@"
