//! Cosine annealing of the learning rate.

/// The learning rate of 0-based epoch `epoch` of `epochs`: cosine annealing from `lr`
/// to `lr_min` (PyTorch `CosineAnnealingLR` with `T_max = epochs`, stepped per epoch).
///
/// ```
/// use tnd_nas::train::cosine_lr;
/// assert_eq!(cosine_lr(0.1, 0.0, 0, 10), 0.1);
/// assert!((cosine_lr(0.1, 0.0, 5, 10) - 0.05).abs() < 1e-12);
/// assert!(cosine_lr(0.1, 0.001, 9, 10) > 0.001);
/// ```
pub fn cosine_lr(lr: f64, lr_min: f64, epoch: usize, epochs: usize) -> f64 {
    let progress = epoch as f64 / epochs.max(1) as f64;
    lr_min + 0.5 * (lr - lr_min) * (1.0 + (std::f64::consts::PI * progress).cos())
}
