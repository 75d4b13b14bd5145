#!/usr/bin/env python3
"""End to end against PyHessian: the top 5 Hessian eigenvalues of a trained MLP on the CPU.

Three steps (bench/e2e_top5.sh runs them all):

  prepare  --mnist DIR --out DIR: the first N MNIST test images (pixels / 255, then standardised
           with the set's own per-pixel mean and std, 0 where the std is 0) and labels as
           DIR/data.npz (x float32 [N, 784], y int64 [N]), and DIR/model.json for a
           784x200x200x10 tanh cross-entropy MLP. curvprobe trains on them (see the .sh).
  pyhessian --dir DIR --pyhessian PATH: PyHessian (github.com/amirgholami/PyHessian, run
           unmodified from PATH) on the same model, weights (DIR/weights.npz) and data:
           hessian(model, CrossEntropyLoss(), data=(x, y), cuda=False).eigenvalues(top_n=5) at its
           defaults (maxIter 100, tol 1e-3), float32, timed from the hessian(...) call to the
           eigenvalues' return, at each --threads (torch.set_num_threads) with the best taken.
  referee  --dir DIR: the top 5 eigenvalues in float64 by scipy's eigsh (ARPACK, tol 1e-12) on
           exact float64 Hessian-vector products (double backward), to judge both tools.

Each prints one JSON object.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np


def read_idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        b = f.read()
    _, dt, nd = struct.unpack(">HBB", b[:4])
    shape = struct.unpack(">" + "I" * nd, b[4:4 + 4 * nd])
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(shape)


def prepare(args):
    x = read_idx(os.path.join(args.mnist, "t10k-images-idx3-ubyte.gz"))[: args.n].reshape(args.n, -1)
    y = read_idx(os.path.join(args.mnist, "t10k-labels-idx1-ubyte.gz"))[: args.n].astype(np.int64)
    x = x.astype(np.float64) / 255
    mu, sd = x.mean(0), x.std(0)
    x = np.where(sd > 0, (x - mu) / np.where(sd > 0, sd, 1), 0).astype(np.float32)
    os.makedirs(args.out, exist_ok=True)
    np.savez(os.path.join(args.out, "data.npz"), x=x, y=y)
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump({"layers": [784, 200, 200, 10], "activation": "tanh", "loss": "cross_entropy", "bias": True}, f)
    print(json.dumps({"n": int(args.n), "data": os.path.join(args.out, "data.npz")}))


def load(d, dtype):
    import torch
    data = np.load(os.path.join(d, "data.npz"))
    w = np.load(os.path.join(d, "weights.npz"))
    spec = json.load(open(os.path.join(d, "model.json")))
    dims = spec["layers"]
    layers = []
    for l in range(len(dims) - 1):
        lin = torch.nn.Linear(dims[l], dims[l + 1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w["W%d" % l].T.astype(np.float64)))
            lin.bias.copy_(torch.from_numpy(w["b%d" % l].astype(np.float64)))
        layers.append(lin)
        if l < len(dims) - 2:
            layers.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*layers).to(dtype)
    x = torch.from_numpy(data["x"]).to(dtype)
    y = torch.from_numpy(data["y"]).long()
    return model, x, y


def pyhessian(args):
    import torch
    sys.path.insert(0, args.pyhessian)
    from pyhessian import hessian  # noqa: E402 - from the checkout named on the command line
    out = {"runs": []}
    for t in [int(s) for s in args.threads.split(",")]:
        torch.set_num_threads(t)
        for rep in range(args.repeats):
            torch.manual_seed(rep)
            model, x, y = load(args.dir, torch.float32)
            t0 = time.perf_counter()
            h = hessian(model, torch.nn.CrossEntropyLoss(), data=(x, y), cuda=False)
            top, _ = h.eigenvalues(top_n=5)
            s = time.perf_counter() - t0
            out["runs"].append({"threads": t, "seconds": s, "top": [float(v) for v in top]})
    best = min(out["runs"], key=lambda r: r["seconds"])
    out.update({"best_seconds": best["seconds"], "best_threads": best["threads"], "top": best["top"],
                "torch": torch.__version__})
    print(json.dumps(out))


def referee(args):
    import torch
    from scipy.sparse.linalg import LinearOperator, eigsh
    model, x, y = load(args.dir, torch.float64)
    params = list(model.parameters())
    loss = torch.nn.functional.cross_entropy(model(x), y)
    g = torch.autograd.grad(loss, params, create_graph=True)
    n = sum(p.numel() for p in params)

    def hv(v):
        v = torch.from_numpy(np.asarray(v, dtype=np.float64).reshape(-1))
        vs, i = [], 0
        for p in params:
            vs.append(v[i:i + p.numel()].view_as(p))
            i += p.numel()
        h = torch.autograd.grad(g, params, grad_outputs=vs, retain_graph=True)
        return torch.cat([t.reshape(-1) for t in h]).numpy()

    t0 = time.perf_counter()
    vals = eigsh(LinearOperator((n, n), matvec=hv, dtype=np.float64), k=5, which="LA", tol=1e-12,
                 return_eigenvectors=False)
    print(json.dumps({"n_params": n, "loss": float(loss), "top": sorted([float(v) for v in vals], reverse=True),
                      "seconds": time.perf_counter() - t0}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--mnist", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--n", type=int, default=1000)
    p = sub.add_parser("pyhessian")
    p.add_argument("--dir", required=True)
    p.add_argument("--pyhessian", required=True, help="a checkout of github.com/amirgholami/PyHessian")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--repeats", type=int, default=2)
    p = sub.add_parser("referee")
    p.add_argument("--dir", required=True)
    args = ap.parse_args()
    {"prepare": prepare, "pyhessian": pyhessian, "referee": referee}[args.cmd](args)


if __name__ == "__main__":
    main()
