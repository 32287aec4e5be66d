//! Reader for the CIFAR-10 binary version.

use std::path::Path;

use super::cifar_records::{CIFAR_PIXELS, decode_records};
use super::read_file::{read_file, require_dir};
use super::{DataError, ImageDataset, ImageShape, Split};

/// What to download when CIFAR-10 files are missing.
const HINT: &str = "download the CIFAR-10 binary version (cifar-10-binary.tar.gz) from \
    https://www.cs.toronto.edu/~kriz/cifar.html, extract it and pass the \
    `cifar-10-batches-bin/` directory it creates (data_batch_1.bin ..= data_batch_5.bin, \
    test_batch.bin)";

/// Reader for CIFAR-10 in its published binary format.
///
/// The "CIFAR-10 binary version" (`cifar-10-binary.tar.gz`) extracts to a directory
/// `cifar-10-batches-bin/` holding `data_batch_1.bin` ..= `data_batch_5.bin` (training
/// set, 50 000 images) and `test_batch.bin` (10 000 images). Each record is one label
/// byte (0..=9) and 3072 pixel bytes: the red, green and blue 32x32 planes, rows top to
/// bottom, which is exactly the CHW layout of [`ImageDataset`].
///
/// ```no_run
/// use tnd_nas::data::{Cifar10, Split};
///
/// # fn main() -> Result<(), tnd_nas::data::DataError> {
/// let train = Cifar10::read("data/cifar-10-batches-bin", Split::Train)?;
/// assert_eq!((train.len(), train.num_classes()), (50_000, 10));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Cifar10;

impl Cifar10 {
    /// Number of classes.
    pub const NUM_CLASSES: usize = 10;
    /// Shape of one image.
    pub const SHAPE: ImageShape = ImageShape::new(3, 32, 32);
    /// Class names, indexed by label.
    pub const CLASSES: [&'static str; 10] = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ];
    /// Bytes per record (label + pixels).
    pub const RECORD_LEN: usize = 1 + CIFAR_PIXELS;

    /// File names of `split` inside the `cifar-10-batches-bin/` directory.
    pub fn file_names(split: Split) -> &'static [&'static str] {
        match split {
            Split::Train => &[
                "data_batch_1.bin",
                "data_batch_2.bin",
                "data_batch_3.bin",
                "data_batch_4.bin",
                "data_batch_5.bin",
            ],
            Split::Test => &["test_batch.bin"],
        }
    }

    /// Reads `split` from the extracted `cifar-10-batches-bin/` directory `dir`.
    ///
    /// # Errors
    ///
    /// [`DataError::NotFound`] (saying what to download) if `dir` or a file is
    /// missing, [`DataError::Truncated`] if a file's length is not a whole number of
    /// records, [`DataError::LabelOutOfRange`] for a label above 9 (both naming the
    /// file and the record), [`DataError::Io`] for other read failures.
    pub fn read(dir: impl AsRef<Path>, split: Split) -> Result<ImageDataset, DataError> {
        let dir = dir.as_ref();
        require_dir(dir, HINT)?;
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        for name in Self::file_names(split) {
            let path = dir.join(name);
            let bytes = read_file(&path, HINT)?;
            decode_records(
                &path,
                &bytes,
                &[Self::NUM_CLASSES],
                0,
                &mut pixels,
                &mut labels,
            )?;
        }
        ImageDataset::new(
            format!("cifar10-{split}"),
            Self::SHAPE,
            Self::NUM_CLASSES,
            pixels,
            labels,
        )
    }

