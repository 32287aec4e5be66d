//! Op shapes, MixedOp modes, gradients, dropped ops and backend parity.

mod common;

use burn::module::{AutodiffModule, Module};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Int, Tensor, TensorData, Tolerance};
use common::{GradSum, TestAutodiff, TestBackend};
use tnd_nas::ops::{OpConfig, trainable_params};
use tnd_nas::space::OpSet;
use tnd_nas::spaces::darts::{DartsSpaceConfig, DartsSuperNet, DartsSuperNetConfig};
use tnd_nas::spaces::nb201::{Nb201Space, Nb201SuperNetConfig};
use tnd_nas::supernet::{MixedOpConfig, Path, SupernetForward};
use tnd_nas::{OpKind, SearchSpace};

#[test]
fn every_op_has_the_right_shape_and_count() {
    let device = Default::default();
    for op in OpKind::CELL_OPS {
        for stride in [1, 2] {
            for side in [7usize, 8] {
                for (affine, pool_bn) in [(true, false), (false, true)] {
                    let cfg = OpConfig::new(op, 6)
                        .with_stride(stride)
                        .with_affine(affine)
                        .with_pool_bn(pool_bn);
                    let module = cfg.init::<TestBackend>(&device);
                    assert_eq!(
                        trainable_params(&module) as u64,
                        cfg.param_count(),
                        "{op} stride {stride} affine {affine}"
                    );
                    let x = Tensor::<TestBackend, 4>::random(
                        [2, 6, side, side + 1],
                        Distribution::Default,
                        &device,
                    );
                    let y = module.forward(x);
                    let expect = [2, 6, side.div_ceil(stride), (side + 1).div_ceil(stride)];
                    assert_eq!(
                        y.dims(),
                        expect,
                        "{op} stride {stride} input {side}x{}",
                        side + 1
                    );
                    assert_eq!(cfg.out_size(side), expect[2]);
                }
            }
        }
    }
}

#[test]
fn op_counts_by_hand() {
    // sep_conv_3x3, C=8: 2 * (dw 8*9 + pw 8*8 + BN 16)
    assert_eq!(
        OpConfig::new(OpKind::SepConv3x3, 8).param_count(),
        2 * (72 + 64 + 16)
    );
    // dil_conv_5x5, C=8, no affine: dw 8*25 + pw 64
    assert_eq!(
        OpConfig::new(OpKind::DilConv5x5, 8)
            .with_affine(false)
            .param_count(),
        200 + 64
    );
    // conv_7x1_1x7: 2 * 7 * C^2 + 2C
    assert_eq!(
        OpConfig::new(OpKind::Conv7x1x1x7, 4).param_count(),
        2 * 7 * 16 + 8
    );
    // skip at stride 2 is FactorizedReduce: C^2 + 2C
    assert_eq!(
        OpConfig::new(OpKind::SkipConnect, 8)
            .with_stride(2)
            .param_count(),
        64 + 16
    );
    assert_eq!(OpConfig::new(OpKind::SkipConnect, 8).param_count(), 0);
    assert_eq!(
        OpConfig::new(OpKind::MaxPool5x5, 8)
            .with_pool_bn(true)
            .param_count(),
        0
    );
    // MACs: conv_3x3 on 8x8 with C=4 at stride 2: 4*4*9 weights at 4x4 outputs
    assert_eq!(
        OpConfig::new(OpKind::Conv3x3, 4).with_stride(2).macs(8, 8),
        144 * 16
    );
    // sep_conv_3x3 stride 2 on 8x8, C=2: dw 18*16 + pw 4*16, then dw 18*16 + pw 4*16
    assert_eq!(
        OpConfig::new(OpKind::SepConv3x3, 2)
            .with_stride(2)
            .macs(8, 8),
        2 * (18 * 16 + 4 * 16)
    );
}

