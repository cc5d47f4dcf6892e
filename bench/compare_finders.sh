#!/bin/bash
# Finders' figures on the synthetic sets the model card chooses stages on, each finding
# for the shipped reader (Keras): presence on the 5,000 windows, then the pictures.
#   bench/compare_finders.sh weights/anprd.keras runs/candidate.keras
# READER=FILE reads for another reader. The picture sets are bench/weights_figures.py's.
set -euo pipefail
cd "$(dirname "$0")/.."
B=.venv/bin
for f in "$@"; do
  echo "== $f"
  $B/python -m trainer eval --data data/eval --weights "$f" | tail -1
  common=(--weights "$f" --reader-weights "${READER:-weights/wide.keras}" --runtime keras)
  $B/anprd eval data/crops "${common[@]}" | grep -E "^total|false plates"
  $B/anprd eval data/scenes_synth "${common[@]}" | grep -E "^total|false plates"
  $B/anprd eval data/closeups --min-confidence 0 "${common[@]}" | grep -E "^total|false plates"
done
