//! The error type of the data subsystem.

use std::path::PathBuf;

/// Everything that can go wrong while reading, splitting, augmenting or batching images.
///
/// Errors that concern a file name that file; errors that concern one record of a
/// file also name the 0-based index of the record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A data file or directory does not exist.
    #[error("`{}` not found; {hint}", path.display())]
    NotFound {
        /// The missing path.
        path: PathBuf,
        /// What to download and where to put it.
        hint: String,
    },
    /// A data folder that is a file.
    #[error("`{}` is a file, not a folder: pass the folder that holds the data files", path.display())]
    NotAFolder {
        /// The path given as the folder.
        path: PathBuf,
    },
    /// Reading a file failed.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A gzip-compressed file could not be decompressed.
    #[error("`{}` is not a valid gzip stream: {source}", path.display())]
    Decompress {
        /// The compressed file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file ends in the middle of a record (or of its header).
    #[error(
        "`{}` is truncated: record {record} needs {record_len} bytes but only {available} remain",
        path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// 0-based index of the incomplete record.
        record: usize,
        /// Size of one record in bytes.
        record_len: usize,
        /// Bytes left in the file for that record.
        available: usize,
    },
    /// A file ends inside its header.
    #[error("`{}` is truncated: its header needs {needed} bytes but the file has {available}", path.display())]
    TruncatedHeader {
        /// The file.
        path: PathBuf,
        /// Header length in bytes.
        needed: usize,
        /// Bytes in the file.
        available: usize,
    },
    /// A file holds more bytes than its header announces.
    #[error("`{}` has {actual} bytes, expected {expected} from its header", path.display())]
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// Length implied by the header.
        expected: usize,
        /// Actual length.
        actual: usize,
    },
    /// A file holds no records at all.
    #[error("`{}` contains no records", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A record's label is not a valid class index.
    #[error(
        "`{}`: record {record} has label {label}, but there are only {num_classes} classes",
        path.display()
    )]
    LabelOutOfRange {
        /// The file.
        path: PathBuf,
        /// 0-based index of the record.
        record: usize,
        /// The offending label.
        label: u16,
        /// Number of classes of the format.
        num_classes: usize,
    },
    /// An IDX file starts with the wrong magic number.
    #[error("`{}`: bad IDX magic number {found:#010x}, expected {expected:#010x}", path.display())]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The magic number the format requires.
        expected: u32,
        /// The magic number found.
        found: u32,
    },
    /// Image dimensions in a file differ from what the format requires.
    #[error("`{}`: image dimensions {found:?}, expected {expected:?}", path.display())]
    DimensionMismatch {
        /// The file.
        path: PathBuf,
        /// The required dimensions.
        expected: Vec<usize>,
        /// The dimensions found.
        found: Vec<usize>,
    },
    /// An image file and its label file hold different numbers of records.
    #[error(
        "`{}` holds {image_count} images but `{}` holds {label_count} labels",
        images.display(),
        labels.display()
    )]
    CountMismatch {
        /// The image file.
        images: PathBuf,
        /// Number of images.
        image_count: usize,
        /// The label file.
        labels: PathBuf,
        /// Number of labels.
        label_count: usize,
    },
    /// Buffers given to a constructor have inconsistent lengths.
    #[error("{what}: expected length {expected}, found {found}")]
    LengthMismatch {
        /// Which buffer.
        what: &'static str,
        /// The length implied by the other arguments.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A label of an in-memory dataset is not a valid class index.
    #[error("image {index} has label {label}, but there are only {num_classes} classes")]
    InvalidLabel {
        /// 0-based image index.
        index: usize,
        /// The offending label.
        label: u16,
        /// Number of classes.
        num_classes: usize,
    },
    /// An image index is past the end of a dataset.
    #[error("image index {index} out of range for a dataset of {len} images")]
    IndexOutOfRange {
        /// The index.
        index: usize,
        /// Number of images in the dataset.
        len: usize,
    },
    /// The operation needs at least one image.
    #[error("dataset `{name}` is empty")]
    EmptyDataset {
        /// Name of the dataset.
        name: String,
    },
    /// A configuration value is invalid.
    #[error("invalid {field}: {reason}")]
    InvalidConfig {
        /// The field (or argument) at fault.
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// A prefetch worker thread could not be started.
    #[error("cannot start a data worker thread: {0}")]
    Thread(#[source] std::io::Error),
}

impl DataError {
    /// Shorthand for [`DataError::InvalidConfig`].
    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidConfig {
            field,
            reason: reason.into(),
        }
    }

    /// Maps an I/O error on `path` to [`DataError::NotFound`] (with `hint`) or [`DataError::Io`].
    pub(crate) fn from_io(path: &std::path::Path, source: std::io::Error, hint: &str) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            Self::NotFound {
                path: path.to_path_buf(),
                hint: hint.to_owned(),
            }
        } else {
            Self::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_file_and_record() {
        let err = DataError::Truncated {
            path: PathBuf::from("/d/data_batch_3.bin"),
            record: 17,
            record_len: 3073,
            available: 5,
        };
        let msg = err.to_string();
        assert!(msg.contains("/d/data_batch_3.bin"), "{msg}");
        assert!(msg.contains("record 17"), "{msg}");
    }

    #[test]
    fn not_found_is_mapped_from_io_kind() {
        let path = std::path::Path::new("/nope");
        let nf = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert!(matches!(
            DataError::from_io(path, nf, "get it"),
            DataError::NotFound { ref hint, .. } if hint == "get it"
        ));
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(matches!(
            DataError::from_io(path, denied, "get it"),
            DataError::Io { .. }
        ));
    }
}
