#!/usr/bin/env python3
"""Time PyTorch's gradient and exact Hessian-vector product of an MLP loss: the peer of
`curvprobe bench hvp --json`.

On random data with a fixed seed (x ~ N(0,1) [B, D]; y uniform labels for cross_entropy or
N(0,1) [B, C] targets for mse; W_l ~ N(0,1)/sqrt(in) shaped [in, out], x @ W + b; b_l small),
it times, after warm-up, `--repeats` runs of each of:

  grad     one gradient: forward + backward (torch.autograd.grad of the loss).
  hvp      one exact HVP by double backward, from scratch: forward, torch.autograd.grad with
           create_graph=True, then torch.autograd.grad of (g . v). (curvprobe's HVP also
           recomputes the forward, so the two are comparable.)
  kept     one HVP with the gradient graph kept, PyHessian's way: the gradient is taken once with
           create_graph=True, and each product is torch.autograd.grad(g, params, grad_outputs=v,
           retain_graph=True) (the peer of curvprobe's hvp_cached_ms: forward kept).
  func     (--mode func|all) torch.func forward-over-reverse: jvp(grad(f), (p,), (v,)).
  compile  (--mode compile|all) torch.compile of the torch.func HVP, where it compiles.
  gemm     only the GEMMs an HVP needs, with torch.mm(out=) on the same shapes (the ceiling),
           and likewise the GEMMs of one gradient.

GEMMs counted (DESIGN.md, R-operator; L layers, B samples, layer l maps d_{l-1} -> d_l):
  forward          z_l = a_{l-1} W_l                      l = 1..L      L
  tangent forward  Ra_{l-1} W_l  and  a_{l-1} V_l          (Ra_0 = 0)    2L - 1
  backward         d_l W_l^T                              l = L..2      L - 1
  tangent backward Rd_l W_l^T  and  d_l V_l^T             l = L..2      2(L - 1)
  weight gradients (Hv)_W_l = Ra_{l-1}^T d_l + a_{l-1}^T Rd_l  (Ra_0 = 0) 2L - 1
  total 8L - 5 (19 for 784x512x512x10). One gradient: forward L, backward L - 1, weight
  gradients a_{l-1}^T d_l L: 3L - 1 (8).

Every variant is run once (and checked against the eager HVP), warmed up, then timed in
`--repeats` interleaved rounds (grad, hvp, func, compile, gemm, gemm_grad, grad, ...) so load
from other processes hits them alike. On CUDA, times come from torch.cuda.Event pairs around each
run (synchronised); on CPU from time.perf_counter. Medians in milliseconds. Prints one JSON object:
  device, device_name, torch, threads, arch, act, loss, batch, dtype, bias, repeats, warmup,
  grad_ms, hvp_ms, hvp_kept_ms, hvp_func_ms, hvp_compile_ms, hvp_grad_ratio, hvp_func_grad_ratio,
  hvp_compile_grad_ratio, gemm_ms, gemm_grad_ms, gemm_count, gemm_grad_count, gemm_gflop,
  gemm_grad_gflop, hvp_gflops, gemm_gflops, grad_gemm_gflops, hvp_check_rel_err, errors,
  plus *_all_ms lists of every timed run.
A mode that was not asked for, or failed (e.g. torch.func/torch.compile missing in old PyTorch,
or no C++ compiler for inductor on CPU), is null, with the reason under "errors".

Needs PyTorch: Debian's /usr/bin/python3 has it (apt-get install python3-torch python3-numpy).
Example:
  /usr/bin/python3 bench/torch_hvp.py --arch 784x512x512x10 --act tanh --loss cross_entropy \
      --batch 512 --dtype float32 --repeats 5 --device cpu
"""
import argparse
import json
import math
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError as _e:  # exit 3: a dependency is missing (callers may skip)
    sys.stderr.write("torch_hvp: %s: %s lacks torch; Debian's /usr/bin/python3 has them "
                     "(apt-get install python3-torch python3-numpy)\n" % (_e, sys.executable))
    sys.exit(3)

ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "softplus", "linear")


def activation(name):
    return {
        "relu": torch.relu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "gelu": F.gelu,  # exact erf form
        "softplus": F.softplus,
        "linear": lambda z: z,
    }[name]


def parse_arch(s):
    dims = [int(p) for p in s.lower().replace(",", "x").split("x") if p.strip()]
    if len(dims) < 2 or any(d <= 0 for d in dims):
        raise argparse.ArgumentTypeError("arch must look like 784x512x512x10: %r" % s)
    return dims


def parse_bool(s):
    v = s.strip().lower()
    if v in ("true", "1", "yes", "on"):
        return True
    if v in ("false", "0", "no", "off"):
        return False
    raise argparse.ArgumentTypeError("expected true or false, got %r" % s)


