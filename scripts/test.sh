#!/usr/bin/env bash
# Install everything (Python packages, Chromium and CJK fonts for the browser test), run the
# whole test suite, the shared tests again on the Milvus store, then the quality gate on the
# shipped question set for both stores and on a sample of a public reading-comprehension set.
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
# Lint and format first: seconds, and it names the file and line to fix.
.venv/bin/ruff check . && .venv/bin/ruff format --check . >/dev/null || {
  echo "ruff: run '.venv/bin/ruff check --fix . && .venv/bin/ruff format .' and commit" >&2; exit 1; }
.venv/bin/python -m pytest "$@"
[ $# -eq 0 ] || exit 0  # a chosen test file or option: that run only
# The shared retrieval, chat, documents, update and document-format tests again on the Milvus store (embedded milvus-lite;
# qa eval's own figures on Milvus come from the gate below, a process of its own).
WENYUAN_TEST_STORE=milvus .venv/bin/python -m pytest -q \
  tests/test_retrieval.py tests/test_answers.py tests/test_api.py tests/test_live_corpus.py tests/test_formats_index.py
# The quality gate on both stores.
for store in local milvus; do
  GATE_INDEX=$(mktemp -d)
  .venv/bin/qa index seeds --index-dir "$GATE_INDEX" --store "$store" --quiet
  .venv/bin/qa eval --index-dir "$GATE_INDEX" --store "$store" --gate tests/data/quality_gate.json \
    --out "test-output/eval-$store" >/dev/null
  rm -rf "$GATE_INDEX"
done
# Answers on a public set the shipped answer model was not fitted on (DRCD, Traditional Chinese): a sample of
# its documents, small enough for CI time. ../shared is beside the checkout in CI and on developers' machines.
DRCD=../shared/data/mrc/DRCD_test.json
if [ -f "$DRCD" ]; then
  SQUAD_WORK=$(mktemp -d)
  .venv/bin/qa eval --squad "$DRCD" --documents 30 --seed 1 --work-dir "$SQUAD_WORK" \
    --gate tests/data/quality_gate_drcd.json --out test-output/eval-drcd >/dev/null
  rm -rf "$SQUAD_WORK"
else
  echo "note: $DRCD not found; the public-set quality gate was not run" >&2
fi
