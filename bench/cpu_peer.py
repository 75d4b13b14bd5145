#!/usr/bin/env python3
"""curvprobe against PyTorch on the CPU, both at their best, in one run on one machine.

For each configuration (architecture, activation, loss, batch; float32), every thread count in
--threads is tried for both tools, in interleaved rounds (ours, PyTorch, ours, PyTorch, ...) so
that load from other processes hits them alike; each tool is then taken at its best: for every
metric, the lowest median over its thread counts and rounds. The metrics, medians of --repeats
timed runs each:

  grad   one gradient (forward + backward)
  hvp    one exact HVP with the forward recomputed (PyTorch: double backward)
  kept   one HVP with the forward kept (ours: the operator's cached forward; PyTorch: the
         gradient graph kept and differentiated again for each vector, as PyHessian does)
  gemm   our own GEMMs of one gradient / one HVP, replayed alone (`bench hvp`'s ceiling)

OpenBLAS's kernel class: when `curvprobe devices` reports that curvprobe set OPENBLAS_CORETYPE
(OpenBLAS misdetected this CPU), PyTorch runs with the same value, so that it is at its best too.
A user's OPENBLAS_CORETYPE is passed to both unchanged.

Prints a Markdown table (ratios ours/PyTorch) and writes every raw result as JSON Lines to --out.

Example (the issue's configurations):
  python3 bench/cpu_peer.py --bin bin/curvprobe --repeats 20 --rounds 2 --out /tmp/peer.jsonl
"""
import argparse
import json
import os
import re
import subprocess
import sys

CONFIGS = [
    ("784x512x512x10", "tanh", "cross_entropy", 512),
    ("784x512x512x10", "relu", "cross_entropy", 512),
    ("784x512x512x10", "tanh", "mse", 512),
    ("784x2048x2048x10", "tanh", "cross_entropy", 2048),
]


def run_json(cmd, env):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit("cpu_peer: %s failed (%d):\n%s" % (" ".join(cmd), p.returncode, p.stderr))
    return json.loads(p.stdout)


def core_env(binary):
    """The environment for both tools: OPENBLAS_CORETYPE as curvprobe would run OpenBLAS."""
    env = dict(os.environ)
    out = subprocess.run([binary, "devices"], capture_output=True, text=True).stdout
    m = re.search(r"OPENBLAS_CORETYPE=(\w+) set by curvprobe", out)
    if m and "OPENBLAS_CORETYPE" not in env:
        env["OPENBLAS_CORETYPE"] = m.group(1)
    return env, out.splitlines()[0] if out else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="bin/curvprobe")
    ap.add_argument("--python", default="/usr/bin/python3", help="a Python with torch")
    ap.add_argument("--threads", default="1,2", help="thread counts to try for both tools")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", default="", help="run only configurations whose arch/act/loss contain this")
    ap.add_argument("--out", default="/dev/null")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    env, cpu_line = core_env(args.bin)
    here = os.path.dirname(os.path.abspath(__file__))
    print("machine: %s" % cpu_line)
    if "OPENBLAS_CORETYPE" in env:
        print("OPENBLAS_CORETYPE=%s for both tools" % env["OPENBLAS_CORETYPE"])
    rows = []
    with open(args.out, "a") as log:
        for arch, act, loss, batch in CONFIGS:
            if args.only and args.only not in "%s %s %s" % (arch, act, loss):
                continue
            reps = args.repeats if batch <= 512 else max(3, args.repeats // 4)
            best = {}
            for rnd in range(args.rounds):
                for t in threads:
                    ours = run_json([args.bin, "bench", "hvp", "--arch", arch, "--act", act, "--loss", loss,
                                     "--batch", str(batch), "--dtype", "float32", "--repeats", str(reps),
                                     "--device", "cpu", "--threads", str(t), "--json"], env)
                    theirs = run_json([args.python, os.path.join(here, "torch_hvp.py"), "--arch", arch, "--act", act,
                                       "--loss", loss, "--batch", str(batch), "--dtype", "float32",
                                       "--repeats", str(reps), "--device", "cpu", "--threads", str(t)], env)
                    for tool, r in (("ours", ours), ("torch", theirs)):
                        log.write(json.dumps({"tool": tool, "round": rnd, "threads": t, "result": r}) + "\n")
                    for key, v in (("ours_grad", ours["grad_ms"]), ("ours_hvp", ours["hvp_ms"]),
                                   ("ours_kept", ours.get("hvp_cached_ms")),
                                   ("ours_gemm_grad", ours.get("gemm_grad_ms")), ("ours_gemm_hvp", ours.get("gemm_ms")),
                                   ("torch_grad", theirs["grad_ms"]), ("torch_hvp", theirs["hvp_ms"]),
                                   ("torch_kept", theirs.get("hvp_kept_ms"))):
                        if v is not None and (key not in best or v < best[key][0]):
                            best[key] = (v, t)
            rows.append((arch, act, loss, batch, best))
            print(json.dumps({"config": [arch, act, loss, batch], "best": best}), file=sys.stderr)

    def cell(best, key):
        v, t = best.get(key, (None, None))
        return "%.1f (%dt)" % (v, t) if v is not None else "-"

    def ratio(best, a, b):
        if a in best and b in best:
            return "%.2f" % (best[a][0] / best[b][0])
        return "-"

    print("| config | ours grad | PyTorch grad | ratio | ours HVP | PyTorch HVP | ratio | ours kept | PyTorch kept | ratio | grad/its GEMMs | HVP/its GEMMs |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for arch, act, loss, batch, b in rows:
        print("| %s %s %s b%d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            arch, act, loss, batch,
            cell(b, "ours_grad"), cell(b, "torch_grad"), ratio(b, "ours_grad", "torch_grad"),
            cell(b, "ours_hvp"), cell(b, "torch_hvp"), ratio(b, "ours_hvp", "torch_hvp"),
            cell(b, "ours_kept"), cell(b, "torch_kept"), ratio(b, "ours_kept", "torch_kept"),
            ratio(b, "ours_grad", "ours_gemm_grad"), ratio(b, "ours_hvp", "ours_gemm_hvp")))


if __name__ == "__main__":
    main()
