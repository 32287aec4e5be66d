//! Reader for Fashion-MNIST (and anything else in the MNIST file layout).

use std::path::Path;

use super::read_file::{first_existing, require_dir};
use super::{DataError, IdxImages, IdxLabels, ImageDataset, ImageShape, Split};

/// What to download when Fashion-MNIST files are missing.
const HINT: &str = "download Fashion-MNIST (train-images-idx3-ubyte.gz, \
    train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) from \
    https://github.com/zalandoresearch/fashion-mnist into this directory (gzipped or not), \
    or on Debian/Ubuntu run `apt-get install dataset-fashion-mnist` and use \
    /usr/share/datasets/fashion-mnist";

/// Reader for Fashion-MNIST in its published IDX files.
///
/// A directory holds `train-images-idx3-ubyte`, `train-labels-idx1-ubyte` (60 000
/// images) and `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` (10 000), each
/// either gzipped (with a `.gz` suffix) or raw; the gzip compression is detected from
/// the content. Images are 28x28 grey scale, labels 0..=9. The original MNIST digits
/// use the same file names and format, so this reader reads them too.
///
/// ```no_run
/// use tnd_nas::data::{FashionMnist, Split};
///
/// # fn main() -> Result<(), tnd_nas::data::DataError> {
/// let train = FashionMnist::read("/usr/share/datasets/fashion-mnist", Split::Train)?;
/// assert_eq!((train.len(), train.channels(), train.height()), (60_000, 1, 28));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct FashionMnist;

impl FashionMnist {
    /// Number of classes.
    pub const NUM_CLASSES: usize = 10;
    /// Shape of one image.
    pub const SHAPE: ImageShape = ImageShape::new(1, 28, 28);
    /// Class names, indexed by label.
    pub const CLASSES: [&'static str; 10] = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ];

    /// Base names (without `.gz`) of the image and label files of `split`.
    pub fn file_names(split: Split) -> (&'static str, &'static str) {
        match split {
            Split::Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            Split::Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        }
    }

    /// Reads `split` from directory `dir`, preferring `NAME.gz` over `NAME` when both exist.
    ///
    /// # Errors
    ///
    /// [`DataError::NotFound`] (saying what to download) if `dir` or a file is
    /// missing; [`DataError::BadMagic`], [`DataError::Truncated`] (naming the file and
    /// record), [`DataError::TrailingBytes`], [`DataError::Decompress`] for malformed
    /// files; [`DataError::DimensionMismatch`] unless the images are 28x28;
    /// [`DataError::CountMismatch`] if the two files disagree on the number of
    /// records; [`DataError::LabelOutOfRange`] for a label above 9.
    pub fn read(dir: impl AsRef<Path>, split: Split) -> Result<ImageDataset, DataError> {
        let dir = dir.as_ref();
        require_dir(dir, HINT)?;
        let (images, labels) = Self::file_names(split);
        let images = first_existing(dir, &[&format!("{images}.gz"), images]);
        let labels = first_existing(dir, &[&format!("{labels}.gz"), labels]);
        let images = IdxImages::read_with_hint(&images, HINT)?;
        images.expect_dims(Self::SHAPE.height, Self::SHAPE.width)?;
        let labels = IdxLabels::read_with_hint(&labels, HINT)?;
        images.into_dataset(labels, Self::NUM_CLASSES, format!("fashion-mnist-{split}"))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::data::test_support::TempDir;

    fn pixel(i: usize, y: usize, x: usize) -> u8 {
        ((i * 13 + y * 28 + x) % 251) as u8
    }

    fn idx_images(n: usize, rows: usize, cols: usize) -> Vec<u8> {
        let mut v = vec![0, 0, 8, 3];
        for d in [n, rows, cols] {
            v.extend((d as u32).to_be_bytes());
        }
        for i in 0..n {
            for y in 0..rows {
                for x in 0..cols {
                    v.push(pixel(i, y, x));
                }
            }
        }
        v
    }

    fn idx_labels(labels: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, 1];
        v.extend((labels.len() as u32).to_be_bytes());
        v.extend(labels);
        v
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn labels(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 3 % 10) as u8).collect()
    }

    fn check(data: &ImageDataset, n: usize) {
        assert_eq!(data.len(), n);
        assert_eq!(data.shape(), FashionMnist::SHAPE);
        assert_eq!(
            data.labels(),
            labels(n).iter().map(|&l| u16::from(l)).collect::<Vec<_>>()
        );
        for i in [0, n - 1] {
            let img = data.image(i).unwrap();
            assert_eq!(img[0], pixel(i, 0, 0));
            assert_eq!(img[5 * 28 + 17], pixel(i, 5, 17));
            assert_eq!(img[27 * 28 + 27], pixel(i, 27, 27));
        }
    }

