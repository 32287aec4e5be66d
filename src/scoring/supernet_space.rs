//! The spaces a supernet can hold: the `SupernetSpace` trait. The built-in spaces
//! implement it in their folders of [`crate::spaces`].

use std::sync::Arc;

use burn::module::{AutodiffModule, Module};
use burn::tensor::backend::{AutodiffBackend, Backend};
use serde::{Deserialize, Serialize};

use crate::network::EvalNetworkSpec;
use crate::schedule::StageConfig;
use crate::supernet::{SuperNetError, SupernetForward};
use crate::{OpKind, SearchSpace};

/// The shape of the data a network is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataShape {
    /// Number of classes.
    pub classes: usize,
    /// Image channels (3 for CIFAR, 1 for Fashion-MNIST).
    pub channels: usize,
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
}

/// A space whose architectures a weight-sharing supernet can hold: it says how to build
/// a stage's supernet over the active candidates, and which evaluation network (with its
/// parameter and MAC counts) an architecture stands for. [`DartsSpace`](crate::spaces::darts::DartsSpace),
/// [`Nb201Space`](crate::spaces::nb201::Nb201Space) and [`crate::spaces::mbconv::MbConvSpace`] implement it; so can a space of
/// your own, with ops of your own ([`OpKind::user`]): see `docs/writing-a-search-space.md`
/// and `tests/user_space.rs`.
///
/// ```
/// use tnd_nas::spaces::nb201::Nb201NetworkConfig;
/// use tnd_nas::scoring::{DataShape, SupernetSpace};
/// use tnd_nas::schedule::StageConfig;
/// use tnd_nas::spaces::nb201::Nb201Space;
/// use tnd_nas::supernet::SupernetForward;
/// use tnd_nas::{Architecture, OpKind, SearchSpace};
/// type B = burn::backend::NdArray;
///
/// let space = Nb201Space::new();
/// let data = DataShape { classes: 10, channels: 1, height: 28, width: 28 };
/// let stage = StageConfig::new(1, vec![0]).with_channels(4);
/// let net = space.supernet::<B>(&stage, &space.all_candidates(), &data, &Default::default())?;
/// assert_eq!(net.num_edges(), 6);
/// let arch = Architecture::new(vec![OpKind::NorConv3x3; 6]);
/// // The default evaluation network: NAS-Bench-201 at C = 16, 5 cells per stage.
/// let expected = Nb201NetworkConfig::new(16, 5, 10).with_in_channels(1)
///     .param_count(&space.genotype(&arch)?);
/// assert_eq!(space.network(&data).param_count(&arch)?, expected);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait SupernetSpace: SearchSpace + Clone + 'static {
    /// The supernet module of a stage.
    type Supernet<B: Backend>: Module<B> + SupernetForward<B>;

    /// The supernet of `stage` (its depth `cells`, width `channels`, `skip_dropout`) over
    /// the `active` ops of every edge, for `data`.
    ///
    /// # Errors
    /// [`SuperNetError::InvalidConfig`] naming what cannot be built.
    fn supernet<B: Backend>(
        &self,
        stage: &StageConfig,
        active: &[Vec<OpKind>],
        data: &DataShape,
        device: &B::Device,
    ) -> Result<Self::Supernet<B>, SuperNetError>;

    /// The evaluation network the objectives measure by default for `data`.
    fn network(&self, data: &DataShape) -> Arc<dyn EvalNetworkSpec>;
}

/// A supernet a search can train on an autodiff backend `B` and score on its inner
/// backend; every `#[derive(Module)]` type that implements [`SupernetForward`] for any
/// backend is one.
pub trait TrainableSupernet<B: AutodiffBackend>:
    AutodiffModule<B, InnerModule: SupernetForward<B::InnerBackend>> + SupernetForward<B>
{
}

impl<B, M> TrainableSupernet<B> for M
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + SupernetForward<B>,
    M::InnerModule: SupernetForward<B::InnerBackend>,
{
}
