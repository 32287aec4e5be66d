//! Normalisation with the batch's own statistics (a BN without affine parameters or
//! running statistics, as in DARTS supernets), with native f32 kernels on the CPU
//! backends.
//!
//! Composed from burn ops, this normalisation is about a dozen autodiff nodes and as
//! many passes over the activation; the native form is one node, two passes forward
//! (statistics, normalise) and two backward:
//!
//! `y = (x - mean) * r` with `r = 1 / sqrt(var + eps)` per channel (biased variance);
//! `dx = r * (dy - mean(dy) - y * mean(dy * y))`, means per channel.

use std::sync::Arc;

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::tensor::ops::FloatTensor;
use burn::tensor::{DType, Tensor, backend::Backend};
use rayon::prelude::*;

use super::native::{self, NativeCpu, NativeOp, float, unary_tracked};
use super::simd::{avx2_or_baseline, lane_sum};

/// Normalises each channel of `x` `[n, c, h, w]` with the batch's mean and (biased)
/// variance: `(x - mean) / sqrt(var + epsilon)`.
pub(crate) fn normalize_batch_stats<B: Backend>(x: Tensor<B, 4>, epsilon: f64) -> Tensor<B, 4> {
    native::run(BatchStats { epsilon }, x)
}

/// Elements per partial sum in the statistics (f32 lanes, then f64 across blocks).
const BLOCK: usize = 1024;

/// Planes below this many elements in total run on the calling thread.
const PARALLEL_ELEMENTS: usize = 1 << 15;

/// The layout `[n, c, plane]` of a normalised tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Planes {
    pub n: usize,
    pub c: usize,
    pub plane: usize,
}

impl Planes {
    fn count(&self) -> f64 {
        (self.n * self.plane) as f64
    }

    /// Per channel, `f` summed over that channel's planes (in f64).
    fn per_channel<F>(&self, f: F) -> Vec<[f64; 2]>
    where
        F: Fn(usize) -> [f64; 2] + Sync + Send,
    {
        let channel = |ch: usize| {
            (0..self.n).fold([0.0; 2], |acc, b| {
                let [s, q] = f(b * self.c + ch);
                [acc[0] + s, acc[1] + q]
            })
        };
        if self.n * self.c * self.plane >= PARALLEL_ELEMENTS {
            (0..self.c).into_par_iter().map(channel).collect()
        } else {
            (0..self.c).map(channel).collect()
        }
    }

    /// Runs `f` on every `(plane index, plane)` of `out`, in parallel when large.
    fn each_plane<F>(&self, out: &mut [f32], f: F)
    where
        F: Fn((usize, &mut [f32])) + Sync + Send,
    {
        if out.len() >= PARALLEL_ELEMENTS {
            out.par_chunks_mut(self.plane).enumerate().for_each(f);
        } else {
            out.chunks_mut(self.plane).enumerate().for_each(f);
        }
    }
}

/// `(sum(a - shift), sum((a - shift)^2))`, or with `b`: `(sum(a), sum(a * b))`, each
/// in f32 lanes per block of [`BLOCK`] elements and in f64 across blocks.
fn sums(a: &[f32], b: Option<&[f32]>, shift: f32) -> [f64; 2] {
    let mut total = [0.0f64; 2];
    for (k, block) in a.chunks(BLOCK).enumerate() {
        let [s, q] = match b {
            None => shifted_sums(block, shift),
            Some(b) => sum_and_dot(block, &b[k * BLOCK..][..block.len()]),
        };
        total[0] += f64::from(s);
        total[1] += f64::from(q);
    }
    total
}

avx2_or_baseline! {
    /// `(sum(a - shift), sum((a - shift)^2))` in eight lanes.
    fn shifted_sums(a: &[f32], shift: f32) -> [f32; 2] {
        [
            lane_sum(a, a, |x, _| x - shift),
            lane_sum(a, a, |x, _| (x - shift) * (x - shift)),
        ]
    }
}

avx2_or_baseline! {
    /// `(sum(a), sum(a * b))` in eight lanes.
    fn sum_and_dot(a: &[f32], b: &[f32]) -> [f32; 2] {
        [lane_sum(a, a, |x, _| x), lane_sum(a, b, |x, y| x * y)]
    }
}

