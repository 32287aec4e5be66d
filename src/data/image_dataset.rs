//! An in-memory labelled image dataset.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::{DataError, ImageShape};

/// An in-memory labelled image classification dataset.
///
/// Pixels are `u8`, stored image after image, each image in CHW order (all of
/// channel 0, then all of channel 1, ...). Labels are class indices below
/// [`num_classes`](Self::num_classes); the constructor checks this, so every
/// `ImageDataset` is consistent.
///
/// ```
/// use tnd_nas::data::{ImageDataset, ImageShape};
///
/// # fn main() -> Result<(), tnd_nas::data::DataError> {
/// // Four 1x2x2 images of two classes.
/// let pixels: Vec<u8> = (0..16).collect();
/// let data = ImageDataset::new("toy", ImageShape::new(1, 2, 2), 2, pixels, vec![0, 1, 0, 1])?;
/// assert_eq!(data.len(), 4);
/// assert_eq!(data.image(1), Some(&[4u8, 5, 6, 7][..]));
///
/// // A deterministic, class-balanced half/half split.
/// let (a, b) = data.split(0.5, 7)?;
/// assert_eq!((a.class_counts(), b.class_counts()), (vec![1, 1], vec![1, 1]));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ImageDataset {
    name: String,
    shape: ImageShape,
    num_classes: usize,
    pixels: Vec<u8>,
    labels: Vec<u16>,
}

impl ImageDataset {
    /// Builds a dataset from `pixels` (`labels.len()` images of `shape`, CHW each)
    /// and `labels`.
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidConfig`] if `shape` holds no pixels or `num_classes` is 0 or
    /// above 65536, [`DataError::LengthMismatch`] if `pixels.len()` is not
    /// `labels.len() * shape.len()`, [`DataError::InvalidLabel`] if a label is not
    /// below `num_classes`.
    pub fn new(
        name: impl Into<String>,
        shape: ImageShape,
        num_classes: usize,
        pixels: Vec<u8>,
        labels: Vec<u16>,
    ) -> Result<Self, DataError> {
        if shape.is_empty() {
            return Err(DataError::config(
                "shape",
                format!("{shape:?} holds no pixels"),
            ));
        }
        if num_classes == 0 || num_classes > usize::from(u16::MAX) + 1 {
            return Err(DataError::config(
                "num_classes",
                format!("{num_classes} is not in 1..=65536"),
            ));
        }
        let expected = labels.len().saturating_mul(shape.len());
        if pixels.len() != expected {
            return Err(DataError::LengthMismatch {
                what: "pixels",
                expected,
                found: pixels.len(),
            });
        }
        if let Some((index, &label)) = labels
            .iter()
            .enumerate()
            .find(|&(_, &l)| usize::from(l) >= num_classes)
        {
            return Err(DataError::InvalidLabel {
                index,
                label,
                num_classes,
            });
        }
        Ok(Self {
            name: name.into(),
            shape,
            num_classes,
            pixels,
            labels,
        })
    }

    /// The dataset at `1/factor` of its resolution: every `factor x factor` block of a
    /// channel is averaged (rounded to nearest). Sides that do not divide by `factor`
    /// lose their last rows and columns. Useful to search or retrain quickly on a CPU.
    ///
    /// ```
    /// use tnd_nas::data::{ImageDataset, ImageShape};
    /// let d = ImageDataset::new("x", ImageShape::new(1, 2, 2), 2, vec![0, 2, 4, 6], vec![1])?;
    /// let small = d.downsample(2)?;
    /// assert_eq!((small.height(), small.width(), small.pixels()), (1, 1, &[3u8][..]));
    /// # Ok::<(), tnd_nas::data::DataError>(())
    /// ```
    ///
    /// # Errors
    /// [`DataError::InvalidConfig`] when `factor` is 0 or larger than a side.
    pub fn downsample(&self, factor: usize) -> Result<Self, DataError> {
        let (c, h, w) = (self.shape.channels, self.shape.height, self.shape.width);
        if factor == 0 || factor > h || factor > w {
            return Err(DataError::config(
                "factor",
                format!("{factor} does not fit images of {h}x{w}"),
            ));
        }
        let (oh, ow) = (h / factor, w / factor);
        let shape = ImageShape::new(c, oh, ow);
        let area = (factor * factor) as u32;
        let mut pixels = Vec::with_capacity(self.len() * shape.len());
        for image in self.pixels.chunks_exact(self.shape.len()) {
            for plane in image.chunks_exact(h * w) {
                for y in 0..oh {
                    for x in 0..ow {
                        let mut sum = 0u32;
                        for dy in 0..factor {
                            let row = (y * factor + dy) * w + x * factor;
                            sum += plane[row..row + factor]
                                .iter()
                                .map(|&p| u32::from(p))
                                .sum::<u32>();
                        }
                        pixels.push(((sum + area / 2) / area) as u8);
                    }
                }
            }
        }
        Self::new(
            self.name.clone(),
            shape,
            self.num_classes,
            pixels,
            self.labels.clone(),
        )
    }

