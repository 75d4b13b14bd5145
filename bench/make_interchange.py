#!/usr/bin/env python3
"""Write a small interchange set (model JSON, weights NPZ, data NPZ) for curvprobe.

numpy only (no torch), so the Go interchange test can run it on machines without PyTorch.
Files follow DESIGN.md "Contracts other tools rely on":

  DIR/model.json   {"layers":[in,h1,...,out], "activation":..., "loss":..., "bias":...}
  DIR/weights.npz  W0 b0 W1 b1 ... float64; W_l shaped [in, out] (x @ W + b), random normal
                   scaled by 1/sqrt(in); b_l random normal * 0.1 (nonzero). With --bias false
                   only W0 W1 ... are written.
  DIR/data.npz     x float64 [N, D] standard normal;
                   y int64 [N] labels in [0, C) for cross_entropy (every class present when
                   N >= C), float64 [N, C] standard normal for mse.

Example:
  python3 bench/make_interchange.py --out /tmp/ix --layers 5,7,6,3 --act tanh \
      --loss cross_entropy --n 40 --seed 1
"""
import argparse
import json
import os
import sys

try:
    import numpy as np
except ImportError as _e:  # exit 3: a dependency is missing (callers may skip)
    sys.stderr.write("make_interchange: %s: %s lacks numpy; Debian's /usr/bin/python3 has them "
                     "(apt-get install python3-torch python3-numpy)\n" % (_e, sys.executable))
    sys.exit(3)

ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "softplus", "linear")
LOSSES = ("cross_entropy", "mse")


def parse_bool(s):
    v = s.strip().lower()
    if v in ("true", "1", "yes", "y", "on"):
        return True
    if v in ("false", "0", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError("expected true or false, got %r" % s)


def parse_layers(s):
    parts = [p for p in s.replace("x", ",").split(",") if p.strip()]
    try:
        layers = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError("layers must be integers like 5,7,6,3: %r" % s)
    if len(layers) < 2 or any(d <= 0 for d in layers):
        raise argparse.ArgumentTypeError("need at least 2 positive layer sizes: %r" % s)
    return layers


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--layers", type=parse_layers, default=parse_layers("5,7,6,3"),
                    help="layer sizes in,h1,...,out (comma or x separated), default 5,7,6,3")
    ap.add_argument("--act", default="tanh", choices=ACTIVATIONS)
    ap.add_argument("--loss", default="cross_entropy", choices=LOSSES)
    ap.add_argument("--n", type=int, default=40, help="number of samples")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bias", type=parse_bool, default=True, help="true|false (default true)")
    ap.add_argument("--x-scale", type=float, default=1.0, help="std of x (default 1)")
    args = ap.parse_args(argv)
    if args.n <= 0:
        ap.error("--n must be positive")

    rng = np.random.default_rng(args.seed)
    layers = args.layers
    arrays = {}
    for l in range(len(layers) - 1):
        fan_in, fan_out = layers[l], layers[l + 1]
        arrays["W%d" % l] = rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)
        if args.bias:
            arrays["b%d" % l] = 0.1 * rng.standard_normal(fan_out)

    D, C, N = layers[0], layers[-1], args.n
    x = args.x_scale * rng.standard_normal((N, D))
    if args.loss == "cross_entropy":
        # every class present when N >= C, then a seeded shuffle
        y = np.arange(N, dtype=np.int64) % C
        if N < C:
            y = rng.integers(0, C, size=N, dtype=np.int64)
        rng.shuffle(y)
        y = y.astype(np.int64)
    else:
        y = rng.standard_normal((N, C))

    os.makedirs(args.out, exist_ok=True)
    model = {"layers": layers, "activation": args.act, "loss": args.loss, "bias": args.bias}
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(model, f)
        f.write("\n")
    # np.savez writes arrays in keyword order: W0 b0 W1 b1 ...
    np.savez(os.path.join(args.out, "weights.npz"), **arrays)
    np.savez(os.path.join(args.out, "data.npz"), x=x.astype(np.float64), y=y)

    n_params = sum(a.size for a in arrays.values())
    sys.stderr.write("wrote %s: layers=%s act=%s loss=%s bias=%s n=%d n_params=%d\n"
                     % (args.out, layers, args.act, args.loss, args.bias, N, n_params))


if __name__ == "__main__":
    main()
