//! Evaluation networks built from genotypes: shapes, auxiliary head, variable in-degree,
//! drop-path, MAC counts by hand and genotype validation.

mod common;

use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};
use common::{DARTS_V2, TestAutodiff, TestBackend};
use tnd_nas::network::NetworkError;
use tnd_nas::ops::trainable_params;
use tnd_nas::space::{CellGenotype, GenotypeEdge, SpaceError};
use tnd_nas::spaces::darts::EvalNetworkConfig;
use tnd_nas::spaces::nb201::{Nb201Genotype, Nb201NetworkConfig};
use tnd_nas::{Genotype, OpKind};

/// End-to-end TND genotype: normal node 0 has no input, node 1 three inputs, all four
/// nodes are concatenated; the reduction cell has a 0-input node and a `none` edge.
const TND_VARIABLE: &str = "TndGenotype(normal=[[], [('sep_conv_3x3', 0), ('skip_connect', 1), ('dil_conv_3x3', 2)], [('conv_3x3', 3)], [('sep_conv_5x5', 1), ('avg_pool_3x3', 4)]], normal_concat=[2, 3, 4, 5], reduce=[[('max_pool_3x3', 0), ('skip_connect', 1)], [('skip_connect', 2), ('conv_3x1_1x3', 0), ('none', 1)], []], reduce_concat=[2, 3, 4])";

fn darts_v2() -> Genotype {
    DARTS_V2.parse().unwrap()
}

fn values<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().to_vec::<f32>().unwrap()
}

fn assert_finite(v: &[f32], what: &str) {
    assert!(
        v.iter().all(|x| x.is_finite()),
        "{what}: non-finite output {v:?}"
    );
}

fn edge(op: OpKind, from: usize) -> GenotypeEdge {
    GenotypeEdge::new(op, from)
}

