//! Shared helpers for the integration tests.
#![allow(dead_code)]

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};
use tnd_nas::search::{Control, SearchEvent, SearchObserver};

/// The CPU backend the tests run on.
pub type TestBackend = burn::backend::Flex;
/// Its autodiff wrapper.
pub type TestAutodiff = burn::backend::Autodiff<TestBackend>;

pub const DARTS_V2: &str = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

/// Sum of |grad| of every trainable parameter of a module (running statistics excluded),
/// and how many parameter tensors had a gradient at all.
pub struct GradSum<'a, B: AutodiffBackend> {
    pub grads: &'a B::Gradients,
    pub abs_sum: f64,
    pub with_grad: usize,
    pub tensors: usize,
    path: Vec<String>,
}

impl<'a, B: AutodiffBackend> GradSum<'a, B> {
    pub fn of<M: Module<B>>(module: &M, grads: &'a B::Gradients) -> Self {
        let mut v = Self {
            grads,
            abs_sum: 0.0,
            with_grad: 0,
            tensors: 0,
            path: Vec::new(),
        };
        module.visit(&mut v);
        v
    }
}

impl<B: AutodiffBackend> ModuleVisitor<B> for GradSum<'_, B> {
    fn enter_module(&mut self, name: &str, _c: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _c: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if self.path.last().is_some_and(|n| n.starts_with("running_")) {
            return;
        }
        self.tensors += 1;
        if let Some(g) = param.grad(self.grads) {
            self.with_grad += 1;
            self.abs_sum += g.abs().sum().into_scalar().elem::<f64>();
        }
    }
}

/// Asks the search to stop after the given number of epochs.
pub struct StopAfterEpochs(pub usize);

impl SearchObserver for StopAfterEpochs {
    fn observe(&mut self, event: &SearchEvent) -> Control {
        if let SearchEvent::EpochEnd { .. } = event {
            self.0 -= 1;
            if self.0 == 0 {
                return Control::Stop;
            }
        }
        Control::Continue
    }
}
