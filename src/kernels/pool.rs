//! Max and average pooling, with native f32 kernels on the CPU backends.
//!
//! Burn's CPU pooling walks every window element by element with bounds checks (and
//! stores an `i64` index per max-pool output); in a DARTS supernet the two 3x3 pools
//! cost as much as a separable convolution. These kernels walk the same tap rows as
//! the depthwise convolution ([`DwGeometry::for_each_tap_row`]), so stride-1 rows
//! vectorise:
//!
//! - **max**: a running maximum per output and the tap that attained it first (in the
//!   window's row-major order, as burn does); the backward pass routes each output
//!   gradient to that tap.
//! - **average**: the depthwise convolution with unit weights, divided by the number
//!   of taps inside the image (`count_include_pad = false`) or by the window size.
//!
//! Windows must have padding at most half the kernel and `ceil_mode` off (every window
//! then holds at least one pixel); anything else goes to burn's pooling, as does every
//! other backend.

use std::sync::Arc;

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::nn::PaddingConfig2d;
use burn::nn::pool::{AvgPool2d, MaxPool2d};
use burn::tensor::ops::FloatTensor;
use burn::tensor::{DType, Tensor, backend::Backend};
use rayon::prelude::*;

use super::depthwise::{self, DwGeometry, PARALLEL_WORK, TapRow};
use super::native::{self, NativeCpu, NativeOp, float, unary_tracked};
use super::simd::avx2_or_baseline;

/// `pool.forward(x)`, through the native kernels where they apply.
///
/// ```
/// use burn::backend::Flex;
/// use burn::nn::PaddingConfig2d;
/// use burn::nn::pool::MaxPool2dConfig;
/// use burn::tensor::{Distribution, Tensor};
///
/// let device = Default::default();
/// let pool = MaxPool2dConfig::new([3, 3])
///     .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
///     .init();
/// let x = Tensor::<Flex, 4>::random([2, 4, 9, 9], Distribution::Default, &device);
/// let y = tnd_nas::ops::max_pool2d(&pool, x.clone());
/// let diff: f32 = y.sub(pool.forward(x)).abs().max().into_scalar();
/// assert_eq!(diff, 0.0);
/// ```
///
/// # Shapes
/// - input `[n, c, h, w]`, output `[n, c, oh, ow]` as for [`MaxPool2d::forward`].
pub fn max_pool2d<B: Backend>(pool: &MaxPool2d, x: Tensor<B, 4>) -> Tensor<B, 4> {
    if super::tangent::tangents_active() {
        return super::tangent::max_pool2d(pool, x);
    }
    match window(
        &x,
        pool.kernel_size,
        pool.stride,
        &pool.padding,
        pool.dilation,
        pool.ceil_mode,
    ) {
        Some(g) => native::run(
            Pool {
                kind: PoolKind::Max,
                g,
            },
            x,
        ),
        _ => pool.forward(x),
    }
}

/// `pool.forward(x)`, through the native kernels where they apply.
///
/// ```
/// use burn::backend::Flex;
/// use burn::nn::PaddingConfig2d;
/// use burn::nn::pool::AvgPool2dConfig;
/// use burn::tensor::{Distribution, Tensor};
///
/// let device = Default::default();
/// let pool = AvgPool2dConfig::new([3, 3])
///     .with_strides([2, 2])
///     .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
///     .with_count_include_pad(false)
///     .init();
/// let x = Tensor::<Flex, 4>::random([2, 4, 9, 9], Distribution::Default, &device);
/// let y = tnd_nas::ops::avg_pool2d(&pool, x.clone());
/// let diff: f32 = y.sub(pool.forward(x)).abs().max().into_scalar();
/// assert!(diff < 1e-6);
/// ```
///
/// # Shapes
/// - input `[n, c, h, w]`, output `[n, c, oh, ow]` as for [`AvgPool2d::forward`].
pub fn avg_pool2d<B: Backend>(pool: &AvgPool2d, x: Tensor<B, 4>) -> Tensor<B, 4> {
    match window(
        &x,
        pool.kernel_size,
        pool.stride,
        &pool.padding,
        [1, 1],
        pool.ceil_mode,
    ) {
        Some(g) => native::run(
            Pool {
                kind: PoolKind::Avg {
                    count_include_pad: pool.count_include_pad,
                },
                g,
            },
            x,
        ),
        None => pool.forward(x),
    }
}

