//! Native f32 depthwise convolution kernels for the CPU backends: forward, input
//! gradient and weight gradient, row-vectorised and parallel over channel planes.
//!
//! Layouts are row-major: input `[n, c, h, w]`, weight `[c, 1, kh, kw]`, output
//! `[n, c, oh, ow]`. Padding is symmetric per axis; any stride and dilation.

use rayon::prelude::*;

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
}

impl DwGeometry {
    /// Output height and width (0 when the kernel does not fit).
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
    fn valid(&self, axis: usize, k: usize, out: usize) -> Option<(usize, usize, isize)> {
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
struct TapRow {
    /// `i * kw + j`, the tap's index in a channel's weights.
    tap: usize,
    oy: usize,
    iy: usize,
    xlo: usize,
    xhi: usize,
    xoff: isize,
    stride: usize,
}

impl TapRow {
    /// The input column read by output column `ox`.
    fn ix(&self, ox: usize) -> usize {
        ((ox * self.stride) as isize + self.xoff) as usize
    }

    /// The input columns read by `xlo..xhi` when the stride is 1.
    fn unit_stride_inputs(&self) -> std::ops::Range<usize> {
        self.ix(self.xlo)..self.ix(self.xlo) + (self.xhi - self.xlo)
    }
}

impl DwGeometry {
    /// Calls `f` for every kernel tap and output row whose input row is in the image,
    /// with the range of output columns whose input column is in the image.
    fn for_each_tap_row(&self, mut f: impl FnMut(&TapRow)) {
        let [oh, ow] = self.out_size();
        for i in 0..self.kh {
            let Some((ylo, yhi, yoff)) = self.valid(0, i, oh) else {
                continue;
            };
            for j in 0..self.kw {
                let Some((xlo, xhi, xoff)) = self.valid(1, j, ow) else {
                    continue;
                };
                for oy in ylo..yhi {
                    f(&TapRow {
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
    }
}

/// Output planes below this many multiply-adds run on the calling thread.
const PARALLEL_WORK: usize = 1 << 15;

/// `out[n, c, oy, ox] = sum_{i, j} w[c, i, j] * x[n, c, oy*s + i*d - p, ox*s + j*d - p]`.
pub(crate) fn forward(x: &[f32], weight: &[f32], g: &DwGeometry) -> Vec<f32> {
    let [oh, ow] = g.out_size();
    let taps = g.kh * g.kw;
    let mut out = vec![0.0f32; g.n * g.c * oh * ow];
    if oh * ow == 0 {
        return out;
    }
    let plane = |(idx, out_plane): (usize, &mut [f32])| {
        let w_c = &weight[(idx % g.c) * taps..][..taps];
        let x_plane = &x[idx * g.h * g.w..][..g.h * g.w];
        g.for_each_tap_row(|t| {
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
        });
    };
    run_planes(&mut out, oh * ow, taps, plane);
    out
}

/// The gradient of [`forward`] with respect to its input.
pub(crate) fn input_grad(grad: &[f32], weight: &[f32], g: &DwGeometry) -> Vec<f32> {
    let [oh, ow] = g.out_size();
    let taps = g.kh * g.kw;
    let mut gx = vec![0.0f32; g.n * g.c * g.h * g.w];
    if oh * ow == 0 {
        return gx;
    }
    let plane = |(idx, gx_plane): (usize, &mut [f32])| {
        let w_c = &weight[(idx % g.c) * taps..][..taps];
        let g_plane = &grad[idx * oh * ow..][..oh * ow];
        g.for_each_tap_row(|t| {
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
        });
    };
    run_planes(&mut gx, g.h * g.w, taps, plane);
    gx
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
    let channel = |(c, gw_c): (usize, &mut [f32])| {
        let mut acc = vec![0.0f64; taps];
        for b in 0..g.n {
            let idx = b * g.c + c;
            let x_plane = &x[idx * g.h * g.w..][..g.h * g.w];
            let g_plane = &grad[idx * oh * ow..][..oh * ow];
            g.for_each_tap_row(|t| {
                let x_row = &x_plane[t.iy * g.w..][..g.w];
                let g_row = &g_plane[t.oy * ow..][..ow];
                let row: f32 = if t.stride == 1 {
                    dot(&g_row[t.xlo..t.xhi], &x_row[t.unit_stride_inputs()])
                } else {
                    (t.xlo..t.xhi).map(|ox| g_row[ox] * x_row[t.ix(ox)]).sum()
                };
                acc[t.tap] += f64::from(row);
            });
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

/// `sum(a[i] * b[i])` in eight independent lanes, so that it vectorises.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Runs `f` on every `(plane index, plane)` of `data`, in parallel when the work is large.
fn run_planes<F>(data: &mut [f32], plane_len: usize, taps: usize, f: F)
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
mod tests {
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

    fn values(len: usize, seed: u32) -> Vec<f32> {
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
            out.push(DwGeometry {
                n: 2,
                c: 3,
                h,
                w,
                kh: k,
                kw: k,
                stride: [s, s],
                padding: [p, p],
                dilation: [d, d],
            });
        }
        out
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
            let gx = dot(&x, &input_grad(&y, &w, &g));
            let gw = dot(&w, &weight_grad(&x, &y, &g));
            assert!((fy - gx).abs() < 1e-3, "{g:?}: {fy} vs {gx}");
            assert!((fy - gw).abs() < 1e-3, "{g:?}: {fy} vs {gw}");
        }
    }
}
