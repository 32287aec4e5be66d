//! The weight-sharing supernet: [`MixedOp`] per edge, search cells, [`SuperNet`].

mod cell;
mod error;
mod mixed_op;
mod network;
mod path;

pub use cell::{DartsSearchCell, Nb201SearchCell, Preprocess, ResidualBlock};
pub(crate) use cell::{residual_param_count, residual_specs};
pub use error::SuperNetError;
pub use mixed_op::{MixedOp, MixedOpConfig};
pub(crate) use network::is_reduction;
pub use network::{
    DartsSuperNet, Nb201Block, Nb201SuperNet, SuperNet, SuperNetConfig, SuperNetKind,
};
pub use path::Path;
