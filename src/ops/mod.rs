//! Candidate operations: the [`OpKind`] names, the [`OpConfig`] that builds an [`Op`]
//! module, and the building blocks (BN without affine parameters, FactorizedReduce, ...),
//! with native CPU kernels for the convolutions, pools and normalisations that dominate
//! a supernet step ([`conv2d`], [`max_pool2d`], [`avg_pool2d`]).

mod batch_norm;
mod candidate;
mod conv;
mod error;
mod kind;
mod relu;
mod trainable_params;

pub use crate::kernels::conv2d;
pub(crate) use crate::kernels::weighted_sum;
pub use crate::kernels::{avg_pool2d, linear, max_pool2d, renormalize, with_weight_tangents};
pub use batch_norm::{BatchNorm2d, BatchNorm2dConfig, with_batch_statistics, without_batch_norm};
pub use candidate::{AvgPoolBn, Identity, MaxPoolBn, Op, OpConfig, SepConv, Zero};
#[allow(unused_imports)]
pub(crate) use conv::{ConvSpec, factorized_reduce_macs, factorized_reduce_specs};
pub use conv::{DwPwBn, FactorizedReduce, ReluConvBn};
pub use error::OpError;
pub use kind::{OpKind, UserOp};
pub use relu::{CodeKernel, relu, relu6, with_relu_codes};
pub use trainable_params::{materialize, seeded_module, trainable_params};
