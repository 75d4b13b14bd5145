#!/usr/bin/env python3
"""Train a small nn.Sequential in PyTorch and save it as PyTorch users do: the peer of
`curvprobe spectrum --weights m.safetensors|m.pt` (cmd/curvprobe/torchweights_test.go).

nn.Sequential(Linear, Tanh, Linear, Tanh, Linear), seeded, a few steps of SGD on random
classes with cross-entropy, in float32 (PyTorch's default). Writes to --out:

  m.pt               torch.save(model.state_dict(), ...)   (zip + pickle)
  m.safetensors      the same state_dict as safetensors.torch.save_file writes it, byte by
                     byte here (8-byte little-endian header length, JSON header, raw data):
                     the safetensors package is not needed
  m_bf16.safetensors the state_dict in bfloat16;  m_f16.pt: in float16, by torch.save
  model.json, data.npz   the model and the data for bench/torch_spectrum.py and curvprobe

Example:
  /usr/bin/python3 bench/torch_train_export.py --out /tmp/tx --layers 6,8,5,3 --steps 5
"""
import argparse
import json
import os
import sys

try:
    import numpy as np
    import torch
except ImportError as _e:  # exit 3: a dependency is missing (callers may skip)
    sys.stderr.write("torch_train_export: %s: %s lacks numpy/torch (apt-get install python3-torch)\n"
                     % (_e, sys.executable))
    sys.exit(3)

DTYPE_NAMES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def save_safetensors(state_dict, path):
    """Write state_dict as safetensors.torch.save_file does: tensors sorted by dtype size
    (largest first) then name, header padded with spaces to 8 bytes, metadata format=pt."""
    items = sorted(state_dict.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in items:
        t = t.detach().contiguous().cpu()
        # The raw little-endian bytes, through a same-size integer view (numpy has no bfloat16).
        raw = t.view({8: torch.int64, 4: torch.int32, 2: torch.int16}[t.element_size()]).numpy().astype("<i%d" % t.element_size()).tobytes()
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", default="6,8,5,3")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    layers = [int(d) for d in args.layers.split(",")]
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    mods = []
    for l in range(len(layers) - 1):
        mods.append(torch.nn.Linear(layers[l], layers[l + 1]))
        if l < len(layers) - 2:
            mods.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*mods)
    g = torch.Generator().manual_seed(args.seed)
    x = torch.randn(args.n, layers[0], generator=g, dtype=torch.float64)
    y = torch.randint(0, layers[-1], (args.n,), generator=g)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    for _ in range(args.steps):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x.float()), y)
        loss.backward()
        opt.step()
    sd = model.state_dict()
    torch.save(sd, os.path.join(args.out, "m.pt"))
    save_safetensors(sd, os.path.join(args.out, "m.safetensors"))
    save_safetensors({k: v.to(torch.bfloat16) for k, v in sd.items()}, os.path.join(args.out, "m_bf16.safetensors"))
    torch.save({k: v.half() for k, v in sd.items()}, os.path.join(args.out, "m_f16.pt"))
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump({"layers": layers, "activation": "tanh", "loss": "cross_entropy", "bias": True}, f)
    np.savez(os.path.join(args.out, "data.npz"), x=x.numpy(), y=y.numpy().astype(np.int64))
    print(json.dumps({"final_loss": float(loss), "steps": args.steps}))


if __name__ == "__main__":
    main()
