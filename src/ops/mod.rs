//! Candidate operations: the [`OpKind`] names, the [`OpConfig`] that builds an [`Op`]
//! module, and the building blocks (BN without affine parameters, FactorizedReduce, ...).

mod batch_norm;
mod candidate;
mod conv;
mod depthwise;
mod grad_clip;
mod kernels;
mod kind;
mod param_count;

pub use batch_norm::{BatchNorm2d, BatchNorm2dConfig};
pub use candidate::{AvgPoolBn, Identity, MaxPoolBn, Op, OpConfig, SepConv, Zero};
#[allow(unused_imports)]
pub(crate) use conv::{ConvSpec, factorized_reduce_macs, factorized_reduce_specs};
pub use conv::{DwPwBn, FactorizedReduce, ReluConvBn};
pub use grad_clip::{clip_grad_norm, grad_norm};
pub use kernels::conv2d;
pub use kind::OpKind;
pub use param_count::{materialize, trainable_params};
