//! `sum_i w_i * x_i` over same-shaped tensors with constant weights (a weighted
//! `MixedOp`), as one autodiff node on the CPU backends.
//!
//! Composed from burn ops it is `2k - 1` nodes and as many passes; its gradients then
//! arrive as strided channel slices of the cell's concatenation, which burn's scalar
//! multiply walks element by element. The native form reads the gradient once
//! (contiguous) and writes `w_i * grad` for each input.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::tensor::ops::FloatTensor;
use burn::tensor::{DType, Tensor, TensorPrimitive, backend::Backend};

use super::native::{self, NativeCpu, NativeOp, float};
use super::simd::avx2_or_baseline;

/// Inputs fused into one node at most (larger sums chain several nodes).
const MAX_TERMS: usize = 8;

/// `sum_i weights[i] * terms[i]`, in order; `None` when `terms` is empty.
///
/// # Panics
/// If the terms' shapes differ (as burn's `add` would).
pub(crate) fn weighted_sum<B: Backend>(terms: Vec<(Tensor<B, 4>, f32)>) -> Option<Tensor<B, 4>> {
    let mut rest = terms.into_iter();
    let mut sum: Option<Tensor<B, 4>> = None;
    loop {
        let mut batch: Vec<_> = sum.take().map(|s| (s, 1.0)).into_iter().collect();
        let carried = batch.len();
        batch.extend(rest.by_ref().take(MAX_TERMS - carried));
        if batch.len() == carried {
            return batch.pop().map(|(s, _)| s);
        }
        sum = Some(native::run(WeightedSum, batch));
    }
}

/// The weighted sum as a [`NativeOp`].
struct WeightedSum;

impl NativeOp for WeightedSum {
    type Inputs<B: Backend> = Vec<(Tensor<B, 4>, f32)>;

    fn all_f32<B: Backend>(terms: &Self::Inputs<B>) -> bool {
        terms.iter().all(|(t, _)| t.dtype() == DType::F32)
    }

    fn native<I: NativeCpu>(self, terms: Self::Inputs<I>) -> Tensor<I, 4> {
        let weights: Vec<f32> = terms.iter().map(|(_, w)| *w).collect();
        let prims = terms
            .into_iter()
            .map(|(t, _)| t.into_primitive().tensor())
            .collect();
        float(forward::<I>(prims, &weights))
    }

    fn tracked<I: NativeCpu>(self, terms: Self::Inputs<Autodiff<I>>) -> Tensor<Autodiff<I>, 4> {
        macro_rules! arity {
            ($($n:literal)*) => {
                match terms.len() {
                    $($n => tracked::<I, $n>(terms),)*
                    _ => self.fallback(terms),
                }
            };
        }
        arity!(1 2 3 4 5 6 7 8)
    }

    fn fallback<B: Backend>(self, terms: Self::Inputs<B>) -> Tensor<B, 4> {
        let mut terms = terms.into_iter().map(|(t, w)| t.mul_scalar(w));
        let Some(first) = terms.next() else {
            unreachable!("weighted_sum never passes an empty batch")
        };
        terms.fold(first, Tensor::add)
    }
}

avx2_or_baseline! {
    /// `w * x`, in a new buffer (no zero-fill first).
    fn scaled(x: &[f32], w: f32) -> Vec<f32> {
        x.iter().map(|&v| w * v).collect()
    }
}

avx2_or_baseline! {
    /// `out += w * x`.
    fn axpy(out: &mut [f32], x: &[f32], w: f32) {
        for (o, &v) in out.iter_mut().zip(x) {
            *o += w * v;
        }
    }
}

/// `sum_i weights[i] * terms[i]` on the host; `terms` is not empty.
fn forward<I: NativeCpu>(terms: Vec<FloatTensor<I>>, weights: &[f32]) -> FloatTensor<I> {
    let mut terms = terms.into_iter().zip(weights);
    let Some((first, &w)) = terms.next() else {
        unreachable!("weighted_sum never passes an empty batch")
    };
    let first = float::<I, 4>(first);
    let (dims, device) = (first.dims(), first.device());
    let mut out = scaled(&I::values(first.into_primitive().tensor()), w);
    for (t, &w) in terms {
        axpy(&mut out, &I::values(t), w);
    }
    I::tensor(out, dims, &device)
}

#[derive(Debug)]
struct WeightedSumBackward;

impl<I: NativeCpu, const N: usize> Backward<I, N> for WeightedSumBackward {
    type State = Vec<f32>;

    fn backward(self, ops: Ops<Self::State, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = float::<I, 4>(grads.consume::<I>(&ops.node));
        let (dims, device) = (grad.dims(), grad.device());
        let grad = I::values(grad.into_primitive().tensor());
        for (parent, &w) in ops.parents.iter().zip(&ops.state) {
            if let Some(node) = parent {
                grads.register::<I>(node.id, I::tensor(scaled(&grad, w), dims, &device));
            }
        }
    }
}

fn tracked<I: NativeCpu, const N: usize>(
    terms: Vec<(Tensor<Autodiff<I>, 4>, f32)>,
) -> Tensor<Autodiff<I>, 4> {
    let weights: Vec<f32> = terms.iter().map(|(_, w)| *w).collect();
    let prims: Vec<_> = terms
        .into_iter()
        .map(|(t, _)| t.into_primitive().tensor())
        .collect();
    let nodes: [_; N] = std::array::from_fn(|i| prims[i].node.clone());
    let inner = || prims.iter().map(|p| p.primitive.clone()).collect();
    let out = match WeightedSumBackward
        .prepare::<NoCheckpointing>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(weights.clone(), forward::<I>(inner(), &weights)),
        OpsKind::UnTracked(prep) => prep.finish(forward::<I>(inner(), &weights)),
    };
    Tensor::from_primitive(TensorPrimitive::Float(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex, NdArray};
    use burn::tensor::Distribution;

    fn check<B: burn::tensor::backend::AutodiffBackend>(count: usize) {
        let device = Default::default();
        let xs: Vec<Tensor<B, 4>> = (0..count)
            .map(|_| {
                Tensor::<B, 4>::random([2, 3, 4, 5], Distribution::Default, &device).require_grad()
            })
            .collect();
        let weights: Vec<f32> = (0..count).map(|i| 0.1 + i as f32 * 0.07).collect();
        let up = Tensor::<B, 4>::random([2, 3, 4, 5], Distribution::Default, &device);
        let terms = xs.iter().cloned().zip(weights.iter().copied()).collect();
        let fused = weighted_sum(terms).expect("terms");
        let composed =
            WeightedSum.fallback(xs.iter().cloned().zip(weights.iter().copied()).collect());
        let diff: f32 = fused.clone().sub(composed).abs().max().into_scalar().elem();
        assert!(diff < 1e-6, "{count} terms: forward differs by {diff}");
        let grads = fused.mul(up.clone()).sum().backward();
        for (x, w) in xs.iter().zip(&weights) {
            let g = x.grad(&grads).expect("gradient");
            let expected = up.clone().inner().mul_scalar(*w);
            let diff: f32 = g.sub(expected).abs().max().into_scalar().elem();
            assert!(diff < 1e-6, "{count} terms: gradient differs by {diff}");
        }
    }

    use burn::tensor::ElementConversion;

    #[test]
    fn matches_the_composed_sum_and_its_gradients() {
        for count in [1, 2, 7, 8, 9, 17] {
            check::<Autodiff<Flex>>(count);
            check::<Autodiff<NdArray>>(count);
        }
    }

    #[test]
    fn empty_is_none() {
        assert!(weighted_sum::<Flex>(vec![]).is_none());
    }
}
