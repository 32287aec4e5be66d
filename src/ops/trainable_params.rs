//! Counting the trainable parameters of a built module.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Tensor, backend::Backend};

struct Trainable {
    path: Vec<String>,
    count: usize,
}

impl<B: Backend> ModuleVisitor<B> for Trainable {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let running = self.path.last().is_some_and(|n| n.starts_with("running_"));
        if !running {
            self.count += param.lazy_shape().num_elements();
        }
    }
}

/// Trainable parameters of a module: burn's `num_params()` minus BN running statistics.
///
/// ```
/// use tnd_nas::ops::{trainable_params, BatchNorm2dConfig};
/// use burn::backend::NdArray;
/// let bn = BatchNorm2dConfig::new(16).init::<NdArray>(&Default::default());
/// assert_eq!(trainable_params(&bn), 32);
/// ```
pub fn trainable_params<B: Backend, M: Module<B>>(module: &M) -> usize {
    let mut v = Trainable {
        path: Vec::new(),
        count: 0,
    };
    module.visit(&mut v);
    v.count
}

struct Materialize;

impl<B: Backend> ModuleVisitor<B> for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let _ = param.val();
    }
}

/// Draws every lazily initialised parameter of `module` now, in a fixed order.
///
/// Burn initialises parameters on first use, and a clone of a module whose parameters
/// are not drawn yet draws its own values. Call this right after building a module
/// (and seeding the backend) so that clones, checkpoints and the original agree and
/// the draws happen at a reproducible point.
pub fn materialize<B: Backend, M: Module<B>>(module: &M) {
    module.visit(&mut Materialize);
}

/// The module `build` returns, every weight drawn from `seed`: seeds the backend, builds
/// and [`materialize`]s while holding the lock of [`crate::seeding`], so that threads
/// building side by side each get their seed's weights.
///
/// ```
/// use burn::backend::Flex;
/// use burn::module::Module;
/// use burn::nn::LinearConfig;
/// use tnd_nas::ops::seeded_module;
///
/// let device = Default::default();
/// let build = || Ok::<_, std::convert::Infallible>(LinearConfig::new(3, 2).init::<Flex>(&device));
/// let a = seeded_module::<Flex, _, _>(&device, 9, build)?;
/// let b = seeded_module::<Flex, _, _>(&device, 9, build)?;
/// assert_eq!(a.weight.val().into_data(), b.weight.val().into_data());
/// # Ok::<(), std::convert::Infallible>(())
/// ```
///
/// # Errors
/// `build`'s.
pub fn seeded_module<B: Backend, M: Module<B>, E>(
    device: &B::Device,
    seed: u64,
    build: impl FnOnce() -> Result<M, E>,
) -> Result<M, E> {
    crate::seeding::seeded::<B, _>(device, seed, || {
        let module = build()?;
        materialize(&module);
        Ok(module)
    })
}
