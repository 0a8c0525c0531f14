#!/usr/bin/env bash
# Two `qa index` writers started at once on one folder, N rounds (round 1 on an empty folder, then --force over a
# good index). Counts the outcomes and checks after each round that the index loads and only current+previous
# builds remain. Usage: bash scripts/writer_race.sh CORPUS_DIR N   (from the repository root)
set -u
corpus=$1; rounds=${2:-20}; work=$(mktemp -d); idx=$work/idx
export WENYUAN_INDEX_LOCK_WAIT=0
ok=0; bad=0
for i in $(seq 1 "$rounds"); do
  flag=""; [ "$i" -gt 1 ] && flag="--force"
  .venv/bin/qa index "$corpus" --index-dir "$idx" --quiet $flag >"$work/a.out" 2>"$work/a.err" & pa=$!
  .venv/bin/qa index "$corpus" --index-dir "$idx" --quiet $flag >"$work/b.out" 2>"$work/b.err" & pb=$!
  wait $pa; ra=$?; wait $pb; rb=$?
  codes=$(printf '%s\n' $ra $rb | sort | tr '\n' ' ')
  loser=$([ $ra -eq 2 ] && echo a || echo b)
  lines=$(wc -l <"$work/$loser.err")
  grep -q '^error: another `qa index` (pid [0-9]*) is writing' "$work/$loser.err"; line_ok=$?
  tb=$(cat "$work/a.err" "$work/b.err" | grep -c Traceback)
  builds=$(ls -d "$idx"/build-* | wc -l)
  .venv/bin/qa search 健康码申领率 --json --index-dir "$idx" >"$work/s.json" 2>/dev/null; rs=$?
  hits=$(.venv/bin/python -c "import json,sys; print(len(json.load(open(sys.argv[1]))['hits']))" "$work/s.json" 2>/dev/null || echo 0)
  want_builds=$([ "$i" -eq 1 ] && echo 1 || echo 2)
  if [ "$codes" = "0 2 " ] && [ "$lines" -eq 1 ] && [ $line_ok -eq 0 ] && [ "$tb" -eq 0 ] && [ $rs -eq 0 ] && [ "$hits" -gt 0 ] && [ "$builds" -eq "$want_builds" ]; then
    ok=$((ok+1))
  else
    bad=$((bad+1)); echo "round $i: exit codes $codes, refusal lines $lines, tracebacks $tb, search rc $rs hits $hits, builds $builds"
    cat "$work/a.err" "$work/b.err"
  fi
done
echo "$rounds rounds of two concurrent writers: $ok x (one built, one exited 2 with one line, index loads, builds = current+previous), $bad other"
rm -rf "$work"