/// Normalises `x` `[n, c, plane]`: the output and `1 / sqrt(var + eps)` per channel.
pub(crate) fn forward(x: &[f32], p: Planes, epsilon: f64) -> (Vec<f32>, Vec<f32>) {
    let mut y = vec![0.0f32; x.len()];
    if p.n * p.c * p.plane == 0 {
        return (y, vec![0.0; p.c]);
    }
    // Shifting by a sample of the channel keeps the one-pass variance accurate when
    // the mean is large against the spread.
    let shifts: Vec<f32> = (0..p.c).map(|ch| x[ch * p.plane]).collect();
    let sums = p.per_channel(|idx| sums(&x[idx * p.plane..][..p.plane], None, shifts[idx % p.c]));
    let (mean, rstd): (Vec<f32>, Vec<f32>) = sums
        .iter()
        .zip(&shifts)
        .map(|(&[s, q], &shift)| {
            let m = s / p.count();
            let var = (q / p.count() - m * m).max(0.0);
            (
                (f64::from(shift) + m) as f32,
                (1.0 / (var + epsilon).sqrt()) as f32,
            )
        })
        .unzip();
    p.each_plane(&mut y, |(idx, out)| {
        let (m, r) = (mean[idx % p.c], rstd[idx % p.c]);
        scale_shift(&x[idx * p.plane..][..p.plane], out, m, r);
    });
    (y, rstd)
}

avx2_or_baseline! {
    /// `out = (x - m) * r`.
    fn scale_shift(x: &[f32], out: &mut [f32], m: f32, r: f32) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = (v - m) * r;
        }
    }
}

/// The gradient of [`forward`]: `r * (dy - mean(dy) - y * mean(dy * y))` per channel.
pub(crate) fn backward(grad: &[f32], y: &[f32], rstd: &[f32], p: Planes) -> Vec<f32> {
    let mut gx = vec![0.0f32; grad.len()];
    if p.n * p.c * p.plane == 0 {
        return gx;
    }
    let sums = p.per_channel(|idx| {
        let plane = idx * p.plane..(idx + 1) * p.plane;
        sums(&grad[plane.clone()], Some(&y[plane]), 0.0)
    });
    let means: Vec<[f32; 2]> = sums
        .iter()
        .map(|&[s, q]| [(s / p.count()) as f32, (q / p.count()) as f32])
        .collect();
    p.each_plane(&mut gx, |(idx, out)| {
        let ch = idx % p.c;
        let plane = idx * p.plane..(idx + 1) * p.plane;
        let [mg, mgy] = means[ch];
        input_grad(&grad[plane.clone()], &y[plane], out, rstd[ch], mg, mgy);
    });
    gx
}

avx2_or_baseline! {
    /// `out = r * (g - mg - y * mgy)`.
    fn input_grad(g: &[f32], y: &[f32], out: &mut [f32], r: f32, mg: f32, mgy: f32) {
        for ((o, &gv), &yv) in out.iter_mut().zip(g).zip(y) {
            *o = r * (gv - mg - yv * mgy);
        }
    }
}

/// The normalisation as a [`NativeOp`].
struct BatchStats {
    epsilon: f64,
}

fn planes<B: Backend>(x: &Tensor<B, 4>) -> (Planes, [usize; 4]) {
    let dims = x.dims();
    let [n, c, h, w] = dims;
    (Planes { n, c, plane: h * w }, dims)
}

#[derive(Debug)]
struct BatchStatsBackward;

impl<I: NativeCpu> Backward<I, 1> for BatchStatsBackward {
    type State = (FloatTensor<I>, Arc<Vec<f32>>, Planes);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let grad = grads.consume::<I>(&ops.node);
        if let Some(node) = node {
            let grad = float::<I, 4>(grad);
            let (device, dims) = (grad.device(), grad.dims());
            let (y, rstd, p) = ops.state;
            let gx = backward(
                &I::values(grad.into_primitive().tensor()),
                &I::values(y),
                &rstd,
                p,
            );
            grads.register::<I>(node.id, I::tensor(gx, dims, &device));
        }
    }
}

impl NativeOp for BatchStats {
    type Inputs<B: Backend> = Tensor<B, 4>;

    fn all_f32<B: Backend>(x: &Tensor<B, 4>) -> bool {
        x.dtype() == DType::F32
    }

    fn native<I: NativeCpu>(self, x: Tensor<I, 4>) -> Tensor<I, 4> {
        let ((p, dims), device) = (planes(&x), x.device());
        let (y, _) = forward(&I::values(x.into_primitive().tensor()), p, self.epsilon);
        float(I::tensor(y, dims, &device))
    }

