//! Native f32 depthwise convolution kernels for the CPU backends: forward, input
//! gradient and weight gradient, row-vectorised and parallel over channel planes.
//!
//! Layouts are row-major: input `[n, c, h, w]`, weight `[c, 1, kh, kw]`, output
//! `[n, c, oh, ow]`. Padding is symmetric per axis; any stride and dilation. A ReLU in
//! front of the convolution can be fused in ([`DwGeometry::relu_input`]).

use rayon::prelude::*;

use super::simd::{avx2_or_baseline, lane_sum};

/// Shape arithmetic of one depthwise convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DwGeometry {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    /// The kernels read `max(x, 0)` instead of `x`: a ReLU fused in front (no ReLU node,
    /// no rectified copy of the activation; the input gradient is masked by `x > 0`).
    pub relu_input: bool,
}

impl DwGeometry {
    /// Output height and width (0 when the kernel does not fit).
    #[inline(always)]
    pub fn out_size(&self) -> [usize; 2] {
        let o = |x: usize, k: usize, s: usize, p: usize, d: usize| {
            let span = d * (k - 1) + 1;
            if x + 2 * p < span {
                0
            } else {
                (x + 2 * p - span) / s + 1
            }
        };
        [
            o(
                self.h,
                self.kh,
                self.stride[0],
                self.padding[0],
                self.dilation[0],
            ),
            o(
                self.w,
                self.kw,
                self.stride[1],
                self.padding[1],
                self.dilation[1],
            ),
        ]
    }

    /// For kernel offset `k` along an axis: the output positions `lo..hi` whose input
    /// position `o * stride + k * dilation - padding` lies in `0..size`, and that
    /// position's offset `k * dilation - padding`; `None` when there are none (a
    /// dilated tap entirely in the padding of a small input).
    #[inline(always)]
    pub(crate) fn valid(&self, axis: usize, k: usize, out: usize) -> Option<(usize, usize, isize)> {
        let (size, s, d, p) = match axis {
            0 => (self.h, self.stride[0], self.dilation[0], self.padding[0]),
            _ => (self.w, self.stride[1], self.dilation[1], self.padding[1]),
        };
        let off = (k * d) as isize - p as isize;
        // o * s + off >= 0  <=>  o >= ceil(-off / s)
        let lo = if off >= 0 {
            0
        } else {
            ((-off) as usize).div_ceil(s)
        };
        // o * s + off <= size - 1  <=>  o <= (size - 1 - off) / s
        let last = size as isize - 1 - off;
        let hi = if last < 0 {
            0
        } else {
            (last as usize / s + 1).min(out)
        };
        (lo < hi).then_some((lo, hi, off))
    }
}

/// One kernel tap on one output row: output columns `xlo..xhi` of row `oy` read input
/// row `iy` at columns `ox * stride + xoff`.
pub(crate) struct TapRow {
    /// `i * kw + j`, the tap's index in a channel's weights.
    pub tap: usize,
    pub oy: usize,
    pub iy: usize,
    pub xlo: usize,
    pub xhi: usize,
    pub xoff: isize,
    pub stride: usize,
}

impl TapRow {
    /// The input column read by output column `ox`.
    #[inline(always)]
    pub(crate) fn ix(&self, ox: usize) -> usize {
        ((ox * self.stride) as isize + self.xoff) as usize
    }

    /// The input columns read by `xlo..xhi` when the stride is 1.
    #[inline(always)]
    pub(crate) fn unit_stride_inputs(&self) -> std::ops::Range<usize> {
        self.ix(self.xlo)..self.ix(self.xlo) + (self.xhi - self.xlo)
    }
}

