//! `tnd_nas::ops::conv2d` (native depthwise and dense kernels, pointwise as matmul) against
//! burn's own convolution: outputs and the gradients of input and weight.
use burn::backend::{Autodiff, Flex, NdArray};
use burn::module::AutodiffModule;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, ElementConversion, Tensor};
use tnd_nas::ops::conv2d;

/// `(c_in, c_out, kernel, stride, padding (top, left, bottom, right), dilation, groups)`
type Case = (usize, usize, usize, usize, [usize; 4], usize, usize);

const CASES: [Case; 18] = [
    (6, 6, 3, 1, [1; 4], 1, 6),       // sep_conv_3x3 depthwise
    (6, 6, 5, 1, [2; 4], 1, 6),       // sep_conv_5x5
    (6, 6, 3, 1, [2; 4], 2, 6),       // dil_conv_3x3
    (6, 6, 5, 1, [4; 4], 2, 6),       // dil_conv_5x5
    (6, 6, 3, 2, [1; 4], 1, 6),       // reduction edge, stride 2
    (6, 6, 5, 2, [4; 4], 2, 6),       // dil_conv_5x5, stride 2
    (6, 6, 3, 1, [0; 4], 1, 6),       // no padding
    (6, 10, 1, 1, [0; 4], 1, 1),      // pointwise
    (6, 4, 1, 2, [0; 4], 1, 1),       // 1x1 stride 2 (FactorizedReduce, first conv)
    (6, 4, 1, 2, [0, 0, 1, 1], 1, 1), // FactorizedReduce, second conv (odd sizes pad)
    (6, 4, 1, 2, [1, 1, 1, 1], 1, 1), // 1x1 stride 2 reading padding (dense)
    (5, 7, 3, 1, [1; 4], 1, 1),       // nor_conv_3x3 (dense)
    (5, 7, 3, 2, [1; 4], 1, 1),       // ResNet block's first conv (dense, stride 2)
    (3, 8, 3, 1, [1; 4], 1, 1),       // stem (dense)
    (4, 4, 3, 1, [2; 4], 2, 1),       // dilated dense
    (4, 6, 5, 2, [0; 4], 1, 1),       // dense without padding, stride 2
    (6, 6, 3, 1, [1; 4], 1, 3),       // grouped, not depthwise (burn's path)
    (6, 6, 3, 1, [1, 1, 2, 2], 1, 6), // asymmetric depthwise (burn's path)
];

fn layer<B: Backend>(case: Case, device: &B::Device) -> Conv2d<B> {
    let (ci, co, k, s, [t, l, b, r], d, g) = case;
    Conv2dConfig::new([ci, co], [k, k])
        .with_stride([s, s])
        .with_padding(PaddingConfig2d::Explicit(t, l, b, r))
        .with_dilation([d, d])
        .with_groups(g)
        .with_bias(false)
        .init(device)
}

fn max_diff<B: Backend, const D: usize>(a: Tensor<B, D>, b: Tensor<B, D>) -> f32 {
    a.sub(b).abs().max().into_scalar().elem()
}

fn check<B: AutodiffBackend>(name: &str) {
    let device = B::Device::default();
    for case in CASES {
        for (h, w) in [(9, 9), (8, 11), (2, 3), (1, 1)] {
            let (_, _, k, _, [t, l, b, r], d, _) = case;
            if (h + t + b).min(w + l + r) < d * (k - 1) + 1 {
                continue; // no output at all
            }
            let conv = layer::<B>(case, &device);
            let x = Tensor::<B, 4>::random([3, case.0, h, w], Distribution::Default, &device);
            let ours = conv2d(&conv, x.clone().require_grad());
            let reference = conv.forward(x.clone().require_grad());
            assert_eq!(ours.dims(), reference.dims(), "{name} {case:?}");
            let out = max_diff(ours.clone(), reference.clone());
            assert!(
                out < 1e-5,
                "{name} {case:?} {h}x{w}: output differs by {out}"
            );
            // Gradients of a fixed random projection of the output.
            let proj = Tensor::<B, 4>::random(ours.dims(), Distribution::Default, &device);
            let xa = x.clone().require_grad();
            let xb = x.clone().require_grad();
            let ga = conv2d(&conv, xa.clone()).mul(proj.clone()).sum().backward();
            let gb = conv.forward(xb.clone()).mul(proj).sum().backward();
            let dx = max_diff(xa.grad(&ga).expect("x grad"), xb.grad(&gb).expect("x grad"));
            let wa = conv.weight.grad(&ga).expect("weight grad");
            let wb = conv.weight.grad(&gb).expect("weight grad");
            let scale: f32 = wb.clone().abs().max().into_scalar().elem();
            let dw = max_diff(wa, wb) / scale.max(1.0);
            assert!(
                dx < 1e-5,
                "{name} {case:?} {h}x{w}: input grad differs by {dx}"
            );
            assert!(
                dw < 1e-5,
                "{name} {case:?} {h}x{w}: weight grad differs by {dw}"
            );
            // Inference (no autodiff) takes the same kernels.
            let inner = conv.valid();
            let xi = x.inner();
            let yi = max_diff(conv2d(&inner, xi.clone()), inner.forward(xi));
            assert!(
                yi < 1e-5,
                "{name} {case:?}: inference output differs by {yi}"
            );
        }
    }
}

