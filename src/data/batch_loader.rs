//! Deterministic, resumable, prefetching batches over an [`ImageDataset`].

use std::sync::Arc;

use super::batch_plan::BatchPlan;
use super::{Augmentation, BatchLoaderConfig, DataError, EpochBatches, ImageBatch, ImageDataset};

/// Yields the batches of a dataset epoch by epoch, built by [`BatchLoaderConfig::init`].
///
/// The order and augmentation of epoch `e` are a pure function of `(seed, e)`: a
/// resumed search that asks for the same epoch (or for the same epoch from batch `k`
/// on, with [`epoch_from`](Self::epoch_from)) sees exactly the same batches. The
/// number of worker threads changes speed, never results.
///
/// ```
/// use tnd_nas::data::{BatchLoaderConfig, ImageDataset, ImageShape};
///
/// # fn main() -> Result<(), tnd_nas::data::DataError> {
/// let data = ImageDataset::new("toy", ImageShape::new(1, 2, 2), 2, vec![7; 40], vec![0, 1].repeat(5))?;
/// let loader = BatchLoaderConfig::new(4).with_seed(1).init(data)?;
/// assert_eq!(loader.batches_per_epoch(), 3);
/// let sizes: Vec<usize> = loader.epoch(0)?.map(|b| b.len()).collect();
/// assert_eq!(sizes, [4, 4, 2]);
///
/// // Resume epoch 0 at batch 2: the same batch as before.
/// let resumed = loader.epoch_from(0, 2)?.next();
/// assert_eq!(resumed, loader.epoch(0)?.nth(2));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct BatchLoader {
    plan: Arc<BatchPlan>,
}

impl BatchLoader {
    pub(crate) fn new(
        dataset: Arc<ImageDataset>,
        augmentation: Augmentation,
        config: BatchLoaderConfig,
    ) -> Self {
        Self {
            plan: Arc::new(BatchPlan {
                dataset,
                augmentation,
                config,
            }),
        }
    }

    /// The dataset being batched.
    pub fn dataset(&self) -> &Arc<ImageDataset> {
        &self.plan.dataset
    }

    /// The configuration the loader was built from.
    pub fn config(&self) -> &BatchLoaderConfig {
        &self.plan.config
    }

    /// Number of batches per epoch.
    pub fn batches_per_epoch(&self) -> usize {
        self.plan.batches_per_epoch()
    }

    /// Number of images visited per epoch (all of them unless `drop_last`).
    pub fn samples_per_epoch(&self) -> usize {
        self.plan.samples_per_epoch()
    }

