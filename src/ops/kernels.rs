//! Faster forms of the convolutions that dominate a DARTS supernet step.
//!
//! Burn's generic convolution backward computes the input gradient with a transposed
//! convolution and the weight gradient with one convolution per group. On the CPU
//! backends these are the bulk of a supernet step: for a depthwise 3x3 convolution on
//! `[64, 16, 32, 32]` the backward pass costs ~10x the forward pass (measured on Flex).
//! [`conv2d`] routes two cases to cheaper formulations with the same result:
//!
//! - **pointwise** (1x1, stride 1, no padding, one group, no bias): a batched matrix
//!   product `W [1, c_out, c_in] x X [n, c_in, h*w]`, whose backward pass is two more
//!   matrix products. Used on every backend.
//! - **depthwise** (`c_in = c_out = groups`, symmetric padding, no bias) on Flex and
//!   NdArray (with or without `Autodiff`, f32): native kernels (`depthwise.rs`) for the
//!   forward pass, the input gradient and the weight gradient, vectorised along rows
//!   and parallel over channel planes, wired into burn's autodiff graph as one op.
//!   Other backends (CUDA included) keep burn's convolution.
//!
//! Everything else goes to burn's `Conv2d::forward`. `tests/ops_and_supernet.rs` checks
//! outputs and gradients against burn's convolution.

use std::any::Any;

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::ops::{ConvOptions, FloatTensor};
use burn::tensor::{DType, Tensor, TensorData, TensorPrimitive, backend::Backend};

use super::depthwise::{self, DwGeometry};

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
pub fn conv2d<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [c_out, c_in_per_group, kh, kw] = conv.weight.dims();
    let c_in = x.dims()[1];
    let (top, left, bottom, right) = match conv.padding {
        PaddingConfig2d::Explicit(t, l, b, r) => (t, l, b, r),
        PaddingConfig2d::Valid => (0, 0, 0, 0),
        _ => return conv.forward(x),
    };
    let no_padding = top == 0 && bottom == 0 && left == 0 && right == 0;
    let unit_stride = conv.stride == [1, 1];
    if conv.bias.is_none()
        && unit_stride
        && no_padding
        && [kh, kw] == [1, 1]
        && conv.groups == 1
        && c_in_per_group == c_in
    {
        return pointwise(conv.weight.val(), x);
    }
    let depthwise = conv.groups == c_in && c_out == c_in && c_in_per_group == 1;
    let symmetric = top == bottom && left == right;
    if conv.bias.is_none() && depthwise && symmetric {
        let [n, _, h, w] = x.dims();
        let geometry = DwGeometry {
            n,
            c: c_in,
            h,
            w,
            kh,
            kw,
            stride: conv.stride,
            padding: [top, left],
            dilation: conv.dilation,
        };
        return depthwise_conv2d(x, conv.weight.val(), geometry);
    }
    conv.forward(x)
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

/// Moves `value` into `U` when `T` and `U` are the same type, else gives it back.
fn same_type<T: 'static, U: 'static>(value: T) -> Result<U, T> {
    let mut slot = Some(value);
    let cast = (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<U>>()
        .and_then(Option::take);
    match (cast, slot) {
        (Some(u), _) => Ok(u),
        (None, Some(t)) => Err(t),
        (None, None) => unreachable!("a successful downcast always yields the value"),
    }
}

/// A depthwise convolution: native kernels on the bundled CPU backends, burn's
/// convolution elsewhere.
fn depthwise_conv2d<B: Backend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    geometry: DwGeometry,
) -> Tensor<B, 4> {
    if x.dtype() != DType::F32 || weight.dtype() != DType::F32 {
        return burn_depthwise(x, weight, &geometry);
    }
    #[cfg(feature = "flex")]
    let (x, weight) = match specialised::<B, burn::backend::Flex>(x, weight, geometry) {
        Ok(y) => return y,
        Err(args) => args,
    };
    #[cfg(feature = "ndarray")]
    let (x, weight) = match specialised::<B, burn::backend::NdArray>(x, weight, geometry) {
        Ok(y) => return y,
        Err(args) => args,
    };
    burn_depthwise(x, weight, &geometry)
}