#[test]
fn avg_pool_does_not_count_padding() {
    let device = Default::default();
    let op = OpConfig::new(OpKind::AvgPool3x3, 1).init::<TestBackend>(&device);
    let y = op.forward(Tensor::ones([1, 1, 4, 4], &device));
    let values = y.into_data().to_vec::<f32>().unwrap();
    assert!(values.iter().all(|v| (v - 1.0).abs() < 1e-6), "{values:?}");
}

fn small_darts_net<B: Backend>(device: &B::Device) -> (DartsSuperNet<B>, Vec<usize>) {
    let space = DartsSpaceConfig::darts().init().unwrap();
    let cfg = DartsSuperNetConfig::full(&space, 4, 3, 5);
    let counts = cfg.active.iter().map(Vec::len).collect();
    (cfg.init::<B>(device).unwrap(), counts)
}

#[test]
fn single_path_equals_one_hot_weighted() {
    let device = Default::default();
    let (net, counts) = small_darts_net::<TestBackend>(&device);
    let x = Tensor::<TestBackend, 4>::random([2, 3, 8, 8], Distribution::Default, &device);
    for seed in 0..4usize {
        let choice: Vec<usize> = counts
            .iter()
            .enumerate()
            .map(|(e, &n)| (e * 7 + seed * 3) % n)
            .collect();
        let single = net
            .forward_path(x.clone(), &Path::SinglePath(choice.clone()))
            .unwrap();
        let weighted = net
            .forward_path(x.clone(), &Path::one_hot(&choice, &counts))
            .unwrap();
        single
            .into_data()
            .assert_approx_eq::<f32>(&weighted.into_data(), Tolerance::absolute(1e-5));
    }
    let nb = Nb201Space::new();
    let net = Nb201SuperNetConfig::full(&nb, 4, 1, 5)
        .init::<TestBackend>(&device)
        .unwrap();
    let choice = vec![3, 2, 1, 4, 0, 3];
    let counts = vec![5; 6];
    let a = net
        .forward_path(x.clone(), &Path::SinglePath(choice.clone()))
        .unwrap();
    let b = net
        .forward_path(x, &Path::one_hot(&choice, &counts))
        .unwrap();
    a.into_data()
        .assert_approx_eq::<f32>(&b.into_data(), Tolerance::absolute(1e-5));
}

fn loss_grads(
    net: &DartsSuperNet<TestAutodiff>,
    path: &Path,
) -> <TestAutodiff as burn::tensor::backend::AutodiffBackend>::Gradients {
    let device = Default::default();
    let x = Tensor::<TestAutodiff, 4>::random([4, 3, 8, 8], Distribution::Default, &device);
    let y = Tensor::<TestAutodiff, 1, Int>::from_data(TensorData::from([0i64, 1, 2, 3]), &device);
    let logits = net.forward_path(x, path).unwrap();
    CrossEntropyLossConfig::new()
        .init(&device)
        .forward(logits, y)
        .backward()
}

#[test]
fn gradients_reach_every_active_op_in_weighted_mode_only_the_chosen_in_single_path() {
    let device = Default::default();
    let (net, counts) = small_darts_net::<TestAutodiff>(&device);
    let d = &net;
    let uniform = Path::Weighted(counts.iter().map(|&n| vec![1.0 / n as f32; n]).collect());
    let grads = loss_grads(&net, &uniform);
    for (ci, cell) in d.cells.iter().enumerate() {
        for (e, mixed) in cell.edges.iter().enumerate() {
            for (i, op) in mixed.ops.iter().enumerate() {
                let g = GradSum::of(op, &grads);
                assert_eq!(
                    g.with_grad,
                    g.tensors,
                    "cell {ci} edge {e} op {}",
                    mixed.kinds()[i]
                );
                if g.tensors > 0 {
                    assert!(
                        g.abs_sum > 0.0,
                        "cell {ci} edge {e} op {} has zero gradient",
                        mixed.kinds()[i]
                    );
                }
            }
        }
    }
    // Single path: sep_conv_3x3 (index 4) everywhere; every other op gets nothing.
    let choice = vec![4; counts.len()];
    let grads = loss_grads(&net, &Path::SinglePath(choice));
    for cell in &d.cells {
        for mixed in &cell.edges {
            for (i, op) in mixed.ops.iter().enumerate() {
                let g = GradSum::of(op, &grads);
                if i == 4 {
                    assert!(g.tensors > 0 && g.with_grad == g.tensors && g.abs_sum > 0.0);
                } else {
                    assert_eq!(g.with_grad, 0, "op {} got a gradient", mixed.kinds()[i]);
                }
            }
        }
    }
}

