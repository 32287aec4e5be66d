//! Faster forms of the convolutions that dominate a supernet step and a proxy's score.
//!
//! Burn's generic convolution backward computes the input gradient with a transposed
//! convolution and the weight gradient with one convolution per group. On the CPU
//! backends these are the bulk of a training step: for a depthwise 3x3 convolution on
//! `[64, 16, 32, 32]` the backward pass costs ~10x the forward pass, for a dense one
//! ~4x (measured on Flex). [`conv2d`] routes three cases to cheaper formulations with
//! the same result:
//!
//! - **pointwise** (1x1, one group, no bias, any stride, padding only where no sampled
//!   pixel reads it): every `stride`-th pixel, then a batched matrix product
//!   `W [1, c_out, c_in] x X [n, c_in, h*w]`, whose backward pass is two more matrix
//!   products. Used on every backend (FactorizedReduce's stride-2 convs included).
//! - **depthwise** (`c_in = c_out = groups`, symmetric padding, no bias) on Flex and
//!   NdArray (with or without `Autodiff`, f32): native kernels (`depthwise.rs`) for the
//!   forward pass, the input gradient and the weight gradient, parallel over channel
//!   planes, wired into burn's autodiff graph as one op. At stride 1 each kernel tap is
//!   one contiguous pass over a zero-padded plane; other strides walk tap rows. The
//!   per-plane loops are compiled twice and run as AVX2 code where the CPU has it.
//! - **dense** (one group, symmetric padding, no bias: NAS-Bench-201's 3x3 convs, the
//!   stems, ResNet blocks, MBConv's 1x1 convs that read padding) on Flex and NdArray
//!   (f32): `im2col` and one matrix product per image and pass (`dense.rs`), parallel
//!   over images. On `[64, 16, 32, 32]` a 3x3 forward and backward take 14 ms instead
//!   of burn's 64 ms (`benches/conv.rs`, figures in `docs/performance.md`).
//!
//! A ReLU in front (the candidate ops' ReLU-conv-BN blocks) is fused into the native
//! kernels. Other backends (CUDA included) keep burn's convolution.
//!
//! Everything else goes to burn's `Conv2d::forward`. `tests/fast_convs.rs` checks
//! outputs and gradients against burn's convolution, with and without the fused ReLU.

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::ops::{ConvOptions, FloatTensor};
use burn::tensor::{DType, Tensor, TensorPrimitive, backend::Backend, s};

use super::dense::{self, DenseGeometry};
use super::depthwise::{self, DwGeometry};
use super::native::{self, NativeCpu, NativeOp, float};
use super::tangent;

/// `conv.forward(x)`, through the faster forms above where they apply.
///
/// ```
/// use burn::backend::{Autodiff, Flex};
/// use burn::nn::PaddingConfig2d;
/// use burn::nn::conv::Conv2dConfig;
/// use burn::tensor::{Distribution, Tensor};
///
/// type B = Autodiff<Flex>;
/// let device = Default::default();
/// let depthwise = Conv2dConfig::new([8, 8], [3, 3])
///     .with_groups(8)
///     .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
///     .with_bias(false)
///     .init::<B>(&device);
/// let x = Tensor::<B, 4>::random([2, 8, 16, 16], Distribution::Default, &device);
/// let y = tnd_nas::ops::conv2d(&depthwise, x.clone());
/// let reference = depthwise.forward(x);
/// let diff: f32 = y.sub(reference).abs().max().into_scalar();
/// assert!(diff < 1e-5);
/// ```
///
/// Inside [`with_weight_tangents`](super::with_weight_tangents) it also carries the
/// weight tangent of the batch's second half.
pub fn conv2d<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    with_weight_tangent(conv, route(conv, x, false))
}

/// `conv`'s output `y`, carrying the weight tangent inside a tangent pass.
fn with_weight_tangent<B: Backend>(conv: &Conv2d<B>, y: Tensor<B, 4>) -> Tensor<B, 4> {
    if !tangent::tangents_active() {
        return y;
    }
    let bias = conv.bias.as_ref().map(|b| {
        let c = b.dims()[0];
        b.val().reshape([1, c, 1, 1])
    });
    tangent::weight_tangent(y, bias)
}

/// `conv2d(conv, relu(x))`, with the ReLU fused into the native kernels where they
/// apply (no ReLU node and no rectified copy of `x`).
pub(crate) fn relu_conv2d<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    if tangent::tangents_active() {
        return conv2d(conv, tangent::relu(x));
    }
    route(conv, x, true)
}

