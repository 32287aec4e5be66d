//! Zero-cost proxies against reference values (spec/reference-numbers.md) and invariants.

use burn::backend::{Autodiff, Flex, NdArray};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};
use tnd_nas::network::{BuildNetwork, ImageClassifier};
use tnd_nas::proxy::{grad_norm, naswot, snip, synflow};
use tnd_nas::seeding::seeded;
use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec, Nb201Space};

/// `build`'s network with every weight drawn (weights are drawn on first use) from `seed`,
/// under tnd-nas's lock on the backend's random state: tests run side by side in one
/// process, and a draw outside the lock would shift the draws of a seeded scorer.
fn built<B: Backend, M: Module<B>, E: std::fmt::Debug>(
    device: &B::Device,
    seed: u64,
    build: impl FnOnce() -> Result<M, E>,
) -> M {
    seeded::<B, _>(device, seed, || {
        let net = build().unwrap();
        tnd_nas::ops::materialize(&net);
        net
    })
}

type B64 = Autodiff<NdArray<f64>>;

/// Every float parameter set to 1.0.
struct Ones;

impl<B: Backend> ModuleMapper<B> for Ones {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        param.map(|t| t.ones_like())
    }
}

#[test]
fn synflow_with_every_weight_one_matches_the_reference() {
    // float64, and float32 (whose range ends at 3.4e38: the network divides out powers
    // of two between blocks).
    synflow_with_every_weight_one::<NdArray<f64>>(1e-9);
    synflow_with_every_weight_one::<Flex>(1e-5);
}

fn synflow_with_every_weight_one<B: Backend>(tolerance: f64) {
    let device = Default::default();
    let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10));
    let space = Nb201Space::new();
    for (cell, expected) in [
        (
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
            5.33324732711817e+111,
        ),
        (
            "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
            3.7584899885680563e+42,
        ),
        ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", 0.0),
    ] {
        let arch = space.parse(cell).unwrap();
        let net = built::<B, _, _>(&device, 0, || spec.build::<B>(&arch, &device)).map(&mut Ones);
        let s = synflow(net, [3, 32, 32], &device).unwrap();
        let rel = if expected == 0.0 {
            s.abs()
        } else {
            ((s - expected) / expected).abs()
        };
        assert!(
            rel < tolerance,
            "{cell}: {s:e}, expected {expected:e} (relative {rel:e})"
        );
    }
}

/// The deepest DARTS network the space allows (every node chained to the one before
/// through 5x5 separable convolutions) and DARTS_V2, both 20 cells at C = 36.
fn deep_darts_genotypes() -> Vec<(&'static str, tnd_nas::space::Genotype)> {
    let chain = |kind: &str| {
        format!(
            "{kind}=[('sep_conv_5x5', 0), ('sep_conv_5x5', 1), ('sep_conv_5x5', 2), ('sep_conv_5x5', 1), \
             ('sep_conv_5x5', 3), ('sep_conv_5x5', 2), ('sep_conv_5x5', 4), ('sep_conv_5x5', 3)], {kind}_concat=[2, 3, 4, 5]"
        )
    };
    let deepest = format!("Genotype({}, {})", chain("normal"), chain("reduce"));
    let darts_v2 = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";
    vec![
        ("deepest", deepest.parse().unwrap()),
        ("DARTS_V2", darts_v2.parse().unwrap()),
    ]
}

#[test]
fn synflow_does_not_overflow_on_the_deepest_darts_network() {
    use tnd_nas::spaces::darts::EvalNetworkConfig;
    // The same fixed weights in float64 and float32: float32 holds values up to 3.4e38
    // only, and gets the same score because the network divides out powers of two.
    let cfg = EvalNetworkConfig::new(36, 20, 10);
    for (name, g) in deep_darts_genotypes() {
        let device = Default::default();
        let net = built::<NdArray<f64>, _, _>(&device, 0, || cfg.init::<NdArray<f64>>(&g, &device))
            .map(&mut Pattern);
        let s64 = synflow(net, [3, 32, 32], &device).unwrap();
        let device = Default::default();
        let net =
            built::<Flex, _, _>(&device, 0, || cfg.init::<Flex>(&g, &device)).map(&mut Pattern);
        let s32 = synflow(net, [3, 32, 32], &device).unwrap();
        println!("{name}: synflow {s64:e} (float64), {s32:e} (float32)");
        assert!(s64.is_finite() && s64 > 1e38, "{name}: {s64}");
        let rel = ((s32 - s64) / s64).abs();
        assert!(rel < 1e-3, "{name}: float32 {s32:e}, float64 {s64:e}");
    }
}

