//! Dispatch to the native f32 kernels on the bundled CPU backends.
//!
//! A [`NativeOp`] has a form that runs on the host buffers of Flex and NdArray (with or
//! without `Autodiff`) and a burn fallback for every other backend (CUDA included).
//! [`run`] picks the form by a type check on the backend, so callers stay generic over
//! `B: Backend` and no public signature names a concrete backend.

use std::any::Any;
use std::ops::Deref;

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::ops::{Backward, OpsKind};
use burn::tensor::ops::FloatTensor;
use burn::tensor::{Tensor, TensorData, TensorPrimitive, backend::Backend};

/// A tensor's f32 values, contiguous, borrowed from the backend where it allows that.
pub(crate) enum HostValues {
    /// A copy.
    Owned(Vec<f32>),
    /// A contiguous Flex tensor whose buffer is read in place.
    #[cfg(feature = "flex")]
    Flex(burn_flex::FlexTensor),
    /// An f32 NdArray tensor in standard layout, read in place.
    #[cfg(feature = "ndarray")]
    NdArray(burn_ndarray::NdArrayTensor),
}

impl Deref for HostValues {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        match self {
            HostValues::Owned(v) => v,
            #[cfg(feature = "flex")]
            HostValues::Flex(t) => t.storage::<f32>(),
            // Only built for f32 tensors in standard layout (see `NativeCpu for NdArray`).
            #[cfg(feature = "ndarray")]
            HostValues::NdArray(burn_ndarray::NdArrayTensor::F32(s)) => {
                s.view().to_slice().unwrap_or_default()
            }
            #[cfg(feature = "ndarray")]
            HostValues::NdArray(_) => &[],
        }
    }
}

/// A CPU backend whose f32 buffers the native kernels read and write.
pub(crate) trait NativeCpu: Backend {
    /// The values of an f32 tensor (checked by the caller), row-major.
    fn values(t: FloatTensor<Self>) -> HostValues {
        copied_values::<Self>(t)
    }

    /// A tensor holding `values` (row-major, `shape`).
    fn tensor<const D: usize>(
        values: Vec<f32>,
        shape: [usize; D],
        device: &Self::Device,
    ) -> FloatTensor<Self> {
        Tensor::<Self, D>::from_data(TensorData::new(values, shape), device)
            .into_primitive()
            .tensor()
    }
}

#[cfg(feature = "flex")]
impl NativeCpu for burn::backend::Flex {
    fn values(t: FloatTensor<Self>) -> HostValues {
        // Zero-copy when the tensor is already contiguous (the common case).
        HostValues::Flex(t.to_contiguous())
    }
}

#[cfg(feature = "ndarray")]
impl NativeCpu for burn::backend::NdArray {
    fn values(t: FloatTensor<Self>) -> HostValues {
        if let burn_ndarray::NdArrayTensor::F32(s) = &t
            && s.view().to_slice().is_some()
        {
            return HostValues::NdArray(t);
        }
        copied_values::<Self>(t)
    }
}

/// The values of an f32 tensor, copied out through `into_data`.
fn copied_values<I: Backend>(t: FloatTensor<I>) -> HostValues {
    HostValues::Owned(
        float::<I, 4>(t)
            .into_data()
            .into_vec::<f32>()
            .unwrap_or_default(),
    )
}

/// An op with native kernels on the bundled CPU backends and a burn fallback elsewhere.
pub(crate) trait NativeOp: Sized {
    /// The op's tensor inputs on backend `B`.
    type Inputs<B: Backend>: 'static;

    /// Whether every input is f32, the kernels' only element type.
    fn all_f32<B: Backend>(inputs: &Self::Inputs<B>) -> bool;

    /// The native kernels, no gradient tracking.
    fn native<I: NativeCpu>(self, inputs: Self::Inputs<I>) -> Tensor<I, 4>;

    /// The native kernels, wired into burn's autodiff graph with a native backward.
    fn tracked<I: NativeCpu>(self, inputs: Self::Inputs<Autodiff<I>>) -> Tensor<Autodiff<I>, 4>;

    /// Burn's own ops, for every other backend and element type.
    fn fallback<B: Backend>(self, inputs: Self::Inputs<B>) -> Tensor<B, 4>;
}

/// Runs `op` on `inputs`: natively on Flex and NdArray (f32), by the fallback elsewhere.
pub(crate) fn run<B: Backend, O: NativeOp>(op: O, inputs: O::Inputs<B>) -> Tensor<B, 4> {
    if !O::all_f32::<B>(&inputs) {
        return op.fallback(inputs);
    }
    #[cfg(feature = "flex")]
    let (op, inputs) = match on::<B, burn::backend::Flex, O>(op, inputs) {
        Ok(y) => return y,
        Err(args) => args,
    };
    #[cfg(feature = "ndarray")]
    let (op, inputs) = match on::<B, burn::backend::NdArray, O>(op, inputs) {
        Ok(y) => return y,
        Err(args) => args,
    };
    op.fallback(inputs)
}

/// `op` natively when `B` is `I` or `Autodiff<I>`; the arguments back otherwise.
#[allow(clippy::type_complexity)]
fn on<B: Backend, I: NativeCpu, O: NativeOp>(
    op: O,
    inputs: O::Inputs<B>,
) -> Result<Tensor<B, 4>, (O, O::Inputs<B>)> {
    let inputs = match same_type::<O::Inputs<B>, O::Inputs<I>>(inputs) {
        Ok(inputs) => return Ok(cast_back::<I, B>(op.native(inputs))),
        Err(inputs) => inputs,
    };
    match same_type::<O::Inputs<B>, O::Inputs<Autodiff<I>>>(inputs) {
        Ok(inputs) => Ok(cast_back::<Autodiff<I>, B>(op.tracked(inputs))),
        Err(inputs) => Err((op, inputs)),
    }
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

/// Casts a result computed on `A` back to the caller's `B`, which is `A`.
fn cast_back<A: Backend, B: Backend>(y: Tensor<A, 4>) -> Tensor<B, 4> {
    match same_type::<Tensor<A, 4>, Tensor<B, 4>>(y) {
        Ok(y) => y,
        Err(_) => unreachable!("the inputs were cast from B to this backend"),
    }
}

/// A float primitive as a tensor of rank `D`.
pub(crate) fn float<I: Backend, const D: usize>(t: FloatTensor<I>) -> Tensor<I, D> {
    Tensor::from_primitive(TensorPrimitive::Float(t))
}

/// A one-input op on `Autodiff<I>`: `forward` computes the output and the state the
/// backward step `op` needs (the state is dropped when `x` is not tracked).
pub(crate) fn unary_tracked<I, Op, F>(
    op: Op,
    x: Tensor<Autodiff<I>, 4>,
    forward: F,
) -> Tensor<Autodiff<I>, 4>
where
    I: Backend,
    Op: Backward<I, 1>,
    F: FnOnce(FloatTensor<I>) -> (FloatTensor<I>, Op::State),
{
    let x = x.into_primitive().tensor();
    let out = match op
        .prepare::<NoCheckpointing>([x.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let (y, state) = forward(x.primitive);
            prep.finish(state, y)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(x.primitive).0),
    };
    Tensor::from_primitive(TensorPrimitive::Float(out))
}
