//! An IDX label file (`*-labels-idx1-ubyte[.gz]`).

use std::path::{Path, PathBuf};

use super::DataError;
use super::idx_format::decode;
use super::idx_images::IDX_HINT;
use super::read_file::read_file;

/// The contents of an IDX label file: one `u8` label per image.
///
/// The file starts with the big-endian magic number `0x00000801` and the big-endian
/// `u32` count, followed by one byte per label. Gzip compression is detected from
/// the gzip magic bytes. See [`IdxImages`](super::IdxImages) for an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxLabels {
    path: PathBuf,
    labels: Vec<u8>,
}

impl IdxLabels {
    /// The magic number of an IDX file of unsigned bytes with one dimension.
    pub const MAGIC: u32 = 0x0000_0801;

    /// Reads an IDX label file, gzipped or raw.
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

    /// Decodes an IDX label file already in memory; `path` is only used in errors.
    ///
    /// # Errors
    ///
    /// [`DataError::Decompress`], [`DataError::BadMagic`],
    /// [`DataError::TruncatedHeader`], [`DataError::Truncated`] or
    /// [`DataError::TrailingBytes`] for a malformed file.
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> Result<Self, DataError> {
        let path = path.into();
        let (_, labels) = decode(&path, bytes, 1)?;
        Ok(Self { path, labels })
    }

    /// The file the labels came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the file holds no labels.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The labels, in file order.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }
}
