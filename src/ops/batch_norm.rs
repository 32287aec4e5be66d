//! Batch normalisation with or without affine parameters.

use burn::module::{Module, Param, RunningState};
use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use crate::kernels::{batch_moments, normalize_batch_stats};

thread_local! {
    static BATCH_STATISTICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static BYPASSED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with every [`BatchNorm2d`] of this thread left out (its forward pass returns
/// its input), as synflow scores a network "without BN" (Tanaka et al. 2020; the
/// zero-cost-nas code builds such a copy).
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use tnd_nas::ops::{BatchNorm2dConfig, without_batch_norm};
/// let bn = BatchNorm2dConfig::new(1).init::<NdArray>(&Default::default());
/// let x = Tensor::<NdArray, 4>::from_floats([[[[1.0, 3.0]]]], &Default::default());
/// let y = without_batch_norm(|| bn.forward(x.clone()));
/// assert_eq!(y.into_data(), x.into_data());
/// ```
pub fn without_batch_norm<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            BYPASSED.with(|b| b.set(self.0));
        }
    }
    let _restore = Restore(BYPASSED.with(|b| b.replace(true)));
    f()
}

/// Runs `f` with every [`BatchNorm2d`] forward pass of this thread normalising with the
/// statistics of its own batch, running statistics or not (they are neither read nor
/// updated). A supernet scores a sampled path this way with that path's statistics
/// (per-path BN recalibration, on the scoring batch itself) instead of running
/// statistics accumulated over every path it trained.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use tnd_nas::ops::{BatchNorm2dConfig, with_batch_statistics};
/// let device = Default::default();
/// let bn = BatchNorm2dConfig::new(1).init::<NdArray>(&device);
/// let x = Tensor::<NdArray, 4>::from_floats([[[[1.0, 3.0]]]], &device);
/// // Running statistics (mean 0, variance 1) leave x as it is ...
/// let y = bn.forward(x.clone()).into_data().to_vec::<f32>().unwrap();
/// assert!((y[0] - 1.0).abs() < 1e-4 && (y[1] - 3.0).abs() < 1e-4);
/// // ... the batch's own (mean 2, variance 1) centre it.
/// let y = with_batch_statistics(|| bn.forward(x)).into_data().to_vec::<f32>().unwrap();
/// assert!((y[0] + 1.0).abs() < 1e-4 && (y[1] - 1.0).abs() < 1e-4);
/// ```
pub fn with_batch_statistics<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            BATCH_STATISTICS.with(|b| b.set(self.0));
        }
    }
    let _restore = Restore(BATCH_STATISTICS.with(|b| b.replace(true)));
    f()
}

/// Configuration of a [`BatchNorm2d`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchNorm2dConfig {
    /// Number of channels.
    pub channels: usize,
    /// Whether the layer has a learnable scale and shift (`affine=True` in PyTorch).
    #[serde(default = "batch_norm2d_config_affine")]
    pub affine: bool,
    /// Numerical-stability epsilon.
    #[serde(default = "batch_norm2d_config_epsilon")]
    pub epsilon: f64,
    /// Running-statistics momentum (PyTorch convention).
    #[serde(default = "batch_norm2d_config_momentum")]
    pub momentum: f64,
    /// Whether running statistics are kept and used outside training
    /// (`track_running_stats` in PyTorch). Without them the layer always normalises
    /// with the statistics of the batch, as NAS-Bench-201 supernets do.
    #[serde(default = "batch_norm2d_config_track_running_stats")]
    pub track_running_stats: bool,
}

impl BatchNorm2dConfig {
    /// The configuration of the required fields; every other field takes its default.
    pub fn new(channels: usize) -> Self {
        Self {
            channels,
            affine: batch_norm2d_config_affine(),
            epsilon: batch_norm2d_config_epsilon(),
            momentum: batch_norm2d_config_momentum(),
            track_running_stats: batch_norm2d_config_track_running_stats(),
        }
    }

    crate::setters! {
        /// Sets [`affine`](Self::affine) (default true).
        with_affine => affine: bool;
        /// Sets [`epsilon`](Self::epsilon) (default 1e-5).
        with_epsilon => epsilon: f64;
        /// Sets [`momentum`](Self::momentum) (default 0.1).
        with_momentum => momentum: f64;
        /// Sets [`track_running_stats`](Self::track_running_stats) (default true).
        with_track_running_stats => track_running_stats: bool;
    }
}

fn batch_norm2d_config_affine() -> bool {
    true
}

fn batch_norm2d_config_epsilon() -> f64 {
    1e-5
}

fn batch_norm2d_config_momentum() -> f64 {
    0.1
}

fn batch_norm2d_config_track_running_stats() -> bool {
    true
}

