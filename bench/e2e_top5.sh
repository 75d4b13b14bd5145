#!/usr/bin/env bash
# End to end, the top 5 Hessian eigenvalues of a trained 784x200x200x10 tanh MLP on 1000 MNIST
# images, on the CPU: `curvprobe spectrum --top-k 5 --dtype float32` (whole process, loading
# included) against PyHessian's hessian(...).eigenvalues(top_n=5) at its defaults (its call
# alone), both at their best thread count, and both against a float64 eigsh referee.
#   PYHESSIAN=/path/to/PyHessian bash bench/e2e_top5.sh     (BIN, DIR, MNIST, PY may be set)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/curvprobe}
DIR=${DIR:-/tmp/curvprobe-e2e}
MNIST=${MNIST:-../shared/data/mnist}
PY=${PY:-/usr/bin/python3}
: "${PYHESSIAN:?set PYHESSIAN to a checkout of github.com/amirgholami/PyHessian}"
$PY bench/pyhessian_top5.py prepare --mnist "$MNIST" --out "$DIR" >/dev/null
if [ ! -f "$DIR/weights.npz" ]; then
  $BIN train --data "$DIR/data.npz" --arch 784x200x200x10 --act tanh --loss cross_entropy \
    --optimizer sgd --momentum 0.9 --lr 0.05 --steps 300 --probe-every 100 --dtype float32 \
    --device cpu --no-plot --quiet --out "$DIR/run" >&2
  cp "$DIR/run/weights.npz" "$DIR/weights.npz"
fi
: > "$DIR/ours_times"
for t in 1 2; do
  for r in 1 2 3; do
    s=$EPOCHREALTIME
    $BIN spectrum --model "$DIR/model.json" --weights "$DIR/weights.npz" --data "$DIR/data.npz" \
      --top-k 5 --dtype float32 --device cpu --threads $t --quiet --json > "$DIR/ours_$t.json"
    echo "$t $s $EPOCHREALTIME" >> "$DIR/ours_times"
  done
done
$PY bench/pyhessian_top5.py pyhessian --dir "$DIR" --pyhessian "$PYHESSIAN" > "$DIR/pyhessian.json"
$PY bench/pyhessian_top5.py referee --dir "$DIR" > "$DIR/referee.json"
$PY - "$DIR" <<'PYEOF'
import json, sys
d = sys.argv[1]
runs = [l.split() for l in open(d + "/ours_times")]
ours_s, bt = min((float(e) - float(s), int(t)) for t, s, e in runs)
ours = json.load(open(d + "/ours_%d.json" % bt))
ph = json.load(open(d + "/pyhessian.json"))
ref = json.load(open(d + "/referee.json"))["top"]
err = lambda top: max(abs(a - b) / abs(b) for a, b in zip(sorted(top, reverse=True), ref))
print(json.dumps({
    "ours_seconds": ours_s, "ours_threads": bt, "ours_hvps": ours["hvps"], "ours_top": ours["top_eigenvalues"],
    "ours_max_rel_err": err(ours["top_eigenvalues"]),
    "pyhessian_seconds": ph["best_seconds"], "pyhessian_threads": ph["best_threads"], "pyhessian_top": ph["top"],
    "pyhessian_max_rel_err": err(ph["top"]),
    "ratio": ours_s / ph["best_seconds"], "referee_top": ref}, indent=1))
PYEOF