def make_loss_fn(dims, act_name, loss_name, bias, ce_via_log_softmax=False):
    """ce_via_log_softmax: cross-entropy as mean(logsumexp(z) - z[y]) instead of F.cross_entropy
    (same value; the fallback for torch.func where PyTorch 1.13 lacks forward AD of
    nll_loss_backward and _log_softmax_backward_data)."""
    act = activation(act_name)
    L = len(dims) - 1

    def f(params, x, y):
        a = x
        for l in range(L):
            if bias:
                W, b = params[2 * l], params[2 * l + 1]
                z = torch.addmm(b, a, W)
            else:
                z = a @ params[l]
            a = act(z) if l < L - 1 else z
        if loss_name == "cross_entropy":
            if ce_via_log_softmax:
                return (torch.logsumexp(a, dim=1) - a.gather(1, y.unsqueeze(1)).squeeze(1)).mean()
            return F.cross_entropy(a, y)
        return F.mse_loss(a, y)
    return f


class Timer:
    def __init__(self, device):
        self.cuda = device.type == "cuda"

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def time_interleaved(self, fns, warmup, repeats, errors):
        """Warm up each, then `repeats` rounds timing every fn once per round (so that load
        from other processes hits all variants alike). A fn that raises is dropped and
        reported in errors. Returns {name: [ms, ...]}."""
        live = dict(fns)
        for name, fn in list(live.items()):
            try:
                for _ in range(warmup):
                    fn()
                self.sync()
            except Exception as e:  # noqa: BLE001
                errors[name] = first_line(e)
                del live[name]
        out = {name: [] for name in live}
        for _ in range(repeats):
            for name, fn in list(live.items()):
                try:
                    out[name].append(self.time(fn, 0, 1)[0])
                except Exception as e:  # noqa: BLE001
                    errors[name] = first_line(e)
                    del live[name]
                    out.pop(name, None)
        return out

    def time(self, fn, warmup, repeats):
        for _ in range(warmup):
            fn()
        self.sync()
        out = []
        for _ in range(repeats):
            if self.cuda:
                s = torch.cuda.Event(enable_timing=True)
                e = torch.cuda.Event(enable_timing=True)
                s.record()
                fn()
                e.record()
                e.synchronize()
                out.append(s.elapsed_time(e))
            else:
                t0 = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t0) * 1e3)
        return out


def gemm_plan(dims, B):
    """Shapes (m, k, n) of the GEMMs of one HVP and of one gradient, per DESIGN.md."""
    L = len(dims) - 1
    hvp, grad = [], []
    for l in range(1, L + 1):
        i, o = dims[l - 1], dims[l]
        # forward: a_{l-1} [B,i] @ W_l [i,o]
        hvp.append(("fwd", B, i, o))
        grad.append(("fwd", B, i, o))
        # tangent forward: a_{l-1} V_l, and Ra_{l-1} W_l for l >= 2
        hvp.append(("tfwd_aV", B, i, o))
        if l >= 2:
            hvp.append(("tfwd_RaW", B, i, o))
        # backward d_l [B,o] @ W_l^T [o,i] for l >= 2
        if l >= 2:
            hvp.append(("bwd_dWt", B, o, i))
            grad.append(("bwd_dWt", B, o, i))
            # tangent backward: Rd_l W_l^T and d_l V_l^T
            hvp.append(("tbwd_RdWt", B, o, i))
            hvp.append(("tbwd_dVt", B, o, i))
        # weight gradients: a_{l-1}^T [i,B] @ Rd_l [B,o]; Ra_{l-1}^T d_l for l >= 2
        hvp.append(("wgrad_aTRd", i, B, o))
        if l >= 2:
            hvp.append(("wgrad_RaTd", i, B, o))
        grad.append(("wgrad_aTd", i, B, o))
    return hvp, grad


def gemm_runner(plan, dtype, device, gen):
    """Preallocated operands; transposed operands are views, as autograd uses them."""
    ops = []
    for kind, m, k, n in plan:
        if kind.startswith("wgrad"):
            a = torch.randn(k, m, dtype=dtype, device=device, generator=gen).t()  # a^T view
            b = torch.randn(k, n, dtype=dtype, device=device, generator=gen)
        elif kind.startswith("bwd") or kind.startswith("tbwd"):
            a = torch.randn(m, k, dtype=dtype, device=device, generator=gen)
            b = torch.randn(n, k, dtype=dtype, device=device, generator=gen).t()  # W^T view
        else:
            a = torch.randn(m, k, dtype=dtype, device=device, generator=gen)
            b = torch.randn(k, n, dtype=dtype, device=device, generator=gen)
        c = torch.empty(m, n, dtype=dtype, device=device)
        ops.append((a, b, c))

    def run():
        for a, b, c in ops:
            torch.mm(a, b, out=c)
    return run


