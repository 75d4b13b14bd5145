// Package run drives curvprobe's measurements end to end: it uploads a
// data.Dataset to a models.Plan, computes a spectrum report (loss, gradient
// norm, extreme eigenvalues by Lanczos, trace by Hutchinson, density by
// stochastic Lanczos quadrature, derived metrics, and per layer the top
// eigenvalues of the layer's diagonal block), and runs training with a
// probe on a schedule, writing logs, checkpoints and plots.
//
// Nothing here prints: progress goes to a probe.Recorder, logs to the
// io.Writers and directories the caller names.
package run
