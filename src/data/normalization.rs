//! Per-channel mean/std normalisation.

use serde::{Deserialize, Serialize};

use super::{DataError, ImageDataset};

/// Per-channel normalisation `x' = (x / 255 - mean[c]) / std[c]`.
///
/// Means and standard deviations are on the `[0, 1]` pixel scale, as in torchvision.
///
/// ```
/// use tnd_nas::data::Normalization;
///
/// let n = Normalization::cifar10();
/// assert_eq!(n.channels(), 3);
/// assert!((n.apply(0, 255) - (1.0 - 0.4914) / 0.2470).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawNormalization")]
pub struct Normalization {
    mean: Vec<f32>,
    std: Vec<f32>,
}

/// Unchecked serde form of [`Normalization`]; deserialising validates it.
#[derive(Deserialize)]
struct RawNormalization {
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl TryFrom<RawNormalization> for Normalization {
    type Error = DataError;

    fn try_from(raw: RawNormalization) -> Result<Self, DataError> {
        Self::new(raw.mean, raw.std)
    }
}

impl Normalization {
    /// A normalisation with the given per-channel means and standard deviations.
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidConfig`] if the two lists are empty or differ in length, a
    /// mean is not finite, or a standard deviation is not finite and positive.
    pub fn new(mean: Vec<f32>, std: Vec<f32>) -> Result<Self, DataError> {
        if mean.is_empty() || mean.len() != std.len() {
            return Err(DataError::config(
                "normalization",
                format!("{} means but {} standard deviations", mean.len(), std.len()),
            ));
        }
        if let Some(m) = mean.iter().find(|m| !m.is_finite()) {
            return Err(DataError::config(
                "normalization",
                format!("mean {m} is not finite"),
            ));
        }
        if let Some(s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(DataError::config(
                "normalization",
                format!("standard deviation {s} is not finite and positive"),
            ));
        }
        Ok(Self { mean, std })
    }

    /// The usual CIFAR-10 statistics (mean 0.4914, 0.4822, 0.4465; std 0.2470, 0.2435, 0.2616).
    pub fn cifar10() -> Self {
        Self {
            mean: vec![0.4914, 0.4822, 0.4465],
            std: vec![0.2470, 0.2435, 0.2616],
        }
    }

    /// The CIFAR-100 statistics used by DARTS (mean 0.5071, 0.4865, 0.4409; std 0.2673, 0.2564, 0.2762).
    pub fn cifar100() -> Self {
        Self {
            mean: vec![0.5071, 0.4865, 0.4409],
            std: vec![0.2673, 0.2564, 0.2762],
        }
    }

    /// The Fashion-MNIST training-set statistics (mean 0.2860, std 0.3530).
    pub fn fashion_mnist() -> Self {
        Self {
            mean: vec![0.2860],
            std: vec![0.3530],
        }
    }

    /// The identity on the `[0, 1]` scale (mean 0, std 1) for `channels` channels:
    /// pixels are only divided by 255.
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidConfig`] if `channels` is 0.
    pub fn unit(channels: usize) -> Result<Self, DataError> {
        Self::new(vec![0.0; channels], vec![1.0; channels])
    }

    /// Mean and (population) standard deviation of each channel over all pixels of
    /// `dataset`. A channel with no variation gets std 1.
    ///
    /// # Errors
    ///
    /// [`DataError::EmptyDataset`] if `dataset` holds no images.
    pub fn from_dataset(dataset: &ImageDataset) -> Result<Self, DataError> {
        if dataset.is_empty() {
            return Err(DataError::EmptyDataset {
                name: dataset.name().to_owned(),
            });
        }
        let shape = dataset.shape();
        let plane = shape.plane_len();
        // Exact integer sums: no rounding drift however large the dataset.
        let mut sum = vec![0u128; shape.channels];
        let mut sum_sq = vec![0u128; shape.channels];
        for image in dataset.pixels().chunks_exact(shape.len()) {
            for (c, channel) in image.chunks_exact(plane).enumerate() {
                let (s, q) = channel.iter().fold((0u64, 0u64), |(s, q), &p| {
                    let p = u64::from(p);
                    (s + p, q + p * p)
                });
                sum[c] += u128::from(s);
                sum_sq[c] += u128::from(q);
            }
        }
        let n = (dataset.len() * plane) as f64;
        let (mut mean, mut std) = (Vec::new(), Vec::new());
        for (s, q) in sum.into_iter().zip(sum_sq) {
            let m = s as f64 / n;
            let var = (q as f64 / n - m * m).max(0.0);
            let sd = var.sqrt() / 255.0;
            mean.push((m / 255.0) as f32);
            std.push(if sd > 0.0 { sd as f32 } else { 1.0 });
        }
        Self::new(mean, std)
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.mean.len()
    }

