//! What every weight-sharing supernet is made of: [`MixedOp`] per edge, [`Path`]s through
//! them, and the [`SupernetForward`] trait every supernet implements. The built-in
//! supernets live with their spaces in [`crate::spaces`].

mod error;
mod mixed_op;
mod network;
mod path;

pub use error::SuperNetError;
pub use mixed_op::{MixedOp, MixedOpConfig};
pub use network::{SupernetForward, check_path};
pub(crate) use network::{check_shape, global_pool};
pub use path::{EdgeChoice, Path};
