//! synflow (Tanaka et al. 2020), as the zero-cost-nas code scores an untrained network.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};

use super::ProxyError;
use crate::eval::ImageClassifier;
use crate::ops::without_batch_norm;

/// Every float parameter made positive (`|w|`), as a fresh leaf that takes gradients.
struct Positive;

impl<B: AutodiffBackend> ModuleMapper<B> for Positive {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        param.map(|t| Tensor::from_inner(t.inner().abs()).require_grad())
    }
}

/// Sums `|w * g|` over the weights of rank 2 or more (conv kernels and linear weights;
/// biases and BN scales are rank 1).
pub(super) struct SaliencySum<'a, B: AutodiffBackend> {
    pub(super) grads: &'a B::Gradients,
    pub(super) sum: f64,
    /// Sums `||g||_2` per weight instead (grad_norm).
    pub(super) norms: bool,
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

/// synflow of `network`: every parameter made positive, every BN left out
/// ([`without_batch_norm`]), one all-ones input of `input = [channels, height, width]`,
/// `R` the sum of the outputs, and the score the sum of `|w * dR/dw|` over every conv and
/// linear weight (rank 2 or more; biases are not counted), as the zero-cost-nas reference
/// code computes it.
///
/// The values are huge (about 1e111 for the NAS-Bench-201 network with every weight 1.0):
/// use a backend with `f64` elements (`Autodiff<NdArray<f64>>`)
/// so that they do not overflow.
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use tnd_nas::eval::{BuildNetwork, Nb201NetworkConfig, Nb201NetworkSpec};
/// use tnd_nas::proxy::synflow;
/// use tnd_nas::space::Nb201Space;
/// type B = Autodiff<NdArray<f64>>;
/// let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(4, 1, 10));
/// let space = Nb201Space::new();
/// let conv = space.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")?;
/// let none = space.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")?;
/// let device = Default::default();
/// let s_conv = synflow(spec.build::<B>(&conv, &device)?, [3, 8, 8], &device)?;
/// let s_none = synflow(spec.build::<B>(&none, &device)?, [3, 8, 8], &device)?;
/// assert!(s_conv > 0.0 && s_none == 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`ProxyError::NonFinite`] when the score overflows the backend's floats.
pub fn synflow<B, M>(network: M, input: [usize; 3], device: &B::Device) -> Result<f64, ProxyError>
where
    B: AutodiffBackend,
    M: Module<B> + ImageClassifier<B>,
{
    let network = network.map(&mut Positive);
    let [c, h, w] = input;
    let x = Tensor::<B, 4>::ones([1, c, h, w], device);
    let r = without_batch_norm(|| network.classify(x)).sum();
    let grads = r.backward();
    let mut sum = SaliencySum::<B> {
        grads: &grads,
        sum: 0.0,
        norms: false,
    };
    network.visit(&mut sum);
    finite("synflow", sum.sum)
}

/// `value` when finite.
pub(super) fn finite(proxy: &str, value: f64) -> Result<f64, ProxyError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ProxyError::NonFinite {
            proxy: proxy.to_string(),
            value,
        })
    }
}