#[test]
fn dropped_ops_hold_no_parameters() {
    let device = Default::default();
    let all = MixedOpConfig::new(OpSet::darts().ops().to_vec(), 8).init::<TestBackend>(&device);
    let kept = [OpKind::SkipConnect, OpKind::SepConv5x5];
    let small = MixedOpConfig::new(kept.to_vec(), 8).init::<TestBackend>(&device);
    assert_eq!(small.ops.len(), 2);
    assert_eq!(
        trainable_params(&small) as u64,
        OpConfig::new(OpKind::SepConv5x5, 8)
            .with_affine(false)
            .param_count()
    );
    let mut retained = all;
    retained.retain(&kept);
    assert_eq!(retained.kinds(), &kept);
    assert_eq!(trainable_params(&retained), trainable_params(&small));
    // Shrinking the whole supernet shrinks its parameter count accordingly.
    let space = DartsSpaceConfig::darts().init().unwrap();
    let full = DartsSuperNetConfig::full(&space, 16, 8, 10)
        .init::<TestBackend>(&device)
        .unwrap();
    let mut cfg = DartsSuperNetConfig::full(&space, 16, 8, 10);
    cfg.active = vec![vec![OpKind::SkipConnect, OpKind::MaxPool3x3]; 28];
    let shrunk = cfg.init::<TestBackend>(&device).unwrap();
    assert!(trainable_params(&shrunk) < trainable_params(&full) / 10);
    assert_eq!(shrunk.active_ops(), cfg.active);
    // A path for the full net no longer fits.
    let x = Tensor::<TestBackend, 4>::zeros([1, 3, 8, 8], &device);
    assert!(
        shrunk
            .forward_path(x, &Path::SinglePath(vec![5; 28]))
            .is_err()
    );
}

#[test]
fn flex_and_ndarray_agree_on_the_same_weights() {
    use burn::backend::{Autodiff, NdArray};
    let flex_device = Default::default();
    let (net, counts) = small_darts_net::<Autodiff<TestBackend>>(&flex_device);
    let recorder = BinBytesRecorder::<FullPrecisionSettings>::default();
    let bytes = recorder.record(net.clone().into_record(), ()).unwrap();
    // Lazily initialised parameters are drawn independently by each clone: load the
    // same bytes into both networks.
    let net = net.load_record(recorder.load(bytes.clone(), &flex_device).unwrap());
    let nd_device = Default::default();
    let (nd_net, _) = small_darts_net::<Autodiff<NdArray>>(&nd_device);
    let nd_net = nd_net.load_record(recorder.load(bytes, &nd_device).unwrap());
    let x_data =
        Tensor::<TestBackend, 4>::random([3, 3, 9, 9], Distribution::Default, &Default::default())
            .into_data();
    let weights = Path::Weighted(
        counts
            .iter()
            .enumerate()
            .map(|(e, &n)| (0..n).map(|i| ((e + i) % 3 + 1) as f32 / 6.0).collect())
            .collect(),
    );
    // Training mode (batch statistics) and gradients.
    let a = net
        .forward_path(Tensor::from_data(x_data.clone(), &flex_device), &weights)
        .unwrap();
    let b = nd_net
        .forward_path(Tensor::from_data(x_data.clone(), &nd_device), &weights)
        .unwrap();
    a.clone()
        .into_data()
        .assert_approx_eq::<f32>(&b.clone().into_data(), Tolerance::absolute(1e-4));
    let ga = a.sum().backward();
    let gb = b.sum().backward();
    let sa = GradSum::of(&net, &ga);
    let sb = GradSum::of(&nd_net, &gb);
    assert!(
        (sa.abs_sum - sb.abs_sum).abs() <= 1e-3 * sa.abs_sum.max(1.0),
        "{} vs {}",
        sa.abs_sum,
        sb.abs_sum
    );
    // Inference mode (running statistics).
    let a = net
        .valid()
        .forward_path(Tensor::from_data(x_data.clone(), &flex_device), &weights)
        .unwrap();
    let b = nd_net
        .valid()
        .forward_path(Tensor::from_data(x_data, &nd_device), &weights)
        .unwrap();
    a.into_data()
        .assert_approx_eq::<f32>(&b.into_data(), Tolerance::absolute(1e-4));
}