    /// Per-channel means on the `[0, 1]` scale.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// Per-channel standard deviations on the `[0, 1]` scale.
    pub fn std(&self) -> &[f32] {
        &self.std
    }

    /// Normalises pixel value `value` of channel `channel`.
    ///
    /// # Panics
    ///
    /// If `channel` is not below [`channels`](Self::channels).
    pub fn apply(&self, channel: usize, value: u8) -> f32 {
        (f32::from(value) / 255.0 - self.mean[channel]) / self.std[channel]
    }

    /// The 256 normalised values of channel `channel`, indexed by pixel value.
    pub(crate) fn table(&self, channel: usize) -> [f32; 256] {
        std::array::from_fn(|v| self.apply(channel, v as u8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{FashionMnistSample, ImageShape};

    #[test]
    fn from_dataset_matches_hand_computed_statistics() {
        // Channel 0 holds 0 and 255 (mean 0.5, std 0.5); channel 1 is constant 51.
        let pixels = vec![0, 255, 51, 51, 255, 0, 51, 51];
        let data = ImageDataset::new("t", ImageShape::new(2, 1, 2), 1, pixels, vec![0, 0]).unwrap();
        let n = Normalization::from_dataset(&data).unwrap();
        assert!((n.mean()[0] - 0.5).abs() < 1e-6 && (n.std()[0] - 0.5).abs() < 1e-6);
        assert!((n.mean()[1] - 0.2).abs() < 1e-6);
        assert_eq!(n.std()[1], 1.0);
        assert!((n.apply(0, 255) - 1.0).abs() < 1e-6);
        assert!((n.apply(0, 0) + 1.0).abs() < 1e-6);
    }

    #[test]
    fn fashion_sample_statistics_are_close_to_the_published_ones() {
        let data = FashionMnistSample::load().unwrap();
        let n = Normalization::from_dataset(&data).unwrap();
        // Reference computed independently in Python over the same 4000 images.
        assert!((n.mean()[0] - 0.286_768).abs() < 1e-5, "{:?}", n.mean());
        assert!((n.std()[0] - 0.354_348).abs() < 1e-5, "{:?}", n.std());
        let published = Normalization::fashion_mnist();
        assert!((n.mean()[0] - published.mean()[0]).abs() < 0.01);
        assert!((n.std()[0] - published.std()[0]).abs() < 0.01);
    }

    #[test]
    fn invalid_statistics_are_rejected() {
        assert!(Normalization::new(vec![0.5], vec![0.0]).is_err());
        assert!(Normalization::new(vec![0.5, 0.5], vec![1.0]).is_err());
        assert!(Normalization::new(vec![f32::NAN], vec![1.0]).is_err());
        assert!(Normalization::unit(0).is_err());
        let empty = ImageDataset::new("e", ImageShape::new(1, 2, 2), 1, vec![], vec![]).unwrap();
        assert!(matches!(
            Normalization::from_dataset(&empty),
            Err(DataError::EmptyDataset { .. })
        ));
    }

    #[test]
    fn serde_round_trip() {
        let n = Normalization::cifar10();
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(serde_json::from_str::<Normalization>(&json).unwrap(), n);
        let bad = r#"{"mean":[0.5],"std":[-1.0]}"#;
        assert!(serde_json::from_str::<Normalization>(bad).is_err());
    }
}