    /// Reads a single CIFAR-10 batch file, e.g. `data_batch_1.bin` alone.
    ///
    /// # Errors
    ///
    /// As for [`read`](Self::read).
    pub fn read_file(path: impl AsRef<Path>) -> Result<ImageDataset, DataError> {
        let path = path.as_ref();
        let bytes = read_file(path, HINT)?;
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        decode_records(
            path,
            &bytes,
            &[Self::NUM_CLASSES],
            0,
            &mut pixels,
            &mut labels,
        )?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default();
        ImageDataset::new(
            format!("cifar10-{stem}"),
            Self::SHAPE,
            Self::NUM_CLASSES,
            pixels,
            labels,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_support::{TempDir, cifar_pixel, cifar_record};

    /// Writes the six CIFAR-10 files with `per_file` records each; record `r` (counted
    /// over all files in order) has label `r % 10` and pixels from `cifar_pixel`.
    fn write_cifar10(dir: &TempDir, per_file: usize) {
        let names = Cifar10::file_names(Split::Train)
            .iter()
            .chain(Cifar10::file_names(Split::Test));
        for (f, name) in names.enumerate() {
            let bytes: Vec<u8> = (0..per_file)
                .flat_map(|i| {
                    let r = f * per_file + i;
                    cifar_record(r, &[(r % 10) as u8])
                })
                .collect();
            dir.write(name, &bytes);
        }
    }

    #[test]
    fn reads_labels_and_rgb_planes_in_file_order() {
        let dir = TempDir::new("cifar10-ok");
        write_cifar10(&dir, 3);
        let train = Cifar10::read(dir.path(), Split::Train).unwrap();
        assert_eq!(train.len(), 15);
        assert_eq!(train.shape(), Cifar10::SHAPE);
        assert_eq!(train.name(), "cifar10-train");
        for r in [0, 4, 14] {
            assert_eq!(train.label(r), Some((r % 10) as u16));
            let img = train.image(r).unwrap();
            for (c, y, x) in [(0, 0, 0), (0, 31, 5), (1, 2, 30), (2, 17, 9), (2, 31, 31)] {
                assert_eq!(
                    img[c * 1024 + y * 32 + x],
                    cifar_pixel(r, c, y, x),
                    "{r} {c} {y} {x}"
                );
            }
        }
        let test = Cifar10::read(dir.path(), Split::Test).unwrap();
        assert_eq!(test.len(), 3);
        // test_batch.bin holds global records 15..18.
        assert_eq!(test.label(0), Some(5));
        assert_eq!(test.image(2).unwrap()[1024 + 33], cifar_pixel(17, 1, 1, 1));
        let one = Cifar10::read_file(dir.path().join("data_batch_2.bin")).unwrap();
        assert_eq!(one.labels(), &[3, 4, 5]);
    }

    #[test]
    fn truncated_file_names_file_and_record() {
        let dir = TempDir::new("cifar10-trunc");
        write_cifar10(&dir, 2);
        let mut bytes = cifar_record(0, &[1]);
        bytes.extend(cifar_record(1, &[2]));
        bytes.extend(&cifar_record(2, &[3])[..100]);
        dir.write("data_batch_3.bin", &bytes);
        let err = Cifar10::read(dir.path(), Split::Train).unwrap_err();
        match &err {
            DataError::Truncated {
                path,
                record,
                available,
                ..
            } => {
                assert!(path.ends_with("data_batch_3.bin"));
                assert_eq!((*record, *available), (2, 100));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("data_batch_3.bin"));
        assert!(Cifar10::read(dir.path(), Split::Test).is_ok());
    }

    #[test]
    fn out_of_range_label_names_file_and_record() {
        let dir = TempDir::new("cifar10-label");
        write_cifar10(&dir, 2);
        let mut bytes = cifar_record(0, &[9]);
        bytes.extend(cifar_record(1, &[10]));
        dir.write("test_batch.bin", &bytes);
        match Cifar10::read(dir.path(), Split::Test) {
            Err(DataError::LabelOutOfRange {
                path,
                record: 1,
                label: 10,
                num_classes: 10,
            }) => assert!(path.ends_with("test_batch.bin")),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn missing_directory_or_file_says_what_to_download() {
        let dir = TempDir::new("cifar10-missing");
        let absent = dir.path().join("cifar-10-batches-bin");
        let err = Cifar10::read(&absent, Split::Train).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DataError::NotFound { ref path, .. } if *path == absent));
        assert!(msg.contains("cifar-10-binary.tar.gz") && msg.contains("cifar-10-batches-bin"));

        write_cifar10(&dir, 1);
        std::fs::remove_file(dir.path().join("data_batch_4.bin")).unwrap();
        match Cifar10::read(dir.path(), Split::Train) {
            Err(DataError::NotFound { path, .. }) => assert!(path.ends_with("data_batch_4.bin")),
            other => panic!("unexpected {other:?}"),
        }
        dir.write("test_batch.bin", &[]);
        assert!(matches!(
            Cifar10::read(dir.path(), Split::Test),
            Err(DataError::Empty { .. })
        ));
    }
}