/// NAS-Bench-201 cells run only the edges that reach their output: the ops of dead
/// edges get no gradient (they are not computed, so they leave no unreachable autodiff
/// graph behind), and the layers before a cell whose output edges are all `none` stay in
/// the backward graph (they get a gradient, zero).
#[test]
fn nb201_cells_skip_dead_edges_and_keep_the_stem_in_the_graph() {
    use tnd_nas::spaces::nb201::Nb201NetworkConfig;
    let device = Default::default();
    let space = Nb201Space::new();
    let x = || Tensor::<TestAutodiff, 4>::random([4, 1, 8, 8], Distribution::Default, &device);
    let y =
        || Tensor::<TestAutodiff, 1, Int>::from_data(TensorData::from([0i64, 1, 2, 3]), &device);
    let loss = |logits| {
        CrossEntropyLossConfig::new()
            .init(&device)
            .forward(logits, y())
    };
    // Node 3 reads nothing: edges 1<-0 (conv 1x1), 2<-0 (pool), 2<-1 (skip) are dead.
    let dead = "|nor_conv_1x1~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|none~1|none~2|";
    // Node 3 reads node 2 only; node 1 (conv 1x1 from the input) feeds nothing.
    let partly = "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|nor_conv_3x3~2|";
    for (text, live) in [
        (dead, [false; 6]),
        (partly, [false, true, false, false, false, true]),
    ] {
        let arch = space.parse(text).unwrap();
        let net = Nb201NetworkConfig::new(4, 1, 10)
            .with_in_channels(1)
            .init::<TestAutodiff>(&space.genotype(&arch).unwrap(), &device)
            .unwrap();
        let grads = loss(net.forward(x())).backward();
        assert_eq!(GradSum::of(&net.stem, &grads).with_grad, 1, "{text}: stem");
        let tnd_nas::spaces::nb201::Nb201EvalBlock::Cell(cell) = &net.blocks[0] else {
            panic!("the first block is a cell")
        };
        for (e, op) in cell.ops.iter().enumerate() {
            let g = GradSum::of(op, &grads);
            let has = g.tensors > 0 && g.with_grad == g.tensors;
            assert_eq!(has, live[e] && g.tensors > 0, "{text}: edge {e}");
        }
        // The supernet on the same single path.
        let all = space.all_candidates();
        let net = Nb201SuperNetConfig::new(4, 1, 10, all.clone())
            .with_in_channels(1)
            .init::<TestAutodiff>(&device)
            .unwrap();
        let path: Vec<usize> = arch
            .ops()
            .iter()
            .zip(&all)
            .map(|(op, ops)| ops.iter().position(|o| o == op).unwrap())
            .collect();
        let grads = loss(net.forward_path(x(), &Path::SinglePath(path)).unwrap()).backward();
        assert_eq!(
            GradSum::of(&net.stem, &grads).with_grad,
            1,
            "{text}: supernet stem"
        );
    }
}
