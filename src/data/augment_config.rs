//! Configuration of training-time augmentation and normalisation.

use serde::{Deserialize, Serialize};

use super::{Augmentation, DataError, ImageShape, Normalization};

/// Configuration of the per-image pipeline: random crop with zero padding, random
/// horizontal flip, normalisation, then cutout (as in DARTS, cutout zeroes a square
/// *after* normalisation).
///
/// [`Default`] is the standard CIFAR training augmentation without cutout: crop with
/// padding 4 and horizontal flip, normalisation to `[0, 1]` only.
/// [`AugmentConfig::none`] turns every random step off, for evaluation.
///
/// ```
/// use tnd_nas::data::{AugmentConfig, ImageShape, Normalization};
///
/// # fn main() -> Result<(), tnd_nas::data::DataError> {
/// let config = AugmentConfig::default()
///     .with_normalization(Some(Normalization::cifar10()))
///     .with_cutout(Some(AugmentConfig::DARTS_CUTOUT));
/// assert_eq!(config.crop_padding, 4);
/// let augmentation = config.init(ImageShape::new(3, 32, 32))?;
/// assert!(augmentation.is_random());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AugmentConfig {
    /// Zero padding on every side before a random crop back to the original size;
    /// 0 disables the crop.
    pub crop_padding: usize,
    /// Whether to mirror each image left-right with probability 1/2.
    pub horizontal_flip: bool,
    /// Side length of the square zeroed by cutout (one square per image, centre
    /// uniform over the image, clipped at the border), or `None` for no cutout. As in
    /// DARTS the square spans `centre - len/2 .. centre + len/2`, so an odd length
    /// loses one pixel per side length.
    pub cutout: Option<usize>,
    /// Per-channel normalisation; `None` only divides by 255.
    pub normalization: Option<Normalization>,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            crop_padding: Self::DEFAULT_CROP_PADDING,
            horizontal_flip: true,
            cutout: None,
            normalization: None,
        }
    }
}

impl AugmentConfig {
    /// The default crop padding (4 pixels).
    pub const DEFAULT_CROP_PADDING: usize = 4;
    /// The cutout length used by DARTS when retraining on CIFAR-10 (16 pixels).
    pub const DARTS_CUTOUT: usize = 16;

    /// The default configuration (crop with padding 4, horizontal flip).
    pub fn new() -> Self {
        Self::default()
    }

    /// No random augmentation at all (for evaluation); pixels are only normalised.
    pub fn none() -> Self {
        Self {
            crop_padding: 0,
            horizontal_flip: false,
            cutout: None,
            normalization: None,
        }
    }

    crate::setters! {
        /// Sets [`crop_padding`](Self::crop_padding).
        with_crop_padding => crop_padding: usize;
        /// Sets [`horizontal_flip`](Self::horizontal_flip).
        with_horizontal_flip => horizontal_flip: bool;
        /// Sets [`cutout`](Self::cutout).
        with_cutout => cutout: Option<usize>;
        /// Sets [`normalization`](Self::normalization).
        with_normalization => normalization: Option<Normalization>;
    }

    /// Checks the configuration against images of `shape` and builds the pipeline.
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidConfig`] if the normalisation has a different number of
    /// channels than `shape`, the cutout length is 0, or `shape` holds no pixels.
    pub fn init(&self, shape: ImageShape) -> Result<Augmentation, DataError> {
        if shape.is_empty() {
            return Err(DataError::config(
                "shape",
                format!("{shape:?} holds no pixels"),
            ));
        }
        if self.cutout == Some(0) {
            return Err(DataError::config("cutout", "length must be at least 1"));
        }
        let normalization = match &self.normalization {
            Some(n) if n.channels() != shape.channels => {
                return Err(DataError::config(
                    "normalization",
                    format!(
                        "has {} channels but the images have {}",
                        n.channels(),
                        shape.channels
                    ),
                ));
            }
            Some(n) => n.clone(),
            None => Normalization::unit(shape.channels)?,
        };
        Ok(Augmentation::new(
            shape,
            self.crop_padding,
            self.horizontal_flip,
            self.cutout,
            &normalization,
        ))
    }
}
