//! Forward-mode derivatives along the weights: the pass that computes synflow without a
//! backward pass.
//!
//! Inside [`with_weight_tangents`] a batch of `2n` carries `n` inputs (the primal values)
//! and, in its second half, the derivative of each value with respect to `t` when every
//! conv and linear weight `w` is replaced by `t * w`, at `t = 1`. Ops that are linear in
//! their input (pools, sums, skips, concatenations, BN left out) carry both halves as
//! they are; the ops that need care take them here: a conv or linear layer `y = W x + b`
//! sends `(x, dx)` to `(W x + b, W dx + W x)` ([`conv2d`](super::conv2d), [`linear`]),
//! a rectifier sends `dx` through where the primal is in its linear range, a max pool
//! takes the tangent at the primal's maximum. The tangent of the summed output is then
//! `sum over weights of w * dR/dw`, which is synflow's score (all terms are positive),
//! in about two forward passes instead of a forward and a backward pass.
//!
//! So that deep networks do not overflow `f32`, networks whose ops are all positively
//! homogeneous (ReLU, pools, convs without bias: NAS-Bench-201 and DARTS) call
//! [`renormalize`] between blocks: both halves of every state are divided by the same
//! power of two, which leaves every later value exactly scaled, and the exponents are
//! summed. Networks with ReLU6 (MBConv) must not: the clamp at 6 does not scale, and it
//! bounds their values anyway.

use std::cell::Cell;

use burn::nn::pool::MaxPool2d;
use burn::nn::{Linear, PaddingConfig2d};
use burn::tensor::module::max_pool2d_with_indices;
use burn::tensor::{ElementConversion, Tensor, backend::Backend};

thread_local! {
    /// The power-of-two exponent divided out so far, while a tangent pass runs.
    static SCALE: Cell<Option<i64>> = const { Cell::new(None) };
}

/// Runs `f` (a forward pass of a batch whose second half holds tangents) with every conv,
/// linear layer, rectifier and max pool of this thread carrying weight tangents as the
/// module docs describe; returns `f`'s value and the base-2 exponent that
/// [`renormalize`] divided out (the true values are the returned ones times `2^exponent`).
///
/// ```
/// use burn::backend::NdArray;
/// use burn::nn::LinearConfig;
/// use burn::tensor::Tensor;
/// use tnd_nas::ops::{linear, with_weight_tangents};
/// let device = Default::default();
/// let layer = LinearConfig::new(2, 1).with_bias(false).init::<NdArray<f64>>(&device);
/// // Primal x = (1, 2) and tangent 0: y = W x, dy/dt at t = 1 is W x as well.
/// let x = Tensor::<NdArray<f64>, 2>::from_data([[1.0, 2.0], [0.0, 0.0]], &device);
/// let (y, exponent) = with_weight_tangents(|| linear(&layer, x));
/// let y = y.into_data().to_vec::<f64>().unwrap();
/// assert_eq!(exponent, 0);
/// assert!((y[0] - y[1]).abs() < 1e-12);
/// ```
pub fn with_weight_tangents<R>(f: impl FnOnce() -> R) -> (R, i64) {
    struct Restore(Option<i64>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCALE.with(|s| s.set(self.0));
        }
    }
    let restore = Restore(SCALE.with(|s| s.replace(Some(0))));
    let value = f();
    let exponent = SCALE.with(Cell::get).unwrap_or(0);
    drop(restore);
    (value, exponent)
}

/// Whether a tangent pass runs on this thread.
pub(crate) fn tangents_active() -> bool {
    SCALE.with(Cell::get).is_some()
}

/// The primal and tangent halves of a batch (of an even size, as a tangent pass builds it).
fn halves<B: Backend, const D: usize>(x: Tensor<B, D>) -> (Tensor<B, D>, Tensor<B, D>) {
    let n = x.dims()[0] / 2;
    (x.clone().narrow(0, 0, n), x.narrow(0, n, n))
}

/// `(p, t) -> (p', t')` joined back into one batch.
fn join<B: Backend, const D: usize>(p: Tensor<B, D>, t: Tensor<B, D>) -> Tensor<B, D> {
    Tensor::cat(vec![p, t], 0)
}

