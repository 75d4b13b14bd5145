package probe

import "context"

// BatchOperator is an Operator that can apply itself to several vectors at
// once, more cheaply than one at a time (for example an exact Hessian whose
// k products share one forward pass and run as GEMMs with k times the rows):
// ApplyBatch sets dst[j] = H v[j] for every j. len(dst) equals len(v), and
// no dst[j] aliases a v[i] or another dst[i]. Each dst[j] equals what Apply
// would give, up to rounding. The estimators use ApplyBatch when an
// Operator offers it.
type BatchOperator[V any] interface {
	Operator[V]
	ApplyBatch(ctx context.Context, dst, v []V) error
}

// defaultBlock is the number of vectors the estimators apply together when
// the operator is a BatchOperator and the settings leave the block size zero.
const defaultBlock = 8

// blockSize returns the number of vectors to apply together: 1 for an
// operator without ApplyBatch (nothing to gain, and no extra vectors to
// store), else block (defaultBlock when zero).
func blockSize[V any](op Operator[V], block int) int {
	if block < 0 {
		panic("probe: negative block size")
	}
	if _, ok := op.(BatchOperator[V]); !ok {
		return 1
	}
	if block == 0 {
		return defaultBlock
	}
	return block
}

// applyBlock sets dst[j] = H v[j], by one ApplyBatch when op offers it and
// there is more than one vector, else by Apply per vector.
func applyBlock[V any](ctx context.Context, op Operator[V], dst, v []V) error {
	if bop, ok := op.(BatchOperator[V]); ok && len(v) > 1 {
		return bop.ApplyBatch(ctx, dst, v)
	}
	for j := range v {
		if err := op.Apply(ctx, dst[j], v[j]); err != nil {
			return err
		}
	}
	return nil
}

// allocN returns k vectors of n elements from sp.
func allocN[V any](sp Space[V], k, n int) []V {
	out := make([]V, k)
	for i := range out {
		out[i] = sp.Alloc(n)
	}
	return out
}

// freeN releases vectors returned by allocN.
func freeN[V any](sp Space[V], vs []V) {
	for _, v := range vs {
		sp.Free(v)
	}
}
