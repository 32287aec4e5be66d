//! The weight-sharing supernets: [`MixedOp`] per edge, search cells, the DARTS, NAS-Bench-201
//! and MBConv supernets, and the [`SupernetForward`] trait every supernet implements.

mod cell;
mod error;
mod mbconv_supernet;
mod mixed_op;
mod network;
mod path;

pub use cell::{DartsSearchCell, Nb201SearchCell, Preprocess, ResidualBlock};
pub(crate) use cell::{nb201_cell_forward, residual_param_count, residual_specs};
pub use error::SuperNetError;
pub(crate) use mbconv_supernet::mbconv_ends;
pub use mbconv_supernet::{MbConvEdge, MbConvSuperNet, MbConvSuperNetConfig};
pub use mixed_op::{MixedOp, MixedOpConfig};
pub(crate) use network::is_reduction;
pub use network::{
    DartsSuperNet, DartsSuperNetConfig, Nb201Block, Nb201SuperNet, Nb201SuperNetConfig,
    SupernetForward, check_path,
};
pub use path::{EdgeChoice, Path};