impl DwGeometry {
    /// Every kernel tap and output row whose input row is in the image, with the range
    /// of output columns whose input column is in the image; taps in row-major order.
    pub(crate) fn tap_rows(&self) -> Vec<TapRow> {
        let [oh, ow] = self.out_size();
        let mut rows = vec![];
        for i in 0..self.kh {
            let Some((ylo, yhi, yoff)) = self.valid(0, i, oh) else {
                continue;
            };
            for j in 0..self.kw {
                let Some((xlo, xhi, xoff)) = self.valid(1, j, ow) else {
                    continue;
                };
                for oy in ylo..yhi {
                    rows.push(TapRow {
                        tap: i * self.kw + j,
                        oy,
                        iy: ((oy * self.stride[0]) as isize + yoff) as usize,
                        xlo,
                        xhi,
                        xoff,
                        stride: self.stride[1],
                    });
                }
            }
        }
        rows
    }
}

/// The stride-1 layout in which each kernel tap is one contiguous pass over a plane.
///
/// The input plane is zero-padded to `hp x wp`; outputs are computed at row stride
/// `wp` (the columns past `ow` of each row are scratch). Output position `k` of that
/// layout reads padded input `offsets[tap] + k`, for `k` in `0..len`.
pub(crate) struct Flat {
    pub hp: usize,
    pub wp: usize,
    pub len: usize,
    pub offsets: Vec<usize>,
}

impl DwGeometry {
    /// The [`Flat`] layout of a stride-1 geometry with a non-empty output.
    pub(crate) fn flat(&self) -> Option<Flat> {
        let [oh, ow] = self.out_size();
        if self.stride != [1, 1] || oh * ow == 0 {
            return None;
        }
        let hp = self.h + 2 * self.padding[0];
        let wp = self.w + 2 * self.padding[1];
        let [dy, dx] = self.dilation;
        let offsets = (0..self.kh)
            .flat_map(|i| (0..self.kw).map(move |j| i * dy * wp + j * dx))
            .collect();
        Some(Flat {
            hp,
            wp,
            len: (oh - 1) * wp + ow,
            offsets,
        })
    }

    /// Copies `plane` (`h x w`, rectified if [`Self::relu_input`]) into the
    /// zero-padded `padded` (`hp x wp`).
    pub(crate) fn pad(&self, f: &Flat, plane: &[f32], padded: &mut [f32]) {
        padded.fill(0.0);
        for (y, row) in plane.chunks_exact(self.w).enumerate() {
            let dst = &mut padded[(y + self.padding[0]) * f.wp + self.padding[1]..][..self.w];
            if self.relu_input {
                rectify(row, dst);
            } else {
                dst.copy_from_slice(row);
            }
        }
    }

    /// `plane` as the kernels read it: itself, or rectified into `scratch`.
    fn input<'a>(&self, plane: &'a [f32], scratch: &'a mut Vec<f32>) -> &'a [f32] {
        if !self.relu_input {
            return plane;
        }
        scratch.resize(plane.len(), 0.0);
        rectify(plane, scratch);
        scratch
    }

    /// Zeroes the input gradient where the fused ReLU was inactive (`x <= 0`).
    fn mask(&self, x_plane: Option<&[f32]>, gx_plane: &mut [f32]) {
        if let (true, Some(x)) = (self.relu_input, x_plane) {
            for (g, &v) in gx_plane.iter_mut().zip(x) {
                if v <= 0.0 {
                    *g = 0.0;
                }
            }
        }
    }

    /// Copies output plane `plane` (`oh x ow`) to row stride `wp` in `spread`.
    pub(crate) fn spread(&self, f: &Flat, plane: &[f32], spread: &mut [f32]) {
        let ow = self.out_size()[1];
        spread.fill(0.0);
        for (oy, row) in plane.chunks_exact(ow).enumerate() {
            spread[oy * f.wp..][..ow].copy_from_slice(row);
        }
    }
}

/// `dst = max(src, 0)`.
fn rectify(src: &[f32], dst: &mut [f32]) {
    for (d, &v) in dst.iter_mut().zip(src) {
        *d = v.max(0.0);
    }
}

/// Output planes below this many multiply-adds run on the calling thread.
pub(crate) const PARALLEL_WORK: usize = 1 << 15;

