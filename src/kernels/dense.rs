//! Native f32 dense convolution kernels (one group, no bias) for the CPU backends:
//! forward, input gradient and weight gradient as matrix products over an `im2col`
//! buffer, one image at a time, parallel over images.
//!
//! Layouts are row-major: input `[n, c_in, h, w]`, weight `[c_out, c_in, kh, kw]`,
//! output `[n, c_out, oh, ow]`. Per image, with `K = c_in * kh * kw` and `N = oh * ow`:
//!
//! - forward: `y[c_out, N] = W[c_out, K] x col[K, N]`;
//! - input gradient: `gcol[K, N] = W^T x gy[c_out, N]`, scattered back by `col2im`;
//! - weight gradient: `gW[c_out, K] += gy[c_out, N] x col^T`, summed over the images of
//!   fixed groups of [`WEIGHT_GROUP`] images and then over the groups in order, so the
//!   sum does not depend on the number of threads.
//!
//! The matrix products are the `gemm` crate's (the one burn's Flex backend uses for its
//! own convolution), single-threaded per image. Burn's generic convolution backward
//! costs ~4x its forward pass on Flex (a transposed convolution for the input gradient,
//! a convolution with batch and channels swapped for the weight gradient); here each of
//! the three passes is one product of the same size.

use rayon::prelude::*;

use super::depthwise::{DwGeometry, Flat};

/// Per-thread buffers of the kernels.
#[derive(Default)]
struct Scratch {
    /// Zero-padded input planes (stride-1 layout).
    padded: Vec<f32>,
    /// `[K, N]` (or `[K, len]`) columns.
    col: Vec<f32>,
    /// Output, or output gradient, at row stride `wp`.
    acc: Vec<f32>,
}

/// Shape arithmetic of one dense convolution: `base` describes the input (its `c` is
/// `c_in`), its kernel, stride, padding, dilation and fused ReLU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DenseGeometry {
    pub base: DwGeometry,
    pub c_out: usize,
}

/// Images per partial weight gradient.
pub(crate) const WEIGHT_GROUP: usize = 4;

impl DenseGeometry {
    /// `K`, the rows of `col`.
    fn k(&self) -> usize {
        self.base.c * self.base.kh * self.base.kw
    }

    /// `N`, the output positions of one image.
    fn positions(&self) -> usize {
        let [oh, ow] = self.base.out_size();
        oh * ow
    }

    /// A 1x1 convolution at stride 1 without padding: `col` is the input itself.
    fn identity_col(&self) -> bool {
        let g = &self.base;
        g.kh == 1 && g.kw == 1 && g.stride == [1, 1] && g.padding == [0, 0]
    }

