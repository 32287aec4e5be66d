//! Reader for the CIFAR-100 binary version.

use std::path::Path;

use super::cifar_records::{CIFAR_PIXELS, decode_records};
use super::read_file::{read_file, require_dir};
use super::{Cifar100Labels, DataError, ImageDataset, ImageShape, Split};

/// What to download when CIFAR-100 files are missing.
const HINT: &str = "download the CIFAR-100 binary version (cifar-100-binary.tar.gz) from \
    https://www.cs.toronto.edu/~kriz/cifar.html, extract it and pass the \
    `cifar-100-binary/` directory it creates (train.bin, test.bin)";

/// Label limits of the two label bytes: coarse first, then fine.
const LIMITS: [usize; 2] = [
    Cifar100Labels::Coarse.num_classes(),
    Cifar100Labels::Fine.num_classes(),
];

/// Reader for CIFAR-100 in its published binary format.
///
/// The "CIFAR-100 binary version" (`cifar-100-binary.tar.gz`) extracts to
/// `cifar-100-binary/` holding `train.bin` (50 000 images) and `test.bin` (10 000).
/// Each record is a coarse label byte (0..=19), a fine label byte (0..=99) and 3072
/// pixel bytes (red, green, blue 32x32 planes). Both label bytes are validated; the
/// dataset keeps the ones chosen by [`Cifar100Labels`].
///
/// ```no_run
/// use tnd_nas::data::{Cifar100, Cifar100Labels, Split};
///
/// # fn main() -> Result<(), tnd_nas::data::DataError> {
/// let test = Cifar100::read("data/cifar-100-binary", Split::Test, Cifar100Labels::Coarse)?;
/// assert_eq!(test.num_classes(), 20);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Cifar100;

impl Cifar100 {
    /// Shape of one image.
    pub const SHAPE: ImageShape = ImageShape::new(3, 32, 32);
    /// Bytes per record (two labels + pixels).
    pub const RECORD_LEN: usize = 2 + CIFAR_PIXELS;

