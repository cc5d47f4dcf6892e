#!/bin/bash
# Two readers' figures on the synthetic sets the model card chooses stages on, each read
# behind the shipped finder (Keras):
#   bench/compare_readers.sh weights/wide.keras runs/candidate.keras
# Draws the lettering windows into data/eval_lettering when missing; the other sets are
# bench/weights_figures.py's (it draws them).
set -euo pipefail
cd "$(dirname "$0")/.."
B=.venv/bin
[ -d data/eval_lettering ] || $B/python -m trainer generate --out data/eval_lettering \
    --count 3000 --seed 20261209 --fonts ../shared/fonts --lettering
for w in "$@"; do
  echo "== $w"
  $B/python -m trainer eval --data data/eval --weights "$w" | tail -1
  $B/python -m trainer eval --data data/eval_lettering --weights "$w" | tail -1
  common=(--weights weights/anprd.keras --reader-weights "$w" --runtime keras)
  $B/anprd eval --crops data/crops "${common[@]}" | grep -E "^total"
  $B/anprd eval data/crops "${common[@]}" | grep -E "^total|false plates"
  $B/anprd eval data/scenes_synth "${common[@]}" | grep -E "^total|false plates"
  $B/anprd eval data/closeups --min-confidence 0 "${common[@]}" | grep -E "^total|false plates"
done
