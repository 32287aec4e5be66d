//! One stage of progressive shrinking.

use serde::{Deserialize, Serialize};

/// One stage: the supernet's depth and width, how long it trains, and how many ops each
/// edge loses at its end.
///
/// ```
/// use tnd_nas::schedule::StageConfig;
/// let stage = StageConfig::new(5, vec![3, 2]).with_epochs(16, 8).with_channels(16);
/// assert_eq!(stage.search_epochs(), 8);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageConfig {
    /// Cells of the stage's supernet.
    pub cells: usize,
    /// Epochs of the stage (default 16).
    pub epochs: usize,
    /// Leading epochs that train only the weights (default 8).
    pub warmup_epochs: usize,
    /// Ops dropped per edge at the end of the stage, one count per cell type (in the
    /// order of [`crate::SearchSpace::cell_types`]), or a single count for all types.
    pub drops: Vec<usize>,
    /// Initial channels of the stage's supernet (default 16).
    pub channels: usize,
    /// Dropout rate on skip-connection outputs (P-DARTS; default 0).
    pub skip_dropout: f64,
}

impl StageConfig {
    /// A stage of `cells` cells dropping `drops` ops per edge (per cell type), with 16
    /// epochs of which 8 warm up, 16 channels and no skip dropout.
    pub fn new(cells: usize, drops: Vec<usize>) -> Self {
        Self {
            cells,
            epochs: 16,
            warmup_epochs: 8,
            drops,
            channels: 16,
            skip_dropout: 0.0,
        }
    }

    /// Sets the epochs and the warm-up epochs among them.
    pub fn with_epochs(mut self, epochs: usize, warmup_epochs: usize) -> Self {
        self.epochs = epochs;
        self.warmup_epochs = warmup_epochs;
        self
    }

    crate::setters! {
        /// Sets the initial channels.
        with_channels => channels: usize;
        /// Sets the skip-connection dropout rate.
        with_skip_dropout => skip_dropout: f64;
    }

    /// Epochs that update alpha (after the warm-up).
    pub fn search_epochs(&self) -> usize {
        self.epochs.saturating_sub(self.warmup_epochs)
    }

    /// The drop count for cell type `cell`.
    pub fn drops_for(&self, cell: usize) -> usize {
        match self.drops.as_slice() {
            [one] => *one,
            many => many.get(cell).copied().unwrap_or(0),
        }
    }
}