/// `out[n, c, oy, ox] = sum_{i, j} w[c, i, j] * x[n, c, oy*s + i*d - p, ox*s + j*d - p]`.
pub(crate) fn forward(x: &[f32], weight: &[f32], g: &DwGeometry) -> Vec<f32> {
    let [oh, ow] = g.out_size();
    let taps = g.kh * g.kw;
    let mut out = vec![0.0f32; g.n * g.c * oh * ow];
    if oh * ow == 0 {
        return out;
    }
    if let Some(f) = g.flat() {
        let scratch = || (vec![0.0f32; f.hp * f.wp], vec![0.0f32; f.len]);
        let plane = |(padded, acc): &mut (Vec<f32>, Vec<f32>),
                     (idx, out_plane): (usize, &mut [f32])| {
            let w_c = &weight[(idx % g.c) * taps..][..taps];
            g.pad(&f, &x[idx * g.h * g.w..][..g.h * g.w], padded);
            forward_flat(padded, w_c, acc, &f);
            for (oy, row) in out_plane.chunks_exact_mut(ow).enumerate() {
                row.copy_from_slice(&acc[oy * f.wp..][..ow]);
            }
        };
        run_planes_with(&mut out, oh * ow, taps, scratch, plane);
        return out;
    }
    let rows = g.tap_rows();
    let plane = |scratch: &mut Vec<f32>, (idx, out_plane): (usize, &mut [f32])| {
        let w_c = &weight[(idx % g.c) * taps..][..taps];
        let x_plane = g.input(&x[idx * g.h * g.w..][..g.h * g.w], scratch);
        forward_plane(x_plane, w_c, out_plane, &rows, g);
    };
    run_planes_with(&mut out, oh * ow, taps, Vec::new, plane);
    out
}

avx2_or_baseline! {
    /// Stride-1 [`forward`] of one padded plane into `acc` (row stride `wp`).
    fn forward_flat(padded: &[f32], w_c: &[f32], acc: &mut [f32], f: &Flat) {
        acc.fill(0.0);
        for (&off, &wv) in f.offsets.iter().zip(w_c) {
            for (a, &v) in acc.iter_mut().zip(&padded[off..off + f.len]) {
                *a += wv * v;
            }
        }
    }
}

avx2_or_baseline! {
    /// [`forward`] on one channel plane, accumulated into `out_plane`.
    fn forward_plane(
        x_plane: &[f32],
        w_c: &[f32],
        out_plane: &mut [f32],
        rows: &[TapRow],
        g: &DwGeometry,
    ) {
        let ow = g.out_size()[1];
        for t in rows {
            let wv = w_c[t.tap];
            let x_row = &x_plane[t.iy * g.w..][..g.w];
            let out_row = &mut out_plane[t.oy * ow..][..ow];
            if t.stride == 1 {
                let src = &x_row[t.unit_stride_inputs()];
                for (o, &v) in out_row[t.xlo..t.xhi].iter_mut().zip(src) {
                    *o += wv * v;
                }
            } else {
                for ox in t.xlo..t.xhi {
                    out_row[ox] += wv * x_row[t.ix(ox)];
                }
            }
        }
    }
}

/// The gradient of [`forward`] with respect to its input; `x`, the forward input, is
/// needed (for the mask) when a ReLU is fused in.
pub(crate) fn input_grad(
    grad: &[f32],
    weight: &[f32],
    x: Option<&[f32]>,
    g: &DwGeometry,
) -> Vec<f32> {
    let x_plane = |idx: usize| x.map(|x| &x[idx * g.h * g.w..][..g.h * g.w]);
    let [oh, ow] = g.out_size();
    let taps = g.kh * g.kw;
    let mut gx = vec![0.0f32; g.n * g.c * g.h * g.w];
    if oh * ow == 0 {
        return gx;
    }
    if let Some(f) = g.flat() {
        let scratch = || (vec![0.0f32; f.hp * f.wp], vec![0.0f32; oh * f.wp]);
        let plane = |(padded, spread): &mut (Vec<f32>, Vec<f32>),
                     (idx, gx_plane): (usize, &mut [f32])| {
            let w_c = &weight[(idx % g.c) * taps..][..taps];
            g.spread(&f, &grad[idx * oh * ow..][..oh * ow], spread);
            input_grad_flat(&spread[..f.len], w_c, padded, &f);
            for (y, row) in gx_plane.chunks_exact_mut(g.w).enumerate() {
                row.copy_from_slice(&padded[(y + g.padding[0]) * f.wp + g.padding[1]..][..g.w]);
            }
            g.mask(x_plane(idx), gx_plane);
        };
        run_planes_with(&mut gx, g.h * g.w, taps, scratch, plane);
        return gx;
    }
    let rows = g.tap_rows();
    let plane = |(idx, gx_plane): (usize, &mut [f32])| {
        let w_c = &weight[(idx % g.c) * taps..][..taps];
        let g_plane = &grad[idx * oh * ow..][..oh * ow];
        input_grad_plane(g_plane, w_c, gx_plane, &rows, g);
        g.mask(x_plane(idx), gx_plane);
    };
    run_planes(&mut gx, g.h * g.w, taps, plane);
    gx
}

