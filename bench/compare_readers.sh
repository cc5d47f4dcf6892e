#!/bin/bash
# Weights side by side on the synthetic sets the model card chooses stages on (Keras).
#   bench/compare_readers.sh weights/wide.keras runs/candidate.keras
#     readers, each behind the shipped finder: windows, lettering windows, crops read as
#     crops and as pictures, scenes, close-ups;
#   bench/compare_readers.sh --finders weights/anprd.keras runs/candidate.keras
#     finders, each finding for the shipped reader (READER=FILE for another): presence
#     on the windows, then the pictures.
# Draws the lettering windows into data/eval_lettering when missing; the other sets are
# bench/weights_figures.py's (it draws them).
set -euo pipefail
cd "$(dirname "$0")/.."
B=.venv/bin
finders=0
if [ "${1:-}" = "--finders" ]; then finders=1; shift; fi
[ $finders = 1 ] || [ -d data/eval_lettering ] || $B/python -m trainer generate \
    --out data/eval_lettering --count 3000 --seed 20261209 --fonts ../shared/fonts --lettering
for w in "$@"; do
  echo "== $w"
  $B/python -m trainer eval --data data/eval --weights "$w" | tail -1
  if [ $finders = 1 ]; then
    common=(--weights "$w" --reader-weights "${READER:-weights/wide.keras}" --runtime keras)
  else
    $B/python -m trainer eval --data data/eval_lettering --weights "$w" | tail -1
    common=(--weights weights/anprd.keras --reader-weights "$w" --runtime keras)
    $B/anprd eval --crops data/crops "${common[@]}" | grep -E "^total"
  fi
  $B/anprd eval data/crops "${common[@]}" | grep -E "^total|false plates"
  $B/anprd eval data/scenes_synth "${common[@]}" | grep -E "^total|false plates"
  $B/anprd eval data/closeups --min-confidence 0 "${common[@]}" | grep -E "^total|false plates"
done