/// The window geometry when the native kernels handle it.
fn window<B: Backend>(
    x: &Tensor<B, 4>,
    [kh, kw]: [usize; 2],
    stride: [usize; 2],
    padding: &PaddingConfig2d,
    dilation: [usize; 2],
    ceil_mode: bool,
) -> Option<DwGeometry> {
    let (top, left, bottom, right) = match *padding {
        PaddingConfig2d::Explicit(t, l, b, r) => (t, l, b, r),
        PaddingConfig2d::Valid => (0, 0, 0, 0),
        _ => return None,
    };
    let fits = top == bottom
        && left == right
        && 2 * top <= kh
        && 2 * left <= kw
        && !ceil_mode
        && kh * kw > 0
        && stride.iter().chain(&dilation).all(|&s| s > 0);
    let [n, c, h, w] = x.dims();
    let g = DwGeometry {
        n,
        c,
        h,
        w,
        kh,
        kw,
        stride,
        padding: [top, left],
        dilation,
        relu_input: false,
    };
    let [oh, ow] = g.out_size();
    (fits && oh * ow > 0).then_some(g)
}

/// The argmax of a window with no pixel (never stored for the windows we accept).
const NO_TAP: u32 = u32::MAX;

/// Max pooling: the maxima and, per output, the first tap that attained it.
pub(crate) fn max_forward(x: &[f32], g: &DwGeometry) -> (Vec<f32>, Vec<u32>) {
    let [oh, ow] = g.out_size();
    let plane_out = oh * ow;
    let mut out = vec![f32::NEG_INFINITY; g.n * g.c * plane_out];
    let mut arg = vec![NO_TAP; out.len()];
    if plane_out == 0 {
        return (out, arg);
    }
    let rows = g.tap_rows();
    let plane = |(idx, (out_plane, arg_plane)): (usize, (&mut [f32], &mut [u32]))| {
        let x_plane = &x[idx * g.h * g.w..][..g.h * g.w];
        max_plane(x_plane, out_plane, arg_plane, &rows, g);
        // A window of -inf (or NaN) values never beat the initial -inf: like burn,
        // take its first in-image tap.
        for (o, (m, a)) in out_plane.iter_mut().zip(arg_plane.iter_mut()).enumerate() {
            if *a == NO_TAP {
                let (tap, value) = first_tap(x_plane, g, o / ow, o % ow);
                (*m, *a) = (value, tap);
            }
        }
    };
    if out.len() * g.kh * g.kw >= PARALLEL_WORK {
        out.par_chunks_mut(plane_out)
            .zip(arg.par_chunks_mut(plane_out))
            .enumerate()
            .for_each(plane);
    } else {
        out.chunks_mut(plane_out)
            .zip(arg.chunks_mut(plane_out))
            .enumerate()
            .for_each(plane);
    }
    (out, arg)
}

avx2_or_baseline! {
    /// [`max_forward`] on one channel plane: running maxima and their first taps.
    fn max_plane(
        x_plane: &[f32],
        out_plane: &mut [f32],
        arg_plane: &mut [u32],
        rows: &[TapRow],
        g: &DwGeometry,
    ) {
        let ow = g.out_size()[1];
        for t in rows {
                let tap = t.tap as u32;
                let x_row = &x_plane[t.iy * g.w..][..g.w];
                let out_row = &mut out_plane[t.oy * ow..][..ow];
                let arg_row = &mut arg_plane[t.oy * ow..][..ow];
                // Branch-free so that stride-1 rows vectorise.
                let take = |o: &mut f32, a: &mut u32, v: f32| {
                    let greater = v > *o;
                    *o = if greater { v } else { *o };
                    *a = if greater { tap } else { *a };
                };
                if t.stride == 1 {
                    let src = &x_row[t.unit_stride_inputs()];
                    let dst = out_row[t.xlo..t.xhi].iter_mut().zip(&mut arg_row[t.xlo..t.xhi]);
                    for ((o, a), &v) in dst.zip(src) {
                        take(o, a, v);
                    }
                } else {
                    for ox in t.xlo..t.xhi {
                        take(&mut out_row[ox], &mut arg_row[ox], x_row[t.ix(ox)]);
                    }
                }
        }
    }
}