fn burn_depthwise<B: Backend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    g: &DwGeometry,
) -> Tensor<B, 4> {
    let options = ConvOptions::new(g.stride, g.padding, g.dilation, g.c);
    burn::tensor::module::conv2d(x, weight, None, options)
}

type Pair<B> = (Tensor<B, 4>, Tensor<B, 4>);

/// The native kernels when `B` is `I` or `Autodiff<I>`; the arguments back otherwise.
fn specialised<B: Backend, I: Backend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    geometry: DwGeometry,
) -> Result<Tensor<B, 4>, Pair<B>> {
    let (x, weight) = match same_type::<Pair<B>, Pair<I>>((x, weight)) {
        Ok((x, weight)) => {
            let y = native_forward::<I>(x, weight, &geometry);
            return Ok(cast_back::<I, B>(y));
        }
        Err(args) => args,
    };
    let (x, weight) = same_type::<Pair<B>, Pair<Autodiff<I>>>((x, weight))?;
    let y = depthwise_autodiff::<I>(x, weight, geometry);
    Ok(cast_back::<Autodiff<I>, B>(y))
}

/// Casts a result computed on `A` back to the caller's `B`, which is `A`.
fn cast_back<A: Backend, B: Backend>(y: Tensor<A, 4>) -> Tensor<B, 4> {
    match same_type::<Tensor<A, 4>, Tensor<B, 4>>(y) {
        Ok(y) => y,
        Err(_) => unreachable!("the inputs were cast from B to this backend"),
    }
}

/// The tensor's values on the host (f32, checked by the caller).
fn host<I: Backend>(t: Tensor<I, 4>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .into_vec::<f32>()
        .unwrap_or_default()
}

fn from_host<I: Backend>(values: Vec<f32>, shape: [usize; 4], device: &I::Device) -> Tensor<I, 4> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn native_forward<I: Backend>(
    x: Tensor<I, 4>,
    weight: Tensor<I, 4>,
    g: &DwGeometry,
) -> Tensor<I, 4> {
    let device = x.device();
    let [oh, ow] = g.out_size();
    let y = depthwise::forward(&host(x), &host(weight), g);
    from_host(y, [g.n, g.c, oh, ow], &device)
}

/// The depthwise convolution on `Autodiff<I>`, with the native backward.
fn depthwise_autodiff<I: Backend>(
    x: Tensor<Autodiff<I>, 4>,
    weight: Tensor<Autodiff<I>, 4>,
    geometry: DwGeometry,
) -> Tensor<Autodiff<I>, 4> {
    #[derive(Debug)]
    struct DepthwiseBackward;

    impl<I: Backend> Backward<I, 2> for DepthwiseBackward {
        type State = (NodeId, NodeId, DwGeometry);

        fn backward(
            self,
            ops: Ops<Self::State, 2>,
            grads: &mut Gradients,
            checkpointer: &mut Checkpointer,
        ) {
            let [node_x, node_weight] = ops.parents;
            let grad = float::<I>(grads.consume::<I>(&ops.node));
            let device = grad.device();
            let grad = host(grad);
            let (x_state, weight_state, g) = ops.state;
            if let Some(node) = node_x {
                let weight = float::<I>(checkpointer.retrieve_node_output(weight_state));
                let gx = depthwise::input_grad(&grad, &host(weight), &g);
                let gx = from_host::<I>(gx, [g.n, g.c, g.h, g.w], &device);
                grads.register::<I>(node.id, gx.into_primitive().tensor());
            }
            if let Some(node) = node_weight {
                let x = float::<I>(checkpointer.retrieve_node_output(x_state));
                let gw = depthwise::weight_grad(&host(x), &grad, &g);
                let gw = from_host::<I>(gw, [g.c, 1, g.kh, g.kw], &device);
                grads.register::<I>(node.id, gw.into_primitive().tensor());
            }
        }
    }

    let x = x.into_primitive().tensor();
    let weight = weight.into_primitive().tensor();
    let forward = |x: FloatTensor<I>, weight: FloatTensor<I>| {
        native_forward::<I>(float::<I>(x), float::<I>(weight), &geometry)
            .into_primitive()
            .tensor()
    };
    let out = match DepthwiseBackward
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

fn float<I: Backend>(t: FloatTensor<I>) -> Tensor<I, 4> {
    Tensor::from_primitive(TensorPrimitive::Float(t))
}