fn route<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>, relu: bool) -> Tensor<B, 4> {
    let [c_out, c_in_per_group, kh, kw] = conv.weight.dims();
    let c_in = x.dims()[1];
    let rectified = |x: Tensor<B, 4>| {
        if relu {
            burn::tensor::activation::relu(x)
        } else {
            x
        }
    };
    let (top, left, bottom, right) = match conv.padding {
        PaddingConfig2d::Explicit(t, l, b, r) => (t, l, b, r),
        PaddingConfig2d::Valid => (0, 0, 0, 0),
        _ => return conv.forward(rectified(x)),
    };
    if conv.bias.is_none() && [kh, kw] == [1, 1] && conv.groups == 1 && c_in_per_group == c_in {
        let [_, _, h, w] = x.dims();
        let [sy, sx] = conv.stride;
        let out = |size: usize, s: usize, far: usize| (size + far).saturating_sub(1) / s + 1;
        let (oh, ow) = (out(h, sy, bottom), out(w, sx, right));
        // Every sampled pixel inside the image: no padding is ever read.
        if top == 0 && left == 0 && (oh - 1) * sy < h && (ow - 1) * sx < w {
            let x = rectified(x);
            let x = if conv.stride == [1, 1] {
                x
            } else {
                x.slice(s![.., .., 0..(oh - 1) * sy + 1;sy, 0..(ow - 1) * sx + 1;sx])
            };
            return pointwise(conv.weight.val(), x);
        }
    }
    let symmetric = top == bottom && left == right;
    if conv.bias.is_some() || !symmetric {
        return conv.forward(rectified(x));
    }
    let [n, _, h, w] = x.dims();
    let base = DwGeometry {
        n,
        c: c_in,
        h,
        w,
        kh,
        kw,
        stride: conv.stride,
        padding: [top, left],
        dilation: conv.dilation,
        relu_input: relu,
    };
    if conv.groups == c_in && c_out == c_in && c_in_per_group == 1 {
        return native::run(Conv(base), (x, conv.weight.val()));
    }
    if conv.groups == 1 && c_in_per_group == c_in {
        return native::run(Conv(DenseGeometry { base, c_out }), (x, conv.weight.val()));
    }
    conv.forward(rectified(x))
}

/// A bias-free 1x1 convolution as a batched matrix product.
fn pointwise<B: Backend>(weight: Tensor<B, 4>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [c_out, c_in, _, _] = weight.dims();
    let [n, _, h, w] = x.dims();
    let weight = weight.reshape([1, c_out, c_in]);
    weight
        .matmul(x.reshape([n, c_in, h * w]))
        .reshape([n, c_out, h, w])
}

/// A convolution whose native kernels a geometry runs: depthwise ([`DwGeometry`]) or
/// dense ([`DenseGeometry`]).
pub(crate) trait NativeConv: Copy + std::fmt::Debug + Send + Sync + 'static {
    /// The input's shape.
    fn x_shape(&self) -> [usize; 4];
    /// The weight's shape.
    fn w_shape(&self) -> [usize; 4];
    /// The output's shape.
    fn y_shape(&self) -> [usize; 4];
    /// Whether a ReLU in front is fused in.
    fn relu_input(&self) -> bool;
    /// Burn's options for the same convolution (the fallback).
    fn options(&self) -> ConvOptions<2>;
    /// The output, from the input and weight values.
    fn forward(&self, x: &[f32], weight: &[f32]) -> Vec<f32>;
    /// The input and weight gradients that `wanted` asks for; `x` is given when the
    /// weight gradient is wanted or a ReLU is fused.
    fn grads(
        &self,
        grad: &[f32],
        x: Option<&[f32]>,
        weight: &[f32],
        wanted: [bool; 2],
    ) -> (Option<Vec<f32>>, Option<Vec<f32>>);
}

impl NativeConv for DwGeometry {
    fn x_shape(&self) -> [usize; 4] {
        [self.n, self.c, self.h, self.w]
    }

    fn w_shape(&self) -> [usize; 4] {
        [self.c, 1, self.kh, self.kw]
    }

    fn y_shape(&self) -> [usize; 4] {
        let [oh, ow] = self.out_size();
        [self.n, self.c, oh, ow]
    }

    fn relu_input(&self) -> bool {
        self.relu_input
    }

    fn options(&self) -> ConvOptions<2> {
        ConvOptions::new(self.stride, self.padding, self.dilation, self.c)
    }

    fn forward(&self, x: &[f32], weight: &[f32]) -> Vec<f32> {
        depthwise::forward(x, weight, self)
    }

    fn grads(
        &self,
        grad: &[f32],
        x: Option<&[f32]>,
        weight: &[f32],
        [input, weight_wanted]: [bool; 2],
    ) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
        let gx = input.then(|| depthwise::input_grad(grad, weight, x, self));
        let gw = match (weight_wanted, x) {
            (true, Some(x)) => Some(depthwise::weight_grad(x, grad, self)),
            _ => None,
        };
        (gx, gw)
    }
}

impl NativeConv for DenseGeometry {
    fn x_shape(&self) -> [usize; 4] {
        self.base.x_shape()
    }

    fn w_shape(&self) -> [usize; 4] {
        let b = &self.base;
        [self.c_out, b.c, b.kh, b.kw]
    }

