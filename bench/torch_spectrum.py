#!/usr/bin/env python3
"""Exact Hessian spectrum of an MLP loss with PyTorch: the peer of `curvprobe spectrum --json`.

Reads the interchange files of DESIGN.md ("Contracts other tools rely on"): model JSON, weights
NPZ (W0 b0 W1 b1 ..., W_l shaped [in, out], x @ W + b) and data NPZ (x [N, D]; y [N] int labels
for cross_entropy or [N, C] float targets for mse). --weights also takes what PyTorch users save:
an nn.Sequential's state_dict (keys [PREFIX.]N.weight [out, in], N.bias) written by torch.save
(read with torch.load(weights_only=True)) or as safetensors (read here in pure Python, header
and torch.frombuffer, as the safetensors package may be absent), told apart by content. Builds the network functionally from the flat
parameter vector (W0, b0, W1, b1, ... each row-major; biases absent when "bias": false), forms
the full Hessian of the full-dataset loss with torch.autograd.functional.hessian and takes its
eigenvalues with torch.linalg.eigvalsh.

Prints one JSON object:
  n_params, n_samples, loss, grad_norm, grad (flat, parameter order above),
  top_eigenvalues (descending), bottom_eigenvalues (ascending), trace,
  lambda_max, lambda_min, dtype, torch, model, [eigenvalues with --all-eigenvalues],
  [checks with --check].

--check asserts (exit status 1 on failure) that the Hessian is symmetric, that the gradient
matches a central finite difference of the loss, and that H matches a central finite
difference of the gradient along a random direction.

Needs PyTorch: Debian's /usr/bin/python3 has it (apt-get install python3-torch python3-numpy).
Example:
  /usr/bin/python3 bench/torch_spectrum.py --model ix/model.json --weights ix/weights.npz \
      --data ix/data.npz --top-k 5 --bottom-k 5 --check
"""
import argparse
import json
import math
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as _e:  # exit 3: a dependency is missing (callers may skip)
    sys.stderr.write("torch_spectrum: %s: %s lacks numpy/torch; Debian's /usr/bin/python3 has them "
                     "(apt-get install python3-torch python3-numpy)\n" % (_e, sys.executable))
    sys.exit(3)

ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "softplus", "linear")
LOSSES = ("cross_entropy", "mse")


def activation(name):
    if name == "relu":
        return torch.relu
    if name == "tanh":
        return torch.tanh
    if name == "sigmoid":
        return torch.sigmoid
    if name == "gelu":
        return F.gelu  # exact erf form (approximate='none', the default)
    if name == "softplus":
        # log(1 + e^x), computed as logaddexp(x, 0): exact for all x (F.softplus switches to
        # the identity above x = 20), and twice differentiable through autograd.
        return lambda z: torch.logaddexp(z, torch.zeros_like(z))
    if name == "linear":
        return lambda z: z
    raise ValueError("unknown activation %r (want one of %s)" % (name, " ".join(ACTIVATIONS)))


def load_model(path):
    with open(path) as f:
        m = json.load(f)
    layers = [int(d) for d in m["layers"]]
    act = m.get("activation", "tanh")
    loss = m.get("loss", "cross_entropy")
    bias = bool(m.get("bias", True))
    if len(layers) < 2:
        raise ValueError("model: need at least 2 layer sizes, got %r" % layers)
    if act not in ACTIVATIONS:
        raise ValueError("model: unknown activation %r" % act)
    if loss not in LOSSES:
        raise ValueError("model: unknown loss %r" % loss)
    return {"layers": layers, "activation": act, "loss": loss, "bias": bias}


def shapes_of(model):
    """[(name, shape)] in flat-vector order."""
    out = []
    layers = model["layers"]
    for l in range(len(layers) - 1):
        out.append(("W%d" % l, (layers[l], layers[l + 1])))
        if model["bias"]:
            out.append(("b%d" % l, (layers[l + 1],)))
    return out


SAFETENSORS_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
                      "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32}


def read_safetensors(path):
    """{name: tensor} of a safetensors file, parsed by hand: 8-byte little-endian header length,
    JSON header {name: {dtype, shape, data_offsets}}, then the data. What
    safetensors.torch.load_file returns."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:end]), dtype=SAFETENSORS_DTYPES[e["dtype"]]) if end > b \
            else torch.zeros(0, dtype=SAFETENSORS_DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"])
    return out


def sequential_layers(state_dict):
    """[(weight [out, in], bias or None)] of an nn.Sequential's Linear layers, by index."""
    layers = {}
    for key, t in state_dict.items():
        module, _, param = key.rpartition(".")
        prefix, _, idx = module.rpartition(".")
        layers.setdefault((prefix, int(idx)), {})[param] = t
    return [(p["weight"], p.get("bias")) for _, p in sorted(layers.items(), key=lambda kv: kv[0][1])]


