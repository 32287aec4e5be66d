//! The evaluation network that an architecture stands for.

use super::ObjectiveError;
use crate::Architecture;
use crate::eval::{EvalNetworkConfig, Nb201NetworkConfig};
use crate::space::{DartsSpace, Nb201Space};

/// Which evaluation network the objectives measure: a DARTS-space network (the space
/// turns an architecture into a genotype, the config builds it) or a NAS-Bench-201
/// network. Put it in the [`crate::objective::ObjectiveContext`].
///
/// ```
/// use tnd_nas::eval::Nb201NetworkConfig;
/// use tnd_nas::objective::EvalNetworkSpec;
/// use tnd_nas::space::Nb201Space;
/// let spec = EvalNetworkSpec::Nb201 { network: Nb201NetworkConfig::new(16, 5, 10) };
/// let arch = Nb201Space::new().parse(
///     "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")?;
/// assert_eq!(spec.param_count(&arch)?, 802_426);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub enum EvalNetworkSpec {
    /// A DARTS evaluation network (`NetworkCIFAR`) of architectures of `space`.
    Darts {
        /// The space the architectures come from (maps them to genotypes).
        space: DartsSpace,
        /// The network built from the genotype.
        network: EvalNetworkConfig,
    },
    /// A NAS-Bench-201 network.
    Nb201 {
        /// The network built from the cell.
        network: Nb201NetworkConfig,
    },
}

impl EvalNetworkSpec {
    /// Trainable parameters of the evaluation network of `arch`.
    ///
    /// # Errors
    /// [`ObjectiveError::Space`] if `arch` does not belong to the space.
    pub fn param_count(&self, arch: &Architecture) -> Result<u64, ObjectiveError> {
        Ok(match self {
            EvalNetworkSpec::Darts { space, network } => {
                network.param_count(&space.genotype(arch)?)
            }
            EvalNetworkSpec::Nb201 { network } => {
                network.param_count(&Nb201Space::new().genotype(arch)?)
            }
        })
    }

    /// Multiply-accumulates of one forward pass of one `input x input` image.
    ///
    /// # Errors
    /// [`ObjectiveError::Space`] if `arch` does not belong to the space.
    pub fn macs(&self, arch: &Architecture, input: usize) -> Result<u64, ObjectiveError> {
        Ok(match self {
            EvalNetworkSpec::Darts { space, network } => {
                network.macs(&space.genotype(arch)?, input)
            }
            EvalNetworkSpec::Nb201 { network } => {
                network.macs(&Nb201Space::new().genotype(arch)?, input)
            }
        })
    }

    /// Image channels the network takes.
    pub fn in_channels(&self) -> usize {
        match self {
            EvalNetworkSpec::Darts { network, .. } => network.in_channels,
            EvalNetworkSpec::Nb201 { network } => network.in_channels,
        }
    }
}
