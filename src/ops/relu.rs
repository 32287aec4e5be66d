//! The rectifiers of every network, and the probe that reads their binary codes (NASWOT).

use std::cell::RefCell;

use burn::tensor::{Tensor, backend::Backend};

thread_local! {
    /// The code kernel being accumulated on this thread, `n * n` counts, when a
    /// [`with_relu_codes`] is running.
    static CODES: RefCell<Option<CodeKernel>> = const { RefCell::new(None) };
}

/// The binary-code kernel of NASWOT (Mellor et al. 2021): for a batch of `n` inputs,
/// `K[i][j]` counts the rectifier units where inputs `i` and `j` agree (both active or
/// both inactive), summed over every rectifier of the network.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeKernel {
    /// Inputs in the batch.
    pub n: usize,
    /// Row-major `n * n` counts.
    pub counts: Vec<f64>,
    /// Rectifier units seen per input (the diagonal of the kernel).
    pub units: u64,
}

/// Runs `f` (a forward pass of a batch of `n`) and returns its value with the NASWOT
/// kernel of every rectifier the pass went through on this thread ([`relu`], the ReLU
/// fused into convolutions, ReLU6): each unit's code is `input > 0`.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use tnd_nas::ops::{relu, with_relu_codes};
/// let x = Tensor::<NdArray, 4>::from_floats([[[[1.0, -1.0]]], [[[2.0, 3.0]]]], &Default::default());
/// let (_, k) = with_relu_codes(2, || relu(x));
/// // Input 0 codes (1, 0), input 1 codes (1, 1): they agree on one unit of two.
/// assert_eq!(k.counts, [2.0, 1.0, 1.0, 2.0]);
/// ```
pub fn with_relu_codes<R>(n: usize, f: impl FnOnce() -> R) -> (R, CodeKernel) {
    struct Restore(Option<CodeKernel>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CODES.with(|c| *c.borrow_mut() = self.0.take());
        }
    }
    let fresh = CodeKernel {
        n,
        counts: vec![0.0; n * n],
        units: 0,
    };
    let restore = Restore(CODES.with(|c| c.borrow_mut().replace(fresh)));
    let value = f();
    let kernel = CODES.with(|c| c.borrow_mut().take()).unwrap_or(CodeKernel {
        n,
        counts: vec![0.0; n * n],
        units: 0,
    });
    drop(restore);
    (value, kernel)
}

/// Adds the codes of the rectifier input `x` to the running kernel, if one runs.
pub(crate) fn note_rectifier_input<B: Backend, const D: usize>(x: &Tensor<B, D>) {
    let recording = CODES.with(|c| c.borrow().is_some());
    if !recording {
        return;
    }
    let n = x.dims()[0];
    let units = x.dims()[1..].iter().product::<usize>();
    let c = x
        .clone()
        .detach()
        .greater_elem(0.0)
        .float()
        .reshape([n, units]);
    // Agreements of two binary codes: both active, G = c c^T, plus both inactive,
    // (1 - c)(1 - c)^T = units - G_ii - G_jj + G_ij (G_ii counts image i's active
    // units). One matrix product instead of two; every count is an integer below 2^24,
    // exact in float32.
    let g: Vec<f64> = c
        .clone()
        .matmul(c.transpose())
        .into_data()
        .convert::<f64>()
        .to_vec::<f64>()
        .unwrap_or_default();
    let u = units as f64;
    let values: Vec<f64> = if g.len() == n * n {
        (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                u - g[i * n + i] - g[j * n + j] + 2.0 * g[k]
            })
            .collect()
    } else {
        Vec::new()
    };
    CODES.with(|cell| {
        if let Some(kernel) = cell.borrow_mut().as_mut()
            && kernel.n == n
            && values.len() == n * n
        {
            for (acc, v) in kernel.counts.iter_mut().zip(&values) {
                *acc += v;
            }
            kernel.units += units as u64;
        }
    });
}

/// ReLU, noted by [`with_relu_codes`] (and carrying tangents inside
/// [`with_weight_tangents`](crate::ops::with_weight_tangents)).
pub fn relu<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    if crate::kernels::tangents_active() {
        return crate::kernels::relu_tangent(x);
    }
    note_rectifier_input(&x);
    burn::tensor::activation::relu(x)
}

/// ReLU6 (MBConv), noted by [`with_relu_codes`] (and carrying tangents inside
/// [`with_weight_tangents`](crate::ops::with_weight_tangents)).
pub fn relu6<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    if crate::kernels::tangents_active() {
        return crate::kernels::relu6_tangent(x);
    }
    note_rectifier_input(&x);
    x.clamp(0.0, 6.0)
}
