package cpu

import "github.com/curvprobe/curvprobe/kernels"

// AddRow adds the row vector v (length cols) to every row of the rows×cols
// matrix x.
//
//	for i < rows, j < cols: x[i*cols+j] += v[j]
func (*Backend[T]) AddRow(x, v kernels.Buffer, rows, cols int) {
	xs, vs := data[T](x), data[T](v)
	if rows < 0 || cols < 0 || len(xs) != rows*cols || len(vs) != cols {
		panic("kernels: AddRow dimension mismatch")
	}
	if is32[T]() && rows > 0 && addF32(f32(xs[:cols]), f32(vs)) {
		for i := 1; i < rows; i++ {
			addF32(f32(xs[i*cols:(i+1)*cols]), f32(vs))
		}
		return
	}
	for i := range rows {
		row := xs[i*cols : (i+1)*cols]
		for j, b := range vs {
			row[j] += b
		}
	}
}

// ColSum sets dst[j] = alpha*sum_i x[i,j] + beta*dst[j] for the rows×cols
// matrix x, summing in float64 in row order. With beta = 0, dst is not
// read. dst must not alias x.
//
//	for j < cols: s := 0.0; for i < rows { s += x[i*cols+j] }; dst[j] = alpha*s + beta*dst[j]
func (*Backend[T]) ColSum(dst, x kernels.Buffer, rows, cols int, alpha, beta float64) {
	ds, xs := data[T](dst), data[T](x)
	if rows < 0 || cols < 0 || len(xs) != rows*cols || len(ds) != cols {
		panic("kernels: ColSum dimension mismatch")
	}
	acc := make([]float64, cols) // row by row, for sequential access
	if is32[T]() && rows > 0 && addF32ToF64(acc, f32(xs[:cols])) {
		for i := 1; i < rows; i++ {
			addF32ToF64(acc, f32(xs[i*cols:(i+1)*cols]))
		}
	} else {
		for i := range rows {
			for j, v := range xs[i*cols : (i+1)*cols] {
				acc[j] += float64(v)
			}
		}
	}
	for j, s := range acc {
		if beta == 0 {
			ds[j] = T(alpha * s)
		} else {
			ds[j] = T(alpha*s + beta*float64(ds[j]))
		}
	}
}

// Mul sets dst[i] = x[i]*y[i]. dst may alias x or y.
func (*Backend[T]) Mul(dst, x, y kernels.Buffer) {
	d, xs, ys := data[T](dst), data[T](x), data[T](y)
	if len(xs) != len(d) || len(ys) != len(d) {
		panic("kernels: Mul length mismatch")
	}
	if is32[T]() && mulF32(f32(d), f32(xs), f32(ys)) {
		return
	}
	for i := range d {
		d[i] = xs[i] * ys[i]
	}
}

// MulAdd sets dst[i] += x[i]*y[i], evaluated in float64 and rounded once
// (float32 on amd64 with AVX2 and FMA: a fused multiply-add, also rounded
// once). dst may alias x or y.
func (*Backend[T]) MulAdd(dst, x, y kernels.Buffer) {
	d, xs, ys := data[T](dst), data[T](x), data[T](y)
	if len(xs) != len(d) || len(ys) != len(d) {
		panic("kernels: MulAdd length mismatch")
	}
	if is32[T]() && mulAddF32(f32(d), f32(xs), f32(ys)) {
		return
	}
	for i := range d {
		d[i] = T(float64(d[i]) + float64(xs[i])*float64(ys[i]))
	}
}

// Mul3Add sets dst[i] += x[i]*y[i]*z[i], evaluated in float64 and rounded
// once (float32 on amd64 with AVX2 and FMA: x[i]*y[i] rounded to float32,
// then a fused multiply-add, two roundings in all). dst may alias any
// input.
func (*Backend[T]) Mul3Add(dst, x, y, z kernels.Buffer) {
	d, xs, ys, zs := data[T](dst), data[T](x), data[T](y), data[T](z)
	if len(xs) != len(d) || len(ys) != len(d) || len(zs) != len(d) {
		panic("kernels: Mul3Add length mismatch")
	}
	if is32[T]() && mul3AddF32(f32(d), f32(xs), f32(ys), f32(zs)) {
		return
	}
	for i := range d {
		d[i] = T(float64(d[i]) + float64(xs[i])*float64(ys[i])*float64(zs[i]))
	}
}