    fn y_shape(&self) -> [usize; 4] {
        let [oh, ow] = self.base.out_size();
        [self.base.n, self.c_out, oh, ow]
    }

    fn relu_input(&self) -> bool {
        self.base.relu_input
    }

    fn options(&self) -> ConvOptions<2> {
        let b = &self.base;
        ConvOptions::new(b.stride, b.padding, b.dilation, 1)
    }

    fn forward(&self, x: &[f32], weight: &[f32]) -> Vec<f32> {
        dense::forward(x, weight, self)
    }

    fn grads(
        &self,
        grad: &[f32],
        x: Option<&[f32]>,
        weight: &[f32],
        wanted: [bool; 2],
    ) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
        dense::grads(grad, x, weight, self, wanted)
    }
}

/// A natively run convolution as a [`NativeOp`].
struct Conv<G>(G);

impl<G: NativeConv> NativeOp for Conv<G> {
    type Inputs<B: Backend> = (Tensor<B, 4>, Tensor<B, 4>);

    fn all_f32<B: Backend>((x, weight): &Self::Inputs<B>) -> bool {
        x.dtype() == DType::F32 && weight.dtype() == DType::F32
    }

    fn native<I: NativeCpu>(self, (x, weight): Self::Inputs<I>) -> Tensor<I, 4> {
        let device = x.device();
        let y = native_forward::<I, G>(
            x.into_primitive().tensor(),
            weight.into_primitive().tensor(),
            &self.0,
            &device,
        );
        float(y)
    }

    fn tracked<I: NativeCpu>(
        self,
        (x, weight): Self::Inputs<Autodiff<I>>,
    ) -> Tensor<Autodiff<I>, 4> {
        conv_autodiff::<I, G>(x, weight, self.0)
    }

    fn fallback<B: Backend>(self, (x, weight): Self::Inputs<B>) -> Tensor<B, 4> {
        let x = if self.0.relu_input() {
            burn::tensor::activation::relu(x)
        } else {
            x
        };
        burn::tensor::module::conv2d(x, weight, None, self.0.options())
    }
}

fn native_forward<I: NativeCpu, G: NativeConv>(
    x: FloatTensor<I>,
    weight: FloatTensor<I>,
    g: &G,
    device: &I::Device,
) -> FloatTensor<I> {
    let y = g.forward(&I::values(x), &I::values(weight));
    I::tensor(y, g.y_shape(), device)
}

/// The convolution on `Autodiff<I>`, with the native backward.
fn conv_autodiff<I: NativeCpu, G: NativeConv>(
    x: Tensor<Autodiff<I>, 4>,
    weight: Tensor<Autodiff<I>, 4>,
    geometry: G,
) -> Tensor<Autodiff<I>, 4> {
    #[derive(Debug)]
    struct ConvBackward<G>(std::marker::PhantomData<G>);

    impl<I: NativeCpu, G: NativeConv> Backward<I, 2> for ConvBackward<G> {
        type State = (NodeId, NodeId, G);

        fn backward(
            self,
            ops: Ops<Self::State, 2>,
            grads: &mut Gradients,
            checkpointer: &mut Checkpointer,
        ) {
            let [node_x, node_weight] = ops.parents;
            let grad = grads.consume::<I>(&ops.node);
            let device = float::<I, 4>(grad.clone()).device();
            let grad = I::values(grad);
            let (x_state, weight_state, g) = ops.state;
            let x = (node_weight.is_some() || g.relu_input())
                .then(|| I::values(checkpointer.retrieve_node_output(x_state)));
            let weight = I::values(checkpointer.retrieve_node_output(weight_state));
            let wanted = [node_x.is_some(), node_weight.is_some()];
            let (gx, gw) = g.grads(&grad, x.as_deref(), &weight, wanted);
            if let (Some(node), Some(gx)) = (node_x, gx) {
                grads.register::<I>(node.id, I::tensor(gx, g.x_shape(), &device));
            }
            if let (Some(node), Some(gw)) = (node_weight, gw) {
                grads.register::<I>(node.id, I::tensor(gw, g.w_shape(), &device));
            }
        }
    }

    let device = x.device();
    let x = x.into_primitive().tensor();
    let weight = weight.into_primitive().tensor();
    let forward = |x: FloatTensor<I>, weight: FloatTensor<I>| {
        native_forward::<I, G>(x, weight, &geometry, &device)
    };
    let out = match ConvBackward::<G>(std::marker::PhantomData)
        .prepare::<NoCheckpointing>([x.node.clone(), weight.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(mut prep) => {
            let x_state = prep.checkpoint(&x);
            let weight_state = prep.checkpoint(&weight);
            prep.finish(
                (x_state, weight_state, geometry),
                forward(x.primitive, weight.primitive),
            )
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(x.primitive, weight.primitive)),
    };
    Tensor::from_primitive(TensorPrimitive::Float(out))
}
