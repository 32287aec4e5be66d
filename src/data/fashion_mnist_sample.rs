//! A class-balanced Fashion-MNIST sample embedded in the library.

use super::{DataError, FashionMnist, IdxImages, IdxLabels, ImageDataset};

/// The gzipped IDX image file of the sample.
const IMAGES_GZ: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/fashion-mnist-sample/images-idx3-ubyte.gz"
));
/// The gzipped IDX label file of the sample.
const LABELS_GZ: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/fashion-mnist-sample/labels-idx1-ubyte.gz"
));

/// 4000 real Fashion-MNIST training images embedded in the library, for examples and
/// tests that should run a real search without downloading anything.
///
/// The sample holds the first 400 images of each of the 10 classes, in file order,
/// of the Fashion-MNIST **training** split (Zalando Research, MIT licence; taken from
/// the Debian package `dataset-fashion-mnist`). The official test split is untouched,
/// so it remains a fair final test. Provenance, the exact indices and the licence are
/// in `data/fashion-mnist-sample/`; `scripts/make-fashion-sample.py` regenerates it.
///
/// ```
/// use tnd_nas::data::FashionMnistSample;
///
/// # fn main() -> Result<(), tnd_nas::data::DataError> {
/// let (search, holdout) = FashionMnistSample::search_and_holdout()?;
/// assert_eq!((search.len(), holdout.len()), (3000, 1000));
/// assert_eq!(holdout.class_counts(), vec![100; 10]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct FashionMnistSample;

impl FashionMnistSample {
    /// Number of images in the sample.
    pub const LEN: usize = 4000;
    /// Number of images in the search part of [`search_and_holdout`](Self::search_and_holdout).
    pub const SEARCH_LEN: usize = 3000;
    /// Number of images in the held-out part of [`search_and_holdout`](Self::search_and_holdout).
    pub const HOLDOUT_LEN: usize = Self::LEN - Self::SEARCH_LEN;
    /// Seed of the fixed search/hold-out split.
    pub const SPLIT_SEED: u64 = 0x5EED_F45E;

    /// Decodes the embedded sample: 4000 1x28x28 images, 400 per class, named
    /// `fashion-mnist-sample`.
    ///
    /// # Errors
    ///
    /// None in practice; decoding errors of the embedded files are passed through.
    pub fn load() -> Result<ImageDataset, DataError> {
        let root = "<embedded>/data/fashion-mnist-sample";
        let images =
            IdxImages::from_bytes(format!("{root}/images-idx3-ubyte.gz"), IMAGES_GZ.to_vec())?;
        images.expect_dims(FashionMnist::SHAPE.height, FashionMnist::SHAPE.width)?;
        let labels =
            IdxLabels::from_bytes(format!("{root}/labels-idx1-ubyte.gz"), LABELS_GZ.to_vec())?;
        images.into_dataset(labels, FashionMnist::NUM_CLASSES, "fashion-mnist-sample")
    }

    /// The sample split, class-balanced and always the same way, into a search part
    /// of 3000 images (300 per class, for training weights and scoring architectures)
    /// and a held-out part of 1000 images (100 per class) for the final evaluation.
    ///
    /// # Errors
    ///
    /// As for [`load`](Self::load).
    pub fn search_and_holdout() -> Result<(ImageDataset, ImageDataset), DataError> {
        let all = Self::load()?;
        let fraction = Self::SEARCH_LEN as f64 / Self::LEN as f64;
        let (search, holdout) = all.split(fraction, Self::SPLIT_SEED)?;
        Ok((
            search.with_name("fashion-mnist-sample/search"),
            holdout.with_name("fashion-mnist-sample/holdout"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn sample_is_balanced_and_in_train_file_order() {
        let data = FashionMnistSample::load().unwrap();
        assert_eq!(data.len(), FashionMnistSample::LEN);
        assert_eq!(data.shape(), FashionMnist::SHAPE);
        assert_eq!(data.class_counts(), vec![400; 10]);
        // The first labels of the Fashion-MNIST training file.
        assert_eq!(&data.labels()[..10], &[9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
        // Real images: not blank, using most of the grey range.
        let img = data.image(0).unwrap();
        assert!(img.iter().filter(|&&p| p > 0).count() > 200);
        assert_eq!(img.iter().max(), Some(&255));
    }

    #[test]
    fn search_and_holdout_are_disjoint_fixed_and_balanced() {
        let (search, holdout) = FashionMnistSample::search_and_holdout().unwrap();
        assert_eq!(search.class_counts(), vec![300; 10]);
        assert_eq!(holdout.class_counts(), vec![100; 10]);
        assert_eq!(holdout.name(), "fashion-mnist-sample/holdout");
        let seen: HashSet<&[u8]> = (0..search.len()).filter_map(|i| search.image(i)).collect();
        let shared = (0..holdout.len())
            .filter_map(|i| holdout.image(i))
            .filter(|img| seen.contains(img))
            .count();
        // The sample holds no duplicate images, so the parts share none.
        assert_eq!(shared, 0);
        let again = FashionMnistSample::search_and_holdout().unwrap();
        assert_eq!(again.1, holdout);
    }

    /// Checks the embedded sample against the full training set and `indices.txt`.
    /// Needs `apt-get install dataset-fashion-mnist`; run with `--ignored`.
    #[test]
    #[ignore = "needs the Debian package dataset-fashion-mnist"]
    fn sample_matches_the_full_training_set() {
        let full = FashionMnist::read(
            "/usr/share/datasets/fashion-mnist",
            crate::data::Split::Train,
        )
        .unwrap();
        assert_eq!(full.len(), 60_000);
        let test = FashionMnist::read(
            "/usr/share/datasets/fashion-mnist",
            crate::data::Split::Test,
        )
        .unwrap();
        assert_eq!(test.len(), 10_000);
        let indices = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/fashion-mnist-sample/indices.txt"
        ));
        let indices: Vec<usize> = indices.lines().map(|l| l.parse().unwrap()).collect();
        let sample = FashionMnistSample::load().unwrap();
        assert_eq!(
            full.subset(&indices).unwrap().with_name(sample.name()),
            sample
        );
    }
}
