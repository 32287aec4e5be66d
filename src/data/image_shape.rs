//! The shape of one image.

use serde::{Deserialize, Serialize};

/// Shape of one image in channel-major (CHW) order.
///
/// ```
/// use tnd_nas::data::ImageShape;
/// let cifar = ImageShape::new(3, 32, 32);
/// assert_eq!(cifar.len(), 3072);
/// assert_eq!(cifar.plane_len(), 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageShape {
    /// Number of channels (3 for RGB, 1 for grey scale).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
}

impl ImageShape {
    /// A shape of `channels` planes of `height` x `width` pixels.
    pub const fn new(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
        }
    }

    /// Number of pixels in one channel plane (`height * width`).
    pub const fn plane_len(&self) -> usize {
        self.height * self.width
    }

    /// Number of values in one image (`channels * height * width`).
    pub const fn len(&self) -> usize {
        self.channels * self.plane_len()
    }

    /// Whether an image of this shape holds no values.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape as `[channels, height, width]`.
    pub const fn dims(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }
}