/// Output `y = layer(x)` of a layer with weight `W` and optional bias `b` run on both
/// halves (so `y = (W p + b, W t + b)`), turned into `(W p + b, W t + W p)`.
pub(crate) fn weight_tangent<B: Backend, const D: usize>(
    y: Tensor<B, D>,
    bias: Option<Tensor<B, D>>,
) -> Tensor<B, D> {
    let (p, t) = halves(y);
    let t = match &bias {
        Some(b) => t.add(p.clone()).sub(b.clone().mul_scalar(2.0)),
        None => t.add(p.clone()),
    };
    join(p, t)
}

/// `t` where `keep` (a mask of the primal) holds, else 0.
fn masked_tangent<B: Backend, const D: usize>(
    x: Tensor<B, D>,
    op: impl FnOnce(Tensor<B, D>) -> Tensor<B, D>,
    keep: impl FnOnce(&Tensor<B, D>) -> Tensor<B, D, burn::tensor::Bool>,
) -> Tensor<B, D> {
    let (p, t) = halves(x);
    let mask = keep(&p);
    let t = t.mask_fill(mask.bool_not(), 0.0);
    join(op(p), t)
}

/// ReLU of a tangent pass: the tangent passes where the primal is positive.
pub(crate) fn relu<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    masked_tangent(x, burn::tensor::activation::relu, |p| {
        p.clone().greater_elem(0.0)
    })
}

/// ReLU6 of a tangent pass: the tangent passes where the primal is in `(0, 6)`.
pub(crate) fn relu6<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    masked_tangent(
        x,
        |p| p.clamp(0.0, 6.0),
        |p| {
            p.clone()
                .greater_elem(0.0)
                .bool_and(p.clone().lower_elem(6.0))
        },
    )
}

/// Max pooling of a tangent pass: each output's tangent is the tangent at the first tap
/// that attains the primal's maximum (as burn's and the native kernels' backward passes
/// route the gradient).
pub(crate) fn max_pool2d<B: Backend>(pool: &MaxPool2d, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let (p, t) = halves(x);
    let padding = match pool.padding {
        PaddingConfig2d::Explicit(top, left, _, _) => [top, left],
        PaddingConfig2d::Valid => [0, 0],
        _ => [pool.kernel_size[0] / 2, pool.kernel_size[1] / 2],
    };
    let (out, indices) = max_pool2d_with_indices(
        p,
        pool.kernel_size,
        pool.stride,
        padding,
        pool.dilation,
        pool.ceil_mode,
    );
    let [n, c, oh, ow] = out.dims();
    let [_, _, h, w] = t.dims();
    let t = t
        .reshape([n, c, h * w])
        .gather(2, indices.reshape([n, c, oh * ow]))
        .reshape([n, c, oh, ow]);
    join(out, t)
}

/// A linear layer, carrying weight tangents inside [`with_weight_tangents`].
pub fn linear<B: Backend, const D: usize>(layer: &Linear<B>, x: Tensor<B, D>) -> Tensor<B, D> {
    let y = layer.forward(x);
    if !tangents_active() {
        return y;
    }
    let bias = layer.bias.as_ref().map(|b| b.val().unsqueeze::<D>());
    weight_tangent(y, bias)
}

/// Inside [`with_weight_tangents`], divides every state (both halves) by the power of two
/// nearest their largest magnitude and adds its exponent to the pass's; otherwise returns
/// the states as they are. Every state of the network at that point must be passed, so
/// that what follows sees them all scaled alike, and everything that follows must be
/// positively homogeneous (no ReLU6, no bias before the classifier).
pub fn renormalize<B: Backend, const D: usize, const K: usize>(
    states: [Tensor<B, D>; K],
) -> [Tensor<B, D>; K] {
    if !tangents_active() {
        return states;
    }
    let largest = states
        .iter()
        .map(|s| s.clone().abs().max().into_scalar().elem::<f64>())
        .fold(0.0_f64, f64::max);
    if !largest.is_finite() || largest <= 0.0 {
        return states;
    }
    let exponent = largest.log2().round() as i64;
    if exponent == 0 {
        return states;
    }
    SCALE.with(|s| s.set(s.get().map(|e| e + exponent)));
    // In steps of at most 2^60, so that no factor is subnormal in f32.
    let mut left = exponent;
    let mut states = states;
    while left != 0 {
        let step = left.clamp(-60, 60);
        left -= step;
        let factor = 2f64.powi(-step as i32);
        states = states.map(|s| s.mul_scalar(factor));
    }
    states
}
