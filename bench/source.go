package bench

import (
	"math/rand/v2"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
)

// gaussian is a probe set generated a batch at a time: sample i's N(0,1)
// inputs, its uniform label in [0, c) and its N(0,1) targets come from a
// generator seeded by (seed, i), so that a pass holds one batch however
// many samples there are, and the values do not depend on the batch.
type gaussian struct {
	seed uint64
	d, c int // inputs and outputs per sample
}

// ReadBatch implements models.Source.
func (g gaussian) ReadBatch(start int, x []float64, labels []int, targets []float64) error {
	for i := range len(x) / g.d {
		r := rand.New(rand.NewPCG(g.seed, uint64(start+i)))
		for j := range x[i*g.d : (i+1)*g.d] {
			x[i*g.d+j] = r.NormFloat64()
		}
		l := r.IntN(g.c)
		if labels != nil {
			labels[i] = l
		}
		if targets != nil {
			for j := range targets[i*g.c : (i+1)*g.c] {
				targets[i*g.c+j] = r.NormFloat64()
			}
		}
	}
	return nil
}

// gaussianData hands n samples of g to p, whose passes hold batch samples:
// generated a batch at a time on every pass when they are more than one
// batch, so that the memory for data is one batch whatever n is; generated
// once and kept on the backend when one batch holds them all (the same
// values either way). bench hvp times one batch of them; bench lambda
// probes s.Samples.
func gaussianData[T kernels.Float](p *models.Plan[T], g gaussian, n, batch int) (*models.Data, error) {
	if n > batch {
		return p.NewSourceData(g, n, true)
	}
	x, labels := make([]float64, n*g.d), make([]int, n)
	var targets []float64
	if p.Spec().Loss == models.MSE {
		targets = make([]float64, n*g.c)
	}
	if err := g.ReadBatch(0, x, labels, targets); err != nil {
		return nil, err
	}
	return p.NewData(x, n, labels, targets)
}