/// synflow by its definition: a backward pass from `R`, then `sum |w * dR/dw|` over the
/// weights of rank 2 or more (what the crate computed before its forward-mode pass).
fn synflow_by_backward<B: AutodiffBackend, M: Module<B> + ImageClassifier<B>>(
    network: M,
    input: [usize; 3],
    device: &B::Device,
) -> f64 {
    struct Positive;
    impl<B: AutodiffBackend> ModuleMapper<B> for Positive {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
            param.map(|t| Tensor::from_inner(t.inner().abs()).require_grad())
        }
    }
    struct Saliency<'a, B: AutodiffBackend>(&'a B::Gradients, f64);
    impl<B: AutodiffBackend> ModuleVisitor<B> for Saliency<'_, B> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            let w = param.val();
            if let (true, Some(g)) = (D >= 2, w.grad(self.0)) {
                self.1 += w.inner().mul(g).abs().sum().into_scalar().elem::<f64>();
            }
        }
    }
    let network = network.map(&mut Positive);
    let [c, h, w] = input;
    let x = Tensor::<B, 4>::ones([1, c, h, w], device);
    let r = tnd_nas::ops::without_batch_norm(|| network.classify(x)).sum();
    let grads = r.backward();
    let mut sum = Saliency::<B>(&grads, 0.0);
    network.visit(&mut sum);
    sum.1
}

#[test]
fn synflow_equals_its_backward_pass_definition_on_every_built_in_space() {
    use tnd_nas::spaces::darts::EvalNetworkConfig;
    use tnd_nas::spaces::mbconv::MbConvSpace;
    use tnd_nas::spaces::mbconv::{MbConvNetworkConfig, MbConvNetworkSpec};
    let device = Default::default();
    let check = |name: &str, forward: f64, backward: f64| {
        let rel = ((forward - backward) / backward).abs();
        println!("{name}: {forward:e} (forward mode), {backward:e} (backward pass)");
        assert!(backward > 0.0 && rel < 1e-9, "{name}: relative {rel:e}");
    };
    // NAS-Bench-201: ReLU-conv-BN, pools, skips, residual blocks.
    let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(8, 2, 10));
    let space = Nb201Space::new();
    for cell in [
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
        "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|skip_connect~2|",
    ] {
        let arch = space.parse(cell).unwrap();
        let net = built::<B64, _, _>(&device, 3, || spec.build::<B64>(&arch, &device));
        let backward = synflow_by_backward(net.clone(), [3, 16, 16], &device);
        check(cell, synflow(net, [3, 16, 16], &device).unwrap(), backward);
    }
    // DARTS: separable and dilated convs, max pools, FactorizedReduce, two-input cells.
    let cfg = EvalNetworkConfig::new(8, 5, 10);
    for (name, g) in deep_darts_genotypes() {
        let net = built::<B64, _, _>(&device, 4, || cfg.init::<B64>(&g, &device));
        let backward = synflow_by_backward(net.clone(), [3, 16, 16], &device);
        check(name, synflow(net, [3, 16, 16], &device).unwrap(), backward);
    }
    // MBConv: ReLU6 (whose tangent stops where the primal passes 6), depthwise convs;
    // no dropout (active on an autodiff backend: both passes would draw their own masks).
    let space = MbConvSpace::mobilenet_v2();
    let spec = MbConvNetworkSpec::new(
        space.clone(),
        MbConvNetworkConfig::new(10)
            .with_width(0.35)
            .with_dropout(0.0),
    );
    for text in ["e3_k3", "e6_k5"] {
        let arch = space.parse(&vec![text; 16].join(",")).unwrap();
        let net = built::<B64, _, _>(&device, 5, || spec.build::<B64>(&arch, &device));
        let backward = synflow_by_backward(net.clone(), [3, 32, 32], &device);
        check(text, synflow(net, [3, 32, 32], &device).unwrap(), backward);
    }
}

/// scripts/proxy_reference.py's fixed weights: every conv and linear weight, flattened in
/// PyTorch's layout, `sin(0.61 * k + 0.37 * numel) / sqrt(fan_in)`.
struct Pattern;

fn pattern<B: burn::tensor::backend::Backend>(
    shape: [usize; 2],
    device: &B::Device,
) -> Tensor<B, 2> {
    let numel = shape[0] * shape[1];
    let scale = (shape[1] as f64).sqrt();
    let v: Vec<f64> = (0..numel)
        .map(|k| (0.61 * k as f64 + 0.37 * numel as f64).sin() / scale)
        .collect();
    // Not `from_floats`, which rounds to f32.
    Tensor::<B, 2>::from_data(burn::tensor::TensorData::new(v, shape), device)
}

