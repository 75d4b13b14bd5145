#!/usr/bin/env bash
# The whole GPU check of issue 4 in one run on a lent GPU machine (see
# ../shared/gpu/README.md). Build here first:
#   mkdir -p .devbin
#   CGO_ENABLED=0 go build -o .devbin/curvprobe ./cmd/curvprobe
#   CGO_ENABLED=0 go test -c -o .devbin/cuda.test ./kernels/cuda
# (static binaries: no dependence on that machine's glibc; its CPU side uses
# OpenBLAS if it has libopenblas.so.0, gonum otherwise)
# then run (device tool): bash bench/gpu_check.sh [STEP...]  with carry [".devbin"]
# (about 8 minutes in all; within the 10-minute limit of one call, or split
# it: "0 1 2" then "3 4 5").
# STEP is 0 (machine) to 5; none means all. The device tool returns at most 8
# files from $OUT, so the logs are written under $LOGS and packed after every
# step into $OUT/logs.tgz (a run killed at its time limit keeps what it had);
# $OUT/summary.txt holds the numbers.
set -uo pipefail
OUT=${OUT:-gpu-logs}
LOGS=${LOGS:-/tmp/gpu-logs}
mkdir -p "$OUT" "$LOGS"
BIN=.devbin/curvprobe
PY=${PY:-python3}
GPU=${GPU:-cuda}   # GPU=cpu dry-runs steps 2-4 on a machine without one
STEPS=" ${*:-0 1 2 3 4 5} "
want() { [[ $STEPS == *" $1 "* ]]; }
pack() { cp "$OUT/summary.txt" "$LOGS/" 2>/dev/null; tar czf "$OUT/logs.tgz" -C "$(dirname "$LOGS")" "$(basename "$LOGS")"; }
trap pack EXIT
log() { echo "== $* ($(date +%T))" | tee -a "$OUT/summary.txt"; }

if want 0; then
  log "machine"
  nvidia-smi -L 2>&1 | tee "$LOGS/nvidia-smi.txt"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee -a "$LOGS/nvidia-smi.txt"
  ldconfig -p | grep -E 'libcuda\.|libcublas\.' | tee "$LOGS/libs.txt"
  find / -name 'libcublas.so*' -not -path '/proc/*' 2>/dev/null | head -20 | tee -a "$LOGS/libs.txt"
  $BIN devices 2>&1 | tee "$LOGS/devices.txt"
  if ! grep -q '^cuda:0' "$LOGS/devices.txt"; then
    # The loader's search and ours found no usable cuBLAS: try the newest
    # one on disk for every later step (and say so: add its directory to
    # kernels/cuda/libpath.go).
    lib=$(find / -name 'libcublas.so.1[0-9]' -not -path '/proc/*' 2>/dev/null | sort -r | head -1)
    if [ -n "$lib" ]; then
      export CURVPROBE_CUBLAS=$lib
      echo "devices found no GPU; retrying with CURVPROBE_CUBLAS=$lib" | tee -a "$OUT/summary.txt"
      $BIN devices 2>&1 | tee -a "$LOGS/devices.txt" "$OUT/summary.txt"
    fi
  fi
  grep '^cuda' "$LOGS/devices.txt" | tee -a "$OUT/summary.txt"
  # The host CPU for issue 9 (a CPU that OpenBLAS misdetects, if this is one:
  # `devices` says which core OpenBLAS runs and warns when it is below the
  # CPU's), and our CPU product on it as shipped (a few seconds).
  lscpu 2>&1 | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket|Flags)' | cut -c1-400 | tee "$LOGS/lscpu.txt"
  grep -E '^(Model name|CPU\(s\))' "$LOGS/lscpu.txt" | tee -a "$OUT/summary.txt"
  grep '^cpu' "$LOGS/devices.txt" | tee -a "$OUT/summary.txt"
  timeout 120 $BIN bench hvp --arch 784x512x512x10 --act tanh --loss cross_entropy --batch 512 \
    --dtype float32 --repeats 10 --device cpu 2>&1 | tee "$LOGS/cpu-bench.txt" | tail -4 | tee -a "$OUT/summary.txt"
  pack
fi

if want 1; then
  log "1. conformance of every primitive against the CPU reference (float32 1e-5, float64 1e-12) and the Plan GPU vs CPU"
  (cd kernels/cuda && REQUIRE_GPU=1 ../../.devbin/cuda.test -test.v -test.timeout 20m) > "$LOGS/cuda-test.log" 2>&1
  echo "exit $?" | tee -a "$OUT/summary.txt"
  grep -E '^(--- FAIL|--- PASS|FAIL|ok|PASS)' "$LOGS/cuda-test.log" | tail -40 | tee -a "$OUT/summary.txt"
  pack
fi

