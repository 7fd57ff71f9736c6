#!/usr/bin/env bash
# Trains all five architecture-family conformance bundles (issue 19) and prints each recipe's wall time and the total.
#
#   bash tools/reference-model/families/train_all.sh [OUT_ROOT]      # default OUT_ROOT: models/families
#
# Every recipe runs torch on one thread (their default, which is what made the committed bundles, so a run into a
# scratch OUT_ROOT can be compared file by file with models/families). Two recipes run at a time, one per core of
# this project's 2-core machine; the lanes are balanced by the recipes' measured times. Logs: OUT_ROOT/logs/.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=$(realpath -m "${1:-models/families}")
PY=/usr/bin/python3   # Debian's torch and onnx (README.md of tools/reference-model)
R=tools/reference-model
WORK=$(mktemp -d /tmp/train-families.XXXXXX)
mkdir -p "$OUT/logs"
export OPENBLAS_NUM_THREADS=1

# recipe NAME COMMAND...: runs one recipe, appends "NAME seconds" to the lane's times file
recipe() {
  local name=$1; shift
  local t0=$SECONDS
  "$@" > "$OUT/logs/$name.log" 2>&1 || { echo "$name failed; see $OUT/logs/$name.log" >&2; return 1; }
  echo "$name $((SECONDS - t0))" >> "$WORK/times"
  echo "  $name: $((SECONDS - t0)) s" >&2
}

lane_a() {
  recipe tiny-blip2 $PY $R/make_family_bundle.py --family blip2 --threads 1 --out "$OUT/tiny-blip2" --work "$WORK/blip2"
  recipe tiny-vexpert $PY $R/families/make_vexpert_tensor.py --family all --out-root "$OUT" --work "$WORK/vexpert"
}

lane_b() {
  recipe tiny-flamingo $PY $R/families/flamingo.py --out "$OUT/tiny-flamingo" --work "$WORK/flamingo"
  recipe tiny-fuyu $PY $R/make_family_bundle.py --family fuyu --threads 2 --out "$OUT/tiny-fuyu" --work "$WORK/fuyu"
}

echo "training the five family bundles into $OUT on $(nproc) cores, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD)" >&2
t0=$SECONDS
lane_a & a=$!
lane_b & b=$!
status=0
wait $a || status=1
wait $b || status=1
echo "total wall time: $((SECONDS - t0)) s ($(( (SECONDS - t0 + 59) / 60 )) min); per recipe (s): $(sort "$WORK/times" | tr '\n' ' ')" >&2
rm -rf "$WORK"
exit $status
