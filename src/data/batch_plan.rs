//! The pure function from (seed, epoch, batch index) to a batch.

use std::sync::Arc;

use burn::tensor::TensorData;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::{Augmentation, BatchLoaderConfig, ImageBatch, ImageDataset};

/// Domain tags keeping the random streams of different purposes apart.
const ORDER_STREAM: u64 = 0x6f_7264_6572; // "order"
const AUGMENT_STREAM: u64 = 0x6175_676d; // "augm"

/// Everything a worker needs to build any batch of any epoch.
#[derive(Debug)]
pub(crate) struct BatchPlan {
    pub(crate) dataset: Arc<ImageDataset>,
    pub(crate) augmentation: Augmentation,
    pub(crate) config: BatchLoaderConfig,
}

/// A ChaCha8 generator keyed by `(seed, purpose, epoch)` on stream `stream`.
fn derive_rng(seed: u64, purpose: u64, epoch: u64, stream: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&purpose.to_le_bytes());
    key[16..24].copy_from_slice(&epoch.to_le_bytes());
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(stream);
    rng
}

impl BatchPlan {
    /// Number of images visited per epoch.
    pub(crate) fn samples_per_epoch(&self) -> usize {
        let n = self.dataset.len();
        if self.config.drop_last {
            n - n % self.config.batch_size
        } else {
            n
        }
    }

    /// Number of batches per epoch.
    pub(crate) fn batches_per_epoch(&self) -> usize {
        self.samples_per_epoch().div_ceil(self.config.batch_size)
    }

    /// The order in which epoch `epoch` visits the dataset (a permutation of its indices).
    pub(crate) fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if self.config.shuffle {
            order.shuffle(&mut derive_rng(self.config.seed, ORDER_STREAM, epoch, 0));
        }
        order
    }

    /// Batch `index` of epoch `epoch`, whose visiting order is `order`.
    ///
    /// Image at position `p` of the epoch is augmented with its own generator keyed by
    /// `(seed, epoch)` on stream `p`, so a batch depends on nothing but its arguments.
    pub(crate) fn build(&self, epoch: u64, order: &[usize], index: usize) -> ImageBatch {
        let bs = self.config.batch_size;
        let start = (index * bs).min(self.samples_per_epoch());
        let end = (start + bs).min(self.samples_per_epoch());
        let shape = self.dataset.shape();
        let len = shape.len();
        let pixels = self.dataset.pixels();
        let all_labels = self.dataset.labels();
        let indices = order[start..end].to_vec();
        let mut images = vec![0f32; indices.len() * len];
        let mut labels = Vec::with_capacity(indices.len());
        for ((position, &i), out) in (start..end).zip(&indices).zip(images.chunks_exact_mut(len)) {
            let mut rng = derive_rng(self.config.seed, AUGMENT_STREAM, epoch, position as u64);
            self.augmentation
                .apply_unchecked(&pixels[i * len..(i + 1) * len], &mut rng, out);
            labels.push(i64::from(all_labels[i]));
        }
        let b = indices.len();
        ImageBatch {
            images: TensorData::new(images, [b, shape.channels, shape.height, shape.width]),
            labels: TensorData::new(labels, [b]),
            indices,
            epoch,
            index,
        }
    }
}
