//! What the cell supernets share: the [`SupernetForward`] trait, the path check, the
//! shape checks and the closing global pool.

use burn::tensor::{Tensor, backend::Backend};

use super::SuperNetError;
use super::path::Path;
use crate::OpKind;

/// The checks both cell supernets share.
pub(crate) fn check_shape(
    sizes: &[(&str, usize)],
    active: &[Vec<OpKind>],
    edges: usize,
    skip_dropout: f64,
) -> Result<(), SuperNetError> {
    let bad = |m: String| Err(SuperNetError::InvalidConfig(m));
    if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
        return bad(format!("{name} must be positive"));
    }
    if active.len() != edges {
        return bad(format!(
            "{} active-op lists for {edges} edges",
            active.len()
        ));
    }
    if let Some(e) = active.iter().position(Vec::is_empty) {
        return bad(format!("edge {e} has no active op"));
    }
    if let Some(op) = active
        .iter()
        .flatten()
        .find(|op| op.is_mbconv() || op.is_user())
    {
        return bad(format!(
            "op `{op}` cannot be built in a cell supernet (MBConv blocks and user ops are built by their own spaces)"
        ));
    }
    if !(0.0..1.0).contains(&skip_dropout) {
        return bad(format!("skip_dropout {skip_dropout} is not in [0, 1)"));
    }
    Ok(())
}

/// A supernet a search trains: classifies a batch along a [`Path`] through its mixed ops.
/// The built-in spaces' supernets implement it
/// ([`DartsSuperNet`](crate::spaces::darts::DartsSuperNet),
/// [`Nb201SuperNet`](crate::spaces::nb201::Nb201SuperNet),
/// [`MbConvSuperNet`](crate::spaces::mbconv::MbConvSuperNet)); so does the supernet of a
/// space of your own ([`crate::scoring::SupernetSpace`]).
///
/// # Shapes
/// - input `[n, in_channels, h, w]`, output logits `[n, classes]`
pub trait SupernetForward<B: Backend> {
    /// Number of edges a [`Path`] must cover (the space's edges).
    fn num_edges(&self) -> usize;

    /// The active ops of every edge.
    fn active_ops(&self) -> Vec<Vec<OpKind>>;

    /// Classifies a batch along `path`.
    ///
    /// # Errors
    /// [`SuperNetError::PathMismatch`] if the path does not fit the edges.
    fn forward_path(&self, x: Tensor<B, 4>, path: &Path) -> Result<Tensor<B, 2>, SuperNetError>;
}

/// Checks that `path` covers the `edges` of a supernet.
///
/// # Errors
/// [`SuperNetError::PathMismatch`] naming both lengths.
pub fn check_path(path: &Path, edges: usize) -> Result<(), SuperNetError> {
    if path.len() != edges {
        return Err(SuperNetError::PathMismatch(format!(
            "path covers {} edges, the supernet has {edges}",
            path.len()
        )));
    }
    Ok(())
}

/// Global average pool of `[n, c, h, w]` features to `[n, c]`.
pub(crate) fn global_pool<B: Backend>(features: Tensor<B, 4>) -> Tensor<B, 2> {
    features.mean_dim(3).mean_dim(2).flatten::<2>(1, 3)
}