    /// The order in which epoch `epoch` visits the dataset: a permutation of its
    /// indices (the identity without shuffling); with `drop_last` the tail is skipped.
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        self.plan.order(epoch)
    }

    /// All batches of epoch `epoch`.
    ///
    /// # Errors
    ///
    /// [`DataError::Thread`] if a worker thread cannot be started.
    pub fn epoch(&self, epoch: u64) -> Result<EpochBatches, DataError> {
        self.epoch_from(epoch, 0)
    }

    /// The batches of epoch `epoch` from batch index `start` on (to resume mid-epoch).
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidConfig`] if `start` exceeds
    /// [`batches_per_epoch`](Self::batches_per_epoch) (equal is allowed and yields
    /// nothing); [`DataError::Thread`] if a worker thread cannot be started.
    pub fn epoch_from(&self, epoch: u64, start: usize) -> Result<EpochBatches, DataError> {
        let end = self.batches_per_epoch();
        if start > end {
            return Err(DataError::config(
                "start batch",
                format!("{start} is past the {end} batches of an epoch"),
            ));
        }
        EpochBatches::spawn(&self.plan, epoch, start, end)
    }

    /// Batch `index` of epoch `epoch`, built on the calling thread.
    ///
    /// # Errors
    ///
    /// [`DataError::IndexOutOfRange`] if `index` is not below
    /// [`batches_per_epoch`](Self::batches_per_epoch).
    pub fn batch(&self, epoch: u64, index: usize) -> Result<ImageBatch, DataError> {
        let len = self.batches_per_epoch();
        if index >= len {
            return Err(DataError::IndexOutOfRange { index, len });
        }
        Ok(self.plan.build(epoch, &self.plan.order(epoch), index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{AugmentConfig, ImageShape, Normalization};

    const SHAPE: ImageShape = ImageShape::new(3, 6, 5);

    /// `n` images; image `i` has every pixel equal to `i % 256` and label `i % 7`.
    fn dataset(n: usize) -> ImageDataset {
        let pixels = (0..n)
            .flat_map(|i| vec![(i % 256) as u8; SHAPE.len()])
            .collect();
        let labels = (0..n).map(|i| (i % 7) as u16).collect();
        ImageDataset::new("toy", SHAPE, 7, pixels, labels).unwrap()
    }

    fn training() -> AugmentConfig {
        AugmentConfig::default()
            .with_cutout(Some(2))
            .with_normalization(Some(Normalization::cifar10()))
    }

    fn collect(loader: &BatchLoader, epoch: u64) -> Vec<ImageBatch> {
        loader.epoch(epoch).unwrap().collect()
    }

    #[test]
    fn an_epoch_visits_every_image_once_with_its_label() {
        let loader = BatchLoaderConfig::new(10)
            .with_seed(3)
            .init(dataset(103))
            .unwrap();
        let batches = collect(&loader, 0);
        assert_eq!(batches.len(), 11);
        assert_eq!(loader.batches_per_epoch(), 11);
        assert_eq!(batches[10].len(), 3);
        let mut seen: Vec<usize> = Vec::new();
        for (k, b) in batches.iter().enumerate() {
            assert_eq!((b.epoch, b.index), (0, k));
            assert_eq!(b.images.shape.as_slice(), &[b.len(), 3, 6, 5]);
            let images = b.images.as_slice::<f32>().unwrap();
            let labels = b.labels.as_slice::<i64>().unwrap();
            for (j, &i) in b.indices.iter().enumerate() {
                assert_eq!(labels[j], (i % 7) as i64);
                let first = images[j * SHAPE.len()];
                assert!((first - i as f32 / 255.0).abs() < 1e-6);
            }
            seen.extend(&b.indices);
        }
        assert_ne!(seen, (0..103).collect::<Vec<_>>(), "not shuffled");
        seen.sort_unstable();
        assert_eq!(seen, (0..103).collect::<Vec<_>>());
    }

    #[test]
    fn drop_last_and_no_shuffle() {
        let loader = BatchLoaderConfig::new(10)
            .with_drop_last(true)
            .with_shuffle(false)
            .init(dataset(103))
            .unwrap();
        let batches = collect(&loader, 5);
        assert_eq!(batches.len(), 10);
        assert!(batches.iter().all(|b| b.len() == 10));
        assert_eq!(batches[9].indices, (90..100).collect::<Vec<_>>());
        assert_eq!(loader.samples_per_epoch(), 100);
    }

    #[test]
    fn epochs_are_pure_functions_of_seed_and_epoch() {
        let config = BatchLoaderConfig::new(16)
            .with_seed(11)
            .with_augment(training());
        let a = config.init(dataset(70)).unwrap();
        let b = config.init(dataset(70)).unwrap();
        assert_eq!(collect(&a, 4), collect(&b, 4));
        assert_eq!(collect(&a, 4), collect(&a, 4));
        assert_ne!(a.order(4), a.order(5));
        let other_seed = config.clone().with_seed(12).init(dataset(70)).unwrap();
        assert_ne!(a.order(4), other_seed.order(4));
        // Without shuffling the augmentation still differs between epochs.
        let fixed = config.with_shuffle(false).init(dataset(70)).unwrap();
        assert_eq!(fixed.order(0), fixed.order(1));
        assert_ne!(collect(&fixed, 0)[0].images, collect(&fixed, 1)[0].images);
    }

    #[test]
    fn results_do_not_depend_on_worker_count_or_prefetch() {
        let base = BatchLoaderConfig::new(8)
            .with_seed(5)
            .with_augment(training());
        let reference = collect(&base.init(dataset(61)).unwrap(), 2);
        for (workers, prefetch) in [(2, 1), (3, 4), (4, 1), (16, 2)] {
            let loader = base
                .clone()
                .with_workers(workers)
                .with_prefetch(prefetch)
                .init(dataset(61))
                .unwrap();
            assert_eq!(collect(&loader, 2), reference, "{workers} workers");
        }
        let sync: Vec<ImageBatch> = (0..8)
            .map(|k| base.init(dataset(61)).unwrap().batch(2, k).unwrap())
            .collect();
        assert_eq!(sync, reference);
    }

    #[test]
    fn resuming_mid_epoch_replays_the_rest() {
        let loader = BatchLoaderConfig::new(7)
            .with_workers(3)
            .with_augment(training())
            .init(dataset(50))
            .unwrap();
        let full = collect(&loader, 9);
        for start in [0, 1, 4, 7, 8] {
            let rest: Vec<ImageBatch> = loader.epoch_from(9, start).unwrap().collect();
            assert_eq!(rest, full[start..], "start {start}");
        }
        let mut it = loader.epoch_from(9, 3).unwrap();
        assert_eq!((it.next_index(), it.len()), (3, 5));
        it.next();
        assert_eq!(it.next_index(), 4);
        assert!(matches!(
            loader.epoch_from(9, 9),
            Err(DataError::InvalidConfig { .. })
        ));
        assert!(loader.batch(9, 8).is_err());
    }

    #[test]
    fn dropping_early_stops_the_workers() {
        let loader = BatchLoaderConfig::new(2)
            .with_workers(4)
            .with_prefetch(1)
            .init(dataset(200))
            .unwrap();
        let mut it = loader.epoch(0).unwrap();
        assert!(it.next().is_some());
        assert!(Arc::strong_count(&loader.plan) > 1, "workers hold the plan");
        drop(it);
        // Every worker has been joined and released its handle on the plan.
        assert_eq!(Arc::strong_count(&loader.plan), 1);
        let finished: Vec<ImageBatch> = loader.epoch(0).unwrap().collect();
        assert_eq!(finished.len(), 100);
        assert_eq!(Arc::strong_count(&loader.plan), 1);
    }

    #[test]
    fn invalid_configs_are_rejected_before_work_starts() {
        let data = Arc::new(dataset(10));
        for config in [
            BatchLoaderConfig::new(0),
            BatchLoaderConfig::new(4).with_workers(0),
            BatchLoaderConfig::new(4).with_prefetch(0),
            BatchLoaderConfig::new(11).with_drop_last(true),
            BatchLoaderConfig::new(4).with_augment(
                AugmentConfig::none().with_normalization(Some(Normalization::fashion_mnist())),
            ),
        ] {
            assert!(
                matches!(
                    config.init(Arc::clone(&data)),
                    Err(DataError::InvalidConfig { .. })
                ),
                "{config:?}"
            );
        }
        let empty = ImageDataset::new("e", SHAPE, 7, vec![], vec![]).unwrap();
        assert!(matches!(
            BatchLoaderConfig::new(4).init(empty),
            Err(DataError::EmptyDataset { .. })
        ));
    }

    #[test]
    fn config_serde_round_trip() {
        let config = BatchLoaderConfig::new(32)
            .with_workers(2)
            .with_augment(training());
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(
            serde_json::from_str::<BatchLoaderConfig>(&json).unwrap(),
            config
        );
    }

    #[cfg(feature = "ndarray")]
    #[test]
    fn batches_become_tensors() {
        type B = burn::backend::NdArray<f32>;
        let loader = BatchLoaderConfig::new(4)
            .with_shuffle(false)
            .init(dataset(6))
            .unwrap();
        let batch = loader.batch(0, 1).unwrap();
        let device = Default::default();
        let (images, labels) = batch.to_tensors::<B>(&device);
        assert_eq!(images.dims(), [2, 3, 6, 5]);
        assert_eq!(labels.dims(), [2]);
        let labels: Vec<i64> = labels.into_data().convert::<i64>().to_vec().unwrap();
        assert_eq!(labels, vec![4, 5]);
        let images: Vec<f32> = images.into_data().to_vec().unwrap();
        assert!((images[SHAPE.len()] - 5.0 / 255.0).abs() < 1e-6);
    }

    #[cfg(feature = "flex")]
    #[test]
    fn batches_become_tensors_on_a_backend_with_i32_ints() {
        type B = burn::backend::Flex;
        let loader = BatchLoaderConfig::new(4)
            .with_shuffle(false)
            .init(dataset(6))
            .unwrap();
        let (images, labels) = loader
            .batch(0, 0)
            .unwrap()
            .into_tensors::<B>(&Default::default());
        assert_eq!(images.dims(), [4, 3, 6, 5]);
        let labels: Vec<i64> = labels.into_data().convert::<i64>().to_vec().unwrap();
        assert_eq!(labels, vec![0, 1, 2, 3]);
    }
}
