#!/usr/bin/env bash
# The whole GPU check of issue 4 in one run on a lent GPU machine (see
# ../shared/gpu/README.md). Build here first:
#   mkdir -p .devbin
#   go build -tags openblas -o .devbin/curvprobe ./cmd/curvprobe   # or without the tag
#   go test -c -o .devbin/cuda.test ./kernels/cuda
# then run (device tool): bash bench/gpu_check.sh  with carry [".devbin"];
# every log lands in $OUT (default ./gpu-logs).
set -uo pipefail
OUT=${OUT:-gpu-logs}
mkdir -p "$OUT"
BIN=.devbin/curvprobe
PY=python3
log() { echo "== $*" | tee -a "$OUT/summary.txt"; }

log "machine"
nvidia-smi -L 2>&1 | tee "$OUT/nvidia-smi.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee -a "$OUT/nvidia-smi.txt"
ldconfig -p | grep -E 'libcuda\.|libcublas\.' | tee "$OUT/libs.txt"
find / -name 'libcublas.so*' -not -path '/proc/*' 2>/dev/null | head -20 | tee -a "$OUT/libs.txt"
$BIN devices 2>&1 | tee "$OUT/devices.txt"

log "1. conformance of every primitive against the CPU reference (float32 1e-5, float64 1e-12) and the Plan GPU vs CPU"
(cd kernels/cuda && REQUIRE_GPU=1 ../../.devbin/cuda.test -test.v -test.timeout 20m) > "$OUT/cuda-test.log" 2>&1
echo "exit $?" | tee -a "$OUT/summary.txt"
grep -E '^(--- FAIL|--- PASS|FAIL|ok|PASS)' "$OUT/cuda-test.log" | tail -40 | tee -a "$OUT/summary.txt"

log "2. HVP, lambda_max and top-5 Lanczos on the GPU against the CPU, same weights and data"
$BIN train --data builtin:digits --subset 300 --standardize --arch 64x64x64x10 --act tanh --loss mse \
  --optimizer gd --lr 0.5 --steps 100 --probe-every 50 --dtype float64 --device cpu --no-plot --quiet --out "$OUT/run" > "$OUT/train.txt" 2>&1
for dt in float64 float32; do
  for dev in cpu cuda; do
    $BIN spectrum --run "$OUT/run" --top-k 5 --bottom-k 2 --dtype $dt --device $dev --json --quiet > "$OUT/spectrum-$dev-$dt.json" 2>>"$OUT/spectrum.err"
  done
  $PY - "$OUT/spectrum-cpu-$dt.json" "$OUT/spectrum-cuda-$dt.json" <<'PYEOF' | tee -a "$OUT/summary.txt"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def rel(x, y): return abs(x - y) / max(abs(y), 1e-300)
print(sys.argv[1].split('-')[-1], "loss rel diff %.2e" % rel(b["loss"], a["loss"]),
      "grad_norm %.2e" % rel(b["grad_norm"], a["grad_norm"]),
      "top-5 max rel %.2e" % max(rel(x, y) for x, y in zip(b["top_eigenvalues"], a["top_eigenvalues"])),
      "| gpu top", b["top_eigenvalues"], "cpu top", a["top_eigenvalues"])
PYEOF
done

log "3. speed: our gradient and HVP vs PyTorch eager double backward and torch.func (compiled), same GPU, model, batch, dtype"
for cfg in "784x512x512x10 512" "784x4096x4096x10 4096"; do
  set -- $cfg
  for r in 1 2; do
    $BIN bench hvp --arch $1 --batch $2 --act tanh --loss cross_entropy --dtype float32 --repeats 50 --device cuda --json 2>>"$OUT/bench.err" | tee -a "$OUT/bench-ours.jsonl"
    $PY bench/torch_hvp.py --arch $1 --batch $2 --act tanh --loss cross_entropy --dtype float32 --repeats 50 --device cuda --mode all 2>>"$OUT/bench.err" | tee -a "$OUT/bench-torch.jsonl"
  done
done

log "4. scale: the top eigenvalue of a ~100M-parameter MLP"
nvidia-smi --query-gpu=memory.used --format=csv,noheader -lms 500 > "$OUT/memory-trace.txt" 2>&1 &
SMI=$!
$BIN bench lambda --arch 784x7000x7000x7000x10 --samples 4096 --batch 1024 --dtype float32 --max-iter 30 --device cuda 2>&1 | tee "$OUT/lambda-100M.json"
kill $SMI 2>/dev/null
sort -n "$OUT/memory-trace.txt" | tail -1 | sed 's/^/peak memory used: /' | tee -a "$OUT/summary.txt"

log "5. kernel benchmarks"
(cd kernels/cuda && REQUIRE_GPU=1 ../../.devbin/cuda.test -test.run '^$' -test.bench . -test.benchtime 200x) > "$OUT/cuda-bench.log" 2>&1
tail -20 "$OUT/cuda-bench.log" | tee -a "$OUT/summary.txt"
