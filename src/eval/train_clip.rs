//! Global gradient-norm clipping over all parameters of a module (PyTorch's
//! `torch.nn.utils.clip_grad_norm_`).
//!
//! Burn's `GradientClipping::Norm` clips every parameter tensor on its own; DARTS and
//! the TND-NAS protocol clip the norm of the concatenation of all gradients instead.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};

/// Sums the squares of every gradient the visited parameters have.
struct SquaredNorm<'a, B: AutodiffBackend> {
    grads: &'a GradientsParams,
    total: Option<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for SquaredNorm<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.get::<B::InnerBackend, D>(param.id) {
            let squares = grad.square().sum();
            self.total = Some(match self.total.take() {
                Some(total) => total.add(squares),
                None => squares,
            });
        }
    }
}

/// Multiplies every gradient the visited parameters have by `factor`.
struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f64,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            self.grads.register(param.id, grad.mul_scalar(self.factor));
        }
    }
}

/// The global L2 norm of the gradients of `module`'s parameters: the norm of all
/// gradient tensors concatenated. Parameters without a gradient (BN running
/// statistics, frozen tensors) do not count; no gradient at all gives 0.
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use burn::nn::LinearConfig;
/// use burn::optim::GradientsParams;
/// use burn::tensor::Tensor;
/// use tnd_nas::eval::grad_norm;
///
/// type B = Autodiff<NdArray>;
/// let device = Default::default();
/// let layer = LinearConfig::new(3, 1).init::<B>(&device);
/// // loss = sum(w . x + b) over 2 rows of ones: d/dw = 2 per weight, d/db = 2.
/// let loss = layer.forward(Tensor::<B, 2>::ones([2, 3], &device)).sum();
/// let grads = GradientsParams::from_grads(loss.backward(), &layer);
/// assert!((grad_norm(&layer, &grads) - 4.0).abs() < 1e-5); // sqrt(4 * 2^2)
/// ```
pub fn grad_norm<B: AutodiffBackend, M: Module<B>>(module: &M, grads: &GradientsParams) -> f64 {
    let mut visitor = SquaredNorm::<B> { grads, total: None };
    module.visit(&mut visitor);
    visitor
        .total
        .map_or(0.0, |t| t.into_scalar().elem::<f64>().sqrt())
}

/// Clips the global L2 norm of the gradients of `module`'s parameters to `max_norm`,
/// as `torch.nn.utils.clip_grad_norm_` does: when the norm `n` exceeds `max_norm`,
/// every gradient is multiplied by `max_norm / (n + 1e-6)`, which keeps the direction.
/// Returns the norm before clipping (non-finite if a gradient is; the gradients are
/// then left as they are).
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use burn::nn::LinearConfig;
/// use burn::optim::GradientsParams;
/// use burn::tensor::Tensor;
/// use tnd_nas::eval::{clip_grad_norm, grad_norm};
///
/// type B = Autodiff<NdArray>;
/// let device = Default::default();
/// let layer = LinearConfig::new(3, 1).init::<B>(&device);
/// let loss = layer.forward(Tensor::<B, 2>::ones([2, 3], &device)).sum();
/// let mut grads = GradientsParams::from_grads(loss.backward(), &layer);
/// let before = clip_grad_norm(&layer, &mut grads, 1.0);
/// assert!((before - 4.0).abs() < 1e-5);
/// assert!(grad_norm(&layer, &grads) <= 1.0);
/// ```
pub fn clip_grad_norm<B: AutodiffBackend, M: Module<B>>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: f64,
) -> f64 {
    let norm = grad_norm(module, grads);
    let factor = max_norm / (norm + 1e-6);
    if norm.is_finite() && factor < 1.0 {
        let mut visitor = Scale { grads, factor };
        module.visit(&mut visitor);
    }
    norm
}
