//! The stand-alone training protocol of a ground truth.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::FidelityError;
use crate::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec};
use crate::train::RetrainConfig;

/// How every architecture of a NAS-Bench-201 ground truth is trained: the network size,
/// the image resolution, the optimiser and its schedule, the augmentation. Everything
/// but the seed is fixed for a whole ground truth, and recorded beside it
/// (`protocol.json`) so that rows of two protocols are never mixed.
///
/// [`Default`] is the protocol of `data/fm-nb201/` (see its README).
///
/// ```
/// use tnd_nas::fidelity::GroundTruthProtocol;
/// let p = GroundTruthProtocol::default();
/// assert!(p.validate().is_ok());
/// let config = p.retrain_config(1);
/// assert_eq!((config.seed, config.epochs, config.auxiliary), (1, p.epochs, false));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroundTruthProtocol {
    /// Channels of the network's first stage.
    pub channels: usize,
    /// Cells per stage (three stages).
    pub cells: usize,
    /// Images are averaged down by this factor (2: 28x28 -> 14x14).
    pub downsample: usize,
    /// Training epochs over the whole training split.
    pub epochs: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Initial learning rate (cosine annealing to 0 over the epochs).
    pub lr: f64,
    /// SGD momentum.
    pub momentum: f64,
    /// Weight decay.
    pub weight_decay: f64,
    /// Global gradient-norm clip.
    pub grad_clip: Option<f64>,
    /// Zero padding of the random crop (0: no crop).
    pub crop_padding: usize,
    /// Random left-right flips.
    pub horizontal_flip: bool,
}

impl Default for GroundTruthProtocol {
    fn default() -> Self {
        Self {
            channels: 8,
            cells: 1,
            downsample: 2,
            epochs: 6,
            batch_size: 256,
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 5e-4,
            grad_clip: Some(5.0),
            crop_padding: 0,
            horizontal_flip: true,
        }
    }
}

/// The file beside a ground truth that records its protocol.
pub const PROTOCOL_FILE: &str = "protocol.json";

impl GroundTruthProtocol {
    /// Checks every value.
    ///
    /// # Errors
    /// [`FidelityError::Protocol`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), FidelityError> {
        for (field, v) in [
            ("channels", self.channels),
            ("cells", self.cells),
            ("downsample", self.downsample),
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
        ] {
            if v == 0 {
                return Err(FidelityError::Protocol {
                    field,
                    reason: "must be at least 1".into(),
                });
            }
        }
        self.retrain_config(0)
            .validate()
            .map_err(|e| FidelityError::Protocol {
                field: "training",
                reason: e.to_string(),
            })
    }

    /// The training settings of one run with `seed` (no auxiliary head, drop-path or
    /// cutout: the NAS-Bench-201 network has none).
    pub fn retrain_config(&self, seed: u64) -> RetrainConfig {
        RetrainConfig::default()
            .with_channels(self.channels)
            .with_layers(self.cells)
            .with_epochs(self.epochs)
            .with_batch_size(self.batch_size)
            .with_lr(self.lr)
            .with_momentum(self.momentum)
            .with_weight_decay(self.weight_decay)
            .with_grad_clip(self.grad_clip)
            .with_drop_path(0.0)
            .with_auxiliary(false)
            .with_cutout(None)
            .with_crop_padding(self.crop_padding)
            .with_horizontal_flip(self.horizontal_flip)
            .with_eval_every(0)
            .with_seed(seed)
    }

    /// The network every architecture is trained as, for images of `in_channels`
    /// channels and `classes` classes.
    pub fn network(&self, classes: usize, in_channels: usize) -> Nb201NetworkSpec {
        Nb201NetworkSpec::new(
            Nb201NetworkConfig::new(self.channels, self.cells, classes)
                .with_in_channels(in_channels),
        )
    }

    /// The protocol recorded in `dir/protocol.json`, if there is one.
    ///
    /// # Errors
    /// [`FidelityError::Io`] for a file that cannot be read or parsed.
    pub fn recorded(dir: &Path) -> Result<Option<Self>, FidelityError> {
        let path = dir.join(PROTOCOL_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let io = |e: &dyn std::fmt::Display| FidelityError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| io(&e))?;
        serde_json::from_str(&text).map(Some).map_err(|e| io(&e))
    }

    /// Writes the protocol to `dir/protocol.json` if there is none, or checks that the
    /// one there is this protocol.
    ///
    /// # Errors
    /// [`FidelityError::Protocol`] naming the first field that differs;
    /// [`FidelityError::Io`] for a file that cannot be read, parsed or written.
    pub fn record_or_check(&self, dir: &Path) -> Result<(), FidelityError> {
        let path = dir.join(PROTOCOL_FILE);
        let io = |e: &dyn std::fmt::Display| FidelityError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        if let Some(recorded) = Self::recorded(dir)? {
            let (a, b) = (
                serde_json::to_value(&recorded).map_err(|e| io(&e))?,
                serde_json::to_value(self).map_err(|e| io(&e))?,
            );
            if let (Some(a), Some(b)) = (a.as_object(), b.as_object())
                && let Some((field, was)) = a.iter().find(|(k, v)| b.get(*k) != Some(*v))
            {
                return Err(FidelityError::Protocol {
                    field: "protocol.json",
                    reason: format!(
                        "the ground truth there was trained with `{field}` = {was}, this run would use {}",
                        b.get(field)
                            .map_or("nothing".to_string(), |v| v.to_string())
                    ),
                });
            }
            return Ok(());
        }
        std::fs::create_dir_all(dir).map_err(|e| io(&e))?;
        let text = serde_json::to_string_pretty(self).map_err(|e| io(&e))?;
        crate::atomic_write::write(&path, text.as_bytes()).map_err(|e| io(&e))
    }
}