impl<B: Backend> ModuleMapper<B> for Pattern {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        param.map(|t| {
            let dims = t.dims();
            let device = t.device();
            match D {
                // A conv kernel: the same layout as PyTorch's.
                4 => {
                    let rest: usize = dims[1..].iter().product();
                    pattern::<B>([dims[0], rest], &device).reshape(t.shape())
                }
                // A linear weight, burn's [in, out]: PyTorch's [out, in] transposed.
                2 => pattern::<B>([dims[1], dims[0]], &device)
                    .transpose()
                    .reshape(t.shape()),
                _ => t,
            }
        })
    }
}

/// Every float parameter a leaf that takes gradients.
struct RequireGrad;

impl<B: AutodiffBackend> ModuleMapper<B> for RequireGrad {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        param.map(|t| t.require_grad())
    }
}

#[test]
fn naswot_grad_norm_and_snip_match_the_pytorch_reference() {
    use burn::tensor::{Int, TensorData};
    let device = Default::default();
    let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10));
    let space = Nb201Space::new();
    let n = 8;
    let pixels: Vec<f64> = (0..n * 3 * 32 * 32)
        .map(|k| (0.37 * k as f64 + 0.5).sin())
        .collect();
    let images = Tensor::<B64, 4>::from_data(TensorData::new(pixels, [n, 3, 32, 32]), &device);
    let labels = Tensor::<B64, 1, Int>::from_data(
        TensorData::new((0..n as i64).map(|i| i % 10).collect::<Vec<i64>>(), [n]),
        &device,
    );
    // `python3 scripts/proxy_reference.py` (PyTorch 2.15.0, float64), 2026-12-07.
    for (cell, reference) in [
        (
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
            [104.57078411886054, 1843.052151946467, 3592.127730873863],
        ),
        (
            "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
            [94.44879375955847, 23.873351702760466, 54.697103773582405],
        ),
    ] {
        let arch = space.parse(cell).unwrap();
        let mut net = built::<B64, _, _>(&device, 0, || spec.build::<B64>(&arch, &device))
            .map(&mut Pattern)
            .map(&mut RequireGrad);
        let classes = net.classifier.weight.dims()[1];
        net.classifier.bias = Some(Param::from_tensor(
            Tensor::<B64, 1>::zeros([classes], &device).require_grad(),
        ));
        // None of the three changes the weights: one network serves them all.
        let got = [
            naswot(&net, images.clone()).unwrap(),
            grad_norm(&net, images.clone(), labels.clone()).unwrap(),
            snip(&net, images.clone(), labels.clone()).unwrap(),
        ];
        for ((name, g), r) in ["naswot", "grad_norm", "snip"]
            .iter()
            .zip(got)
            .zip(reference)
        {
            let rel = ((g - r) / r).abs();
            assert!(
                rel < 1e-9,
                "{cell} {name}: {g}, reference {r} (relative {rel:e})"
            );
        }
    }
}

/// The bundled synflow scores of NAS-Bench-201 (which `tnd-nas tabular` reads instead of
/// building each network) are what a `ProxyScorer` computes on the CPU backend at seed 0.
#[test]
fn the_bundled_nb201_synflow_scores_are_what_the_scorer_computes() {
    use std::sync::Arc;
    use tnd_nas::objective::{
        Direction, NB201_SYNFLOW, Objective, ObjectiveContext, ObjectiveError, Tabular,
        TabularTable,
    };
    use tnd_nas::proxy::{ProxyInput, ProxyScorerConfig, ZeroCostProxy};
    use tnd_nas::{Architecture, OpKind};
    type B = Autodiff<Flex>;
    let space = Nb201Space::new();
    let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(16, 5, 10));
    let table = Arc::new(TabularTable::nb201_synflow().unwrap());
    let bundled = Tabular::new(table, NB201_SYNFLOW, Direction::Maximise).unwrap();
    let input = ProxyInput::<B> {
        shape: [3, 32, 32],
        batch: None,
    };
    let mut scorer = ProxyScorerConfig::new(ZeroCostProxy::Synflow)
        .init(spec, &space, input, Default::default())
        .unwrap();
    let ctx = ObjectiveContext::new(&space);
    for text in [
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
        "|none~0|+|nor_conv_3x3~0|none~1|+|nor_conv_1x1~0|avg_pool_3x3~1|none~2|",
    ] {
        let arch = space.parse(text).unwrap();
        let computed = scorer.evaluate(&arch, &ctx).unwrap();
        let known = bundled.value_of(text).unwrap();
        let rel = (computed - known).abs() / known.abs().max(f64::MIN_POSITIVE);
        assert!(
            rel < 1e-6,
            "{text}: computed {computed:e}, bundled {known:e}"
        );
    }
    // An architecture of another space is named as such.
    let short = Architecture::new(vec![OpKind::SkipConnect; 3]);
    assert!(matches!(
        scorer.evaluate(&short, &ctx),
        Err(ObjectiveError::Space(_))
    ));
}

