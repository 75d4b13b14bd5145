package run

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/curvprobe/curvprobe/models"
)

// WriteText writes r as the text report of `curvprobe spectrum`: the
// network of spec and its data, the loss, the extreme eigenvalues with
// their residual bounds, the stability verdict, the trace and density
// when estimated, the work done and any warnings.
func (r *SpectrumReport) WriteText(w io.Writer, spec models.Spec) {
	fmt.Fprintf(w, "model       %s %s %s, bias %v: %d parameters\n", spec.Arch(), models.ActivationName(spec.Activation), spec.Loss, spec.Bias, r.NParams)
	fmt.Fprintf(w, "data        %d samples; %s on %s; curvature: %s\n", r.Samples, r.DType, r.Backend, r.Curvature)
	acc := ""
	if r.Accuracy != nil {
		acc = fmt.Sprintf("   accuracy %.4f", *r.Accuracy)
	}
	fmt.Fprintf(w, "loss        %.10g%s   |grad| %.4g\n", r.Loss, acc, r.GradNorm)
	if len(r.TopEigenvalues) > 0 {
		fmt.Fprintf(w, "top         %s\n", floats(r.TopEigenvalues))
	}
	if len(r.BottomEigenvalues) > 0 {
		fmt.Fprintf(w, "bottom      %s\n", floats(r.BottomEigenvalues))
	}
	if r.Exact != nil {
		fmt.Fprintf(w, "exact       %s; eigenvalues exact to the eigensolver's backward error (residual bounds 0)\n", r.Exact.Method)
	} else {
		conv := "converged"
		if !r.Converged {
			conv = "NOT converged"
		}
		if r.LanczosBasis == "none" {
			conv += " (no stored basis)"
		}
		fmt.Fprintf(w, "lanczos     %d steps, %s; residual bounds top %s bottom %s\n", r.LanczosSteps, conv, short(r.TopResiduals), short(r.BottomResiduals))
	}
	if r.EdgeOfStability != nil {
		fmt.Fprintf(w, "sharpness   lambda_max %.6g: gradient descent is stable for lr < 2/lambda_max = %.6g\n", r.Sharpness, *r.EdgeOfStability)
	}
	if r.Stable != nil {
		verdict := "stable"
		if !*r.Stable {
			verdict = "UNSTABLE"
		}
		fmt.Fprintf(w, "lr          %.6g: lr*lambda_max = %.4g (%s)\n", r.LearningRate, r.LearningRate*r.Sharpness, verdict)
	}
	if r.Condition != nil {
		fmt.Fprintf(w, "condition   |lambda_max|/|lambda_min| = %.6g\n", *r.Condition)
	}
	if r.CriticalPoint != "" {
		fmt.Fprintf(w, "point       %s (|grad| <= 1e-6 counts as critical; |lambda| <= 1e-6 max|lambda| as zero)\n", r.CriticalPoint)
	}
	if r.Trace != nil && r.Exact != nil {
		fmt.Fprintf(w, "trace       %.6g (exact)\n", r.Trace.Value)
	} else if r.Trace != nil {
		fmt.Fprintf(w, "trace       %.6g ± %s (%s, %d probes)\n", r.Trace.Value, stdErr(r.Trace.StdErr), r.Trace.Method, r.Trace.Probes)
	}
	if d := r.Density; d != nil && r.Exact != nil {
		fmt.Fprintf(w, "density     exact counts: fraction of eigenvalues > %.2g: %.4f, < -%.2g: %.4f, near zero: %.4f; (1/n)tr H = %.4g\n",
			d.ZeroTol, d.FractionPositive, d.ZeroTol, d.NegativeMass, d.NearZero, d.Moments[0])
	} else if d != nil {
		fmt.Fprintf(w, "density     %d probes × %d steps: (1/n)tr H = %.4g ± %s\n", d.Probes, d.Steps, d.Moments[0], stdErr(d.MomentStdErrs[0]))
		if d.Fractions != nil {
			writeFractions(w, "            ", d.Fractions)
		}
	}
	writeLayers(w, r)
	fmt.Fprintf(w, "work        %d Hessian-vector products in %.2fs\n", r.HVPs, r.Seconds)
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning     %s\n", warn)
	}
}

// stdErr formats a standard error; one that is not finite (a single
// probe has none) is "undefined", as it is null in the JSON.
func stdErr(se float64) string {
	if math.IsNaN(se) || math.IsInf(se, 0) {
		return "undefined"
	}
	return fmt.Sprintf("%.2g", se)
}

func floats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.10g", x)
	}
	return strings.Join(s, "  ")
}

func short(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	m := 0.0
	for _, x := range v {
		m = max(m, x)
	}
	return fmt.Sprintf("<= %.2g", m)
}

