//! The native pooling and batch-statistics BN kernels against burn's own ops: outputs
//! and input gradients, on Flex and NdArray, with and without autodiff.
use burn::backend::{Autodiff, Flex, NdArray};
use burn::nn::pool::{AvgPool2dConfig, MaxPool2dConfig};
use burn::nn::{BatchNormConfig, PaddingConfig2d};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, ElementConversion, Tensor};
use tnd_nas::ops::{BatchNorm2dConfig, avg_pool2d, max_pool2d};

/// `(max?, kernel, stride, padding, count_include_pad, ceil_mode)`
type Pool = (bool, usize, usize, usize, bool, bool);

const POOLS: [Pool; 10] = [
    (true, 3, 1, 1, false, false),  // max_pool_3x3
    (true, 3, 2, 1, false, false),  // max_pool_3x3, reduction edge
    (true, 5, 1, 2, false, false),  // max_pool_5x5
    (true, 7, 2, 3, false, false),  // max_pool_7x7, stride 2
    (true, 2, 2, 0, false, false),  // plain 2x2 downsampling
    (false, 3, 1, 1, false, false), // avg_pool_3x3 (padding not counted)
    (false, 3, 2, 1, false, false), // avg_pool_3x3, reduction edge
    (false, 3, 1, 1, true, false),  // padding counted
    (false, 5, 3, 0, true, false),  // the auxiliary head's pool
    (true, 3, 2, 1, false, true),   // ceil mode (burn's path)
];

const SIZES: [(usize, usize); 5] = [(9, 9), (8, 11), (2, 3), (1, 1), (16, 16)];

fn max_diff<B: Backend, const D: usize>(a: Tensor<B, D>, b: Tensor<B, D>) -> f32 {
    a.sub(b).abs().max().into_scalar().elem()
}

/// Ours and burn's forward for one pool configuration.
fn pool_pair<B: Backend>(p: Pool, x: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let (is_max, k, s, pad, include_pad, ceil) = p;
    let padding = PaddingConfig2d::Explicit(pad, pad, pad, pad);
    if is_max {
        let pool = MaxPool2dConfig::new([k, k])
            .with_strides([s, s])
            .with_padding(padding)
            .with_ceil_mode(ceil)
            .init();
        (max_pool2d(&pool, x.clone()), pool.forward(x))
    } else {
        let pool = AvgPool2dConfig::new([k, k])
            .with_strides([s, s])
            .with_padding(padding)
            .with_count_include_pad(include_pad)
            .with_ceil_mode(ceil)
            .init();
        (avg_pool2d(&pool, x.clone()), pool.forward(x))
    }
}

fn check_pools<B: AutodiffBackend>(name: &str) {
    let device = B::Device::default();
    for p in POOLS {
        for (h, w) in SIZES {
            let (_, k, _, pad, _, _) = p;
            if h.min(w) + 2 * pad < k {
                continue; // no output
            }
            let x = Tensor::<B, 4>::random([3, 4, h, w], Distribution::Default, &device);
            let (ours, reference) = pool_pair(p, x.clone());
            assert_eq!(ours.dims(), reference.dims(), "{name} {p:?} {h}x{w}");
            let out = max_diff(ours.clone(), reference);
            assert!(out < 1e-6, "{name} {p:?} {h}x{w}: output differs by {out}");

            let proj = Tensor::<B, 4>::random(ours.dims(), Distribution::Default, &device);
            let (xa, xb) = (x.clone().require_grad(), x.clone().require_grad());
            let ga = pool_pair(p, xa.clone())
                .0
                .mul(proj.clone())
                .sum()
                .backward();
            let gb = pool_pair(p, xb.clone()).1.mul(proj).sum().backward();
            let dx = max_diff(xa.grad(&ga).expect("grad"), xb.grad(&gb).expect("grad"));
            assert!(
                dx < 1e-5,
                "{name} {p:?} {h}x{w}: input grad differs by {dx}"
            );

            let (ours, reference) = pool_pair(p, x.inner());
            let out = max_diff(ours, reference);
            assert!(
                out < 1e-6,
                "{name} {p:?} {h}x{w} (inner): output differs by {out}"
            );
        }
    }
}

#[test]
fn native_pools_match_burn_on_flex() {
    check_pools::<Autodiff<Flex>>("flex");
}

#[test]
fn native_pools_match_burn_on_ndarray() {
    check_pools::<Autodiff<NdArray>>("ndarray");
}

/// A supernet BN (no affine parameters, batch statistics) against burn's `BatchNorm`
/// at initialisation (scale 1, shift 0) in training mode.
fn check_norm<B: AutodiffBackend>(name: &str) {
    let device = B::Device::default();
    for shape in [[4, 3, 5, 6], [2, 8, 16, 16], [1, 2, 1, 1], [3, 1, 2, 2]] {
        let ours = BatchNorm2dConfig::cell(shape[1], false).init::<B>(&device);
        let reference = BatchNormConfig::new(shape[1]).init::<B>(&device);
        // A large mean against the spread checks the variance's accuracy.
        let x = Tensor::<B, 4>::random(shape, Distribution::Default, &device).add_scalar(50.0);
        let out = max_diff(ours.forward(x.clone()), reference.forward(x.clone()));
        assert!(out < 1e-4, "{name} {shape:?}: output differs by {out}");

        // Correlated with the output, so that every term of the gradient matters.
        let proj = Tensor::<B, 4>::random(shape, Distribution::Default, &device)
            .add(x.clone().sub_scalar(50.0).mul_scalar(4.0));
        let (xa, xb) = (x.clone().require_grad(), x.clone().require_grad());
        let ga = ours.forward(xa.clone()).mul(proj.clone()).sum().backward();
        let gb = reference.forward(xb.clone()).mul(proj).sum().backward();
        let (gxa, gxb) = (xa.grad(&ga).expect("grad"), xb.grad(&gb).expect("grad"));
        let scale: f32 = gxb.clone().abs().max().into_scalar().elem();
        let dx = max_diff(gxa, gxb) / scale.max(1.0);
        assert!(dx < 1e-3, "{name} {shape:?}: input grad differs by {dx}");
    }
}

#[test]
fn native_batch_stats_norm_matches_burn_on_flex() {
    check_norm::<Autodiff<Flex>>("flex");
}

#[test]
fn native_batch_stats_norm_matches_burn_on_ndarray() {
    check_norm::<Autodiff<NdArray>>("ndarray");
}