#[test]
fn fast_convolutions_match_burn_on_flex() {
    check::<Autodiff<Flex>>("flex");
}

#[test]
fn fast_convolutions_match_burn_on_ndarray() {
    check::<Autodiff<NdArray>>("ndarray");
}

/// A block (`ours`, the ReLU fused into the native kernels) against the same block from
/// burn's ReLU and convolutions (`reference`), on a batch of both signs so that the
/// ReLU's mask matters: outputs, input gradients and the gradients of `convs`' weights.
fn compare_block<B: AutodiffBackend>(
    what: &str,
    ours: impl Fn(Tensor<B, 4>) -> Tensor<B, 4>,
    reference: impl Fn(Tensor<B, 4>) -> Tensor<B, 4>,
    convs: &[&Conv2d<B>],
) {
    let device = B::Device::default();
    let x = Tensor::<B, 4>::random([3, 4, 9, 8], Distribution::Uniform(-1.0, 1.0), &device);
    let (xa, xb) = (x.clone().require_grad(), x.require_grad());
    let (ya, yb) = (ours(xa.clone()), reference(xb.clone()));
    let out = max_diff(ya.clone(), yb.clone());
    assert!(out < 1e-4, "{what}: output differs by {out}");
    let proj = Tensor::<B, 4>::random(ya.dims(), Distribution::Default, &device);
    let ga = ya.mul(proj.clone()).sum().backward();
    let gb = yb.mul(proj).sum().backward();
    let dx = max_diff(xa.grad(&ga).expect("grad"), xb.grad(&gb).expect("grad"));
    assert!(dx < 1e-4, "{what}: input grad differs by {dx}");
    for conv in convs {
        let wa = conv.weight.grad(&ga).expect("weight grad");
        let wb = conv.weight.grad(&gb).expect("weight grad");
        let dw = max_diff(wa, wb);
        assert!(dw < 1e-4, "{what}: weight grad differs by {dw}");
    }
}

/// The candidate ops' ReLU-depthwise-pointwise-BN blocks (ReLU fused into the native
/// depthwise kernels) against the same block from burn's ReLU and convolutions.
fn check_blocks<B: AutodiffBackend>(name: &str) {
    use tnd_nas::OpKind;
    use tnd_nas::ops::{Op, OpConfig};
    let device = B::Device::default();
    let kinds = [
        OpKind::SepConv3x3,
        OpKind::SepConv5x5,
        OpKind::DilConv3x3,
        OpKind::DilConv5x5,
    ];
    for kind in kinds {
        for stride in [1, 2] {
            let op = OpConfig::new(kind, 4)
                .with_stride(stride)
                .with_affine(false)
                .init::<B>(&device);
            let block = match &op {
                Op::SepConv(s) => &s.first,
                Op::DilConv(d) => d,
                _ => unreachable!("{kind} is a conv op"),
            };
            let reference = |x: Tensor<B, 4>| {
                let x = burn::tensor::activation::relu(x);
                let x = block.pointwise.forward(block.depthwise.forward(x));
                block.bn.forward(x)
            };
            let what = format!("{name} {kind} s{stride}");
            compare_block(&what, |x| block.forward(x), reference, &[&block.depthwise]);
        }
    }
}

#[test]
fn relu_fused_blocks_match_burn_on_flex() {
    check_blocks::<Autodiff<Flex>>("flex");
}

#[test]
fn relu_fused_blocks_match_burn_on_ndarray() {
    check_blocks::<Autodiff<NdArray>>("ndarray");
}

/// NAS-Bench-201's and DARTS's ReLU-conv-BN ops (ReLU fused into the native dense
/// kernels, or the pointwise product) against burn's ReLU, convolutions and BN.
fn check_relu_conv_bn<B: AutodiffBackend>(name: &str) {
    use tnd_nas::OpKind;
    use tnd_nas::ops::{Op, OpConfig};
    let device = B::Device::default();
    for kind in [OpKind::NorConv3x3, OpKind::NorConv1x1, OpKind::Conv3x3] {
        for stride in [1, 2] {
            let op = OpConfig::new(kind, 4)
                .with_stride(stride)
                .with_affine(false)
                .init::<B>(&device);
            let Op::Conv(block) = &op else {
                unreachable!("{kind} is a ReLU-conv-BN op")
            };
            let reference = |x: Tensor<B, 4>| {
                let x = burn::tensor::activation::relu(x);
                block
                    .bn
                    .forward(block.convs.iter().fold(x, |x, c| c.forward(x)))
            };
            let convs: Vec<&Conv2d<B>> = block.convs.iter().collect();
            let what = format!("{name} {kind} s{stride}");
            compare_block(&what, |x| block.forward(x), reference, &convs);
        }
    }
}

#[test]
fn relu_conv_bn_ops_match_burn_on_flex() {
    check_relu_conv_bn::<Autodiff<Flex>>("flex");
}

#[test]
fn relu_conv_bn_ops_match_burn_on_ndarray() {
    check_relu_conv_bn::<Autodiff<NdArray>>("ndarray");
}