    /// Writes the `[K, N]` matrix of image `x` (`[c_in, h, w]`, rectified if the ReLU
    /// is fused) into `col`, every element once (zeros where the kernel reads padding).
    fn im2col(&self, x: &[f32], col: &mut [f32]) {
        let g = &self.base;
        let [oh, ow] = g.out_size();
        let n = oh * ow;
        for ci in 0..g.c {
            let plane = &x[ci * g.h * g.w..][..g.h * g.w];
            for i in 0..g.kh {
                let rows = g.valid(0, i, oh);
                for j in 0..g.kw {
                    let row = &mut col[((ci * g.kh + i) * g.kw + j) * n..][..n];
                    let (Some((ylo, yhi, yoff)), Some((xlo, xhi, xoff))) =
                        (rows, g.valid(1, j, ow))
                    else {
                        row.fill(0.0);
                        continue;
                    };
                    row[..ylo * ow].fill(0.0);
                    row[yhi * ow..].fill(0.0);
                    for oy in ylo..yhi {
                        let iy = ((oy * g.stride[0]) as isize + yoff) as usize;
                        let src = &plane[iy * g.w..][..g.w];
                        let out_row = &mut row[oy * ow..][..ow];
                        out_row[..xlo].fill(0.0);
                        out_row[xhi..].fill(0.0);
                        let dst = &mut out_row[xlo..xhi];
                        let ix = |ox: usize| ((ox * g.stride[1]) as isize + xoff) as usize;
                        if g.stride[1] == 1 {
                            let s = &src[ix(xlo)..][..xhi - xlo];
                            if g.relu_input {
                                for (d, &v) in dst.iter_mut().zip(s) {
                                    *d = v.max(0.0);
                                }
                            } else {
                                dst.copy_from_slice(s);
                            }
                        } else {
                            for (d, ox) in dst.iter_mut().zip(xlo..xhi) {
                                let v = src[ix(ox)];
                                *d = if g.relu_input { v.max(0.0) } else { v };
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds the `[K, N]` matrix `gcol` back onto the input positions it was read from
    /// (`gx`, `[c_in, h, w]`, zeroed first), the adjoint of [`Self::im2col`] without
    /// the ReLU.
    fn col2im(&self, gcol: &[f32], gx: &mut [f32]) {
        let g = &self.base;
        let [oh, ow] = g.out_size();
        let n = oh * ow;
        gx.fill(0.0);
        for ci in 0..g.c {
            let plane = &mut gx[ci * g.h * g.w..][..g.h * g.w];
            for i in 0..g.kh {
                let Some((ylo, yhi, yoff)) = g.valid(0, i, oh) else {
                    continue;
                };
                for j in 0..g.kw {
                    let Some((xlo, xhi, xoff)) = g.valid(1, j, ow) else {
                        continue;
                    };
                    let row = &gcol[((ci * g.kh + i) * g.kw + j) * n..][..n];
                    for oy in ylo..yhi {
                        let iy = ((oy * g.stride[0]) as isize + yoff) as usize;
                        let dst = &mut plane[iy * g.w..][..g.w];
                        let src = &row[oy * ow..][xlo..xhi];
                        let ix = |ox: usize| ((ox * g.stride[1]) as isize + xoff) as usize;
                        if g.stride[1] == 1 {
                            let d = &mut dst[ix(xlo)..][..xhi - xlo];
                            for (d, &v) in d.iter_mut().zip(src) {
                                *d += v;
                            }
                        } else {
                            for (&v, ox) in src.iter().zip(xlo..xhi) {
                                dst[ix(ox)] += v;
                            }
                        }
                    }
                }
            }
        }
    }

    /// The stride-1 layout (see [`Flat`]): every output row at row stride `wp`, so each
    /// row of `col` is one contiguous slice of the zero-padded input plane. The `wp - ow`
    /// columns past each output row are computed and dropped.
    fn flat(&self) -> Option<Flat> {
        if self.identity_col() {
            return None;
        }
        self.base.flat()
    }

    /// `col` (`[K, len]`) of image `x` in the [`Flat`] layout, through the padded planes
    /// (rectified if the ReLU is fused) in `padded`.
    fn flat_col(&self, f: &Flat, x: &[f32], padded: &mut Vec<f32>, col: &mut Vec<f32>) {
        let g = &self.base;
        let (plane, padded_plane) = (g.h * g.w, f.hp * f.wp);
        padded.resize(g.c * padded_plane, 0.0);
        col.resize(self.k() * f.len, 0.0);
        let taps = f.offsets.len();
        for ((x_c, padded), col_c) in x
            .chunks_exact(plane)
            .zip(padded.chunks_exact_mut(padded_plane))
            .zip(col.chunks_exact_mut(taps * f.len))
        {
            g.pad(f, x_c, padded);
            for (&off, row) in f.offsets.iter().zip(col_c.chunks_exact_mut(f.len)) {
                row.copy_from_slice(&padded[off..][..f.len]);
            }
        }
    }

    /// The input gradient of image `b` from `gcol` (`[K, len]`, [`Flat`] layout): each
    /// row added onto its slice of the padded planes (`padded`), then the interior
    /// copied out to `gx` (`[c_in, h, w]`).
    fn flat_col2im(&self, f: &Flat, gcol: &[f32], padded: &mut Vec<f32>, gx: &mut [f32]) {
        let g = &self.base;
        let padded_plane = f.hp * f.wp;
        padded.resize(g.c * padded_plane, 0.0);
        padded.fill(0.0);
        let taps = f.offsets.len();
        for ((gcol_c, padded), gx_c) in gcol
            .chunks_exact(taps * f.len)
            .zip(padded.chunks_exact_mut(padded_plane))
            .zip(gx.chunks_exact_mut(g.h * g.w))
        {
            for (&off, row) in f.offsets.iter().zip(gcol_c.chunks_exact(f.len)) {
                for (d, &v) in padded[off..][..f.len].iter_mut().zip(row) {
                    *d += v;
                }
            }
            for (y, gx_row) in gx_c.chunks_exact_mut(g.w).enumerate() {
                gx_row.copy_from_slice(&padded[(y + g.padding[0]) * f.wp + g.padding[1]..][..g.w]);
            }
        }
    }

    /// Image `x` as the matrix products read it: `col` filled from it, or `x` itself
    /// for an unrectified 1x1 convolution.
    fn col<'a>(&self, x: &'a [f32], col: &'a mut Vec<f32>) -> &'a [f32] {
        if self.identity_col() && !self.base.relu_input {
            return x;
        }
        col.resize(self.k() * self.positions(), 0.0);
        self.im2col(x, col);
        col
    }
}

/// `dst[m, n] (+)= sum_k lhs[m, k] * rhs[k, n]`, each matrix given by its row and column
/// strides, single-threaded.
#[allow(clippy::too_many_arguments)]
fn matmul(
    [m, n, k]: [usize; 3],
    dst: &mut [f32],
    accumulate: bool,
    lhs: &[f32],
    [lhs_rs, lhs_cs]: [usize; 2],
    rhs: &[f32],
    [rhs_rs, rhs_cs]: [usize; 2],
) {
    let fits = |len: usize, rs: usize, cs: usize, rows: usize, cols: usize| {
        rows == 0 || cols == 0 || (rows - 1) * rs + (cols - 1) * cs < len
    };
    assert!(
        fits(dst.len(), n, 1, m, n)
            && fits(lhs.len(), lhs_rs, lhs_cs, m, k)
            && fits(rhs.len(), rhs_rs, rhs_cs, k, n),
        "matrix product out of bounds"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    // SAFETY: every element each matrix is read or written at, `(rows - 1) * rs +
    // (cols - 1) * cs` at most, lies in its slice (checked above), `dst` is borrowed
    // mutably and does not alias the inputs.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// `out[n, co] = W[co, K] x col(x[n])`.
pub(crate) fn forward(x: &[f32], weight: &[f32], g: &DenseGeometry) -> Vec<f32> {
    let (k, positions) = (g.k(), g.positions());
    let image = g.base.c * g.base.h * g.base.w;
    let mut out = vec![0.0f32; g.base.n * g.c_out * positions];
    if positions == 0 || image == 0 {
        return out;
    }
    let flat = g.flat();
    out.par_chunks_mut(g.c_out * positions)
        .zip(x.par_chunks(image))
        .for_each_init(Scratch::default, |s, (y, x)| match &flat {
            Some(f) => {
                g.flat_col(f, x, &mut s.padded, &mut s.col);
                s.acc.resize(g.c_out * f.len, 0.0);
                matmul(
                    [g.c_out, f.len, k],
                    &mut s.acc,
                    false,
                    weight,
                    [k, 1],
                    &s.col,
                    [f.len, 1],
                );
                let ow = g.base.out_size()[1];
                for (y_c, acc_c) in y.chunks_exact_mut(positions).zip(s.acc.chunks_exact(f.len)) {
                    for (oy, row) in y_c.chunks_exact_mut(ow).enumerate() {
                        row.copy_from_slice(&acc_c[oy * f.wp..][..ow]);
                    }
                }
            }
            None => {
                let col = g.col(x, &mut s.col);
                matmul(
                    [g.c_out, positions, k],
                    y,
                    false,
                    weight,
                    [k, 1],
                    col,
                    [positions, 1],
                );
            }
        });
    out
}

/// The gradients of the loss with respect to the input (when `input` is asked for) and
/// the weight (when `weight` is asked for), from the output gradient `grad`.
///
/// `x` may be `None` when only the input gradient is asked for and no ReLU is fused.
pub(crate) fn grads(
    grad: &[f32],
    x: Option<&[f32]>,
    weight: &[f32],
    g: &DenseGeometry,
    [input, weight_wanted]: [bool; 2],
) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
    let image = g.base.c * g.base.h * g.base.w;
    let mut gx = input.then(|| vec![0.0f32; g.base.n * image]);
    if g.positions() == 0 || image == 0 {
        return (gx, weight_wanted.then(|| vec![0.0; g.c_out * g.k()]));
    }
    let pass = Backward {
        grad,
        x,
        weight,
        g,
        flat: g.flat(),
        weight_wanted,
    };
    let starts: Vec<usize> = (0..g.base.n).step_by(WEIGHT_GROUP).collect();
    let partials: Vec<Option<Vec<f32>>> = match gx.as_mut() {
        Some(gx) => gx
            .par_chunks_mut(WEIGHT_GROUP * image)
            .zip(starts)
            .map(|(chunk, start)| pass.group(Some(chunk), start))
            .collect(),
        None => starts
            .into_par_iter()
            .map(|start| pass.group(None, start))
            .collect(),
    };
    let gw = weight_wanted.then(|| {
        let mut sum = vec![0.0f32; g.c_out * g.k()];
        for part in partials.iter().flatten() {
            for (s, &v) in sum.iter_mut().zip(part) {
                *s += v;
            }
        }
        sum
    });
    (gx, gw)
}

/// One backward pass of [`grads`]: its inputs, shared by the groups of images.
struct Backward<'a> {
    grad: &'a [f32],
    x: Option<&'a [f32]>,
    weight: &'a [f32],
    g: &'a DenseGeometry,
    flat: Option<Flat>,
    weight_wanted: bool,
}

impl Backward<'_> {
    /// The input gradients of the (up to) [`WEIGHT_GROUP`] images from `start` into
    /// `gx_group` (when asked for), and their weight gradient summed in order.
    fn group(&self, gx_group: Option<&mut [f32]>, start: usize) -> Option<Vec<f32>> {
        let g = self.g;
        let image = g.base.c * g.base.h * g.base.w;
        let mut s = Scratch::default();
        let mut gcol = Vec::new();
        let mut gw = self.weight_wanted.then(|| vec![0.0f32; g.c_out * g.k()]);
        let mut gx_images = gx_group.map(|s| s.chunks_mut(image));
        for b in (start..g.base.n).take(WEIGHT_GROUP) {
            let gx_b = gx_images.as_mut().and_then(Iterator::next);
            self.image(b, &mut s, &mut gcol, gw.as_deref_mut(), gx_b);
        }
        gw
    }

    /// Image `b`'s share: its weight gradient added to `gw`, its input gradient written
    /// to `gx_b` (each when given).
    fn image(
        &self,
        b: usize,
        s: &mut Scratch,
        gcol: &mut Vec<f32>,
        gw: Option<&mut [f32]>,
        gx_b: Option<&mut [f32]>,
    ) {
        let g = self.g;
        let (k, positions) = (g.k(), g.positions());
        let image = g.base.c * g.base.h * g.base.w;
        let x_b = self.x.map(|x| &x[b * image..][..image]);
        let mut gy = &self.grad[b * g.c_out * positions..][..g.c_out * positions];
        // The output gradient in the products' layout: `[c_out, cols]`.
        let mut cols = positions;
        if let Some(f) = &self.flat {
            s.acc.resize(g.c_out * f.len, 0.0);
            for (gy_c, acc_c) in gy
                .chunks_exact(positions)
                .zip(s.acc.chunks_exact_mut(f.len))
            {
                g.base.spread(f, gy_c, acc_c);
            }
            (gy, cols) = (&s.acc, f.len);
        }
        if let (Some(gw), Some(x_b)) = (gw, x_b) {
            let col = match &self.flat {
                Some(f) => {
                    g.flat_col(f, x_b, &mut s.padded, &mut s.col);
                    &s.col[..]
                }
                None => g.col(x_b, &mut s.col),
            };
            matmul([g.c_out, k, cols], gw, true, gy, [cols, 1], col, [1, cols]);
        }
        let Some(gx_b) = gx_b else {
            return;
        };
        let w_t = |dst: &mut [f32]| {
            matmul(
                [k, cols, g.c_out],
                dst,
                false,
                self.weight,
                [1, k],
                gy,
                [cols, 1],
            );
        };
        if g.identity_col() {
            w_t(gx_b);
        } else {
            gcol.resize(k * cols, 0.0);
            w_t(gcol);
            match &self.flat {
                Some(f) => g.flat_col2im(f, gcol, &mut s.padded, gx_b),
                None => g.col2im(gcol, gx_b),
            }
        }
        if let (true, Some(x_b)) = (g.base.relu_input, x_b) {
            for (d, &v) in gx_b.iter_mut().zip(x_b) {
                if v <= 0.0 {
                    *d = 0.0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::depthwise::tests::{square, values};

    fn geometry(
        c_in: usize,
        c_out: usize,
        k: usize,
        s: usize,
        d: usize,
        p: usize,
    ) -> DenseGeometry {
        let base = DwGeometry {
            n: 5,
            c: c_in,
            ..square(k, s, d, p, 7, 6)
        };
        DenseGeometry { base, c_out }
    }

    fn geometries() -> Vec<DenseGeometry> {
        let mut all = vec![];
        for (k, s, d, p) in [
            (3, 1, 1, 1),
            (3, 2, 1, 1),
            (1, 1, 1, 0),
            (1, 2, 1, 0),
            (3, 1, 2, 2),
            (5, 2, 1, 2),
            (3, 1, 1, 0),
            (7, 1, 1, 0),
        ] {
            for relu in [false, true] {
                let mut g = geometry(3, 4, k, s, d, p);
                g.base.relu_input = relu;
                all.push(g);
            }
        }
        all
    }

    /// Direct definition, one output at a time, in f64.
    fn naive(x: &[f32], w: &[f32], g: &DenseGeometry) -> Vec<f64> {
        let b = &g.base;
        let [oh, ow] = b.out_size();
        let mut out = vec![0.0f64; b.n * g.c_out * oh * ow];
        for n in 0..b.n {
            for co in 0..g.c_out {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = 0.0f64;
                        for ci in 0..b.c {
                            for i in 0..b.kh {
                                for j in 0..b.kw {
                                    let iy = (oy * b.stride[0] + i * b.dilation[0]) as isize
                                        - b.padding[0] as isize;
                                    let ix = (ox * b.stride[1] + j * b.dilation[1]) as isize
                                        - b.padding[1] as isize;
                                    if iy < 0 || ix < 0 || iy >= b.h as isize || ix >= b.w as isize
                                    {
                                        continue;
                                    }
                                    let mut v =
                                        x[((n * b.c + ci) * b.h + iy as usize) * b.w + ix as usize];
                                    if b.relu_input {
                                        v = v.max(0.0);
                                    }
                                    acc += f64::from(v)
                                        * f64::from(w[((co * b.c + ci) * b.kh + i) * b.kw + j]);
                                }
                            }
                        }
                        out[((n * g.c_out + co) * oh + oy) * ow + ox] = acc;
                    }
                }
            }
        }
        out
    }

    fn close(a: &[f32], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!(
                (f64::from(*x) - y).abs() < 1e-4 * (1.0 + y.abs()),
                "{x} vs {y}"
            );
        }
    }

    #[test]
    fn forward_matches_the_definition() {
        for g in geometries() {
            let b = &g.base;
            let x = values(b.n * b.c * b.h * b.w, 1);
            let w = values(g.c_out * b.c * b.kh * b.kw, 2);
            close(&forward(&x, &w, &g), &naive(&x, &w, &g));
        }
    }

    /// `<gy, J dx> = <J^T gy, dx>` for the input (through the fused ReLU's mask) and
    /// `<gy, y(w + dw) - y(w)> = <gw, dw>` for the weight (the convolution is linear in w).
    #[test]
    fn gradients_are_the_adjoints_of_forward() {
        for g in geometries() {
            let b = &g.base;
            let x = values(b.n * b.c * b.h * b.w, 3);
            let w = values(g.c_out * b.c * b.kh * b.kw, 4);
            let gy = values(forward(&x, &w, &g).len(), 5);
            let (gx, gw) = grads(&gy, Some(&x), &w, &g, [true, true]);
            let (gx, gw) = (gx.expect("asked"), gw.expect("asked"));
            let dot = |a: &[f64], b: &[f32]| -> f64 {
                a.iter().zip(b).map(|(p, &q)| p * f64::from(q)).sum()
            };
            let dw = values(w.len(), 6);
            let lin = naive(&x, &dw, &g);
            let gw64: Vec<f64> = gw.iter().map(|&v| f64::from(v)).collect();
            let (lhs, rhs) = (dot(&lin, &gy), dot(&gw64, &dw));
            assert!(
                (lhs - rhs).abs() < 1e-3 * (1.0 + lhs.abs()),
                "{g:?}: {lhs} vs {rhs}"
            );
            // The input direction keeps the ReLU's pattern: dx is zero where x <= 0.
            let dx: Vec<f32> = values(x.len(), 7)
                .iter()
                .zip(&x)
                .map(|(&d, &v)| if b.relu_input && v <= 0.0 { 0.0 } else { d })
                .collect();
            let mut linear = g;
            linear.base.relu_input = false;
            let masked: Vec<f32> = x
                .iter()
                .zip(&dx)
                .map(|(&v, &d)| if b.relu_input && v <= 0.0 { 0.0 } else { d })
                .collect();
            let jdx = naive(&masked, &w, &linear);
            let gx64: Vec<f64> = gx.iter().map(|&v| f64::from(v)).collect();
            let (lhs, rhs) = (dot(&jdx, &gy), dot(&gx64, &dx));
            assert!(
                (lhs - rhs).abs() < 1e-3 * (1.0 + lhs.abs()),
                "{g:?}: {lhs} vs {rhs}"
            );
        }
    }

    #[test]
    fn the_weight_gradient_does_not_depend_on_the_thread_count() {
        let mut g = geometry(3, 4, 3, 1, 1, 1);
        g.base.n = 11;
        let b = &g.base;
        let x = values(b.n * b.c * b.h * b.w, 8);
        let w = values(g.c_out * b.c * 9, 9);
        let gy = values(forward(&x, &w, &g).len(), 10);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| grads(&gy, Some(&x), &w, &g, [true, true]))
        };
        assert_eq!(run(1), run(3));
    }
}
