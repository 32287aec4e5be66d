//! The checked per-image augmentation pipeline.

use rand::Rng;

use super::{DataError, ImageShape, Normalization};

/// A validated augmentation pipeline for images of one shape, built by
/// [`AugmentConfig::init`](super::AugmentConfig::init).
///
/// All randomness comes from the RNG passed to [`apply`](Self::apply), so the result
/// is a pure function of the image and the RNG state. Per image the RNG is drawn in a
/// fixed order: crop offsets (row, then column), flip, cutout centre (row, then column);
/// disabled steps draw nothing.
///
/// ```
/// use rand::SeedableRng;
/// use tnd_nas::data::{AugmentConfig, ImageShape};
///
/// # fn main() -> Result<(), tnd_nas::data::DataError> {
/// let aug = AugmentConfig::none().init(ImageShape::new(1, 2, 2))?;
/// let mut out = [0.0; 4];
/// aug.apply(&[0, 51, 102, 255], &mut rand_chacha::ChaCha8Rng::seed_from_u64(0), &mut out)?;
/// assert_eq!(out, [0.0, 0.2, 0.4, 1.0]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Augmentation {
    shape: ImageShape,
    crop_padding: usize,
    horizontal_flip: bool,
    cutout: Option<usize>,
    /// Normalised value of every pixel value, per channel.
    tables: Vec<[f32; 256]>,
}

impl Augmentation {
    pub(crate) fn new(
        shape: ImageShape,
        crop_padding: usize,
        horizontal_flip: bool,
        cutout: Option<usize>,
        normalization: &Normalization,
    ) -> Self {
        Self {
            shape,
            crop_padding,
            horizontal_flip,
            cutout,
            tables: (0..shape.channels)
                .map(|c| normalization.table(c))
                .collect(),
        }
    }

    /// The image shape this pipeline expects.
    pub fn shape(&self) -> ImageShape {
        self.shape
    }

    /// Whether any step is random (crop, flip or cutout enabled).
    pub fn is_random(&self) -> bool {
        self.crop_padding > 0 || self.horizontal_flip || self.cutout.is_some()
    }

    /// Augments and normalises one CHW `image` into `out` (same length, CHW `f32`).
    ///
    /// Padding pixels have raw value 0 and are normalised like any other pixel, as
    /// with torchvision's `RandomCrop(padding=..)` before `Normalize`; cutout sets its
    /// square to exactly 0 after normalisation.
    ///
    /// # Errors
    ///
    /// [`DataError::LengthMismatch`] if `image` or `out` is not `shape().len()` long.
    pub fn apply<R: Rng + ?Sized>(
        &self,
        image: &[u8],
        rng: &mut R,
        out: &mut [f32],
    ) -> Result<(), DataError> {
        let n = self.shape.len();
        for (what, len) in [("image", image.len()), ("output", out.len())] {
            if len != n {
                return Err(DataError::LengthMismatch {
                    what,
                    expected: n,
                    found: len,
                });
            }
        }
        self.apply_unchecked(image, rng, out);
        Ok(())
    }