/// The first in-image tap of output `(oy, ox)`'s window, and its value.
fn first_tap(x_plane: &[f32], g: &DwGeometry, oy: usize, ox: usize) -> (u32, f32) {
    for i in 0..g.kh {
        for j in 0..g.kw {
            let iy = (oy * g.stride[0] + i * g.dilation[0]) as isize - g.padding[0] as isize;
            let ix = (ox * g.stride[1] + j * g.dilation[1]) as isize - g.padding[1] as isize;
            if (0..g.h as isize).contains(&iy) && (0..g.w as isize).contains(&ix) {
                return (
                    (i * g.kw + j) as u32,
                    x_plane[iy as usize * g.w + ix as usize],
                );
            }
        }
    }
    (NO_TAP, f32::NEG_INFINITY)
}

/// The gradient of max pooling: each output's gradient goes to its argmax.
pub(crate) fn max_backward(grad: &[f32], arg: &[u32], g: &DwGeometry) -> Vec<f32> {
    let [oh, ow] = g.out_size();
    let plane_out = oh * ow;
    let mut gx = vec![0.0f32; g.n * g.c * g.h * g.w];
    if plane_out == 0 {
        return gx;
    }
    let plane = |(idx, gx_plane): (usize, &mut [f32])| {
        let g_plane = &grad[idx * plane_out..][..plane_out];
        let a_plane = &arg[idx * plane_out..][..plane_out];
        for oy in 0..oh {
            for ox in 0..ow {
                let o = oy * ow + ox;
                let tap = a_plane[o];
                if tap == NO_TAP {
                    continue;
                }
                let (i, j) = (tap as usize / g.kw, tap as usize % g.kw);
                let iy = oy * g.stride[0] + i * g.dilation[0] - g.padding[0];
                let ix = ox * g.stride[1] + j * g.dilation[1] - g.padding[1];
                gx_plane[iy * g.w + ix] += g_plane[o];
            }
        }
    };
    depthwise::run_planes(&mut gx, g.h * g.w, 1, plane);
    gx
}

/// `1 / divisor` for every output position of a plane.
fn inverse_counts(g: &DwGeometry, count_include_pad: bool) -> Vec<f32> {
    let [oh, ow] = g.out_size();
    if count_include_pad {
        return vec![1.0 / (g.kh * g.kw) as f32; oh * ow];
    }
    let per_axis = |axis: usize, k: usize, out: usize| {
        let mut counts = vec![0usize; out];
        for tap in 0..k {
            if let Some((lo, hi, _)) = g.valid(axis, tap, out) {
                counts[lo..hi].iter_mut().for_each(|c| *c += 1);
            }
        }
        counts
    };
    let (rows, cols) = (per_axis(0, g.kh, oh), per_axis(1, g.kw, ow));
    rows.iter()
        .flat_map(|&r| cols.iter().map(move |&c| 1.0 / (r * c).max(1) as f32))
        .collect()
}

/// Multiplies every plane of `values` by `inverse` (one plane's worth).
fn scale_planes(values: &mut [f32], inverse: &[f32]) {
    let plane = |(_, p): (usize, &mut [f32])| {
        for (v, s) in p.iter_mut().zip(inverse) {
            *v *= s;
        }
    };
    depthwise::run_planes(values, inverse.len().max(1), 1, plane);
}

/// Average pooling.
pub(crate) fn avg_forward(x: &[f32], g: &DwGeometry, count_include_pad: bool) -> Vec<f32> {
    let ones = vec![1.0f32; g.c * g.kh * g.kw];
    let mut y = depthwise::forward(x, &ones, g);
    scale_planes(&mut y, &inverse_counts(g, count_include_pad));
    y
}

/// The gradient of [`avg_forward`] with respect to its input.
pub(crate) fn avg_backward(grad: &[f32], g: &DwGeometry, count_include_pad: bool) -> Vec<f32> {
    let ones = vec![1.0f32; g.c * g.kh * g.kw];
    let mut scaled = grad.to_vec();
    scale_planes(&mut scaled, &inverse_counts(g, count_include_pad));
    depthwise::input_grad(&scaled, &ones, None, g)
}

