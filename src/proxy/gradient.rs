//! grad_norm and snip: gradients of the cross-entropy loss of one batch.

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Int, Tensor};

use super::ProxyError;
use super::synflow::finite;
use crate::network::ImageClassifier;

/// Sums `|w * g|` over the weights of rank 2 or more (conv kernels and linear weights;
/// biases and BN scales are rank 1).
struct SaliencySum<'a, B: AutodiffBackend> {
    grads: &'a B::Gradients,
    sum: f64,
    /// Sums `||g||_2` per weight instead (grad_norm).
    norms: bool,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for SaliencySum<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if D < 2 {
            return;
        }
        let w = param.val();
        if let Some(g) = w.grad(self.grads) {
            let v = if self.norms {
                g.square().sum().into_scalar().elem::<f64>().sqrt()
            } else {
                w.inner().mul(g).abs().sum().into_scalar().elem::<f64>()
            };
            self.sum += v;
        }
    }
}

/// The gradients of the mean cross-entropy of `images` (`[n, c, h, w]`) against `labels`
/// (`[n]`), summed over the conv and linear weights of `network` as `|w * g|` (snip) or
/// `||g||_2` per weight tensor (grad_norm). BN normalises with the batch's statistics
/// (training mode), as the zero-cost-nas code runs them.
fn gradient_sum<B, M>(
    proxy: &str,
    network: &M,
    images: Tensor<B, 4>,
    labels: Tensor<B, 1, Int>,
    norms: bool,
) -> Result<f64, ProxyError>
where
    B: AutodiffBackend,
    M: Module<B> + ImageClassifier<B>,
{
    let (n, m) = (images.dims()[0], labels.dims()[0]);
    if n == 0 || n != m {
        return Err(ProxyError::Data {
            proxy: proxy.to_string(),
            reason: format!("{n} images and {m} labels"),
        });
    }
    let device = images.device();
    let logits = network.classify(images);
    let loss = CrossEntropyLossConfig::new()
        .init::<B>(&device)
        .forward(logits, labels);
    let grads = loss.backward();
    let mut sum = SaliencySum::<B> {
        grads: &grads,
        sum: 0.0,
        norms,
    };
    network.visit(&mut sum);
    finite(proxy, sum.sum)
}

/// grad_norm (Abdelfattah et al. 2021): the sum over every conv and linear weight tensor
/// of the L2 norm of its gradient, for the mean cross-entropy of one batch.
///
/// ```
/// use burn::backend::{Autodiff, Flex};
/// use burn::tensor::{Int, Tensor};
/// use tnd_nas::network::{BuildNetwork};
/// use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec};
/// use tnd_nas::proxy::{grad_norm, snip};
/// use tnd_nas::spaces::nb201::Nb201Space;
/// type B = Autodiff<Flex>;
/// let device = Default::default();
/// let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(4, 1, 10));
/// let arch = Nb201Space::new().parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|")?;
/// let images = Tensor::<B, 4>::random([4, 3, 8, 8], burn::tensor::Distribution::Default, &device);
/// let labels = Tensor::<B, 1, Int>::from_ints([0, 1, 2, 3], &device);
/// let net = spec.build::<B>(&arch, &device)?;
/// assert!(grad_norm(&net, images.clone(), labels.clone())? > 0.0);
/// assert!(snip(&net, images, labels)? > 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`ProxyError::Data`] for an empty batch or one whose labels do not match its images;
/// [`ProxyError::NonFinite`].
pub fn grad_norm<B, M>(
    network: &M,
    images: Tensor<B, 4>,
    labels: Tensor<B, 1, Int>,
) -> Result<f64, ProxyError>
where
    B: AutodiffBackend,
    M: Module<B> + ImageClassifier<B>,
{
    gradient_sum("grad_norm", network, images, labels, true)
}

/// snip (Lee et al. 2019, as a zero-cost proxy): the sum over every conv and linear
/// weight of `|w * dL/dw|`, `L` the mean cross-entropy of one batch (the gradient of a
/// multiplicative mask at 1). See [`grad_norm`] for an example.
///
/// # Errors
/// As [`grad_norm`].
pub fn snip<B, M>(
    network: &M,
    images: Tensor<B, 4>,
    labels: Tensor<B, 1, Int>,
) -> Result<f64, ProxyError>
where
    B: AutodiffBackend,
    M: Module<B> + ImageClassifier<B>,
{
    gradient_sum("snip", network, images, labels, false)
}