    #[test]
    fn reads_gzipped_and_raw_files() {
        let dir = TempDir::new("fmnist-ok");
        dir.write("train-images-idx3-ubyte.gz", &gz(&idx_images(7, 28, 28)));
        dir.write("train-labels-idx1-ubyte.gz", &gz(&idx_labels(&labels(7))));
        dir.write("t10k-images-idx3-ubyte", &idx_images(3, 28, 28));
        dir.write("t10k-labels-idx1-ubyte", &idx_labels(&labels(3)));
        let train = FashionMnist::read(dir.path(), Split::Train).unwrap();
        check(&train, 7);
        assert_eq!(train.name(), "fashion-mnist-train");
        check(&FashionMnist::read(dir.path(), Split::Test).unwrap(), 3);
        // Compression is detected from the content, not the name.
        dir.write("t10k-images-idx3-ubyte", &gz(&idx_images(3, 28, 28)));
        check(&FashionMnist::read(dir.path(), Split::Test).unwrap(), 3);
    }

    #[test]
    fn malformed_image_files_are_reported() {
        let dir = TempDir::new("fmnist-bad-images");
        dir.write("train-labels-idx1-ubyte", &idx_labels(&labels(4)));

        let mut bad_magic = idx_images(4, 28, 28);
        bad_magic[3] = 1;
        dir.write("train-images-idx3-ubyte", &bad_magic);
        assert!(matches!(
            FashionMnist::read(dir.path(), Split::Train),
            Err(DataError::BadMagic {
                expected: 0x803,
                found: 0x801,
                ..
            })
        ));

        dir.write("train-images-idx3-ubyte", &idx_images(4, 28, 27));
        assert!(matches!(
            FashionMnist::read(dir.path(), Split::Train),
            Err(DataError::DimensionMismatch { ref found, .. }) if *found == [28, 27]
        ));

        dir.write("train-images-idx3-ubyte", &idx_images(5, 28, 28));
        assert!(matches!(
            FashionMnist::read(dir.path(), Split::Train),
            Err(DataError::CountMismatch {
                image_count: 5,
                label_count: 4,
                ..
            })
        ));

        let mut truncated = idx_images(4, 28, 28);
        truncated.truncate(16 + 2 * 784 + 10);
        dir.write("train-images-idx3-ubyte", &gz(&truncated));
        match FashionMnist::read(dir.path(), Split::Train) {
            Err(DataError::Truncated {
                path,
                record: 2,
                available: 10,
                ..
            }) => {
                assert!(path.ends_with("train-images-idx3-ubyte"));
            }
            other => panic!("unexpected {other:?}"),
        }

        dir.write("train-images-idx3-ubyte", &idx_images(4, 28, 28)[..10]);
        assert!(matches!(
            FashionMnist::read(dir.path(), Split::Train),
            Err(DataError::TruncatedHeader {
                needed: 16,
                available: 10,
                ..
            })
        ));

        let mut long = idx_images(4, 28, 28);
        long.push(0);
        dir.write("train-images-idx3-ubyte", &long);
        assert!(matches!(
            FashionMnist::read(dir.path(), Split::Train),
            Err(DataError::TrailingBytes { .. })
        ));
    }

    #[test]
    fn malformed_label_files_are_reported() {
        let dir = TempDir::new("fmnist-bad-labels");
        dir.write("train-images-idx3-ubyte", &idx_images(4, 28, 28));
        dir.write("train-labels-idx1-ubyte", &idx_labels(&[1, 2, 10, 3]));
        match FashionMnist::read(dir.path(), Split::Train) {
            Err(DataError::LabelOutOfRange {
                path,
                record: 2,
                label: 10,
                ..
            }) => {
                assert!(path.ends_with("train-labels-idx1-ubyte"));
            }
            other => panic!("unexpected {other:?}"),
        }

        let mut broken = gz(&idx_labels(&labels(4)));
        broken.truncate(broken.len() - 12);
        dir.write("train-labels-idx1-ubyte", &broken);
        assert!(matches!(
            FashionMnist::read(dir.path(), Split::Train),
            Err(DataError::Decompress { .. })
        ));
    }

    #[test]
    fn missing_files_say_what_to_download() {
        let dir = TempDir::new("fmnist-missing");
        dir.write("t10k-images-idx3-ubyte.gz", &gz(&idx_images(1, 28, 28)));
        let err = FashionMnist::read(dir.path(), Split::Test).unwrap_err();
        assert!(matches!(err, DataError::NotFound { ref path, .. }
            if path.ends_with("t10k-labels-idx1-ubyte.gz")));
        assert!(err.to_string().contains("fashion-mnist"));
        assert!(matches!(
            FashionMnist::read(dir.path().join("nope"), Split::Train),
            Err(DataError::NotFound { .. })
        ));
    }
}
