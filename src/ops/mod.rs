//! Candidate operations: the [`OpKind`] names, the [`OpConfig`] that builds an [`Op`]
//! module, and the building blocks (BN without affine parameters, FactorizedReduce, ...),
//! with native CPU kernels for the convolutions, pools and normalisations that dominate
//! a supernet step ([`conv2d`], [`max_pool2d`], [`avg_pool2d`]).

mod batch_norm;
mod batch_stats;
mod candidate;
mod conv;
mod depthwise;
mod grad_clip;
mod kernels;
mod kind;
mod native;
mod param_count;
mod pool;
mod simd;
mod weighted_sum;

pub use batch_norm::{BatchNorm2d, BatchNorm2dConfig};
pub use candidate::{AvgPoolBn, Identity, MaxPoolBn, Op, OpConfig, SepConv, Zero};
#[allow(unused_imports)]
pub(crate) use conv::{ConvSpec, factorized_reduce_macs, factorized_reduce_specs};
pub use conv::{DwPwBn, FactorizedReduce, ReluConvBn};
pub use grad_clip::{clip_grad_norm, grad_norm};
pub use kernels::conv2d;
pub use kind::OpKind;
pub use param_count::{materialize, trainable_params};
pub use pool::{avg_pool2d, max_pool2d};
pub(crate) use weighted_sum::weighted_sum;
