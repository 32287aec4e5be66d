//! One batch of images and labels.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

/// One batch produced by a [`BatchLoader`](super::BatchLoader).
///
/// # Shapes
///
/// - `images`: `[B, C, H, W]`, `f32`, augmented and normalised.
/// - `labels`: `[B]`, `i64` class indices.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageBatch {
    /// Images, `[B, C, H, W]` `f32`.
    pub images: TensorData,
    /// Labels, `[B]` `i64`.
    pub labels: TensorData,
    /// Dataset index of each image of the batch.
    pub indices: Vec<usize>,
    /// The epoch the batch belongs to.
    pub epoch: u64,
    /// Position of the batch within its epoch (0-based).
    pub index: usize,
}

impl ImageBatch {
    /// Number of images in the batch.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the batch holds no images.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Copies the batch to `device` as an image tensor `[B, C, H, W]` and a label
    /// tensor `[B]`.
    pub fn to_tensors<B: Backend>(&self, device: &B::Device) -> (Tensor<B, 4>, Tensor<B, 1, Int>) {
        self.clone().into_tensors(device)
    }

    /// Moves the batch to `device` as an image tensor `[B, C, H, W]` and a label
    /// tensor `[B]`.
    pub fn into_tensors<B: Backend>(self, device: &B::Device) -> (Tensor<B, 4>, Tensor<B, 1, Int>) {
        (
            Tensor::from_data(self.images, device),
            Tensor::from_data(self.labels, device),
        )
    }
}