avx2_or_baseline! {
    /// Stride-1 [`input_grad`] of one plane: `spread` is the output gradient at row
    /// stride `wp` (zero past `ow`), `padded` receives the padded input gradient.
    fn input_grad_flat(spread: &[f32], w_c: &[f32], padded: &mut [f32], f: &Flat) {
        padded.fill(0.0);
        for (&off, &wv) in f.offsets.iter().zip(w_c) {
            for (d, &v) in padded[off..off + f.len].iter_mut().zip(spread) {
                *d += wv * v;
            }
        }
    }
}

avx2_or_baseline! {
    /// [`input_grad`] on one channel plane, accumulated into `gx_plane`.
    fn input_grad_plane(
        g_plane: &[f32],
        w_c: &[f32],
        gx_plane: &mut [f32],
        rows: &[TapRow],
        g: &DwGeometry,
    ) {
        let ow = g.out_size()[1];
        for t in rows {
            let wv = w_c[t.tap];
            let g_row = &g_plane[t.oy * ow..][..ow];
            let gx_row = &mut gx_plane[t.iy * g.w..][..g.w];
            if t.stride == 1 {
                let dst = &mut gx_row[t.unit_stride_inputs()];
                for (d, &v) in dst.iter_mut().zip(&g_row[t.xlo..t.xhi]) {
                    *d += wv * v;
                }
            } else {
                for ox in t.xlo..t.xhi {
                    gx_row[t.ix(ox)] += wv * g_row[ox];
                }
            }
        }
    }
}

/// The gradient of [`forward`] with respect to its weight, `[c, kh, kw]` (summed over
/// the batch, accumulated in f64 per row).
pub(crate) fn weight_grad(x: &[f32], grad: &[f32], g: &DwGeometry) -> Vec<f32> {
    let [oh, ow] = g.out_size();
    let taps = g.kh * g.kw;
    let mut gw = vec![0.0f32; g.c * taps];
    if oh * ow == 0 {
        return gw;
    }
    let rows = g.tap_rows();
    let flat = g.flat();
    let channel = |(c, gw_c): (usize, &mut [f32])| {
        let mut acc = vec![0.0f64; taps];
        let mut scratch = flat
            .as_ref()
            .map(|f| (vec![0.0f32; f.hp * f.wp], vec![0.0f32; oh * f.wp]));
        let mut rectified = Vec::new();
        for b in 0..g.n {
            let idx = b * g.c + c;
            let x_plane = &x[idx * g.h * g.w..][..g.h * g.w];
            let g_plane = &grad[idx * oh * ow..][..oh * ow];
            match (&flat, &mut scratch) {
                (Some(f), Some((padded, spread))) => {
                    g.pad(f, x_plane, padded);
                    g.spread(f, g_plane, spread);
                    weight_grad_flat(padded, &spread[..f.len], &mut acc, f);
                }
                _ => {
                    let x_plane = g.input(x_plane, &mut rectified);
                    weight_grad_plane(x_plane, g_plane, &mut acc, &rows, g);
                }
            }
        }
        for (o, a) in gw_c.iter_mut().zip(acc) {
            *o = a as f32;
        }
    };
    if g.n * g.c * oh * ow * taps >= PARALLEL_WORK {
        gw.par_chunks_mut(taps).enumerate().for_each(channel);
    } else {
        gw.chunks_mut(taps).enumerate().for_each(channel);
    }
    gw
}