// TaylorOutput is the JSON object `curvprobe taylor --json` prints: the
// Taylor report's fields, the extreme eigenvalues whose eigenvectors were
// scanned, and the saddle report when asked for.
type TaylorOutput struct {
	*TaylorReport
	LambdaMax float64       `json:"lambda_max"`
	LambdaMin float64       `json:"lambda_min"`
	Converged bool          `json:"converged"`
	Saddle    *SaddleReport `json:"saddle,omitempty"`
}

// NewTaylorOutput returns the output of the Taylor report rep along the
// directions of the spectrum sr (StandardDirections): its extreme
// eigenvalues, where it found them, and whether Lanczos converged.
func NewTaylorOutput(rep *TaylorReport, sr *SpectrumReport) *TaylorOutput {
	out := &TaylorOutput{TaylorReport: rep, Converged: sr.Converged}
	if len(sr.TopEigenvalues) > 0 {
		out.LambdaMax = sr.TopEigenvalues[0]
	}
	if len(sr.BottomEigenvalues) > 0 {
		out.LambdaMin = sr.BottomEigenvalues[0]
	}
	return out
}

// WriteText writes out as the text report of `curvprobe taylor`: the
// network of spec, the loss, each direction's measured and modelled loss
// changes with the breakdown and error order, the saddle escape when
// checked, and the work done.
func (out *TaylorOutput) WriteText(w io.Writer, spec models.Spec) {
	r := out.TaylorReport
	fmt.Fprintf(w, "model       %s %s %s, bias %v: %d parameters\n", spec.Arch(), models.ActivationName(spec.Activation), spec.Loss, spec.Bias, r.NParams)
	fmt.Fprintf(w, "data        %d samples; %s on %s\n", r.Samples, r.DType, r.Backend)
	fmt.Fprintf(w, "loss        %.10g   |grad| %.4g   lambda_max %.6g   lambda_min %.6g\n", r.Loss, r.GradNorm, out.LambdaMax, out.LambdaMin)
	for _, td := range r.Directions {
		fmt.Fprintf(w, "\ndirection %s: g·u = %.6g, u·Hu = %.6g\n", td.Name, td.Slope, td.Curvature)
		fmt.Fprintf(w, "  %11s  %14s  %14s  %14s  %9s\n", "eps", "measured dL", "linear dL", "quadratic dL", "rel.err")
		for _, tp := range td.Points {
			if tp.NonFinite {
				fmt.Fprintf(w, "  %11.4g  %14s\n", tp.Eps, "non-finite")
				continue
			}
			fmt.Fprintf(w, "  %11.4g  %14.6e  %14.6e  %14.6e  %9.2e\n", tp.Eps, tp.Delta, tp.Linear, tp.Quadratic, tp.RelErr)
		}
		if td.Broken {
			fmt.Fprintf(w, "  breakdown   eps = %.4g: the smallest step where the quadratic model's loss change errs by more than %g%%\n", td.Breakdown, 100*r.Tol)
		} else {
			fmt.Fprintf(w, "  breakdown   none: the quadratic model is within %g%% at every step\n", 100*r.Tol)
		}
		if td.CubicExponent != nil {
			fmt.Fprintf(w, "  error order |measured - quadratic| ~ eps^%.3f over the %d smallest steps above rounding (3 expected)\n", *td.CubicExponent, td.CubicFitPoints)
		} else {
			fmt.Fprintf(w, "  error order no fit: %d steps above rounding (the loss may be quadratic along u)\n", td.CubicFitPoints)
		}
	}
	if s := out.Saddle; s != nil {
		crit := "not near-critical"
		if s.NearCritical {
			crit = "near-critical"
		}
		fmt.Fprintf(w, "\nsaddle      |grad| %.4g vs tolerance %.4g (%s); lambda_min %.6g\n", s.GradNorm, s.GradTol, crit, s.LambdaMin)
		if s.Fractions != nil {
			writeFractions(w, "            ", s.Fractions)
			if s.Fractions.Warning != "" {
				fmt.Fprintf(w, "warning     %s\n", s.Fractions.Warning)
			}
		}
		if !s.Saddle {
			fmt.Fprintln(w, "            not a saddle: no negative curvature")
		} else {
			fmt.Fprintf(w, "            escape along the bottom eigenvector v: g·v = %.6g, crossover eps = %.4g\n", s.Slope, s.Crossover)
			fmt.Fprintf(w, "  %11s  %14s  %14s  %9s\n", "eps", "predicted dL", "measured dL", "rel.err")
			for _, st := range s.Steps {
				mark := ""
				if st.Crossover {
					mark = "  (crossover)"
				}
				if st.NonFinite {
					fmt.Fprintf(w, "  %11.4g  %14.6e  %14s%s\n", st.Eps, st.Predicted, "non-finite", mark)
					continue
				}
				fmt.Fprintf(w, "  %11.4g  %14.6e  %14.6e  %9.2e%s\n", st.Eps, st.Predicted, st.Measured, st.RelErr, mark)
			}
		}
	}
	fmt.Fprintf(w, "\nwork        %d Hessian-vector products, %d loss evaluations in %.2fs\n", r.HVPs, r.Evaluations, r.Seconds)
}

