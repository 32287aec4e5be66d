//! The MBConv chain space on the MobileNetV2 backbone (ProxylessNAS / FBNet style):
//! [`MbConvSpace`], its blocks ([`MbConvBlock`]), its supernet ([`MbConvSuperNet`]), its
//! evaluation network ([`MbConvNetwork`]), and how a search trains and scores it.

mod backbone;
mod block;
mod network;
mod scoring;
mod space;
mod supernet;

pub(crate) use backbone::MbConvEnds;
pub use backbone::{MbConvHead, MbConvStem};
pub use block::{MbConvBlock, MbConvBlockConfig};
pub use network::{MbConvNetwork, MbConvNetworkConfig, MbConvNetworkSpec};
pub use space::{
    BlockSlot, MBCONV_OPS, MOBILENET_V2_STAGES, MbConvPlan, MbConvSpace, MbConvSpaceConfig,
    make_divisible,
};
pub(crate) use supernet::mbconv_ends;
pub use supernet::{MbConvEdge, MbConvSuperNet, MbConvSuperNetConfig};