/// zero-cost is ZeroCost of the synflow and parameter count of the architecture, fitted
/// on the reference sample; it is data-free, any seed gives a finite score, and it ranks
/// a cell of 3x3 convolutions above one of pools on every built-in space's network.
#[test]
fn zero_cost_combines_synflow_and_params_on_every_space() {
    use tnd_nas::network::EvalNetworkSpec;
    use tnd_nas::proxy::{ProxyInput, ProxyScorerConfig, ZeroCostProxy, score};
    use tnd_nas::spaces::darts::DartsSpaceConfig;
    use tnd_nas::spaces::darts::{DartsNetworkSpec, EvalNetworkConfig};
    use tnd_nas::spaces::mbconv::MbConvSpace;
    use tnd_nas::spaces::mbconv::{MbConvNetworkConfig, MbConvNetworkSpec};
    use tnd_nas::{Architecture, OpKind, SearchSpace};
    type B = Autodiff<Flex>;
    let input = || ProxyInput::<B> {
        shape: [3, 16, 16],
        batch: None,
    };
    // NAS-Bench-201: the score is the fitted combination of synflow and params.
    let space = Nb201Space::new();
    let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(8, 1, 10));
    let zc = ProxyScorerConfig::new(ZeroCostProxy::ZeroCost)
        .with_reference(16)
        .with_seed(5)
        .init(spec.clone(), &space, input(), Default::default())
        .unwrap();
    let arch = space
        .parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
        .unwrap();
    let s = score(
        ZeroCostProxy::Synflow,
        built::<B, _, _>(&Default::default(), 5, || {
            spec.build::<B>(&arch, &Default::default())
        }),
        &input(),
    )
    .unwrap();
    let expected = zc
        .zero_cost()
        .unwrap()
        .score(s, spec.param_count(&arch).unwrap());
    assert_eq!(zc.score(&arch).unwrap(), expected);
    // The network-level entry point refuses zero-cost: it needs the reference.
    assert!(
        score(
            ZeroCostProxy::ZeroCost,
            built::<B, _, _>(&Default::default(), 0, || spec
                .build::<B>(&arch, &Default::default())),
            &input()
        )
        .is_err()
    );
    // DARTS and MBConv.
    let darts = DartsSpaceConfig::darts().init().unwrap();
    let darts_spec = DartsNetworkSpec::new(darts.clone(), EvalNetworkConfig::new(4, 3, 10));
    let zc = ProxyScorerConfig::new(ZeroCostProxy::ZeroCost)
        .with_reference(8)
        .init(darts_spec, &darts, input(), Default::default())
        .unwrap();
    let edges = darts.edges().len();
    let convs = Architecture::new(vec![OpKind::SepConv3x3; edges]);
    let pools = Architecture::new(vec![OpKind::MaxPool3x3; edges]);
    assert!(zc.score(&convs).unwrap() > zc.score(&pools).unwrap());
    let mbconv = MbConvSpace::mobilenet_v2();
    let mb_spec = MbConvNetworkSpec::new(mbconv.clone(), MbConvNetworkConfig::new(10));
    let zc = ProxyScorerConfig::new(ZeroCostProxy::ZeroCost)
        .with_reference(4)
        .init(mb_spec, &mbconv, input(), Default::default())
        .unwrap();
    let all = mbconv.all_candidates();
    let first = Architecture::new(all.iter().map(|ops| ops[0]).collect());
    assert!(zc.score(&first).unwrap().is_finite());
    // naswot needs a batch: refused at init, not at the first architecture.
    let err = ProxyScorerConfig::new(ZeroCostProxy::Naswot)
        .init(
            Nb201NetworkSpec::new(Nb201NetworkConfig::new(8, 1, 10)),
            &space,
            input(),
            Default::default(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("needs a batch"), "{err}");
}
