#!/usr/bin/env python3
"""Write the torch.save fixtures of torchfile's tests, and want.json, their values.

Run with Debian's python3-torch:  /usr/bin/python3 make_fixtures.py  (in this folder).
"""
import json
import torch

torch.manual_seed(7)
base = torch.randn(5, 6, dtype=torch.float64)
tensors = {
    "f64": torch.randn(3, 4, dtype=torch.float64),
    "f32": torch.randn(4, dtype=torch.float32),
    "f16": torch.tensor([1.0, -2.5, 65504.0, 6.1e-5, 5.96e-8, 0.0], dtype=torch.float16),
    "bf16": torch.randn(2, 3).to(torch.bfloat16),
    "transposed": base.t(),          # strides (1, 6): not contiguous
    "offset": base[2:4, 1:5],        # a view at storage offset 13 with row stride 6
    "scalar": torch.tensor(3.25, dtype=torch.float64),
    "empty": torch.zeros(0, 3),
}
want = {k: {"shape": list(v.shape), "values": v.to(torch.float64).reshape(-1).tolist()} for k, v in tensors.items()}
torch.save(tensors, "views.pt")
torch.save(tensors, "views_proto4.pt", pickle_protocol=4)
model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
torch.save(model.state_dict(), "seq.pt")
want_seq = {k: {"shape": list(v.shape), "values": v.to(torch.float64).reshape(-1).tolist()} for k, v in model.state_dict().items()}
with open("want.json", "w") as f:
    json.dump({"views": want, "seq": want_seq, "torch": torch.__version__}, f, indent=1)
