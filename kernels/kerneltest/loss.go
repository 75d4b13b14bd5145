package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
)

// softmaxRef returns the row softmax of the rows×cols logits z, the row
// maxima and the rows' log-sum-exp, all in float64.
func softmaxRef[T kernels.Float](z []T, rows, cols int) (p, m, lse []float64) {
	p, m, lse = make([]float64, rows*cols), make([]float64, rows), make([]float64, rows)
	for i := range rows {
		row := z[i*cols : (i+1)*cols]
		m[i] = math.Inf(-1)
		for _, v := range row {
			m[i] = math.Max(m[i], float64(v))
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v) - m[i])
		}
		lse[i] = m[i] + math.Log(sum)
		for j, v := range row {
			// exp(z - lse) would carry lse's rounding, eps64*|m|, into p.
			p[i*cols+j] = math.Exp(float64(v)-m[i]) / sum
		}
	}
	return p, m, lse
}

func (s *suite[T]) testSoftmaxCE(t *testing.T) {
	for _, sh := range shapes {
		if sh.cols == 0 {
			continue // no class to label
		}
		s.softmaxCECase(t, sh.rows, sh.cols, s.vals(sh.rows*sh.cols, 0.1, 3))
	}
}

// testSoftmaxCELarge checks logits of magnitude up to 1000, whose
// exponentials overflow any float type unless the row maximum is
// subtracted, with rows whose losses are huge (the label far below the
// maximum) and rows with ties at the maximum.
func (s *suite[T]) testSoftmaxCELarge(t *testing.T) {
	for _, sh := range []shape{{1, 2}, {5, 3}, {33, 10}, {200, 37}} {
		z := s.vals(sh.rows*sh.cols, 100, 1000)
		for i := 0; i < sh.rows; i += 3 {
			z[i*sh.cols] = 1000
			z[i*sh.cols+sh.cols-1] = 1000
			if sh.cols > 2 {
				z[i*sh.cols+1] = -1000
			}
		}
		s.softmaxCECase(t, sh.rows, sh.cols, z)
	}
}

func (s *suite[T]) softmaxCECase(t *testing.T, rows, cols int, z []T) {
	t.Helper()
	eps := Eps[T]()
	lab := s.labels(rows, cols)
	pw, m, lse := softmaxRef(z, rows, cols)
	var wantLoss, lossTol float64
	for i := range rows {
		zl := float64(z[i*cols+int(lab[i])])
		wantLoss += lse[i] - zl
		// A T-precision backend rounds the row maximum's subtraction,
		// the exponential sum (cols terms, gamma_cols), its log and the
		// final differences: Eps*(cols + 4 + |m| + |z_label - m| + |lse|)
		// per row; the float64 sum over rows adds (rows+2)*eps64*|terms|.
		lossTol += eps*(float64(cols)+4+math.Abs(m[i])+math.Abs(zl-m[i])+math.Abs(lse[i])) +
			float64(rows+2)*eps64*math.Abs(lse[i]-zl)
	}
	// p[i,j] = exp(z_ij - m_i)/s_i: rounding z_ij - m_i errs by
	// Eps/2*|z_ij - m_i| absolutely, which exp turns into a relative error;
	// exp, the sum s_i (gamma_cols) and the division add (cols+4)*Eps
	// relatively. Tiny covers results that underflow.
	pTol := func(idx int) float64 {
		i := idx / cols
		return eps*(float64(cols)+4+math.Abs(float64(z[idx])-m[i]))*pw[idx] + Tiny[T]()
	}
	for _, scale := range []float64{1 / float64(max(rows, 1)), -2.5} {
		dw := make([]float64, rows*cols)
		for idx := range dw {
			dw[idx] = pw[idx]
			if idx%cols == int(lab[idx/cols]) {
				dw[idx]--
			}
			dw[idx] *= scale
		}
		dTol := func(idx int) float64 {
			return math.Abs(scale) * (pTol(idx) + eps*math.Abs(dw[idx]/scale))
		}
		// p and d wanted or not, separate or aliasing z.
		for _, mode := range []string{"p,d", "d", "p", "none", "p=z", "d=z"} {
			what := fmt.Sprintf("%dx%d scale=%g %s", rows, cols, scale, mode)
			zm, lm := s.put(z), s.put(lab)
			var pm, dm *mem[T]
			switch mode {
			case "p,d":
				pm, dm = s.put(s.vals(rows*cols, 0.1, 1)), s.put(s.vals(rows*cols, 0.1, 1))
			case "p":
				pm = s.put(s.vals(rows*cols, 0.1, 1))
			case "d":
				dm = s.put(s.vals(rows*cols, 0.1, 1))
			case "p=z":
				pm, dm = zm, s.put(s.vals(rows*cols, 0.1, 1))
			case "d=z":
				pm, dm = s.put(s.vals(rows*cols, 0.1, 1)), zm
			}
			var p, d kernels.Buffer
			if pm != nil {
				p = pm.view
			}
			if dm != nil {
				d = dm.view
			}
			loss := s.b.SoftmaxCE(zm.view, lm.view, p, d, rows, cols, scale)
			compareScalar(t, what+" loss", loss, wantLoss, lossTol)
			if pm != nil {
				compare(t, what+" p", s.get(pm), pw, pTol)
				s.checkGuards(t, what+" p", pm)
			}
			if dm != nil {
				compare(t, what+" d", s.get(dm), dw, dTol)
				s.checkGuards(t, what+" d", dm)
			}
			if pm != zm && dm != zm {
				s.checkUnchanged(t, what+" z", zm)
			}
			s.checkUnchanged(t, what+" labels", lm)
			if pm != zm {
				s.free(pm)
			}
			if dm != zm {
				s.free(dm)
			}
			s.free(zm, lm)
		}
	}
}