    /// The dataset's name (for logs and reports).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The same dataset under another name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Shape of every image.
    pub fn shape(&self) -> ImageShape {
        self.shape
    }

    /// Number of channels per image.
    pub fn channels(&self) -> usize {
        self.shape.channels
    }

    /// Image height in pixels.
    pub fn height(&self) -> usize {
        self.shape.height
    }

    /// Image width in pixels.
    pub fn width(&self) -> usize {
        self.shape.width
    }

    /// Number of classes; every label is below it.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the dataset holds no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The CHW pixels of image `index`, or `None` past the end.
    pub fn image(&self, index: usize) -> Option<&[u8]> {
        let n = self.shape.len();
        let start = index.checked_mul(n)?;
        self.pixels.get(start..start.checked_add(n)?)
    }

    /// The label of image `index`, or `None` past the end.
    pub fn label(&self, index: usize) -> Option<u16> {
        self.labels.get(index).copied()
    }

    /// All labels, one per image.
    pub fn labels(&self) -> &[u16] {
        &self.labels
    }

    /// All pixels, image after image, CHW within an image.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// Number of images of each class, indexed by class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }

    /// A new dataset of the images at `indices`, in that order (repeats allowed).
    ///
    /// # Errors
    ///
    /// [`DataError::IndexOutOfRange`] if an index is not below [`len`](Self::len).
    pub fn subset(&self, indices: &[usize]) -> Result<Self, DataError> {
        let n = self.shape.len();
        let mut pixels = Vec::with_capacity(indices.len() * n);
        let mut labels = Vec::with_capacity(indices.len());
        for &index in indices {
            let (Some(image), Some(label)) = (self.image(index), self.label(index)) else {
                return Err(DataError::IndexOutOfRange {
                    index,
                    len: self.len(),
                });
            };
            pixels.extend_from_slice(image);
            labels.push(label);
        }
        Ok(Self {
            name: self.name.clone(),
            shape: self.shape,
            num_classes: self.num_classes,
            pixels,
            labels,
        })
    }

    /// Splits the dataset into two disjoint parts, deterministically in `seed`.
    ///
    /// The first part gets `round(fraction * len)` images, the second the rest. The
    /// split is class-balanced: each class is divided in (as nearly as possible) the
    /// same proportion, the images of a class being chosen by a seeded shuffle. Both
    /// parts keep the original image order. With `fraction = 0.5` this gives the two
    /// halves of a NAS search: one trains weights, the other scores architectures.
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidConfig`] if `fraction` is not in `0.0..=1.0`.
    pub fn split(&self, fraction: f64, seed: u64) -> Result<(Self, Self), DataError> {
        let first = self.split_indices(fraction, seed)?;
        let mut in_first = vec![false; self.len()];
        for &i in &first {
            in_first[i] = true;
        }
        let second: Vec<usize> = (0..self.len()).filter(|&i| !in_first[i]).collect();
        Ok((self.subset(&first)?, self.subset(&second)?))
    }

    /// Sorted indices of the first part of [`split`](Self::split).
    fn split_indices(&self, fraction: f64, seed: u64) -> Result<Vec<usize>, DataError> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(DataError::config(
                "fraction",
                format!("{fraction} is not in 0.0..=1.0"),
            ));
        }
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); self.num_classes];
        for (i, &l) in self.labels.iter().enumerate() {
            by_class[usize::from(l)].push(i);
        }
        // Largest-remainder allocation: per-class quotas that sum to the exact total.
        let total = (fraction * self.len() as f64).round() as usize;
        let exact: Vec<f64> = by_class.iter().map(|c| fraction * c.len() as f64).collect();
        let mut quota: Vec<usize> = exact.iter().map(|&e| e.floor() as usize).collect();
        let mut order: Vec<usize> = (0..self.num_classes).collect();
        order.sort_by(|&a, &b| {
            let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
            rb.total_cmp(&ra).then(a.cmp(&b))
        });
        let missing = total.saturating_sub(quota.iter().sum());
        for &c in order.iter().take(missing) {
            quota[c] = (quota[c] + 1).min(by_class[c].len());
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut chosen = Vec::with_capacity(total);
        for (members, q) in by_class.iter_mut().zip(quota) {
            members.shuffle(&mut rng);
            chosen.extend_from_slice(&members[..q]);
        }
        chosen.sort_unstable();
        Ok(chosen)
    }
}

impl std::fmt::Debug for ImageDataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageDataset")
            .field("name", &self.name)
            .field("len", &self.len())
            .field("shape", &self.shape)
            .field("num_classes", &self.num_classes)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` 1x1x2 images whose pixels encode their index; label = index % classes.
    fn toy(n: usize, classes: usize) -> ImageDataset {
        let pixels = (0..n).flat_map(|i| [i as u8, (i >> 8) as u8]).collect();
        let labels = (0..n).map(|i| (i % classes) as u16).collect();
        ImageDataset::new("toy", ImageShape::new(1, 1, 2), classes, pixels, labels).unwrap()
    }