def flops(plan):
    return sum(2.0 * m * k * n for _, m, k, n in plan)


def first_line(e):
    msg = str(e).strip().splitlines()
    return "%s: %s" % (type(e).__name__, msg[0] if msg else "")


def median(xs):
    return statistics.median(xs) if xs else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", type=parse_arch, default=parse_arch("784x512x512x10"))
    ap.add_argument("--act", default="tanh", choices=ACTIVATIONS)
    ap.add_argument("--loss", default="cross_entropy", choices=("cross_entropy", "mse"))
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=None, help="default 3 on CPU, 10 on CUDA")
    ap.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    ap.add_argument("--mode", default="eager", choices=("eager", "func", "compile", "all"),
                    help="eager: grad+double backward; func: + torch.func jvp(grad); "
                         "compile: + torch.compile of it; all: everything")
    ap.add_argument("--bias", type=parse_bool, default=True)
    ap.add_argument("--tf32", action="store_true", help="allow TF32 matmuls on CUDA (off by default)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--indent", type=int, default=None)
    args = ap.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            sys.exit("torch_hvp: --device cuda but torch.cuda.is_available() is false")
        if device.index is not None:
            torch.cuda.set_device(device)
        else:
            device = torch.device("cuda", torch.cuda.current_device())
        torch.backends.cuda.matmul.allow_tf32 = bool(args.tf32)
        torch.backends.cudnn.allow_tf32 = bool(args.tf32)
    dtype = torch.float32 if args.dtype == "float32" else torch.float64
    warmup = args.warmup if args.warmup is not None else (10 if device.type == "cuda" else 3)
    dims, B = args.arch, args.batch
    L = len(dims) - 1

    gen = torch.Generator(device=device).manual_seed(args.seed)
    params = []
    for l in range(L):
        W = torch.randn(dims[l], dims[l + 1], dtype=dtype, device=device, generator=gen) / math.sqrt(dims[l])
        params.append(W.requires_grad_(True))
        if args.bias:
            b = 0.1 * torch.randn(dims[l + 1], dtype=dtype, device=device, generator=gen)
            params.append(b.requires_grad_(True))
    x = torch.randn(B, dims[0], dtype=dtype, device=device, generator=gen)
    if args.loss == "cross_entropy":
        y = torch.randint(0, dims[-1], (B,), device=device, generator=gen)
    else:
        y = torch.randn(B, dims[-1], dtype=dtype, device=device, generator=gen)
    vs = [torch.randn(p.shape, dtype=dtype, device=device, generator=gen) for p in params]
    f = make_loss_fn(dims, args.act, args.loss, args.bias)
    timer = Timer(device)
    errors = {}
    notes = {}

    def grad_once():
        return torch.autograd.grad(f(params, x, y), params)

    def hvp_once():
        g = torch.autograd.grad(f(params, x, y), params, create_graph=True)
        gv = sum((gi * vi).sum() for gi, vi in zip(g, vs))
        return torch.autograd.grad(gv, params)

    hv_ref = [h.detach() for h in hvp_once()]

    def rel_err(hv):
        num = math.sqrt(sum(float(((a - b).double() ** 2).sum()) for a, b in zip(hv, hv_ref)))
        den = math.sqrt(sum(float((b.double() ** 2).sum()) for b in hv_ref))
        return num / den if den > 0 else num

    # PyHessian's product: the gradient graph built once, kept, and
    # differentiated again for each v.
    g_kept = torch.autograd.grad(f(params, x, y), params, create_graph=True)

    def hvp_kept_once():
        return torch.autograd.grad(g_kept, params, grad_outputs=vs, retain_graph=True)

    # Set up every variant first (each must run once), then time them interleaved.
    fns = {"grad": grad_once, "hvp": hvp_once, "kept": hvp_kept_once}
    check = {"kept": rel_err(hvp_kept_once())}
    if args.mode in ("func", "compile", "all"):
        try:
            try:
                from torch.func import grad as fgrad, jvp as fjvp
            except ImportError:
                from functorch import grad as fgrad, jvp as fjvp  # PyTorch 1.13
            pd = tuple(p.detach() for p in params)
            vt = tuple(vs)
            f_func = [f]

            def floss(ps):
                return f_func[0](ps, x, y)

            def hvp_func(ps, v):
                return fjvp(fgrad(floss), (ps,), (v,))[1]

            try:
                hvp_func(pd, vt)
            except NotImplementedError as e:
                if args.loss != "cross_entropy":
                    raise
                # PyTorch 1.13: no forward AD through F.cross_entropy's backward
                f_func[0] = make_loss_fn(dims, args.act, args.loss, args.bias, ce_via_log_softmax=True)
                hvp_func(pd, vt)
                notes["func"] = ("F.cross_entropy has no forward-over-reverse here (%s); "
                                 "torch.func modes use mean(logsumexp(z) - z[y])"
                                 % str(e).splitlines()[0])
            if args.mode in ("func", "all"):
                check["func"] = rel_err(hvp_func(pd, vt))
                fns["func"] = lambda: hvp_func(pd, vt)
            if args.mode in ("compile", "all"):
                try:
                    if not hasattr(torch, "compile"):
                        raise RuntimeError("torch.compile not available in torch %s" % torch.__version__)
                    hvp_c = torch.compile(hvp_func)
                    t0 = time.perf_counter()
                    hv_c = hvp_c(pd, vt)
                    timer.sync()
                    check["compile_first_call_s"] = time.perf_counter() - t0
                    check["compile"] = rel_err(hv_c)
                    fns["compile"] = lambda: hvp_c(pd, vt)
                except Exception as e:  # noqa: BLE001 - report, do not die
                    errors["compile"] = first_line(e)
        except Exception as e:  # noqa: BLE001 - torch.func / functorch missing or failing
            errors["func"] = first_line(e)
            if args.mode in ("compile", "all"):
                errors["compile"] = "needs torch.func: " + errors["func"]

    hvp_plan, grad_plan = gemm_plan(dims, B)
    ggen = torch.Generator(device=device).manual_seed(args.seed + 1)
    fns["gemm"] = gemm_runner(hvp_plan, dtype, device, ggen)
    fns["gemm_grad"] = gemm_runner(grad_plan, dtype, device, ggen)

    times = timer.time_interleaved(fns, warmup, args.repeats, errors)
    grad_all, hvp_all = times.get("grad"), times.get("hvp")
    func_all, compile_all = times.get("func"), times.get("compile")
    gemm_all, gemm_grad_all = times.get("gemm"), times.get("gemm_grad")

    def ratio(a, b):
        return a / b if a is not None and b else None

    grad_ms, hvp_ms = median(grad_all), median(hvp_all)
    kept_all = times.get("kept")
    kept_ms = median(kept_all) if kept_all else None
    func_ms = median(func_all) if func_all else None
    compile_ms = median(compile_all) if compile_all else None
    gemm_ms, gemm_grad_ms = median(gemm_all), median(gemm_grad_all)
    hf, gf = flops(hvp_plan), flops(grad_plan)

    out = {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "arch": "x".join(str(d) for d in dims),
        "act": args.act,
        "loss": args.loss,
        "batch": B,
        "dtype": args.dtype,
        "bias": args.bias,
        "tf32": bool(args.tf32) if device.type == "cuda" else None,
        "mode": args.mode,
        "repeats": args.repeats,
        "warmup": warmup,
        "grad_ms": grad_ms,
        "hvp_ms": hvp_ms,
        "hvp_kept_ms": kept_ms,
        "hvp_func_ms": func_ms,
        "hvp_compile_ms": compile_ms,
        "hvp_grad_ratio": ratio(hvp_ms, grad_ms),
        "hvp_func_grad_ratio": ratio(func_ms, grad_ms),
        "hvp_compile_grad_ratio": ratio(compile_ms, grad_ms),
        "gemm_ms": gemm_ms,
        "gemm_grad_ms": gemm_grad_ms,
        "gemm_count": len(hvp_plan),
        "gemm_grad_count": len(grad_plan),
        "gemm_gflop": hf / 1e9,
        "gemm_grad_gflop": gf / 1e9,
        "hvp_gflops": hf / (hvp_ms * 1e6) if hvp_ms else None,  # HVP GEMM flops / eager HVP time
        "gemm_gflops": hf / (gemm_ms * 1e6) if gemm_ms else None,
        "grad_gemm_gflops": gf / (gemm_grad_ms * 1e6) if gemm_grad_ms else None,
        "hvp_gemm_fraction": ratio(gemm_ms, hvp_ms),
        "hvp_check_rel_err": check or None,
        "errors": errors or None,
        "notes": notes or None,
        "grad_all_ms": grad_all,
        "hvp_all_ms": hvp_all,
        "hvp_kept_all_ms": kept_all,
        "hvp_func_all_ms": func_all,
        "hvp_compile_all_ms": compile_all,
        "gemm_all_ms": gemm_all,
    }
    json.dump(out, sys.stdout, indent=args.indent)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