    /// File name of `split` inside the `cifar-100-binary/` directory.
    pub fn file_name(split: Split) -> &'static str {
        match split {
            Split::Train => "train.bin",
            Split::Test => "test.bin",
        }
    }

    /// Reads `split` from the extracted `cifar-100-binary/` directory `dir`, keeping
    /// the `labels` label set.
    ///
    /// # Errors
    ///
    /// [`DataError::NotFound`] (saying what to download) if `dir` or the file is
    /// missing, [`DataError::Truncated`] if the file's length is not a whole number of
    /// records, [`DataError::LabelOutOfRange`] for a coarse label above 19 or a fine
    /// label above 99 (both naming the file and the record), [`DataError::Io`] for
    /// other read failures.
    pub fn read(
        dir: impl AsRef<Path>,
        split: Split,
        labels: Cifar100Labels,
    ) -> Result<ImageDataset, DataError> {
        let dir = dir.as_ref();
        require_dir(dir, HINT)?;
        Self::read_named(
            &dir.join(Self::file_name(split)),
            labels,
            format!("cifar100-{labels}-{split}"),
        )
    }

    /// Reads a single CIFAR-100 binary file.
    ///
    /// # Errors
    ///
    /// As for [`read`](Self::read).
    pub fn read_file(
        path: impl AsRef<Path>,
        labels: Cifar100Labels,
    ) -> Result<ImageDataset, DataError> {
        let path = path.as_ref();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default();
        let name = format!("cifar100-{labels}-{stem}");
        Self::read_named(path, labels, name)
    }

    fn read_named(
        path: &Path,
        labels: Cifar100Labels,
        name: String,
    ) -> Result<ImageDataset, DataError> {
        let bytes = read_file(path, HINT)?;
        let keep = match labels {
            Cifar100Labels::Coarse => 0,
            Cifar100Labels::Fine => 1,
        };
        let (mut pix, mut lab) = (Vec::new(), Vec::new());
        decode_records(path, &bytes, &LIMITS, keep, &mut pix, &mut lab)?;
        ImageDataset::new(name, Self::SHAPE, labels.num_classes(), pix, lab)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_support::{TempDir, cifar_pixel, cifar_record};

    /// `n` records; record `r` has coarse label `r % 20` and fine label `(r * 7) % 100`.
    fn records(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|r| cifar_record(r, &[(r % 20) as u8, (r * 7 % 100) as u8]))
            .collect()
    }

    #[test]
    fn reads_fine_or_coarse_labels_and_planes() {
        let dir = TempDir::new("cifar100-ok");
        dir.write("train.bin", &records(25));
        dir.write("test.bin", &records(4));
        let fine = Cifar100::read(dir.path(), Split::Train, Cifar100Labels::Fine).unwrap();
        let coarse = Cifar100::read(dir.path(), Split::Train, Cifar100Labels::Coarse).unwrap();
        assert_eq!((fine.len(), fine.num_classes()), (25, 100));
        assert_eq!(coarse.num_classes(), 20);
        assert_eq!(fine.name(), "cifar100-fine-train");
        for r in [0, 3, 21, 24] {
            assert_eq!(fine.label(r), Some((r * 7 % 100) as u16));
            assert_eq!(coarse.label(r), Some((r % 20) as u16));
            let img = fine.image(r).unwrap();
            assert_eq!(img[0], cifar_pixel(r, 0, 0, 0));
            assert_eq!(img[1024 + 5 * 32 + 6], cifar_pixel(r, 1, 5, 6));
            assert_eq!(img[2048 + 31 * 32 + 31], cifar_pixel(r, 2, 31, 31));
        }
        assert_eq!(fine.pixels(), coarse.pixels());
        let test = Cifar100::read(dir.path(), Split::Test, Cifar100Labels::Fine).unwrap();
        assert_eq!(test.labels(), &[0, 7, 14, 21]);
    }

    #[test]
    fn corrupt_files_name_file_and_record() {
        let dir = TempDir::new("cifar100-bad");
        let mut bytes = records(3);
        bytes.pop();
        dir.write("train.bin", &bytes);
        match Cifar100::read(dir.path(), Split::Train, Cifar100Labels::Fine) {
            Err(DataError::Truncated {
                path,
                record: 2,
                record_len: 3074,
                available: 3073,
            }) => {
                assert!(path.ends_with("train.bin"));
            }
            other => panic!("unexpected {other:?}"),
        }
        // A bad coarse label is an error even when fine labels are requested.
        let mut bytes = records(3);
        bytes[Cifar100::RECORD_LEN * 2] = 20;
        dir.write("test.bin", &bytes);
        assert!(matches!(
            Cifar100::read(dir.path(), Split::Test, Cifar100Labels::Fine),
            Err(DataError::LabelOutOfRange {
                record: 2,
                label: 20,
                num_classes: 20,
                ..
            })
        ));
        let mut bytes = records(3);
        bytes[Cifar100::RECORD_LEN + 1] = 100;
        dir.write("test.bin", &bytes);
        assert!(matches!(
            Cifar100::read(dir.path(), Split::Test, Cifar100Labels::Coarse),
            Err(DataError::LabelOutOfRange {
                record: 1,
                label: 100,
                num_classes: 100,
                ..
            })
        ));
    }

    #[test]
    fn missing_directory_says_what_to_download() {
        let dir = TempDir::new("cifar100-missing");
        let msg = Cifar100::read(dir.path().join("x"), Split::Train, Cifar100Labels::Fine)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("cifar-100-binary.tar.gz") && msg.contains("cifar-100-binary/"));
        assert!(matches!(
            Cifar100::read(dir.path(), Split::Test, Cifar100Labels::Fine),
            Err(DataError::NotFound { path, .. }) if path.ends_with("test.bin")
        ));
    }
}