avx2_or_baseline! {
    /// [`weight_grad`]'s sums over one channel plane, added to `acc` (one per tap).
    fn weight_grad_plane(
        x_plane: &[f32],
        g_plane: &[f32],
        acc: &mut [f64],
        rows: &[TapRow],
        g: &DwGeometry,
    ) {
        let ow = g.out_size()[1];
        for t in rows {
            let x_row = &x_plane[t.iy * g.w..][..g.w];
            let g_row = &g_plane[t.oy * ow..][..ow];
            let row: f32 = if t.stride == 1 {
                dot(&g_row[t.xlo..t.xhi], &x_row[t.unit_stride_inputs()])
            } else {
                (t.xlo..t.xhi).map(|ox| g_row[ox] * x_row[t.ix(ox)]).sum()
            };
            acc[t.tap] += f64::from(row);
        }
    }
}

avx2_or_baseline! {
    /// Stride-1 [`weight_grad`] sums of one padded plane and its spread output
    /// gradient, added to `acc` (one per tap).
    fn weight_grad_flat(padded: &[f32], spread: &[f32], acc: &mut [f64], f: &Flat) {
        for (&off, a) in f.offsets.iter().zip(acc.iter_mut()) {
            *a += f64::from(dot(spread, &padded[off..off + f.len]));
        }
    }
}

/// `sum(a[i] * b[i])`, vectorised.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    lane_sum(a, b, |x, y| x * y)
}

/// [`run_planes`] with per-thread scratch space made by `init`.
fn run_planes_with<S, I, F>(data: &mut [f32], plane_len: usize, taps: usize, init: I, f: F)
where
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, (usize, &mut [f32])) + Sync + Send,
{
    if data.len() * taps >= PARALLEL_WORK {
        data.par_chunks_mut(plane_len)
            .enumerate()
            .for_each_init(init, f);
    } else {
        let mut scratch = init();
        for item in data.chunks_mut(plane_len).enumerate() {
            f(&mut scratch, item);
        }
    }
}