#[test]
fn darts_v2_forward_shapes() {
    let device = Default::default();
    let g = darts_v2();
    let cfg = EvalNetworkConfig::new(8, 5, 10);
    let net = cfg.init::<TestBackend>(&g, &device).unwrap();
    assert_eq!(trainable_params(&net) as u64, cfg.param_count(&g));
    let x =
        Tensor::<TestBackend, 4>::random([2, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
    let y = net.forward(x.clone());
    assert_eq!(y.dims(), [2, 10]);
    assert_finite(&values(y), "plain");
    let (logits, aux) = net.forward_train(x.clone(), 0.0);
    assert_eq!(logits.dims(), [2, 10]);
    assert!(aux.is_none(), "no auxiliary head was asked for");

    let cfg = cfg.with_auxiliary(true);
    let net = cfg.init::<TestBackend>(&g, &device).unwrap();
    assert_eq!(trainable_params(&net) as u64, cfg.param_count(&g));
    let (logits, aux) = net.forward_train(x.clone(), 0.2);
    assert_eq!(logits.dims(), [2, 10]);
    let aux = aux.expect("auxiliary logits");
    assert_eq!(aux.dims(), [2, 10]);
    assert_finite(&values(aux), "aux");
    // Inference ignores the head.
    assert_eq!(net.forward(x).dims(), [2, 10]);
}

#[test]
fn darts_v2_one_channel_28x28_with_auxiliary() {
    let device = Default::default();
    let g = darts_v2();
    let cfg = EvalNetworkConfig::new(8, 5, 10)
        .with_auxiliary(true)
        .with_in_channels(1);
    let net = cfg.init::<TestBackend>(&g, &device).unwrap();
    assert_eq!(trainable_params(&net) as u64, cfg.param_count(&g));
    let x =
        Tensor::<TestBackend, 4>::random([2, 1, 28, 28], Distribution::Normal(0.0, 1.0), &device);
    let (logits, aux) = net.forward_train(x, 0.0);
    assert_eq!(logits.dims(), [2, 10]);
    let aux = aux.expect("auxiliary logits");
    assert_eq!(aux.dims(), [2, 10]);
    assert_finite(&values(logits), "logits");
    assert_finite(&values(aux), "aux");
}

#[test]
fn tnd_variable_in_degree_builds_and_counts() {
    let device = Default::default();
    let g: Genotype = TND_VARIABLE.parse().unwrap();
    assert!(g.normal.nodes[0].is_empty());
    assert_eq!(g.normal.nodes[1].len(), 3);
    assert_eq!(g.normal.concat, vec![2, 3, 4, 5]);
    assert!(g.reduce.nodes[2].is_empty());
    for aux in [false, true] {
        let cfg = EvalNetworkConfig::new(8, 5, 10).with_auxiliary(aux);
        cfg.validate(&g).unwrap();
        let net = cfg.init::<TestBackend>(&g, &device).unwrap();
        assert_eq!(
            trainable_params(&net) as u64,
            cfg.param_count(&g),
            "auxiliary {aux}"
        );
        let x = Tensor::<TestBackend, 4>::random(
            [2, 3, 32, 32],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let (logits, aux_logits) = net.forward_train(x, 0.1);
        assert_eq!(logits.dims(), [2, 10]);
        assert_finite(&values(logits), "logits");
        assert_eq!(aux_logits.map(|a| a.dims()), aux.then_some([2, 10]));
    }
    // Odd input sides through two reductions.
    let cfg = EvalNetworkConfig::new(6, 3, 4);
    let net = cfg.init::<TestBackend>(&g, &device).unwrap();
    let x =
        Tensor::<TestBackend, 4>::random([1, 3, 15, 15], Distribution::Normal(0.0, 1.0), &device);
    assert_eq!(net.forward(x).dims(), [1, 4]);
}

#[test]
fn drop_path_is_random_only_when_enabled() {
    let device = Default::default();
    let g = darts_v2();
    let net = EvalNetworkConfig::new(4, 3, 10)
        .init::<TestAutodiff>(&g, &device)
        .unwrap();
    let x =
        Tensor::<TestAutodiff, 4>::random([4, 3, 16, 16], Distribution::Normal(0.0, 1.0), &device);
    let run = |p: f64| values(net.forward_train(x.clone(), p).0);
    let max_diff = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    };

    let (a, b) = (run(0.0), run(0.0));
    assert_finite(&a, "p=0");
    assert!(
        max_diff(&a, &b) <= 1e-6,
        "drop_prob 0 must be deterministic: {a:?} vs {b:?}"
    );
    let (c, d) = (run(0.5), run(0.5));
    assert_finite(&c, "p=0.5");
    assert_finite(&d, "p=0.5");
    assert!(
        max_diff(&c, &d) > 1e-4,
        "drop_prob 0.5 gave identical outputs: {c:?}"
    );
    assert!(
        max_diff(&a, &c) > 1e-4,
        "drop_prob 0.5 changed nothing: {c:?}"
    );
}

/// A 1-layer network is a single reduction cell; with only `none` ops its MACs are the
/// stem, the two 1x1 preprocessing convs and the classifier.
#[test]
fn macs_by_hand_one_layer() {
    let g = Genotype {
        normal: CellGenotype {
            nodes: vec![vec![edge(OpKind::SkipConnect, 1)]],
            concat: vec![2],
        },
        reduce: CellGenotype {
            nodes: vec![vec![edge(OpKind::None, 0)], vec![]],
            concat: vec![2, 3],
        },
    };
    let (c, classes, side) = (4usize, 10usize, 32usize);
    let cfg = EvalNetworkConfig::new(c, 1, classes);
    let c_stem = 3 * c; // stem multiplier 3
    let c_cell = 2 * c; // the reduction cell doubles C
    let stem = c_stem * 3 * 3 * 3 * side * side;
    let pre0 = c_stem * c_cell * side * side; // 1x1 conv at the input resolution
    let pre1 = c_stem * c_cell * side * side;
    let classifier = 2 * c_cell * classes; // concat of 2 nodes
    assert_eq!(
        stem + pre0 + pre1 + classifier,
        331_776 + 98_304 + 98_304 + 160
    );
    assert_eq!(cfg.macs(&g, side), (stem + pre0 + pre1 + classifier) as u64);
    // The same network really has that shape.
    let net = cfg.init::<TestBackend>(&g, &Default::default()).unwrap();
    let x = Tensor::<TestBackend, 4>::zeros([1, 3, side, side], &Default::default());
    assert_eq!(net.forward(x).dims(), [1, classes]);
}

/// Normal cell of skips, reduction cells of `none` edges from the inputs and a skip
/// between intermediate nodes: no op has MACs, so the count is the stem, the
/// preprocessing (1x1 convs, and a FactorizedReduce after the first reduction) and the
/// classifier.
fn skip_none_genotype() -> Genotype {
    Genotype {
        normal: CellGenotype {
            nodes: vec![
                vec![edge(OpKind::SkipConnect, 0), edge(OpKind::SkipConnect, 1)],
                vec![edge(OpKind::SkipConnect, 2), edge(OpKind::None, 1)],
            ],
            concat: vec![2, 3],
        },
        reduce: CellGenotype {
            nodes: vec![
                vec![edge(OpKind::None, 0), edge(OpKind::None, 1)],
                vec![edge(OpKind::SkipConnect, 2)],
            ],
            concat: vec![2, 3],
        },
    }
}

/// Three layers: normal (C), reduction (2C), reduction (4C, after a reduction). The input
/// side is odd, where FactorizedReduce's two halves both see `ceil(h / 2)` outputs.
#[test]
fn macs_by_hand_three_layers() {
    let g = skip_none_genotype();
    let (c, classes, h) = (4usize, 10usize, 31usize);
    let cfg = EvalNetworkConfig::new(c, 3, classes);
    let c_stem = 3 * c;
    let half = h.div_ceil(2); // 16
    let stem = c_stem * 3 * 9 * h * h;
    // Cell 0, normal, C = 4: c_pp = c_p = 12, both 1x1 at h.
    let cell0 = 2 * (c_stem * c * h * h);
    // Cell 1, reduction, C = 8: c_pp = 12 (stem), c_p = 2 * 4 (cell 0), 1x1 at h.
    let cell1 = c_stem * 8 * h * h + (2 * c) * 8 * h * h;
    // Cell 2, reduction after a reduction, C = 16: c_pp = 8 at h -> FactorizedReduce
    // (two 1x1 stride-2 convs 8 -> 8 each), c_p = 2 * 8 = 16 at h / 2 -> 1x1 conv.
    let cell2 = 2 * (8 * 8 * half * half) + 16 * 16 * half * half;
    let classifier = 2 * 16 * classes;
    let expected = stem + cell0 + cell1 + cell2 + classifier;
    assert_eq!(
        expected,
        311_364 + 92_256 + (92_256 + 61_504) + (32_768 + 65_536) + 320
    );
    assert_eq!(cfg.macs(&g, h), expected as u64);
    let net = cfg.init::<TestBackend>(&g, &Default::default()).unwrap();
    let x = Tensor::<TestBackend, 4>::zeros([1, 3, h, h], &Default::default());
    assert_eq!(net.forward(x).dims(), [1, classes]);
}

/// The same by-hand count at an even side, with `skip_connect` on stride-2 edges
/// (FactorizedReduce ops). Each FactorizedReduce half produces `h / 2 x h / 2` outputs.
#[test]
fn macs_by_hand_even_side_with_factorized_reduce() {
    let mut g = skip_none_genotype();
    g.reduce.nodes[0] = vec![edge(OpKind::SkipConnect, 0)];
    let (c, classes, h) = (4usize, 10usize, 32usize);
    let cfg = EvalNetworkConfig::new(c, 3, classes);
    let c_stem = 3 * c;
    let stem = c_stem * 3 * 9 * h * h;
    let cell0 = 2 * (c_stem * c * h * h);
    // Cell 1 (C = 8): preprocessing at 32, skip_connect from input 0 is a
    // FactorizedReduce 8 -> 4 + 4 with 16x16 outputs.
    let cell1 = c_stem * 8 * h * h + 8 * 8 * h * h + 2 * (8 * 4 * 16 * 16);
    // Cell 2 (C = 16): FactorizedReduce preprocessing 8 -> 8 + 8 at 32 -> 16, 1x1 16 -> 16
    // at 16, and the op FactorizedReduce 16 -> 8 + 8 at 16 -> 8.
    let cell2 = 2 * (8 * 8 * 16 * 16) + 16 * 16 * 16 * 16 + 2 * (16 * 8 * 8 * 8);
    let classifier = 2 * 16 * classes;
    let expected = stem + cell0 + cell1 + cell2 + classifier;
    assert_eq!(cfg.macs(&g, h), expected as u64);
}

#[test]
fn macs_are_monotone_in_the_ops() {
    let cfg = EvalNetworkConfig::new(36, 20, 10);
    let v2 = darts_v2();
    let v2_macs = cfg.macs(&v2, 32);
    let sep5: Genotype = DARTS_V2
        .replace("sep_conv_3x3", "sep_conv_5x5")
        .parse()
        .unwrap();
    let sep5_macs = cfg.macs(&sep5, 32);
    assert!(
        sep5_macs > v2_macs,
        "sep_conv_5x5 {sep5_macs} <= sep_conv_3x3 {v2_macs}"
    );
    // Each op swap alone increases the count too.
    let one: Genotype = DARTS_V2
        .replacen("sep_conv_3x3", "sep_conv_5x5", 1)
        .parse()
        .unwrap();
    assert!(cfg.macs(&one, 32) > v2_macs);
    assert!(cfg.macs(&one, 32) < sep5_macs);

    let all_skip = Genotype {
        normal: CellGenotype {
            nodes: (0..4)
                .map(|_| vec![edge(OpKind::SkipConnect, 0), edge(OpKind::SkipConnect, 1)])
                .collect(),
            concat: vec![2, 3, 4, 5],
        },
        reduce: CellGenotype {
            nodes: (0..4)
                .map(|_| vec![edge(OpKind::SkipConnect, 0), edge(OpKind::SkipConnect, 1)])
                .collect(),
            concat: vec![2, 3, 4, 5],
        },
    };
    let skip_macs = cfg.macs(&all_skip, 32);
    assert!(
        skip_macs > 0 && skip_macs < v2_macs,
        "all-skip {skip_macs} vs DARTS_V2 {v2_macs}"
    );
    // Bigger inputs and wider networks cost more.
    assert!(cfg.macs(&v2, 64) > v2_macs);
    assert!(EvalNetworkConfig::new(48, 20, 10).macs(&v2, 32) > v2_macs);
    println!(
        "DARTS_V2 C=36 L=20 32x32: {v2_macs} MACs; all sep_conv_5x5: {sep5_macs}; all skip: {skip_macs}"
    );
}

#[test]
fn nb201_all_conv_macs_match_the_paper() {
    let g: Nb201Genotype = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
        .parse()
        .unwrap();
    let cfg = Nb201NetworkConfig::new(16, 5, 10);
    let macs = cfg.macs(&g, 32);
    println!("NAS-Bench-201 all nor_conv_3x3, C=16, 5 cells, 32x32: {macs} MACs");
    // By hand: stem, 3 stages of 5 cells x 6 convs 3x3 (each C^2 * 9 * side^2, the same in
    // every stage), two residual blocks (3x3 stride 2, 3x3, 1x1 shortcut), classifier.
    let stem = 16 * 3 * 9 * 32 * 32;
    let stage = 5 * 6 * (16 * 16 * 9 * 32 * 32);
    let residual = |c_in: usize, side: usize| {
        let c_out = 2 * c_in;
        let out = side / 2;
        c_out * c_in * 9 * out * out + c_out * c_out * 9 * out * out + c_out * c_in * out * out
    };
    let expected = stem + 3 * stage + residual(16, 32) + residual(32, 16) + 64 * 10;
    assert_eq!(expected, 220_119_680);
    assert_eq!(macs, expected as u64);
    // NAS-Bench-201 lists 220.11 MFLOPs for this architecture on CIFAR-10.
    let paper = 220.11e6;
    assert!(
        (macs as f64 - paper).abs() / paper < 0.01,
        "{macs} vs {paper}"
    );
    // And the built network runs.
    let device = Default::default();
    let net = cfg.init::<TestBackend>(&g, &device).unwrap();
    assert_eq!(trainable_params(&net) as u64, cfg.param_count(&g));
    let x =
        Tensor::<TestBackend, 4>::random([2, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
    assert_eq!(net.forward(x).dims(), [2, 10]);
}

#[test]
fn invalid_genotypes_are_errors_not_panics() {
    let device = Default::default();
    let cfg = EvalNetworkConfig::new(8, 5, 10);

    // Node 0 may only read nodes 0 and 1.
    let mut bad = darts_v2();
    bad.normal.nodes[0][1].from = 2;
    let expected = NetworkError::Genotype(SpaceError::NodeOutOfRange {
        cell: "normal".into(),
        node: 0,
        input: 2,
        limit: 2,
    });
    assert_eq!(cfg.validate(&bad), Err(expected.clone()));
    match cfg.init::<TestBackend>(&bad, &device) {
        Err(e) => assert_eq!(e, expected),
        Ok(_) => panic!("init accepted an input out of range"),
    }
    // The analytic counts do not panic on it either.
    let _ = cfg.param_count(&bad);
    let _ = cfg.macs(&bad, 32);

    // Far out of range, in the reduction cell.
    let mut bad = darts_v2();
    bad.reduce.nodes[3][0].from = usize::MAX;
    assert!(matches!(
        cfg.validate(&bad),
        Err(NetworkError::Genotype(SpaceError::NodeOutOfRange {
            node: 3,
            ..
        }))
    ));
    assert!(cfg.init::<TestBackend>(&bad, &device).is_err());

    // Concat of a node that does not exist, empty cells, NAS-Bench-201 ops, zero sizes.
    let mut bad = darts_v2();
    bad.normal.concat.push(6);
    assert!(cfg.validate(&bad).is_err());
    assert!(cfg.init::<TestBackend>(&bad, &device).is_err());
    let mut bad = darts_v2();
    bad.reduce.nodes.clear();
    bad.reduce.concat.clear();
    assert!(cfg.init::<TestBackend>(&bad, &device).is_err());
    let mut bad = darts_v2();
    bad.normal.nodes[1][0].op = OpKind::NorConv3x3;
    assert!(cfg.init::<TestBackend>(&bad, &device).is_err());
    assert!(matches!(
        EvalNetworkConfig::new(0, 5, 10).init::<TestBackend>(&darts_v2(), &device),
        Err(NetworkError::InvalidConfig(_))
    ));

    // NAS-Bench-201 networks refuse DARTS ops and zero sizes.
    let nb = Nb201Genotype {
        ops: [OpKind::SepConv3x3; 6],
    };
    assert!(
        Nb201NetworkConfig::new(16, 5, 10)
            .init::<TestBackend>(&nb, &device)
            .is_err()
    );
    let nb = Nb201Genotype {
        ops: [OpKind::SkipConnect; 6],
    };
    assert!(
        Nb201NetworkConfig::new(16, 0, 10)
            .init::<TestBackend>(&nb, &device)
            .is_err()
    );
}