// writeFractions writes the fractions of positive, negative and near-zero
// eigenvalues: exact counts, or estimates with their error bars (the bias
// bound plus three standard errors, "undefined" for a single probe).
func writeFractions(w io.Writer, indent string, f *FractionsReport) {
	if f.Method == "exact" {
		fmt.Fprintf(w, "%sexact counts: fraction of eigenvalues > %.2g: %.4f, < -%.2g: %.4f, near zero: %.4f\n",
			indent, f.ZeroTol, f.Positive.Value, f.ZeroTol, f.Negative.Value, f.NearZero.Value)
		return
	}
	fmt.Fprintf(w, "%sfraction of eigenvalues > %.2g: %.4f ± %s, < -%.2g: %.4f ± %s, near zero: %.4f ± %s (SLQ, %d probes × %d steps; ± bias bound + 3 standard errors)\n",
		indent, f.ZeroTol, f.Positive.Value, stdErr(f.Positive.Err), f.ZeroTol, f.Negative.Value, stdErr(f.Negative.Err),
		f.NearZero.Value, stdErr(f.NearZero.Err), f.Probes, f.Steps)
}

// writeLayers writes the per-layer blocks of r as a small table, nothing
// when there are none.
func writeLayers(w io.Writer, r *SpectrumReport) {
	if len(r.PerLayer) == 0 {
		return
	}
	fmt.Fprintf(w, "per layer   diagonal blocks (W_l and b_l together)\n")
	fmt.Fprintf(w, "  %-5s  %-11s  %8s  %5s  %-22s  %s\n", "layer", "W shape", "params", "hvps", "method", "top eigenvalues")
	for _, l := range r.PerLayer {
		shape := fmt.Sprintf("%dx%d", l.Shape[0], l.Shape[1])
		if l.Bias {
			shape += "+b"
		}
		method := l.Method
		if method == "" {
			method = fmt.Sprintf("lanczos %d steps", l.LanczosSteps)
			if !l.Converged {
				method += " NOT conv"
			}
		}
		fmt.Fprintf(w, "  %-5d  %-11s  %8d  %5d  %-22s  %s\n", l.Layer, shape, l.NParams, l.HVPs, method, strings.TrimSpace(floats(l.TopEigenvalues)))
	}
}

// WriteText writes s as the one-line summary of `curvprobe train` for the
// run in dir: steps, final loss, sharpness and the time taken.
func (s *Summary) WriteText(w io.Writer, dir string) {
	if s.StepsDone < s.Steps {
		what := "stopped"
		if s.Diverged {
			what = "diverged"
		}
		fmt.Fprintf(w, "run %s: %s after step %d of %d, last logged loss %.6g", dir, what, s.StepsDone, s.Steps, s.FinalLoss)
	} else {
		fmt.Fprintf(w, "run %s: %d steps, final loss %.6g", dir, s.Steps, s.FinalLoss)
	}
	if s.FinalSharpness != nil {
		fmt.Fprintf(w, ", sharpness %.4g (max %.4g)", *s.FinalSharpness, *s.MaxSharpness)
		if s.FinalEtaLambda != nil {
			fmt.Fprintf(w, ", lr*lambda_max %.3g", *s.FinalEtaLambda)
		}
		if s.FinalProbeStep != nil && *s.FinalProbeStep < s.StepsDone {
			fmt.Fprintf(w, " at step %d", *s.FinalProbeStep)
		}
	}
	if s.UnconvergedProbes > 0 {
		fmt.Fprintf(w, ", %d probes not converged", s.UnconvergedProbes)
	}
	fmt.Fprintf(w, ", %.1fs\n", s.Seconds)
}

// WriteWarnings writes a warning line to w for each Lanczos run of r that
// stopped short of its tolerance (--tol): the whole matrix's, a layer
// block's, or both.
func (r *SpectrumReport) WriteWarnings(w io.Writer) {
	if !r.Converged {
		fmt.Fprintf(w, "curvprobe: warning: Lanczos stopped at %d steps before reaching --tol; raise --max-steps (residuals are in the report)\n", r.LanczosSteps)
	}
	for _, l := range r.PerLayer {
		if !l.Converged {
			fmt.Fprintf(w, "curvprobe: warning: Lanczos on layer %d's block stopped at %d steps before reaching --tol; raise --max-steps (residuals are in the report)\n", l.Layer, l.LanczosSteps)
		}
	}
}