    fn index_of(image: &[u8]) -> usize {
        usize::from(image[0]) | usize::from(image[1]) << 8
    }

    #[test]
    fn constructor_rejects_inconsistent_input() {
        let shape = ImageShape::new(1, 2, 2);
        assert!(matches!(
            ImageDataset::new("x", shape, 2, vec![0; 7], vec![0, 1]),
            Err(DataError::LengthMismatch {
                expected: 8,
                found: 7,
                ..
            })
        ));
        assert!(matches!(
            ImageDataset::new("x", shape, 2, vec![0; 8], vec![0, 2]),
            Err(DataError::InvalidLabel {
                index: 1,
                label: 2,
                ..
            })
        ));
        assert!(matches!(
            ImageDataset::new("x", shape, 0, vec![], vec![]),
            Err(DataError::InvalidConfig {
                field: "num_classes",
                ..
            })
        ));
    }

    #[test]
    fn image_and_subset_index_correctly() {
        let d = toy(10, 3);
        assert_eq!(index_of(d.image(7).unwrap()), 7);
        assert_eq!(d.image(10), None);
        assert_eq!(d.label(10), None);
        let s = d.subset(&[9, 2, 2]).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(index_of(s.image(0).unwrap()), 9);
        assert_eq!(s.labels(), &[0, 2, 2]);
        assert!(matches!(
            d.subset(&[1, 10]),
            Err(DataError::IndexOutOfRange { index: 10, len: 10 })
        ));
    }

    #[test]
    fn split_is_disjoint_complete_balanced_and_deterministic() {
        let d = toy(1000, 10);
        let (a, b) = d.split(0.5, 42).unwrap();
        assert_eq!(a.len(), 500);
        assert_eq!(b.len(), 500);
        assert_eq!(a.class_counts(), vec![50; 10]);
        assert_eq!(b.class_counts(), vec![50; 10]);
        let mut seen: Vec<usize> = (0..a.len())
            .map(|i| index_of(a.image(i).unwrap()))
            .chain((0..b.len()).map(|i| index_of(b.image(i).unwrap())))
            .collect();
        // Original order is kept within each part.
        assert!(seen[..500].windows(2).all(|w| w[0] < w[1]));
        seen.sort_unstable();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
        // Labels travel with their images.
        for i in 0..a.len() {
            assert_eq!(
                usize::from(a.labels()[i]),
                index_of(a.image(i).unwrap()) % 10
            );
        }
        assert_eq!(d.split(0.5, 42).unwrap(), (a.clone(), b));
        assert_ne!(d.split(0.5, 43).unwrap().0, a);
    }

    #[test]
    fn split_total_is_exact_with_uneven_classes() {
        // 7 classes of 10 or 11 images: per-class quotas must still sum to the total.
        let d = toy(73, 7);
        for fraction in [0.0, 0.1, 0.33, 0.5, 0.75, 1.0] {
            let (a, b) = d.split(fraction, 1).unwrap();
            assert_eq!(
                a.len(),
                (fraction * 73.0_f64).round() as usize,
                "{fraction}"
            );
            assert_eq!(a.len() + b.len(), 73);
            for (ca, c) in a.class_counts().iter().zip(d.class_counts()) {
                let ideal = fraction * c as f64;
                assert!(
                    (*ca as f64 - ideal).abs() < 1.0,
                    "{fraction}: {ca} vs {ideal}"
                );
            }
        }
        assert!(d.split(1.5, 0).is_err());
        assert!(d.split(f64::NAN, 0).is_err());
    }
}
