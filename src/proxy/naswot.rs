//! NASWOT (Mellor et al. 2021): how differently a network's ReLUs code a batch.

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::ProxyError;
use crate::network::ImageClassifier;
use crate::ops::{with_batch_statistics, with_relu_codes};

/// NASWOT: the log-determinant of the kernel `K` of one batch of `n` images, where
/// `K[i][j]` counts the ReLU units (over every ReLU of the network) at which images `i`
/// and `j` are both active or both inactive ([`crate::ops::with_relu_codes`]). Networks
/// whose units tell the images apart score higher. As the reference code, each ReLU
/// module counts (two edges leaving one node each rectify the node), and the sign of the
/// determinant is dropped (`slogdet`).
///
/// Any backend; every BN normalises with the batch's statistics
/// ([`crate::ops::with_batch_statistics`]), as in the reference code's training mode.
///
/// ```
/// use burn::backend::Flex;
/// use burn::tensor::{Distribution, Tensor};
/// use tnd_nas::network::{BuildNetwork};
/// use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec};
/// use tnd_nas::proxy::naswot;
/// use tnd_nas::spaces::nb201::Nb201Space;
/// let device = Default::default();
/// let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(4, 1, 10));
/// let arch = Nb201Space::new().parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|")?;
/// let images = Tensor::<Flex, 4>::random([8, 3, 8, 8], Distribution::Normal(0.0, 1.0), &device);
/// let score = naswot(&spec.build::<Flex>(&arch, &device)?, images)?;
/// assert!(score.is_finite());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`ProxyError::Data`] for an empty batch; [`ProxyError::NonFinite`] when the kernel is
/// singular (two images coded identically by every unit).
pub fn naswot<B, M>(network: &M, images: Tensor<B, 4>) -> Result<f64, ProxyError>
where
    B: Backend,
    M: Module<B> + ImageClassifier<B>,
{
    let n = images.dims()[0];
    if n == 0 {
        return Err(ProxyError::Data {
            proxy: "naswot".into(),
            reason: "an empty batch".into(),
        });
    }
    let (_, kernel) = with_batch_statistics(|| with_relu_codes(n, || network.classify(images)));
    let value = log_abs_det(kernel.counts, n);
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ProxyError::NonFinite {
            proxy: "naswot".into(),
            value,
        })
    }
}

/// `ln |det A|` of the row-major `n x n` matrix `a` (LU with partial pivoting; `-inf` for
/// a singular matrix), as numpy's `slogdet` returns it. Hand-written: an `n x n` LU for
/// `n` about 100 is a few lines, not worth a linear-algebra dependency.
///
/// ```
/// use tnd_nas::proxy::log_abs_det;
/// assert!((log_abs_det(vec![2.0, 0.0, 0.0, 3.0], 2) - 6f64.ln()).abs() < 1e-12);
/// assert!((log_abs_det(vec![0.0, 1.0, 1.0, 0.0], 2)).abs() < 1e-12); // det = -1
/// assert_eq!(log_abs_det(vec![1.0, 2.0, 2.0, 4.0], 2), f64::NEG_INFINITY);
/// ```
pub fn log_abs_det(mut a: Vec<f64>, n: usize) -> f64 {
    if a.len() != n * n {
        return f64::NAN;
    }
    let mut log = 0.0;
    for k in 0..n {
        let pivot = (k..n)
            .max_by(|&i, &j| a[i * n + k].abs().total_cmp(&a[j * n + k].abs()))
            .unwrap_or(k);
        let p = a[pivot * n + k];
        if p == 0.0 {
            return f64::NEG_INFINITY;
        }
        if pivot != k {
            for j in 0..n {
                a.swap(k * n + j, pivot * n + j);
            }
        }
        log += p.abs().ln();
        for i in k + 1..n {
            let f = a[i * n + k] / p;
            if f != 0.0 {
                for j in k..n {
                    a[i * n + j] -= f * a[k * n + j];
                }
            }
        }
    }
    log
}
