//! synflow (Tanaka et al. 2020), as the zero-cost-nas code scores an untrained network.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Tensor};

use super::ProxyError;
use crate::network::ImageClassifier;
use crate::ops::{with_weight_tangents, without_batch_norm};

/// Every float parameter made positive (`|w|`), detached from any autodiff graph.
struct Positive;

impl<B: Backend> ModuleMapper<B> for Positive {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        param.map(|t| t.abs().detach())
    }
}

/// synflow of `network`: every parameter made positive, every BN left out
/// ([`without_batch_norm`]), one all-ones input of `input = [channels, height, width]`,
/// `R` the sum of the outputs, and the score the sum of `|w * dR/dw|` over every conv and
/// linear weight (biases are not counted), as the zero-cost-nas reference code computes
/// it.
///
/// It needs no backward pass: with every weight and input positive the network is
/// piecewise linear, and the score equals `dR(t w)/dt` at `t = 1`, which one forward pass
/// of two images computes ([`with_weight_tangents`]: the all-ones image and its tangent).
/// The networks of the built-in spaces divide out powers of two between blocks
/// ([`crate::ops::renormalize`]), so the values (about 1e111 for the NAS-Bench-201
/// network with every weight 1.0, 1e50 with PyTorch's initialisation) do not overflow
/// `f32`; the result is an `f64`. Any backend works, autodiff or not: pass the
/// network on a plain one (`Flex`, `NdArray`, `Cuda`, or `.valid()` of an autodiff one) so
/// that no graph is recorded.
///
/// ```
/// use burn::backend::NdArray;
/// use tnd_nas::network::{BuildNetwork};
/// use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec};
/// use tnd_nas::proxy::synflow;
/// use tnd_nas::spaces::nb201::Nb201Space;
/// type B = NdArray;
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
/// [`ProxyError::NonFinite`] when the score overflows (`f64`, or the backend's floats
/// inside a network that does not renormalise).
pub fn synflow<B, M>(network: M, input: [usize; 3], device: &B::Device) -> Result<f64, ProxyError>
where
    B: Backend,
    M: Module<B> + ImageClassifier<B>,
{
    let network = network.map(&mut Positive);
    let [c, h, w] = input;
    let x = Tensor::<B, 4>::cat(
        vec![
            Tensor::ones([1, c, h, w], device),
            Tensor::zeros([1, c, h, w], device),
        ],
        0,
    );
    let (out, exponent) = with_weight_tangents(|| without_batch_norm(|| network.classify(x)));
    let tangent = out.narrow(0, 1, 1).sum().into_scalar().elem::<f64>();
    let exponent = exponent.clamp(-4096, 4096) as i32;
    finite("synflow", tangent * 2f64.powi(exponent))
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