/// Which pooling a [`Pool`] computes.
#[derive(Debug, Clone, Copy)]
enum PoolKind {
    Max,
    Avg { count_include_pad: bool },
}

/// Max or average pooling as a [`NativeOp`].
#[derive(Debug, Clone, Copy)]
struct Pool {
    kind: PoolKind,
    g: DwGeometry,
}

impl Pool {
    /// The pooled values, and for max pooling the argmax taps its backward needs.
    fn forward(&self, x: &[f32]) -> (Vec<f32>, Option<Arc<Vec<u32>>>) {
        match self.kind {
            PoolKind::Max => {
                let (y, arg) = max_forward(x, &self.g);
                (y, Some(Arc::new(arg)))
            }
            PoolKind::Avg { count_include_pad } => {
                (avg_forward(x, &self.g, count_include_pad), None)
            }
        }
    }

    fn output<I: NativeCpu>(&self, y: Vec<f32>, device: &I::Device) -> FloatTensor<I> {
        let [oh, ow] = self.g.out_size();
        I::tensor(y, [self.g.n, self.g.c, oh, ow], device)
    }
}

#[derive(Debug)]
struct PoolBackward;

impl<I: NativeCpu> Backward<I, 1> for PoolBackward {
    type State = (Pool, Option<Arc<Vec<u32>>>);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let grad = grads.consume::<I>(&ops.node);
        if let Some(node) = node {
            let device = float::<I, 4>(grad.clone()).device();
            let (pool, arg) = ops.state;
            let (grad, g) = (I::values(grad), pool.g);
            let gx = match (pool.kind, arg) {
                (PoolKind::Avg { count_include_pad }, _) => {
                    avg_backward(&grad, &g, count_include_pad)
                }
                (PoolKind::Max, Some(arg)) => max_backward(&grad, &arg, &g),
                (PoolKind::Max, None) => unreachable!("max pooling always records its argmax"),
            };
            grads.register::<I>(node.id, I::tensor(gx, [g.n, g.c, g.h, g.w], &device));
        }
    }
}

impl NativeOp for Pool {
    type Inputs<B: Backend> = Tensor<B, 4>;

    fn all_f32<B: Backend>(x: &Tensor<B, 4>) -> bool {
        x.dtype() == DType::F32
    }

    fn native<I: NativeCpu>(self, x: Tensor<I, 4>) -> Tensor<I, 4> {
        let device = x.device();
        let (y, _) = self.forward(&I::values(x.into_primitive().tensor()));
        float(self.output::<I>(y, &device))
    }

    fn tracked<I: NativeCpu>(self, x: Tensor<Autodiff<I>, 4>) -> Tensor<Autodiff<I>, 4> {
        let device = x.device();
        unary_tracked(PoolBackward, x, |x| {
            let (y, arg) = self.forward(&I::values(x));
            (self.output::<I>(y, &device), (self, arg))
        })
    }