/// Runs `f` on every `(plane index, plane)` of `data`, in parallel when the work is large.
pub(crate) fn run_planes<F>(data: &mut [f32], plane_len: usize, taps: usize, f: F)
where
    F: Fn((usize, &mut [f32])) + Sync + Send,
{
    if data.len() * taps >= PARALLEL_WORK {
        data.par_chunks_mut(plane_len).enumerate().for_each(f);
    } else {
        data.chunks_mut(plane_len).enumerate().for_each(f);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Direct definition, one output at a time.
    fn naive(x: &[f32], w: &[f32], g: &DwGeometry) -> Vec<f32> {
        let [oh, ow] = g.out_size();
        let mut out = vec![0.0; g.n * g.c * oh * ow];
        for b in 0..g.n {
            for c in 0..g.c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut s = 0.0;
                        for i in 0..g.kh {
                            for j in 0..g.kw {
                                let iy = (oy * g.stride[0] + i * g.dilation[0]) as isize
                                    - g.padding[0] as isize;
                                let ix = (ox * g.stride[1] + j * g.dilation[1]) as isize
                                    - g.padding[1] as isize;
                                if iy < 0 || ix < 0 || iy >= g.h as isize || ix >= g.w as isize {
                                    continue;
                                }
                                s += w[(c * g.kh + i) * g.kw + j]
                                    * x[((b * g.c + c) * g.h + iy as usize) * g.w + ix as usize];
                            }
                        }
                        out[((b * g.c + c) * oh + oy) * ow + ox] = s;
                    }
                }
            }
        }
        out
    }

    /// Deterministic test values in `[-1, 1)`, different for each seed.
    pub(crate) fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| {
                ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 1000) as f32 / 500.0
                    - 1.0
            })
            .collect()
    }

    fn geometries() -> Vec<DwGeometry> {
        let mut out = vec![];
        for (k, s, d, p, h, w) in [
            (3, 1, 1, 1, 7, 6),
            (5, 1, 1, 2, 6, 7),
            (3, 1, 2, 2, 8, 5),
            (5, 1, 2, 4, 5, 9),
            (3, 2, 1, 1, 7, 8),
            (5, 2, 2, 4, 9, 6),
            (3, 1, 1, 0, 4, 4),
            (3, 2, 1, 3, 3, 3),
            (7, 1, 1, 1, 3, 3),
            (5, 1, 2, 4, 2, 3),
            (5, 1, 2, 4, 1, 1),
            (3, 1, 2, 2, 1, 2),
            (5, 2, 2, 4, 2, 2),
        ] {
            out.push(square(k, s, d, p, h, w));
        }
        out
    }

    /// A `k x k` window with stride `s`, dilation `d` and padding `p` on a
    /// `[2, 3, h, w]` input.
    pub(crate) fn square(k: usize, s: usize, d: usize, p: usize, h: usize, w: usize) -> DwGeometry {
        DwGeometry {
            n: 2,
            c: 3,
            h,
            w,
            kh: k,
            kw: k,
            stride: [s, s],
            padding: [p, p],
            dilation: [d, d],
            relu_input: false,
        }
    }

    #[test]
    fn forward_matches_the_definition() {
        for g in geometries() {
            let x = values(g.n * g.c * g.h * g.w, 1);
            let w = values(g.c * g.kh * g.kw, 2);
            let fast = forward(&x, &w, &g);
            let slow = naive(&x, &w, &g);
            assert_eq!(fast.len(), slow.len(), "{g:?}");
            for (a, b) in fast.iter().zip(&slow) {
                assert!((a - b).abs() < 1e-5, "{g:?}: {a} vs {b}");
            }
        }
    }

    /// The gradients are the adjoints of the forward map: <forward(x), y> equals
    /// <x, input_grad(y)> and <w, weight_grad(x, y)>.
    #[test]
    fn gradients_are_the_adjoints_of_forward() {
        for g in geometries() {
            let [oh, ow] = g.out_size();
            let x = values(g.n * g.c * g.h * g.w, 3);
            let w = values(g.c * g.kh * g.kw, 4);
            let y = values(g.n * g.c * oh * ow, 5);
            let dot = |a: &[f32], b: &[f32]| -> f64 {
                a.iter()
                    .zip(b)
                    .map(|(a, b)| f64::from(*a) * f64::from(*b))
                    .sum()
            };
            let fy = dot(&forward(&x, &w, &g), &y);
            let gx = dot(&x, &input_grad(&y, &w, None, &g));
            let gw = dot(&w, &weight_grad(&x, &y, &g));
            assert!((fy - gx).abs() < 1e-3, "{g:?}: {fy} vs {gx}");
            assert!((fy - gw).abs() < 1e-3, "{g:?}: {fy} vs {gw}");
        }
    }

    /// With a fused ReLU the kernels equal the plain ones on `max(x, 0)`, and the
    /// input gradient is masked by `x > 0`.
    #[test]
    fn a_fused_relu_equals_rectifying_first() {
        for plain in geometries() {
            let fused = DwGeometry {
                relu_input: true,
                ..plain
            };
            let [oh, ow] = plain.out_size();
            let x = values(plain.n * plain.c * plain.h * plain.w, 6);
            let rectified: Vec<f32> = x.iter().map(|v| v.max(0.0)).collect();
            let w = values(plain.c * plain.kh * plain.kw, 7);
            let y = values(plain.n * plain.c * oh * ow, 8);
            assert_eq!(forward(&x, &w, &fused), forward(&rectified, &w, &plain));
            assert_eq!(
                weight_grad(&x, &y, &fused),
                weight_grad(&rectified, &y, &plain)
            );
            let masked: Vec<f32> = input_grad(&y, &w, None, &plain)
                .iter()
                .zip(&x)
                .map(|(&g, &v)| if v > 0.0 { g } else { 0.0 })
                .collect();
            assert_eq!(input_grad(&y, &w, Some(&x), &fused), masked);
        }
    }
}