def load_state_dict_weights(path, model, dtype):
    """The flat parameter vector (W_l = weight.T, our layout) of a PyTorch state_dict file."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"PK\x03\x04":
        sd = torch.load(path, map_location="cpu", weights_only=True)
    else:
        sd = read_safetensors(path)
    parts = []
    layers = sequential_layers(sd)
    if len(layers) != len(model["layers"]) - 1:
        raise ValueError("weights: %d Linear layers for layers %s" % (len(layers), model["layers"]))
    for (w, b), (name, shape) in zip(layers, [s for s in shapes_of(model) if s[0].startswith("W")]):
        if tuple(w.T.shape) != tuple(shape):
            raise ValueError("weights: %s.T has shape %s, want %s" % (name, tuple(w.T.shape), shape))
        parts.append(w.T.to(torch.float64).reshape(-1))
        if model["bias"]:
            parts.append(b.to(torch.float64).reshape(-1))
    return torch.cat(parts).to(dtype)


def load_weights(path, model, dtype):
    with open(path, "rb") as f:
        head = f.read(9)
    import zipfile
    if len(head) == 9 and head[8:9] == b"{" or (head[:4] == b"PK\x03\x04" and any(
            n.endswith("data.pkl") for n in zipfile.ZipFile(path).namelist())):
        return load_state_dict_weights(path, model, dtype)
    shapes = shapes_of(model)
    with np.load(path) as z:
        names = set(z.files)
        parts = []
        for name, shape in shapes:
            if name not in names:
                raise ValueError("weights: missing array %s (have %s)" % (name, sorted(names)))
            a = np.asarray(z[name], dtype=np.float64)
            if name.startswith("b") and a.ndim == 2 and a.shape[0] == 1:
                a = a.reshape(-1)
            if tuple(a.shape) != tuple(shape):
                raise ValueError("weights: %s has shape %s, want %s ([in, out] for W)"
                                 % (name, a.shape, shape))
            parts.append(np.ascontiguousarray(a).reshape(-1))
        extra = names - {n for n, _ in shapes}
        if extra:
            sys.stderr.write("torch_spectrum: ignoring arrays %s in %s\n" % (sorted(extra), path))
    flat = np.concatenate(parts) if parts else np.zeros(0)
    return torch.tensor(flat, dtype=dtype)


def load_data(path, model, dtype):
    D, C = model["layers"][0], model["layers"][-1]
    with np.load(path) as z:
        x = np.asarray(z["x"], dtype=np.float64)
        y = np.asarray(z["y"])
    if x.ndim != 2 or x.shape[1] != D:
        raise ValueError("data: x has shape %s, want [N, %d]" % (x.shape, D))
    N = x.shape[0]
    if model["loss"] == "cross_entropy":
        y = y.reshape(-1)
        if y.shape[0] != N:
            raise ValueError("data: y has %d labels for %d samples" % (y.shape[0], N))
        if not np.issubdtype(y.dtype, np.integer):
            yi = np.rint(y)
            if not np.all(yi == y):
                raise ValueError("data: cross_entropy needs integer labels in y")
            y = yi
        y = y.astype(np.int64)
        if y.min() < 0 or y.max() >= C:
            raise ValueError("data: labels must be in [0, %d), got [%d, %d]" % (C, y.min(), y.max()))
        yt = torch.tensor(y, dtype=torch.int64)
    else:
        y = y.astype(np.float64)
        if y.ndim == 1 and C == 1:
            y = y.reshape(-1, 1)
        if y.shape != (N, C):
            raise ValueError("data: mse needs y shaped [%d, %d], got %s" % (N, C, y.shape))
        yt = torch.tensor(y, dtype=dtype)
    return torch.tensor(x, dtype=dtype), yt


def make_loss(model, x, y):
    shapes = shapes_of(model)
    sizes = [int(np.prod(s)) for _, s in shapes]
    act = activation(model["activation"])
    L = len(model["layers"]) - 1
    bias = model["bias"]
    loss_name = model["loss"]

    def f(theta):
        chunks = torch.split(theta, sizes)
        ps = [c.reshape(s) for c, (_, s) in zip(chunks, shapes)]
        a = x
        i = 0
        for l in range(L):
            W = ps[i]
            i += 1
            z = a @ W
            if bias:
                z = z + ps[i]
                i += 1
            a = act(z) if l < L - 1 else z
        if loss_name == "cross_entropy":
            return F.cross_entropy(a, y)  # mean over samples of -log softmax at the label
        return F.mse_loss(a, y)  # mean over all N*C elements
    return f


def top_bottom(ev, k_top, k_bot):
    # ev ascending (eigvalsh)
    n = ev.shape[0]
    k_top = max(0, min(k_top, n))
    k_bot = max(0, min(k_bot, n))
    top = ev.flip(0)[:k_top].tolist()
    bot = ev[:k_bot].tolist()
    return top, bot


def run_checks(f, theta, g, H, dtype, seed=0):
    """Returns a dict of check results; raises AssertionError on failure."""
    res = {}
    eps64 = dtype == torch.float64
    hmax = float(H.abs().max()) if H.numel() else 0.0
    asym = float((H - H.T).abs().max()) if H.numel() else 0.0
    res["hessian_asymmetry"] = asym
    res["hessian_max_abs"] = hmax
    sym_tol = (1e-12 if eps64 else 1e-5) * max(1.0, hmax)
    assert asym <= sym_tol, "Hessian not symmetric: max|H-H^T| = %g > %g" % (asym, sym_tol)

    # gradient vs central difference of the loss, coordinate by coordinate (all of them when
    # n <= 2000, else a seeded sample of 2000)
    n = theta.shape[0]
    gen = torch.Generator().manual_seed(seed)
    idx = torch.arange(n) if n <= 2000 else torch.randperm(n, generator=gen)[:2000]
    h = 1e-6 if eps64 else 1e-2
    fd = torch.empty(idx.shape[0], dtype=torch.float64)
    with torch.no_grad():
        for j, i in enumerate(idx.tolist()):
            tp = theta.clone()
            tp[i] += h
            tm = theta.clone()
            tm[i] -= h
            fd[j] = (float(f(tp)) - float(f(tm))) / (2 * h)
    gi = g[idx].to(torch.float64)
    gerr = float((fd - gi).abs().max())
    gscale = max(1.0, float(g.abs().max()))
    res["grad_fd_max_abs_err"] = gerr
    res["grad_fd_coords"] = int(idx.shape[0])
    gtol = (1e-7 if eps64 else 2e-2) * gscale
    assert gerr <= gtol, "gradient vs finite difference: max err %g > %g" % (gerr, gtol)

    # H v vs central difference of the gradient along a random unit direction v
    v = torch.randn(n, generator=gen, dtype=torch.float64).to(dtype)
    v = v / v.norm()
    hd = 1e-5 if eps64 else 1e-2

    def grad_at(t):
        t = t.detach().requires_grad_(True)
        return torch.autograd.grad(f(t), t)[0]
    hv_fd = (grad_at(theta + hd * v) - grad_at(theta - hd * v)) / (2 * hd)
    hv = H @ v
    herr = float((hv_fd - hv).abs().max())
    hscale = max(1.0, float(hv.abs().max()))
    res["hvp_fd_max_abs_err"] = herr
    htol = (1e-6 if eps64 else 5e-2) * hscale
    assert herr <= htol, "H v vs finite difference of the gradient: max err %g > %g" % (herr, htol)
    res["ok"] = True
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="model JSON")
    ap.add_argument("--weights", required=True,
                    help="weights NPZ (W0 b0 W1 b1 ..., W [in,out]), or a state_dict: torch.save or safetensors")
    ap.add_argument("--data", required=True, help="data NPZ (x, y)")
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--bottom-k", type=int, default=5)
    ap.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    ap.add_argument("--check", action="store_true",
                    help="assert Hessian symmetry and finite-difference agreement of grad and H v")
    ap.add_argument("--all-eigenvalues", action="store_true",
                    help="also print every eigenvalue (ascending) as 'eigenvalues'")
    ap.add_argument("--max-params", type=int, default=20000,
                    help="refuse models with more parameters than this (dense n x n Hessian)")
    ap.add_argument("--indent", type=int, default=None, help="pretty-print the JSON")
    args = ap.parse_args(argv)

    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    torch.manual_seed(0)
    model = load_model(args.model)
    theta = load_weights(args.weights, model, dtype)
    x, y = load_data(args.data, model, dtype)
    n = theta.shape[0]
    if n > args.max_params:
        sys.exit("torch_spectrum: %d parameters > --max-params %d (the Hessian is dense n x n)"
                 % (n, args.max_params))

    f = make_loss(model, x, y)
    t = theta.clone().requires_grad_(True)
    loss = f(t)
    (g,) = torch.autograd.grad(loss, t)
    g = g.detach()
    H = torch.autograd.functional.hessian(f, theta.clone())
    H = H.reshape(n, n).detach()
    Hs = 0.5 * (H + H.T)  # eigvalsh reads one triangle; symmetrise so both count
    ev = torch.linalg.eigvalsh(Hs)
    top, bot = top_bottom(ev, args.top_k, args.bottom_k)

    out = {
        "n_params": int(n),
        "n_samples": int(x.shape[0]),
        "loss": float(loss),
        "grad_norm": float(g.norm()),
        "grad": g.tolist(),
        "top_eigenvalues": top,
        "bottom_eigenvalues": bot,
        "trace": float(torch.diagonal(H).sum()),
        "lambda_max": float(ev[-1]) if n else None,
        "lambda_min": float(ev[0]) if n else None,
        "dtype": args.dtype,
        "torch": torch.__version__,
        "model": model,
    }
    if args.all_eigenvalues:
        out["eigenvalues"] = ev.tolist()
    status = 0
    if args.check:
        try:
            out["checks"] = run_checks(f, theta, g, H, dtype)
        except AssertionError as e:
            out["checks"] = {"ok": False, "error": str(e)}
            sys.stderr.write("torch_spectrum: check failed: %s\n" % e)
            status = 1
    for key in ("loss", "grad_norm", "trace"):
        if not math.isfinite(out[key]):
            sys.stderr.write("torch_spectrum: %s is not finite\n" % key)
    json.dump(out, sys.stdout, indent=args.indent)
    sys.stdout.write("\n")
    sys.exit(status)


if __name__ == "__main__":
    main()