if want 2; then
  log "2. HVP, lambda_max and top-5 Lanczos on the GPU against the CPU, same weights and data"
  $BIN train --data builtin:digits --subset 300 --standardize --arch 64x64x64x10 --act tanh --loss mse \
    --optimizer gd --lr 0.5 --steps 100 --probe-every 50 --dtype float64 --device cpu --no-plot --quiet --out "$LOGS/run" > "$LOGS/train.txt" 2>&1
  for dt in float64 float32; do
    for dev in cpu $GPU; do
      $BIN spectrum --run "$LOGS/run" --top-k 5 --bottom-k 2 --dtype $dt --device $dev --json --quiet > "$LOGS/spectrum-$dev-$dt.json" 2>>"$LOGS/spectrum.err"
    done
    $PY - "$LOGS/spectrum-cpu-$dt.json" "$LOGS/spectrum-$GPU-$dt.json" <<'PYEOF' | tee -a "$OUT/summary.txt"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def rel(x, y): return abs(x - y) / max(abs(y), 1e-300)
print(sys.argv[1].split('-')[-1], "loss rel diff %.2e" % rel(b["loss"], a["loss"]),
      "grad_norm %.2e" % rel(b["grad_norm"], a["grad_norm"]),
      "top-5 max rel %.2e" % max(rel(x, y) for x, y in zip(b["top_eigenvalues"], a["top_eigenvalues"])),
      "| gpu top", b["top_eigenvalues"], "cpu top", a["top_eigenvalues"])
PYEOF
  done
  pack
fi

if want 3; then
  log "3. speed: our gradient and HVP vs PyTorch eager double backward and torch.func (compiled), same GPU, model, batch, dtype"
  for cfg in "784x512x512x10 512" "784x4096x4096x10 4096"; do
    set -- $cfg
    # ours, PyTorch (every mode, interleaved inside; torch.compile compiles
    # once per process, so once per shape), ours again: drift shows as a gap
    # between our two rows.
    ours() { $BIN bench hvp --arch $1 --batch $2 --act tanh --loss cross_entropy --dtype float32 --repeats 50 --device $GPU --json 2>>"$LOGS/bench.err" | tee -a "$LOGS/bench-ours.jsonl"; }
    ours $1 $2
    PYTHONUNBUFFERED=1 $PY bench/torch_hvp.py --arch $1 --batch $2 --act tanh --loss cross_entropy --dtype float32 --repeats 50 --device $GPU --mode all 2>>"$LOGS/bench.err" | tee -a "$LOGS/bench-torch.jsonl"
    ours $1 $2
  done
  $PY - "$LOGS/bench-ours.jsonl" "$LOGS/bench-torch.jsonl" <<'PYEOF' | tee -a "$OUT/summary.txt"
import json, sys
def rows(p):
    out = []
    for line in open(p):
        try: out.append(json.loads(line))
        except ValueError: pass
    return out
ours, torch = rows(sys.argv[1]), rows(sys.argv[2])
keys = ("grad_ms", "hvp_ms", "hvp_func_ms", "hvp_compile_ms", "gemm_ms", "gemm_grad_ms")
for r in ours:
    print("ours ", r.get("arch"), r.get("batch"), {k: r.get(k) for k in r if k.endswith("_ms")})
for r in torch:
    print("torch", r.get("arch"), r.get("batch"), {k: r.get(k) for k in keys}, r.get("errors") or "")
# The issue's ratios, from the best (lowest) of the runs of each side.
def best(rs, k):
    xs = [r[k] for r in rs if r.get(k)]
    return min(xs) if xs else None
def ratio(a, b):
    return "%.2f" % (a / b) if a and b else "n/a"
for arch in sorted({r.get("arch") for r in ours}):
    o = [r for r in ours if r.get("arch") == arch]
    t = [r for r in torch if r.get("arch") == arch]
    hvp = best(o, "hvp_ms")
    print("RATIO %s batch %s: torch eager/ours %s, torch.func/ours %s, compiled/ours %s; "
          "ours/our GEMM ceiling %s, ours/torch GEMM ceiling %s; our grad %s ms vs torch %s ms" % (
              arch, o[0].get("batch"), ratio(best(t, "hvp_ms"), hvp), ratio(best(t, "hvp_func_ms"), hvp),
              ratio(best(t, "hvp_compile_ms"), hvp), ratio(hvp, best(o, "gemm_ms")),
              ratio(hvp, best(t, "gemm_ms")), best(o, "grad_ms"), best(t, "grad_ms")))
PYEOF
  pack
fi

if want 4; then
  log "4. scale: the top eigenvalue of a ~100M-parameter MLP"
  nvidia-smi --query-gpu=memory.used --format=csv,noheader -lms 500 > "$LOGS/memory-trace.txt" 2>&1 &
  SMI=$!
  $BIN bench lambda --arch 784x7000x7000x7000x10 --samples 4096 --batch 1024 --dtype float32 --max-iter 100 --device $GPU 2>&1 | tee "$LOGS/lambda-100M.json" | tee -a "$OUT/summary.txt"
  kill $SMI 2>/dev/null
  sort -n "$LOGS/memory-trace.txt" | tail -1 | sed 's/^/peak memory used: /' | tee -a "$OUT/summary.txt"
  pack
fi

if want 5; then
  log "5. kernel benchmarks"
  (cd kernels/cuda && REQUIRE_GPU=1 ../../.devbin/cuda.test -test.run '^$' -test.bench . -test.benchtime 200x) > "$LOGS/cuda-bench.log" 2>&1
  tail -20 "$LOGS/cuda-bench.log" | tee -a "$OUT/summary.txt"
  pack
fi
