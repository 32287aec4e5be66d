//! Native CPU kernels with their backward passes: depthwise and dense convolution, pooling,
//! batch-statistics normalisation and the weighted sum of a mixed op, on Flex and NdArray
//! (f32); every other backend takes burn's own ops. [`conv2d`] routes a convolution to
//! the native kernels where they apply.

mod batch_stats;
mod conv_route;
mod dense;
mod depthwise;
mod native;
mod pool;
mod simd;
mod tangent;
mod weighted_terms;

pub(crate) use batch_stats::{batch_moments, normalize_batch_stats};
pub use conv_route::conv2d;
pub(crate) use conv_route::relu_conv2d;
pub use pool::{avg_pool2d, max_pool2d};
pub use tangent::{linear, renormalize, with_weight_tangents};
pub(crate) use tangent::{relu as relu_tangent, relu6 as relu6_tangent, tangents_active};
pub(crate) use weighted_terms::weighted_sum;
