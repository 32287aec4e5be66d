//! Configuration of a [`BatchLoader`](super::BatchLoader).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{AugmentConfig, BatchLoader, DataError, ImageDataset};

/// Configuration of a [`BatchLoader`]: batch size, order, augmentation, seed and
/// prefetching.
///
/// The augmentation defaults to [`AugmentConfig::none`] (plain evaluation batches);
/// set a training augmentation with [`with_augment`](Self::with_augment).
///
/// ```
/// use tnd_nas::data::{AugmentConfig, BatchLoaderConfig, Normalization};
///
/// let config = BatchLoaderConfig::new(64)
///     .with_seed(7)
///     .with_workers(2)
///     .with_augment(AugmentConfig::default().with_normalization(Some(Normalization::cifar10())));
/// assert!(config.shuffle && !config.drop_last);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchLoaderConfig {
    /// Images per batch (the last batch may be smaller unless `drop_last`).
    pub batch_size: usize,
    /// Whether to visit the images in a fresh seeded random order every epoch.
    pub shuffle: bool,
    /// Whether to skip a last, incomplete batch.
    pub drop_last: bool,
    /// Seed of the order and of the augmentation.
    pub seed: u64,
    /// Number of prefetch worker threads (at least 1). Results do not depend on it.
    pub workers: usize,
    /// Number of finished batches each worker may queue ahead (at least 1).
    pub prefetch: usize,
    /// The per-image augmentation and normalisation.
    pub augment: AugmentConfig,
}

impl Default for BatchLoaderConfig {
    fn default() -> Self {
        Self {
            batch_size: 64,
            shuffle: true,
            drop_last: false,
            seed: 0,
            workers: 1,
            prefetch: 2,
            augment: AugmentConfig::none(),
        }
    }
}

impl BatchLoaderConfig {
    /// Shuffled batches of `batch_size` images, seed 0, one worker, no augmentation.
    pub fn new(batch_size: usize) -> Self {
        Self {
            batch_size,
            ..Self::default()
        }
    }

    crate::setters! {
        /// Sets [`shuffle`](Self::shuffle).
        with_shuffle => shuffle: bool;
        /// Sets [`drop_last`](Self::drop_last).
        with_drop_last => drop_last: bool;
        /// Sets [`seed`](Self::seed).
        with_seed => seed: u64;
        /// Sets [`workers`](Self::workers).
        with_workers => workers: usize;
        /// Sets [`prefetch`](Self::prefetch).
        with_prefetch => prefetch: usize;
        /// Sets [`augment`](Self::augment).
        with_augment => augment: AugmentConfig;
    }

    /// Checks the configuration against `dataset` and builds the loader.
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidConfig`] if `batch_size`, `workers` or `prefetch` is 0 or
    /// the augmentation does not fit the images (see [`AugmentConfig::init`]) or,
    /// with `drop_last`, the dataset is smaller than one batch;
    /// [`DataError::EmptyDataset`] if `dataset` is empty.
    pub fn init(&self, dataset: impl Into<Arc<ImageDataset>>) -> Result<BatchLoader, DataError> {
        let dataset = dataset.into();
        for (field, value) in [
            ("batch_size", self.batch_size),
            ("workers", self.workers),
            ("prefetch", self.prefetch),
        ] {
            if value == 0 {
                return Err(DataError::config(field, "must be at least 1"));
            }
        }
        if dataset.is_empty() {
            return Err(DataError::EmptyDataset {
                name: dataset.name().to_owned(),
            });
        }
        if self.drop_last && dataset.len() < self.batch_size {
            return Err(DataError::config(
                "batch_size",
                format!(
                    "{} exceeds the {} images of `{}`, so drop_last leaves no batch",
                    self.batch_size,
                    dataset.len(),
                    dataset.name()
                ),
            ));
        }
        let augmentation = self.augment.init(dataset.shape())?;
        Ok(BatchLoader::new(dataset, augmentation, self.clone()))
    }
}
