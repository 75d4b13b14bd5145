// Package bench holds curvprobe's benchmark programs: the timing of the
// gradient and the exact Hessian-vector product behind `curvprobe bench
// hvp`, and, beside it, the PyTorch peer scripts (torch_hvp.py,
// torch_spectrum.py) and the recorded results (RESULTS.md).
package bench
