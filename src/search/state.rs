//! The serialisable position of a search.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{SearchConfig, StageSummary};
use crate::objective::ParetoArchive;
use crate::policy::ReinforceUpdater;
use crate::schedule::ShrinkSchedule;

/// What identifies the training data a search runs on (checked on resume).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFingerprint {
    /// Dataset name.
    pub name: String,
    /// Number of images.
    pub images: usize,
    /// `[channels, height, width]`.
    pub shape: [usize; 3],
    /// Number of classes.
    pub classes: usize,
}

/// Everything besides the weights and optimiser state needed to continue a search
/// exactly: the schedule, the updater (alpha, Adam, baseline, RNG), the archive, the
/// position (stage, epoch, step) and the data and path RNG positions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchState {
    /// Format version.
    pub version: u32,
    /// The space's identifier.
    pub space_id: String,
    /// The configuration the search was started with.
    pub config: SearchConfig,
    /// The training data.
    pub data: DataFingerprint,
    /// Objective names, in order.
    pub objectives: Vec<String>,
    /// The shrinking schedule.
    pub schedule: ShrinkSchedule,
    /// The alpha updater.
    pub updater: ReinforceUpdater,
    /// Every scored sample.
    pub archive: ParetoArchive,
    /// Completed epochs of the current stage.
    pub epoch: usize,
    /// Completed steps of the current epoch.
    pub step_in_epoch: usize,
    /// Steps since the search began.
    pub global_step: u64,
    /// Steps of the current stage after its warm-up (alpha updates every k of them).
    pub search_steps: u64,
    /// Validation batches consumed so far.
    pub valid_cursor: u64,
    /// RNG of single-path sampling.
    pub path_rng: ChaCha8Rng,
    /// Finished stages.
    pub stages: Vec<StageSummary>,
    /// Wall time spent so far (seconds), across resumes.
    pub elapsed_seconds: f64,
    /// Training-loss sum and batch count of the current epoch (for the epoch record).
    pub epoch_loss: (f64, f64, usize),
}

pub(crate) const STATE_VERSION: u32 = 1;