func (s *suite[T]) testSoftmaxHVP(t *testing.T) {
	eps := Eps[T]()
	for _, sh := range shapes {
		rows, cols := sh.rows, sh.cols
		if cols > 1000 {
			continue // the explicit Jacobian costs rows*cols² operations
		}
		pf, _, _ := softmaxRef(s.vals(rows*cols, 0.1, 3), rows, cols)
		p := make([]T, len(pf))
		for i, v := range pf {
			p[i] = T(v)
		}
		r := s.vals(rows*cols, 0.1, 10)
		// The reference multiplies by the explicit Jacobian of the softmax,
		// J = diag(p) - p p^T, row by row, and bounds the error by an
		// inner product of cols+2 terms (gamma) on sum_j |J_ij r_j|. J r
		// and that sum do not depend on scale: computed once per shape.
		jr, jrAbs := make([]float64, rows*cols), make([]float64, rows*cols)
		for i := range rows {
			for a := range cols {
				pa := float64(p[i*cols+a])
				var sum, abs float64
				for b := range cols {
					pb, rb := float64(p[i*cols+b]), float64(r[i*cols+b])
					j := -pa * pb
					if a == b {
						j += pa
					}
					sum += j * rb
					abs += math.Abs(pa*pb*rb) + math.Abs(pa*rb)*boolf(a == b)
				}
				jr[i*cols+a], jrAbs[i*cols+a] = sum, abs
			}
		}
		want, tol := make([]float64, rows*cols), make([]float64, rows*cols)
		for _, scale := range []float64{1 / float64(max(rows, 1)), -2.5} {
			for idx := range want {
				want[idx] = scale * jr[idx]
				tol[idx] = float64(cols+4)*eps*math.Abs(scale)*jrAbs[idx] + Tiny[T]()
			}
			for _, mode := range []string{"", "dst=r", "dst=p"} {
				what := fmt.Sprintf("%dx%d scale=%g %s", rows, cols, scale, mode)
				pm, rm := s.put(p), s.put(r)
				var dm *mem[T]
				switch mode {
				case "":
					dm = s.put(s.vals(rows*cols, 0.1, 1))
				case "dst=r":
					dm = rm
				case "dst=p":
					dm = pm
				}
				s.b.SoftmaxHVP(dm.view, pm.view, rm.view, rows, cols, scale)
				compare(t, what, s.get(dm), want, func(i int) float64 { return tol[i] })
				s.checkGuards(t, what, dm)
				s.checkUnchangedUnless(t, what+" p", pm, dm)
				s.checkUnchangedUnless(t, what+" r", rm, dm)
				if mode == "" {
					s.free(dm)
				}
				s.free(pm, rm)
			}
		}
	}
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (s *suite[T]) testSquaredError(t *testing.T) {
	eps := Eps[T]()
	for _, n := range testLengths() {
		z, y := s.vals(n, 0.1, 10), s.vals(n, 0.1, 10)
		var wantLoss float64
		dw := make([]float64, n)
		for _, scale := range []float64{0.5, -1.0 / 7} {
			wantLoss = 0
			for i := range z {
				r := float64(z[i]) - float64(y[i])
				wantLoss += r * r
				dw[i] = 2 * scale * r
			}
			// z - y rounded to T errs by Eps/2 relatively, its square by
			// Eps; the float64 sum adds dotTol's n*eps64.
			lossTol := dotTol[T](n, wantLoss) + eps*wantLoss
			for _, mode := range []string{"d", "nil", "d=z", "d=y"} {
				what := fmt.Sprintf("n=%d scale=%g %s", n, scale, mode)
				zm, ym := s.put(z), s.put(y)
				var dm *mem[T]
				var d kernels.Buffer
				switch mode {
				case "d":
					dm = s.put(s.vals(n, 0.1, 1))
				case "d=z":
					dm = zm
				case "d=y":
					dm = ym
				}
				if dm != nil {
					d = dm.view
				}
				loss := s.b.SquaredError(zm.view, ym.view, d, scale)
				compareScalar(t, what+" loss", loss, wantLoss, lossTol)
				if dm != nil {
					// Rounding z - y, the product by 2*scale and the result.
					compare(t, what+" d", s.get(dm), dw, func(i int) float64 { return 2 * eps * math.Abs(dw[i]) })
					s.checkGuards(t, what+" d", dm)
				}
				s.checkUnchangedUnless(t, what+" z", zm, dm)
				s.checkUnchangedUnless(t, what+" y", ym, dm)
				if mode == "d" {
					s.free(dm)
				}
				s.free(zm, ym)
			}
		}
	}
}

func (s *suite[T]) testCountCorrect(t *testing.T) {
	for _, sh := range shapes {
		rows, cols := sh.rows, sh.cols
		if cols == 0 {
			continue
		}
		z := s.vals(rows*cols, 0.1, 10)
		lab := s.labels(rows, cols)
		// Ties: in every third row the maximum appears at two columns
		// j1 < j2; the label is j1 (counted) or j2 (not counted) in turn.
		if cols >= 2 {
			for i := 0; i < rows; i += 3 {
				j1 := s.rnd.IntN(cols - 1)
				j2 := j1 + 1 + s.rnd.IntN(cols-1-j1)
				z[i*cols+j1], z[i*cols+j2] = 20, 20
				if (i/3)%2 == 0 {
					lab[i] = T(j1)
				} else {
					lab[i] = T(j2)
				}
			}
		}
		// Also make about half the rows correct, so the count is not ~0.
		for i := 1; i < rows; i += 2 {
			if i%3 == 0 {
				continue
			}
			best := 0
			for j := range cols {
				if z[i*cols+j] > z[i*cols+best] {
					best = j
				}
			}
			lab[i] = T(best)
		}
		want := 0
		for i := range rows {
			best := 0 // the first maximal column
			for j := range cols {
				if z[i*cols+j] > z[i*cols+best] {
					best = j
				}
			}
			if best == int(lab[i]) {
				want++
			}
		}
		zm, lm := s.put(z), s.put(lab)
		if got := s.b.CountCorrect(zm.view, lm.view, rows, cols); got != want {
			t.Errorf("%dx%d: got %d, want %d", rows, cols, got, want)
		}
		s.checkUnchanged(t, fmt.Sprintf("%dx%d z", rows, cols), zm)
		s.checkUnchanged(t, fmt.Sprintf("%dx%d labels", rows, cols), lm)
		s.free(zm, lm)
	}
}
