package cuda

import (
	"slices"
	"testing"
)

// forChunks covers n elements with chunks of at most chunk, in order, at
// byte offsets of sz per element, and stops at the first failed call.
func TestForChunks(t *testing.T) {
	type call struct {
		o uintptr
		m int32
	}
	for _, tc := range []struct {
		n, chunk, failAt int
		want             []call
	}{
		{n: 0, chunk: 4, failAt: -1},
		{n: 3, chunk: 4, failAt: -1, want: []call{{0, 3}}},
		{n: 4, chunk: 4, failAt: -1, want: []call{{0, 4}}},
		{n: 9, chunk: 4, failAt: -1, want: []call{{0, 4}, {32, 4}, {64, 1}}},
		{n: 9, chunk: 4, failAt: 1, want: []call{{0, 4}, {32, 4}}},
		{n: 3<<30 + 5, chunk: cublasChunk, failAt: -1, want: []call{{0, 1 << 30}, {8 << 30, 1 << 30}, {16 << 30, 1 << 30}, {24 << 30, 5}}},
	} {
		var got []call
		forChunks(tc.n, tc.chunk, 8, func(o uintptr, m int32) bool {
			got = append(got, call{o, m})
			return len(got)-1 != tc.failAt
		})
		if !slices.Equal(got, tc.want) {
			t.Errorf("n=%d chunk=%d failAt=%d: calls %v, want %v", tc.n, tc.chunk, tc.failAt, got, tc.want)
		}
	}
}
