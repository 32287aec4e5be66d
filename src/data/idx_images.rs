//! An IDX image file (`*-images-idx3-ubyte[.gz]`).

use std::path::{Path, PathBuf};

use super::idx_format::decode;
use super::read_file::read_file;
use super::{DataError, IdxLabels, ImageDataset, ImageShape};

/// Hint given when an IDX file is missing and no dataset-specific hint applies.
pub(crate) const IDX_HINT: &str = "expected an IDX file such as train-images-idx3-ubyte(.gz)";

/// The contents of an IDX image file: `len()` grey-scale images of `rows` x `cols` u8.
///
/// The IDX format (MNIST, Fashion-MNIST, KMNIST, ...) starts with the big-endian
/// magic number `0x00000803`, then the big-endian `u32` dimensions `count, rows,
/// cols`, then the pixels row-major. Files may be gzip-compressed; that is detected
/// from the gzip magic bytes, not from the file name.
///
/// ```
/// use tnd_nas::data::{IdxImages, IdxLabels};
///
/// # fn main() -> Result<(), tnd_nas::data::DataError> {
/// // Two 1x2 images, then their labels.
/// let images = [&[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2][..], &[1, 2, 3, 4]].concat();
/// let labels = [0, 0, 8, 1, 0, 0, 0, 2, 1, 0];
/// let images = IdxImages::from_bytes("images", images)?;
/// let labels = IdxLabels::from_bytes("labels", labels.to_vec())?;
/// let data = images.into_dataset(labels, 2, "tiny")?;
/// assert_eq!(data.image(1), Some(&[3u8, 4][..]));
/// assert_eq!(data.labels(), &[1, 0]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    path: PathBuf,
    count: usize,
    rows: usize,
    cols: usize,
    pixels: Vec<u8>,
}

impl IdxImages {
    /// The magic number of an IDX file of unsigned bytes with three dimensions.
    pub const MAGIC: u32 = 0x0000_0803;

    /// Reads an IDX image file, gzipped or raw.
    ///
    /// # Errors
    ///
    /// As for [`from_bytes`](Self::from_bytes), plus [`DataError::NotFound`] and
    /// [`DataError::Io`] when the file cannot be read.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, DataError> {
        Self::read_with_hint(path.as_ref(), IDX_HINT)
    }

    pub(crate) fn read_with_hint(path: &Path, hint: &str) -> Result<Self, DataError> {
        Self::from_bytes(path, read_file(path, hint)?)
    }

    /// Decodes an IDX image file already in memory; `path` is only used in errors.
    ///
    /// # Errors
    ///
    /// [`DataError::Decompress`] for a broken gzip stream, [`DataError::BadMagic`],
    /// [`DataError::TruncatedHeader`], [`DataError::Truncated`] (naming the first
    /// incomplete image) and [`DataError::TrailingBytes`] for a malformed file.
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> Result<Self, DataError> {
        let path = path.into();
        let (dims, pixels) = decode(&path, bytes, 3)?;
        let (count, rows, cols) = (dims[0], dims[1], dims[2]);
        Ok(Self {
            path,
            count,
            rows,
            cols,
            pixels,
        })
    }

    /// The file the images came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the file holds no images.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Image height.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Image width.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// All pixels, image after image, row-major.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// Checks that the images are `rows` x `cols`.
    ///
    /// # Errors
    ///
    /// [`DataError::DimensionMismatch`] naming the file otherwise.
    pub fn expect_dims(&self, rows: usize, cols: usize) -> Result<(), DataError> {
        if (self.rows, self.cols) == (rows, cols) {
            Ok(())
        } else {
            Err(DataError::DimensionMismatch {
                path: self.path.clone(),
                expected: vec![rows, cols],
                found: vec![self.rows, self.cols],
            })
        }
    }

    /// Pairs the images with `labels` into a one-channel [`ImageDataset`].
    ///
    /// # Errors
    ///
    /// [`DataError::CountMismatch`] if the files hold different numbers of records,
    /// [`DataError::LabelOutOfRange`] (naming the label file and record) for a label
    /// not below `num_classes`, [`DataError::InvalidConfig`] for zero-sized images or
    /// an invalid `num_classes`.
    pub fn into_dataset(
        self,
        labels: IdxLabels,
        num_classes: usize,
        name: impl Into<String>,
    ) -> Result<ImageDataset, DataError> {
        if self.len() != labels.len() {
            return Err(DataError::CountMismatch {
                image_count: self.count,
                images: self.path,
                labels: labels.path().to_path_buf(),
                label_count: labels.len(),
            });
        }
        if let Some((record, &label)) = labels
            .labels()
            .iter()
            .enumerate()
            .find(|&(_, &l)| usize::from(l) >= num_classes)
        {
            return Err(DataError::LabelOutOfRange {
                path: labels.path().to_path_buf(),
                record,
                label: u16::from(label),
                num_classes,
            });
        }
        let labels = labels.labels().iter().map(|&l| u16::from(l)).collect();
        let shape = ImageShape::new(1, self.rows, self.cols);
        ImageDataset::new(name, shape, num_classes, self.pixels, labels)
    }
}
