//! What an architecture stands for: an evaluation network that can be counted and built.

use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};

use super::NetworkError;
use crate::Architecture;
use crate::space::SpaceError;

/// The evaluation network an architecture stands for, as far as the objectives need it:
/// its trainable parameters and MACs, counted without tensors. Put one in the
/// [`crate::objective::ObjectiveContext`]; a [`crate::scoring::SupernetSpace`] names its
/// default one.
///
/// Implement it for a space of your own (see `docs/writing-a-search-space.md`); the
/// built-in ones are [`crate::spaces::darts::DartsNetworkSpec`],
/// [`crate::spaces::nb201::Nb201NetworkSpec`] and [`crate::spaces::mbconv::MbConvNetworkSpec`].
///
/// ```
/// use tnd_nas::network::{EvalNetworkSpec};
/// use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec};
/// use tnd_nas::spaces::nb201::Nb201Space;
/// let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10));
/// let arch = Nb201Space::new().parse(
///     "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")?;
/// assert_eq!(spec.param_count(&arch)?, 802_426);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait EvalNetworkSpec: std::fmt::Debug + Send + Sync {
    /// Trainable parameters of the network of `arch`.
    ///
    /// # Errors
    /// [`SpaceError`] if `arch` does not belong to the space.
    fn param_count(&self, arch: &Architecture) -> Result<u64, SpaceError>;

    /// Multiply-accumulates of one forward pass of one `input x input` image.
    ///
    /// # Errors
    /// [`SpaceError`] if `arch` does not belong to the space.
    fn macs(&self, arch: &Architecture, input: usize) -> Result<u64, SpaceError>;

    /// Image channels the network takes.
    fn in_channels(&self) -> usize;
}

/// A network that classifies a batch of images.
///
/// # Shapes
/// - input `[n, channels, h, w]`, output logits `[n, classes]`
pub trait ImageClassifier<B: Backend> {
    /// The logits of a batch.
    fn classify(&self, x: Tensor<B, 4>) -> Tensor<B, 2>;

    /// The training forward pass at drop-path probability `drop_prob`: the logits and,
    /// for a network with an auxiliary head, the auxiliary logits. Networks without
    /// drop-path or an auxiliary head keep the default, [`classify`](Self::classify)
    /// and no auxiliary logits.
    fn classify_train(
        &self,
        x: Tensor<B, 4>,
        drop_prob: f64,
    ) -> (Tensor<B, 2>, Option<Tensor<B, 2>>) {
        let _ = drop_prob;
        (self.classify(x), None)
    }
}

/// An [`EvalNetworkSpec`] that can also build its network as a burn module (used by
/// [`crate::objective::ForwardProbe`] to time it, and by retraining).
pub trait BuildNetwork: EvalNetworkSpec {
    /// The module built.
    type Network<B: Backend>: Module<B> + ImageClassifier<B>;

    /// Builds the network of `arch` on `device`.
    ///
    /// # Errors
    /// [`NetworkError`] for an architecture of another space or a configuration that cannot
    /// be built.
    fn build<B: Backend>(
        &self,
        arch: &Architecture,
        device: &B::Device,
    ) -> Result<Self::Network<B>, NetworkError>;
}
