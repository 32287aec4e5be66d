//! Criterion benches of synflow on the NAS-Bench-201 network of the zero-cost-nas
//! protocol (C = 16, N = 5, 10 classes, one 3x32x32 input), per cell: the network is
//! built and its weights drawn, then scored, as a zero-training search does it. Each
//! iteration scores the next of eight fixed cells.
//!
//! naswot, grad_norm and snip read one batch of 64 images (3x32x32, standard normal,
//! seeded; ten classes) on `Autodiff<Flex>` (float32), the network freshly built per
//! cell with BN in training mode, as the zero-cost-nas code runs them.
//!
//! Bench ids: `synflow/{backend}/nb201/C16/N5/32x32` and
//! `{naswot,grad_norm,snip}/flex-f32/nb201/C16/N5/32x32/batch64`.
//! `scripts/proxy-speed.sh` runs this bench and PyTorch's side by side.
use std::hint::black_box;

use burn::backend::{Autodiff, Flex, NdArray};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, Int, Tensor};
use criterion::{Criterion, criterion_group, criterion_main};
use tnd_nas::network::BuildNetwork;
use tnd_nas::proxy::{ProxyInput, ZeroCostProxy, score, synflow};
use tnd_nas::space::Architecture;
use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec, Nb201Space};

const OPS: [&str; 5] = [
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
];

/// Eight cells spread over the space (cell `k` has index `(k * 1953 + 7) mod 15625`,
/// read as six base-5 digits).
pub fn cells() -> Vec<String> {
    (0..8)
        .map(|k| {
            let mut i = (k * 1953 + 7) % 15625;
            let mut op = [0; 6];
            for o in &mut op {
                *o = i % 5;
                i /= 5;
            }
            format!(
                "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|",
                OPS[op[0]], OPS[op[1]], OPS[op[2]], OPS[op[3]], OPS[op[4]], OPS[op[5]]
            )
        })
        .collect()
}

fn synflow_per_cell<B: Backend>(c: &mut Criterion, backend: &str) {
    let device = Default::default();
    let space = Nb201Space::new();
    let archs: Vec<Architecture> = cells()
        .iter()
        .map(|s| space.parse(s).expect("cell"))
        .collect();
    let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10));
    let mut group = c.benchmark_group("synflow");
    group.sample_size(10);
    let mut k = 0;
    group.bench_function(format!("{backend}/nb201/C16/N5/32x32"), |b| {
        b.iter(|| {
            k = (k + 1) % archs.len();
            let net = spec.build::<B>(&archs[k], &device).expect("network");
            black_box(synflow(net, [3, 32, 32], &device).expect("synflow"))
        })
    });
    group.finish();
}

fn data_proxy_per_cell<B: AutodiffBackend>(c: &mut Criterion, proxy: ZeroCostProxy, backend: &str) {
    let device = Default::default();
    let space = Nb201Space::new();
    let archs: Vec<Architecture> = cells()
        .iter()
        .map(|s| space.parse(s).expect("cell"))
        .collect();
    let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10));
    B::seed(&device, 0);
    let images = Tensor::<B, 4>::random([64, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
    let labels = Tensor::<B, 1, Int>::arange(0..64, &device).remainder_scalar(10);
    let input = ProxyInput {
        shape: [3, 32, 32],
        batch: Some((images, labels)),
    };
    let mut group = c.benchmark_group(proxy.name());
    group.sample_size(10);
    let mut k = 0;
    group.bench_function(format!("{backend}/nb201/C16/N5/32x32/batch64"), |b| {
        b.iter(|| {
            k = (k + 1) % archs.len();
            let net = spec.build::<B>(&archs[k], &device).expect("network");
            black_box(score(proxy, net, &input).expect("score"))
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    for proxy in [
        ZeroCostProxy::Naswot,
        ZeroCostProxy::GradNorm,
        ZeroCostProxy::Snip,
    ] {
        data_proxy_per_cell::<Autodiff<Flex>>(c, proxy, "flex-f32");
    }
    synflow_per_cell::<Flex>(c, "flex-f32");
    synflow_per_cell::<NdArray<f32>>(c, "ndarray-f32");
    synflow_per_cell::<NdArray<f64>>(c, "ndarray-f64");
}

criterion_group!(proxy, benches);
criterion_main!(proxy);