    fn tracked<I: NativeCpu>(self, x: Tensor<Autodiff<I>, 4>) -> Tensor<Autodiff<I>, 4> {
        let ((p, dims), device) = (planes(&x), x.device());
        unary_tracked(BatchStatsBackward, x, |x| {
            let (y, rstd) = forward(&I::values(x), p, self.epsilon);
            let y = I::tensor(y, dims, &device);
            (y.clone(), (y, Arc::new(rstd), p))
        })
    }

    fn fallback<B: Backend>(self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, c, h, w] = x.dims();
        let (_, centered, var) = batch_moments(x.reshape([n, c, h * w]));
        let scale = var.add_scalar(self.epsilon).sqrt().recip();
        centered
            .mul(scale.reshape([1, c, 1]).repeat_dim(0, n))
            .reshape([n, c, h, w])
    }
}

/// Per-channel mean `[c]`, the centred input and the biased variance `[c]` of `x`
/// `[n, c, h * w]`, composed from burn ops.
pub(crate) fn batch_moments<B: Backend>(
    x: Tensor<B, 3>,
) -> (Tensor<B, 1>, Tensor<B, 3>, Tensor<B, 1>) {
    let [n, c, hw] = x.dims();
    let count = (n * hw) as f64;
    let per_channel_mean = |t: Tensor<B, 3>| t.sum_dim(2).sum_dim(0).div_scalar(count).reshape([c]);
    let mean = per_channel_mean(x.clone());
    let centered = x.sub(mean.clone().reshape([1, c, 1]).repeat_dim(0, n));
    let var = per_channel_mean(centered.clone().square());
    (mean, centered, var)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: u32, offset: f32) -> Vec<f32> {
        crate::kernels::depthwise::tests::values(len, seed)
            .into_iter()
            .map(|v| 2.0 * v + offset)
            .collect()
    }

    /// Two-pass definition in f64.
    fn naive(x: &[f32], p: Planes, eps: f64) -> Vec<f64> {
        let mut y = vec![0.0; x.len()];
        for ch in 0..p.c {
            let idx = |b: usize, k: usize| (b * p.c + ch) * p.plane + k;
            let all = || (0..p.n).flat_map(move |b| (0..p.plane).map(move |k| idx(b, k)));
            let mean = all().map(|i| f64::from(x[i])).sum::<f64>() / p.count();
            let var = all().map(|i| (f64::from(x[i]) - mean).powi(2)).sum::<f64>() / p.count();
            for i in all() {
                y[i] = (f64::from(x[i]) - mean) / (var + eps).sqrt();
            }
        }
        y
    }

    fn layouts() -> Vec<Planes> {
        vec![
            Planes {
                n: 2,
                c: 3,
                plane: 25,
            },
            Planes {
                n: 4,
                c: 2,
                plane: 3000,
            },
            Planes {
                n: 1,
                c: 1,
                plane: 1,
            },
            Planes {
                n: 3,
                c: 5,
                plane: 9,
            },
        ]
    }

    #[test]
    fn forward_matches_the_two_pass_definition() {
        for p in layouts() {
            // A mean far from zero checks the shifted one-pass variance.
            for offset in [0.0, 1000.0] {
                let x = values(p.n * p.c * p.plane, 3, offset);
                let (y, _) = forward(&x, p, 1e-5);
                for (a, b) in y.iter().zip(naive(&x, p, 1e-5)) {
                    assert!(
                        (f64::from(*a) - b).abs() < 2e-3,
                        "{p:?} offset {offset}: {a} vs {b}"
                    );
                }
            }
        }
    }

    /// The backward pass against central differences of `sum(forward(x) * dy)`.
    #[test]
    fn backward_matches_finite_differences() {
        let p = Planes {
            n: 2,
            c: 2,
            plane: 6,
        };
        let x = values(p.n * p.c * p.plane, 5, 0.0);
        let dy = values(x.len(), 11, -1.5);
        let (y, rstd) = forward(&x, p, 1e-5);
        let gx = backward(&dy, &y, &rstd, p);
        let loss = |x: &[f32]| -> f64 {
            naive(x, p, 1e-5)
                .iter()
                .zip(&dy)
                .map(|(a, b)| a * f64::from(*b))
                .sum()
        };
        for i in 0..x.len() {
            let h = 1e-3f32;
            let (mut up, mut down) = (x.clone(), x.clone());
            up[i] += h;
            down[i] -= h;
            let numeric = (loss(&up) - loss(&down)) / f64::from(2.0 * h);
            assert!(
                (numeric - f64::from(gx[i])).abs() < 1e-2,
                "element {i}: {numeric} vs {}",
                gx[i]
            );
        }
    }
}
