//! Criterion benches of the search's hot paths: one supernet weight step (weighted and
//! single-path), one alpha update (M samples scored on a validation batch plus the
//! REINFORCE step), and data loading.
//!
//! Bench ids carry the parameters: `train_step/{backend}/{mode}/C{c}/cells{n}/b{batch}/{side}x{side}`.
//! Filter with e.g. `cargo bench --bench search -- train_step/ndarray/single`.
use std::hint::black_box;
use std::sync::Arc;

use burn::backend::{Autodiff, Flex, NdArray};
use burn::module::AutodiffModule;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, ElementConversion, Int, Tensor};
use criterion::{Criterion, criterion_group, criterion_main};
use tnd_nas::data::{AugmentConfig, BatchLoaderConfig, ImageDataset, ImageShape};
use tnd_nas::ops::materialize;
use tnd_nas::policy::UpdaterConfig;
use tnd_nas::spaces::darts::{DartsSpaceConfig, DartsSuperNet, DartsSuperNetConfig};
use tnd_nas::supernet::{Path, SupernetForward};
use tnd_nas::train::{SgdSettings, count_correct, sgd_step};

struct Net<B: AutodiffBackend> {
    model: DartsSuperNet<B>,
    counts: Vec<usize>,
}

fn net<B: AutodiffBackend>(c: usize, cells: usize) -> Net<B> {
    let space = DartsSpaceConfig::darts().init().expect("space");
    let cfg = DartsSuperNetConfig::full(&space, c, cells, 10);
    let counts = cfg.active.iter().map(Vec::len).collect();
    let model = cfg.init::<B>(&Default::default()).expect("supernet");
    materialize(&model);
    Net { model, counts }
}

fn train_step<B: AutodiffBackend>(
    c: &mut Criterion,
    backend: &str,
    ch: usize,
    cells: usize,
    batch: usize,
) {
    let device = Default::default();
    let Net { model, counts } = net::<B>(ch, cells);
    let x = Tensor::<B, 4>::random([batch, 3, 32, 32], Distribution::Default, &device);
    let y = Tensor::<B, 1, Int>::zeros([batch], &device);
    let weighted = Path::Weighted(counts.iter().map(|&n| vec![1.0 / n as f32; n]).collect());
    let single = Path::SinglePath(counts.iter().map(|&n| n - 1).collect());
    let mut model = Some(model);
    let mut optim = SgdSettings::default()
        .with_momentum(0.0)
        .with_weight_decay(0.0)
        .init::<B, DartsSuperNet<B>>();
    let mut group = c.benchmark_group("train_step");
    group.sample_size(10);
    for (mode, path) in [("weighted", &weighted), ("single_path", &single)] {
        let id = format!("{backend}/{mode}/C{ch}/cells{cells}/b{batch}/32x32");
        group.bench_function(id, |b| {
            b.iter(|| {
                let m = model.take().expect("model");
                let logits = m.forward_path(x.clone(), path).expect("forward");
                let loss = CrossEntropyLossConfig::new()
                    .init(&device)
                    .forward(logits, y.clone());
                model = Some(sgd_step(m, &mut optim, loss, 0.01, Some(5.0)).0);
            })
        });
    }
    group.finish();
}

fn alpha_update<B: AutodiffBackend>(
    c: &mut Criterion,
    backend: &str,
    ch: usize,
    cells: usize,
    batch: usize,
    m: usize,
) {
    let device = Default::default();
    let Net { model, .. } = net::<B>(ch, cells);
    let space = DartsSpaceConfig::darts().init().expect("space");
    let mut updater = UpdaterConfig::new()
        .with_samples(m)
        .init(tnd_nas::SearchSpace::all_candidates(&space), 0)
        .expect("updater");
    let x =
        Tensor::<B::InnerBackend, 4>::random([batch, 3, 32, 32], Distribution::Default, &device);
    let y = Tensor::<B::InnerBackend, 1, Int>::zeros([batch], &device);
    let mut group = c.benchmark_group("alpha_update");
    group.sample_size(10);
    group.bench_function(
        format!("{backend}/M{m}/C{ch}/cells{cells}/b{batch}/32x32"),
        |b| {
            b.iter(|| {
                let inference = model.valid();
                let samples = updater.sample();
                let rewards: Vec<f64> = samples
                    .iter()
                    .map(|a| {
                        let idx = updater.policy().indices_of(a).expect("indices");
                        let logits = inference
                            .forward_path(x.clone(), &Path::SinglePath(idx))
                            .expect("forward");
                        count_correct(logits, y.clone()).into_scalar().elem::<f64>()
                    })
                    .collect();
                black_box(updater.update(&samples, &rewards).expect("update"));
            })
        },
    );
    group.finish();
}

fn data_loading(c: &mut Criterion) {
    let n = 5000;
    let shape = ImageShape::new(3, 32, 32);
    let pixels: Vec<u8> = (0..n * shape.len()).map(|i| (i * 31 % 251) as u8).collect();
    let labels: Vec<u16> = (0..n).map(|i| (i % 10) as u16).collect();
    let data = Arc::new(ImageDataset::new("bench", shape, 10, pixels, labels).expect("dataset"));
    let mut group = c.benchmark_group("data_loading");
    group.sample_size(10);
    for workers in [1, 2] {
        let loader = BatchLoaderConfig::new(64)
            .with_workers(workers)
            .with_augment(AugmentConfig::default().with_cutout(Some(16)))
            .init(data.clone())
            .expect("loader");
        group.bench_function(
            format!("epoch/{n}img/b64/crop+flip+cutout/workers{workers}"),
            |b| {
                let mut epoch = 0;
                b.iter(|| {
                    epoch += 1;
                    let batches: Vec<_> = loader.epoch(epoch).expect("epoch").collect();
                    black_box(batches.len())
                })
            },
        );
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    data_loading(c);
    alpha_update::<Autodiff<NdArray>>(c, "ndarray", 16, 8, 64, 10);
    alpha_update::<Autodiff<Flex>>(c, "flex", 16, 8, 64, 10);
    for (ch, cells, batch) in [(8, 5, 32), (16, 8, 64)] {
        train_step::<Autodiff<NdArray>>(c, "ndarray", ch, cells, batch);
        train_step::<Autodiff<Flex>>(c, "flex", ch, cells, batch);
    }
}

criterion_group!(search, benches);
criterion_main!(search);
