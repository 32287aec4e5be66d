//! What an evaluator reports while it advances: records the executor turns into
//! [`SearchEvent`](crate::observe::SearchEvent)s for the observers.

use serde::{Deserialize, Serialize};

/// One logged weight-training step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Stage index.
    pub stage: usize,
    /// Epoch within the stage.
    pub epoch: usize,
    /// Step within the epoch.
    pub step: usize,
    /// Steps since the search began.
    pub global_step: u64,
    /// Cross-entropy of the batch.
    pub loss: f64,
    /// Accuracy of the batch (percent).
    pub train_acc: f64,
    /// Learning rate.
    pub lr: f64,
    /// Wall time of the step (milliseconds, data waiting included).
    pub step_ms: f64,
    /// Training images per second of the step.
    pub images_per_sec: f64,
}

/// The end of a weight-training epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// Stage index.
    pub stage: usize,
    /// Epoch within the stage.
    pub epoch: usize,
    /// Mean training loss of the epoch.
    pub loss: f64,
    /// Mean training accuracy of the epoch (percent).
    pub train_acc: f64,
    /// Wall time of the epoch (seconds).
    pub seconds: f64,
}

/// What an evaluator reports when a stage opens
/// ([`Evaluator::begin_stage`](super::Evaluator::begin_stage)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageReport {
    /// Trainable parameters of the stage's supernet (0 without one).
    pub supernet_params: usize,
    /// Where the evaluator trains weights over epochs: the stage's training plan, which
    /// the executor reports as a
    /// [`SearchEvent::StageStart`](crate::observe::SearchEvent::StageStart); `None`
    /// for an evaluator that trains nothing (nothing is reported).
    pub training: Option<StageTraining>,
}

/// A training evaluator's plan for the stage it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageTraining {
    /// Weight steps per epoch.
    pub steps_per_epoch: usize,
    /// Epoch the stage starts (or resumes) at.
    pub from_epoch: usize,
}