    fn fallback<B: Backend>(self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let g = self.g;
        match self.kind {
            PoolKind::Max => burn::tensor::module::max_pool2d(
                x,
                [g.kh, g.kw],
                g.stride,
                g.padding,
                g.dilation,
                false,
            ),
            PoolKind::Avg { count_include_pad } => burn::tensor::module::avg_pool2d(
                x,
                [g.kh, g.kw],
                g.stride,
                g.padding,
                count_include_pad,
                false,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::depthwise::tests::{square, values};

    fn geometries() -> Vec<DwGeometry> {
        let mut out = vec![];
        for (k, s, p, h, w) in [
            (3, 1, 1, 7, 6),
            (3, 2, 1, 7, 8),
            (3, 2, 1, 8, 8),
            (5, 1, 2, 6, 7),
            (7, 2, 3, 9, 5),
            (3, 1, 0, 4, 5),
            (2, 2, 0, 6, 6),
            (3, 1, 1, 1, 1),
            (3, 2, 1, 2, 3),
        ] {
            out.push(square(k, s, 1, p, h, w));
        }
        out
    }

    /// Each output by its definition: (max, argmax tap, in-image count, sum).
    fn naive(x: &[f32], g: &DwGeometry) -> Vec<(f32, u32, usize, f32)> {
        let [oh, ow] = g.out_size();
        let mut out = vec![];
        for plane in 0..g.n * g.c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let (mut m, mut a, mut n, mut s) = (f32::NEG_INFINITY, NO_TAP, 0, 0.0);
                    for i in 0..g.kh {
                        for j in 0..g.kw {
                            let iy = (oy * g.stride[0] + i) as isize - g.padding[0] as isize;
                            let ix = (ox * g.stride[1] + j) as isize - g.padding[1] as isize;
                            if iy < 0 || ix < 0 || iy >= g.h as isize || ix >= g.w as isize {
                                continue;
                            }
                            let v = x[(plane * g.h + iy as usize) * g.w + ix as usize];
                            if a == NO_TAP || v > m {
                                (m, a) = (v, (i * g.kw + j) as u32);
                            }
                            n += 1;
                            s += v;
                        }
                    }
                    out.push((m, a, n, s));
                }
            }
        }
        out
    }

    #[test]
    fn forward_matches_the_definition() {
        for g in geometries() {
            let x = values(g.n * g.c * g.h * g.w, 7);
            let (max, arg) = max_forward(&x, &g);
            let avg = avg_forward(&x, &g, false);
            let avg_pad = avg_forward(&x, &g, true);
            let expected = naive(&x, &g);
            assert_eq!(max.len(), expected.len(), "{g:?}");
            for (o, &(m, a, n, s)) in expected.iter().enumerate() {
                assert_eq!((max[o], arg[o]), (m, a), "{g:?} output {o}");
                assert!((avg[o] - s / n as f32).abs() < 1e-6, "{g:?} output {o}");
                let full = (g.kh * g.kw) as f32;
                assert!((avg_pad[o] - s / full).abs() < 1e-6, "{g:?} output {o}");
            }
        }
    }

    #[test]
    fn ties_go_to_the_first_tap_in_window_order() {
        let g = geometries()[0];
        let x = vec![0.5f32; g.n * g.c * g.h * g.w];
        let (_, arg) = max_forward(&x, &g);
        let expected: Vec<u32> = naive(&x, &g).iter().map(|e| e.1).collect();
        assert_eq!(arg, expected);
        assert_eq!(arg[0], 4, "top-left output: first in-image tap is (1, 1)");
    }

    #[test]
    fn windows_of_negative_infinity_take_their_first_tap() {
        let g = geometries()[1];
        let mut x = values(g.n * g.c * g.h * g.w, 9);
        x[..2 * g.w].iter_mut().for_each(|v| *v = f32::NEG_INFINITY);
        let (max, arg) = max_forward(&x, &g);
        let expected = naive(&x, &g);
        assert_eq!(max[0], f32::NEG_INFINITY);
        for (o, &(m, a, _, _)) in expected.iter().enumerate() {
            assert_eq!((max[o], arg[o]), (m, a), "output {o}");
        }
    }

    /// The gradients are the adjoints of the (piecewise-)linear forward maps.
    #[test]
    fn gradients_are_the_adjoints_of_forward() {
        let dot = |a: &[f32], b: &[f32]| -> f64 {
            a.iter()
                .zip(b)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum()
        };
        for g in geometries() {
            let [oh, ow] = g.out_size();
            let x = values(g.n * g.c * g.h * g.w, 3);
            let y = values(g.n * g.c * oh * ow, 5);
            let (max, arg) = max_forward(&x, &g);
            // max is linear in x for a fixed argmax pattern
            let lhs = dot(&max, &y);
            let rhs = dot(&x, &max_backward(&y, &arg, &g));
            assert!((lhs - rhs).abs() < 1e-3, "{g:?}: {lhs} vs {rhs}");
            for include_pad in [false, true] {
                let lhs = dot(&avg_forward(&x, &g, include_pad), &y);
                let rhs = dot(&x, &avg_backward(&y, &g, include_pad));
                assert!((lhs - rhs).abs() < 1e-3, "{g:?}: {lhs} vs {rhs}");
            }
        }
    }
}