    /// [`apply`](Self::apply) for inputs already known to have the right length.
    pub(crate) fn apply_unchecked<R: Rng + ?Sized>(
        &self,
        image: &[u8],
        rng: &mut R,
        out: &mut [f32],
    ) {
        let ImageShape {
            height: h,
            width: w,
            ..
        } = self.shape;
        let pad = self.crop_padding;
        // Source pixel of output (y, x) is (y + dy - pad, x' + dx - pad), x' mirrored if flipped.
        let (dy, dx) = if pad > 0 {
            (rng.random_range(0..=2 * pad), rng.random_range(0..=2 * pad))
        } else {
            (0, 0)
        };
        let flip = self.horizontal_flip && rng.random_bool(0.5);
        let plane = h * w;
        for ((src, dst), table) in image
            .chunks_exact(plane)
            .zip(out.chunks_exact_mut(plane))
            .zip(&self.tables)
        {
            for (y, row) in dst.chunks_exact_mut(w).enumerate() {
                let sy = (y + dy).checked_sub(pad).filter(|&sy| sy < h);
                for (x, value) in row.iter_mut().enumerate() {
                    let xm = if flip { w - 1 - x } else { x };
                    let sx = (xm + dx).checked_sub(pad).filter(|&sx| sx < w);
                    let raw = match (sy, sx) {
                        (Some(sy), Some(sx)) => src[sy * w + sx],
                        _ => 0,
                    };
                    *value = table[usize::from(raw)];
                }
            }
        }
        if let Some(length) = self.cutout {
            let cy = rng.random_range(0..h);
            let cx = rng.random_range(0..w);
            let half = length / 2;
            let (y1, y2) = (cy.saturating_sub(half), (cy + half).min(h));
            let (x1, x2) = (cx.saturating_sub(half), (cx + half).min(w));
            for channel in out.chunks_exact_mut(plane) {
                for row in channel.chunks_exact_mut(w).take(y2).skip(y1) {
                    row[x1..x2].fill(0.0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::data::AugmentConfig;

    const SHAPE: ImageShape = ImageShape::new(3, 8, 8);

    /// A 3x8x8 image with all pixel values distinct and non-zero.
    fn image() -> Vec<u8> {
        (0..SHAPE.len()).map(|i| (i + 1) as u8).collect()
    }

    fn run(config: &AugmentConfig, seed: u64) -> Vec<f32> {
        let aug = config.init(SHAPE).unwrap();
        let mut out = vec![f32::NAN; SHAPE.len()];
        aug.apply(&image(), &mut ChaCha8Rng::seed_from_u64(seed), &mut out)
            .unwrap();
        out
    }

    /// Raw pixel values recovered from a `[0, 1]`-scaled output.
    fn raw(out: &[f32]) -> Vec<u8> {
        out.iter().map(|v| (v * 255.0).round() as u8).collect()
    }

    /// `image()` shifted so that output (y, x) shows source (y + sy, x + sx), 0 outside.
    fn shifted(sy: isize, sx: isize, flip: bool) -> Vec<u8> {
        let img = image();
        let mut v = Vec::new();
        for c in 0..3 {
            for y in 0..8isize {
                for x in 0..8isize {
                    let xm = if flip { 7 - x } else { x };
                    let (yy, xx) = (y + sy, xm + sx);
                    let inside = (0..8).contains(&yy) && (0..8).contains(&xx);
                    v.push(if inside {
                        img[c * 64 + (yy * 8 + xx) as usize]
                    } else {
                        0
                    });
                }
            }
        }
        v
    }

    #[test]
    fn no_augmentation_only_scales() {
        assert_eq!(raw(&run(&AugmentConfig::none(), 0)), image());
        let n = Normalization::new(vec![0.1, 0.2, 0.3], vec![0.5, 0.25, 2.0]).unwrap();
        let out = run(
            &AugmentConfig::none().with_normalization(Some(n.clone())),
            0,
        );
        let img = image();
        for i in [0, 70, 191] {
            let c = i / 64;
            let expected = (f32::from(img[i]) / 255.0 - n.mean()[c]) / n.std()[c];
            assert!((out[i] - expected).abs() < 1e-6);
        }
    }

    #[test]
    fn crop_is_a_zero_padded_shift_covering_all_offsets() {
        let config = AugmentConfig::none().with_crop_padding(2);
        let mut seen = std::collections::HashSet::new();
        for seed in 0..200 {
            let got = raw(&run(&config, seed));
            let shift = (-2..=2)
                .flat_map(|sy| (-2..=2).map(move |sx| (sy, sx)))
                .find(|&(sy, sx)| shifted(sy, sx, false) == got);
            seen.insert(shift.expect("output is not a shifted input"));
        }
        assert_eq!(seen.len(), 25);
    }

    #[test]
    fn flip_mirrors_about_half_the_time() {
        let config = AugmentConfig::none().with_horizontal_flip(true);
        let flips = (0..200)
            .filter(|&seed| {
                let got = raw(&run(&config, seed));
                assert!(got == image() || got == shifted(0, 0, true));
                got != image()
            })
            .count();
        assert!((60..=140).contains(&flips), "{flips}");
    }

    #[test]
    fn cutout_zeroes_one_clipped_square_in_every_channel_after_normalisation() {
        let config = AugmentConfig::none()
            .with_normalization(Some(
                Normalization::new(vec![0.9; 3], vec![0.5; 3]).unwrap(),
            ))
            .with_cutout(Some(4));
        for seed in 0..50 {
            let out = run(&config, seed);
            let zeros: Vec<usize> = (0..64).filter(|&p| out[p] == 0.0).collect();
            assert!(!zeros.is_empty() && zeros.len() <= 16, "{}", zeros.len());
            for c in 1..3 {
                let z: Vec<usize> = (0..64).filter(|&p| out[c * 64 + p] == 0.0).collect();
                assert_eq!(z, zeros);
            }
            // The zeros form a rectangle of side 1..=4 (clipped at the border).
            let rows: Vec<usize> = zeros.iter().map(|p| p / 8).collect();
            let cols: Vec<usize> = zeros.iter().map(|p| p % 8).collect();
            let (r0, r1) = (rows.iter().min().unwrap(), rows.iter().max().unwrap());
            let (c0, c1) = (cols.iter().min().unwrap(), cols.iter().max().unwrap());
            assert_eq!((r1 - r0 + 1) * (c1 - c0 + 1), zeros.len());
            assert!(r1 - r0 < 4 && c1 - c0 < 4);
            // Everything else is the normalised image (never exactly 0 here).
            assert!(out.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn same_rng_state_gives_same_output() {
        let config = AugmentConfig::default().with_cutout(Some(3));
        assert_eq!(run(&config, 9), run(&config, 9));
        let distinct: std::collections::HashSet<Vec<u32>> = (0..20)
            .map(|s| run(&config, s).iter().map(|v| v.to_bits()).collect())
            .collect();
        assert!(distinct.len() > 10, "{}", distinct.len());
    }

    #[test]
    fn init_and_apply_validate_input() {
        let bad = AugmentConfig::none().with_normalization(Some(Normalization::fashion_mnist()));
        assert!(matches!(
            bad.init(SHAPE),
            Err(DataError::InvalidConfig {
                field: "normalization",
                ..
            })
        ));
        assert!(
            AugmentConfig::none()
                .with_cutout(Some(0))
                .init(SHAPE)
                .is_err()
        );
        let aug = AugmentConfig::none().init(SHAPE).unwrap();
        let mut out = vec![0.0; 10];
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert!(matches!(
            aug.apply(&image(), &mut rng, &mut out),
            Err(DataError::LengthMismatch { what: "output", .. })
        ));
    }

    #[test]
    fn config_serde_round_trip_and_defaults() {
        let config = AugmentConfig::default()
            .with_cutout(Some(16))
            .with_normalization(Some(Normalization::cifar10()));
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(
            serde_json::from_str::<AugmentConfig>(&json).unwrap(),
            config
        );
        let partial: AugmentConfig = serde_json::from_str(r#"{"cutout": 16}"#).unwrap();
        assert_eq!(partial, AugmentConfig::default().with_cutout(Some(16)));
    }
}
