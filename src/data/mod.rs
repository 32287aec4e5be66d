//! Image classification data: CIFAR-10/100 binary and IDX (Fashion-MNIST) readers, an
//! embedded Fashion-MNIST sample, augmentation and normalisation, and a
//! deterministic, resumable, prefetching batch loader.
//!
//! ```
//! use tnd_nas::data::{AugmentConfig, BatchLoaderConfig, FashionMnistSample, Normalization};
//!
//! # fn main() -> Result<(), tnd_nas::data::DataError> {
//! let (search, _holdout) = FashionMnistSample::search_and_holdout()?;
//! // One half trains the weights, the other scores architectures.
//! let (weights, scoring) = search.split(0.5, 0)?;
//! let augment = AugmentConfig::default().with_normalization(Some(Normalization::fashion_mnist()));
//! let loader = BatchLoaderConfig::new(64).with_augment(augment).init(weights)?;
//! let first = loader.epoch(0)?.next();
//! assert_eq!(first.map(|b| b.images.shape.as_slice().to_vec()), Some(vec![64, 1, 28, 28]));
//! assert_eq!(scoring.len(), 1500);
//! # Ok(())
//! # }
//! ```

mod augment_config;
mod augmentation;
mod batch_loader;
mod batch_loader_config;
mod batch_plan;
mod cifar10;
mod cifar100;
mod cifar100_labels;
mod cifar_records;
mod epoch_batches;
mod error;
mod fashion_mnist;
mod fashion_mnist_sample;
mod idx_format;
mod idx_images;
mod idx_labels;
mod image_batch;
mod image_dataset;
mod image_shape;
mod normalization;
mod read_file;
mod split;
#[cfg(test)]
mod test_support;

pub use augment_config::AugmentConfig;
pub use augmentation::Augmentation;
pub use batch_loader::BatchLoader;
pub use batch_loader_config::BatchLoaderConfig;
pub use cifar10::Cifar10;
pub use cifar100::Cifar100;
pub use cifar100_labels::Cifar100Labels;
pub use epoch_batches::EpochBatches;
pub use error::DataError;
pub use fashion_mnist::FashionMnist;
pub use fashion_mnist_sample::FashionMnistSample;
pub use idx_images::IdxImages;
pub use idx_labels::IdxLabels;
pub use image_batch::ImageBatch;
pub use image_dataset::ImageDataset;
pub use image_shape::ImageShape;
pub use normalization::Normalization;
pub use split::Split;
