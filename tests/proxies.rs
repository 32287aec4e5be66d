//! Zero-cost proxies against reference values (spec/reference-numbers.md) and invariants.

use burn::backend::{Autodiff, NdArray};
use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use tnd_nas::eval::{BuildNetwork, Nb201NetworkConfig, Nb201NetworkSpec};
use tnd_nas::proxy::{grad_norm, naswot, snip, synflow};
use tnd_nas::space::Nb201Space;

type B64 = Autodiff<NdArray<f64>>;

/// Every float parameter set to 1.0.
struct Ones;

impl<B: AutodiffBackend> ModuleMapper<B> for Ones {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        param.map(|t| Tensor::from_inner(t.inner().ones_like()).require_grad())
    }
}

#[test]
fn synflow_with_every_weight_one_matches_the_reference() {
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
        let net = spec.build::<B64>(&arch, &device).unwrap().map(&mut Ones);
        let s = synflow(net, [3, 32, 32], &device).unwrap();
        let rel = if expected == 0.0 {
            s.abs()
        } else {
            ((s - expected) / expected).abs()
        };
        assert!(
            rel < 1e-9,
            "{cell}: {s:e}, expected {expected:e} (relative {rel:e})"
        );
    }
}

#[test]
fn synflow_does_not_overflow_on_the_deepest_darts_network() {
    use burn::tensor::backend::Backend;
    use tnd_nas::eval::EvalNetworkConfig;
    use tnd_nas::space::Genotype;
    // Every node chained to the one before through 5x5 separable convolutions (the
    // longest paths the space allows), and DARTS_V2; 20 cells at C = 36.
    let chain = |kind: &str| {
        format!(
            "{kind}=[('sep_conv_5x5', 0), ('sep_conv_5x5', 1), ('sep_conv_5x5', 2), ('sep_conv_5x5', 1), \
             ('sep_conv_5x5', 3), ('sep_conv_5x5', 2), ('sep_conv_5x5', 4), ('sep_conv_5x5', 3)], {kind}_concat=[2, 3, 4, 5]"
        )
    };
    let deepest = format!("Genotype({}, {})", chain("normal"), chain("reduce"));
    let darts_v2 = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";
    let device = Default::default();
    let cfg = EvalNetworkConfig::new(36, 20, 10);
    for (name, text) in [("deepest", deepest.as_str()), ("DARTS_V2", darts_v2)] {
        let g: Genotype = text.parse().unwrap();
        B64::seed(&device, 0);
        let net = cfg.init::<B64>(&g, &device).unwrap();
        let s = synflow(net, [3, 32, 32], &device).unwrap();
        println!("{name}: synflow {s:e}");
        assert!(s.is_finite() && s > 0.0, "{name}: {s}");
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

impl<B: AutodiffBackend> ModuleMapper<B> for Pattern {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        param.map(|t| {
            let dims = t.dims();
            let device = t.device();
            let inner = match D {
                // A conv kernel: the same layout as PyTorch's.
                4 => {
                    let rest: usize = dims[1..].iter().product();
                    pattern::<B::InnerBackend>([dims[0], rest], &device).reshape(t.shape())
                }
                // A linear weight, burn's [in, out]: PyTorch's [out, in] transposed.
                2 => pattern::<B::InnerBackend>([dims[1], dims[0]], &device)
                    .transpose()
                    .reshape(t.shape()),
                _ => t.inner(),
            };
            Tensor::from_inner(inner).require_grad()
        })
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
        let mut net = spec.build::<B64>(&arch, &device).unwrap().map(&mut Pattern);
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