impl BatchNorm2dConfig {
    /// Builds the layer: scale 1, shift 0, running mean 0, running variance 1.
    pub fn init<B: Backend>(&self, device: &B::Device) -> BatchNorm2d<B> {
        let affine = self.affine.then(|| {
            (
                Param::from_tensor(Tensor::ones([self.channels], device)),
                Param::from_tensor(Tensor::zeros([self.channels], device)),
            )
        });
        let (gamma, beta) = match affine {
            Some((g, b)) => (Some(g), Some(b)),
            None => (None, None),
        };
        BatchNorm2d {
            gamma,
            beta,
            running_mean: RunningState::new(Tensor::zeros([self.channels], device)),
            running_var: RunningState::new(Tensor::ones([self.channels], device)),
            momentum: self.momentum,
            epsilon: self.epsilon,
            track_running_stats: self.track_running_stats,
        }
    }

    /// The BN of a candidate op or preprocessing: affine ones (evaluation networks) keep
    /// running statistics; non-affine ones (supernets) always normalise with the batch's
    /// statistics, like PyTorch's `track_running_stats=False`, so that a supernet scores
    /// sampled paths with the statistics of those paths.
    pub fn cell(channels: usize, affine: bool) -> Self {
        Self::new(channels)
            .with_affine(affine)
            .with_track_running_stats(affine)
    }

    /// Trainable parameters: `2 * channels` when affine, else 0.
    pub fn param_count(&self) -> u64 {
        if self.affine {
            2 * self.channels as u64
        } else {
            0
        }
    }
}

/// Batch normalisation over `[batch, channels, height, width]`.
///
/// Burn's own `BatchNorm` is always affine; DARTS supernets need `affine=False`.
/// On an autodiff backend the batch statistics are used and the running statistics
/// updated; otherwise the running statistics are used. Without
/// `track_running_stats` the batch statistics are always used.
///
/// # Shapes
/// - input and output: `[batch, channels, height, width]`
#[derive(Module, Debug)]
pub struct BatchNorm2d<B: Backend> {
    /// Learnable scale (absent when not affine).
    pub gamma: Option<Param<Tensor<B, 1>>>,
    /// Learnable shift (absent when not affine).
    pub beta: Option<Param<Tensor<B, 1>>>,
    /// Running mean.
    pub running_mean: RunningState<Tensor<B, 1>>,
    /// Running variance.
    pub running_var: RunningState<Tensor<B, 1>>,
    /// Running-statistics momentum.
    pub momentum: f64,
    /// Numerical-stability epsilon.
    pub epsilon: f64,
    /// Whether running statistics are updated and used outside training.
    pub track_running_stats: bool,
}

impl<B: Backend> BatchNorm2d<B> {
    /// Normalises the input.
    ///
    /// Works on the input viewed as `[batch, channels, height * width]` and broadcasts
    /// per-channel values as materialised `[batch, channels, 1]` tensors: burn's CPU
    /// backends have vectorised kernels for "one scalar per contiguous row" but fall
    /// back to a per-element strided walk for a `[1, channels, 1, 1]` broadcast, which
    /// made the layer ~10x slower. Without affine parameters and running statistics
    /// (the supernet's BN) it is one native op with its own backward on Flex and
    /// NdArray (f32), and the same computation from burn ops elsewhere.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        if BYPASSED.with(std::cell::Cell::get) {
            return x;
        }
        if self.gamma.is_none() && self.beta.is_none() && !self.track_running_stats {
            return normalize_batch_stats(x, self.epsilon);
        }
        let device = x.device();
        let [n, c, h, w] = x.dims();
        let x = x.reshape([n, c, h * w]);
        let rows = |t: Tensor<B, 1>| t.reshape([1, c, 1]).repeat_dim(0, n);
        let training = B::ad_enabled(&device);
        let tracking = self.track_running_stats && !BATCH_STATISTICS.with(std::cell::Cell::get);
        if !training && tracking {
            // y = x * a + b with a = gamma / sqrt(var + eps), b = beta - mean * a.
            let mean = self.running_mean.value().to_device(&device);
            let var = self.running_var.value().to_device(&device);
            let mut a = var.add_scalar(self.epsilon).sqrt().recip();
            if let Some(g) = &self.gamma {
                a = a.mul(g.val());
            }
            let mut b = mean.mul(a.clone()).neg();
            if let Some(beta) = &self.beta {
                b = b.add(beta.val());
            }
            return x.mul(rows(a)).add(rows(b)).reshape([n, c, h, w]);
        }
        let count = (n * h * w) as f64;
        let (mean, centered, var) = batch_moments(x);
        if training && tracking {
            let unbiased = if count > 1.0 {
                count / (count - 1.0)
            } else {
                1.0
            };
            let rm = self
                .running_mean
                .value_sync()
                .to_device(&device)
                .mul_scalar(1.0 - self.momentum)
                .add(mean.detach().mul_scalar(self.momentum));
            let rv = self
                .running_var
                .value_sync()
                .to_device(&device)
                .mul_scalar(1.0 - self.momentum)
                .add(var.clone().detach().mul_scalar(self.momentum * unbiased));
            self.running_mean.update(rm.detach());
            self.running_var.update(rv.detach());
        }
        let mut scale = var.add_scalar(self.epsilon).sqrt().recip();
        if let Some(g) = &self.gamma {
            scale = scale.mul(g.val());
        }
        let mut y = centered.mul(rows(scale));
        if let Some(beta) = &self.beta {
            y = y.add(rows(beta.val()));
        }
        y.reshape([n, c, h, w])
    }
}
