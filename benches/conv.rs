//! Criterion benches of one convolution's forward pass, and forward plus backward, on
//! `Autodiff<Flex>` (float32): the crate's routed [`tnd_nas::ops::conv2d`] (native
//! depthwise and dense kernels) beside burn's own `Conv2d::forward`, in one run.
//!
//! Shapes are those of the NAS-Bench-201 network at C = 16, batch 64: a 3x3 dense
//! convolution (`nor_conv_3x3`) at each stage (16 channels at 32x32, 32 at 16x16, 64 at
//! 8x8), and a 3x3 depthwise one (the DARTS separable convs) at the first.
//!
//! Bench ids: `conv/{dense3x3,depthwise3x3}/C{c}/{hw}x{hw}/{forward,backward}/{crate,burn}`
//! (`backward` times the forward pass and the backward pass of the summed output).
use std::hint::black_box;

use burn::backend::{Autodiff, Flex};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Distribution, Tensor};
use criterion::{Criterion, criterion_group, criterion_main};

type B = Autodiff<Flex>;

fn conv(c: usize, groups: usize) -> Conv2d<B> {
    Conv2dConfig::new([c, c], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_groups(groups)
        .with_bias(false)
        .init(&Default::default())
}

fn benches(c: &mut Criterion) {
    let device = Default::default();
    let mut group = c.benchmark_group("conv");
    group.sample_size(20);
    let cases = [
        ("dense3x3", 16, 32, 1),
        ("dense3x3", 32, 16, 1),
        ("dense3x3", 64, 8, 1),
        ("depthwise3x3", 16, 32, 16),
    ];
    for (name, channels, hw, groups) in cases {
        let layer = conv(channels, groups);
        let x = Tensor::<B, 4>::random([64, channels, hw, hw], Distribution::Default, &device);
        for (who, routed) in [("crate", true), ("burn", false)] {
            let run = |x: Tensor<B, 4>| {
                if routed {
                    tnd_nas::ops::conv2d(&layer, x)
                } else {
                    layer.forward(x)
                }
            };
            let id = format!("{name}/C{channels}/{hw}x{hw}");
            group.bench_function(format!("{id}/forward/{who}"), |b| {
                b.iter(|| black_box(run(x.clone()).into_data()))
            });
            group.bench_function(format!("{id}/backward/{who}"), |b| {
                b.iter(|| {
                    let x = x.clone().require_grad();
                    black_box(run(x).sum().backward())
                })
            });
        }
    }
    group.finish();
}

criterion_group!(conv_benches, benches);
criterion_main!(conv_benches);
