//! One optimiser step with optional global gradient-norm clipping.

use burn::module::AutodiffModule;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;

use super::clip_grad_norm;

/// Back-propagates `loss`, clips the global gradient norm of `model`'s parameters to
/// `clip` (when given) and steps `optim` at learning rate `lr`. Returns the new model and
/// the norm before clipping (`None` without clipping).
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use burn::nn::LinearConfig;
/// use burn::tensor::Tensor;
/// use tnd_nas::train::{SgdSettings, sgd_step};
/// type B = Autodiff<NdArray>;
/// let device = Default::default();
/// let model = LinearConfig::new(2, 1).init::<B>(&device);
/// let mut optim = SgdSettings::default().with_weight_decay(0.0).init::<B, _>();
/// let loss = model.forward(Tensor::<B, 2>::ones([4, 2], &device)).sum();
/// let (_model, norm) = sgd_step(model, &mut optim, loss, 0.1, Some(1.0));
/// assert!(norm.unwrap() > 0.0);
/// ```
pub fn sgd_step<B, M, O>(
    model: M,
    optim: &mut O,
    loss: Tensor<B, 1>,
    lr: f64,
    clip: Option<f64>,
) -> (M, Option<f64>)
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
    O: Optimizer<M, B>,
{
    let mut grads = GradientsParams::from_grads(loss.backward(), &model);
    let norm = clip.map(|c| clip_grad_norm(&model, &mut grads, c));
    (optim.step(lr, model, grads), norm)
}
