//! Export of DARTS evaluation networks in the reference implementation's names
//! (safetensors) and import back.

use std::collections::BTreeMap;
use std::path::PathBuf;

use burn::backend::{Autodiff, NdArray};
use burn::module::AutodiffModule;
use burn::tensor::{Distribution, Tensor};
use tnd_nas::Genotype;
use tnd_nas::eval::{
    EvalError, EvalNetworkConfig, export_darts_safetensors, import_darts_safetensors,
};

type B = NdArray;

const DARTS_V2: &str = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tnd-nas-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `name -> (shape, dtype)` of the reference `state_dict` in tests/data.
fn reference(auxiliary: bool) -> BTreeMap<String, (Vec<usize>, String)> {
    let text = include_str!("data/darts_v2_c36_l20_state_dict.txt");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter(|l| auxiliary || !l.starts_with("auxiliary_head."))
        .map(|l| {
            let mut f = l.split(' ');
            let (name, shape, dtype) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            let shape = shape
                .trim_matches(['[', ']'])
                .split(',')
                .filter(|d| !d.is_empty())
                .map(|d| d.parse().unwrap())
                .collect();
            (name.to_string(), (shape, dtype.to_string()))
        })
        .collect()
}

/// `name -> (shape, dtype)` of a safetensors file.
fn file_names(path: &std::path::Path) -> BTreeMap<String, (Vec<usize>, String)> {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(name, view)| {
            let dtype = match view.dtype() {
                safetensors::Dtype::F32 => "f32",
                safetensors::Dtype::I64 => "i64",
                other => panic!("{name}: unexpected dtype {other:?}"),
            };
            (name, (view.shape().to_vec(), dtype.to_string()))
        })
        .collect()
}

#[test]
fn darts_v2_exports_exactly_the_reference_state_dict() {
    let dir = temp_dir("names");
    let genotype: Genotype = DARTS_V2.parse().unwrap();
    for auxiliary in [true, false] {
        let network = EvalNetworkConfig::new(36, 20, 10).with_auxiliary(auxiliary);
        let model = network.init::<B>(&genotype, &Default::default()).unwrap();
        let path = dir.join(format!("darts_v2_aux_{auxiliary}.safetensors"));
        let summary = export_darts_safetensors(&model, &network, &genotype, 7, &path).unwrap();
        let want = reference(auxiliary);
        let got = file_names(&path);
        let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
        let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
        assert!(missing.is_empty(), "aux {auxiliary}: missing {missing:?}");
        assert!(extra.is_empty(), "aux {auxiliary}: extra {extra:?}");
        for (name, w) in &want {
            assert_eq!(&got[name], w, "aux {auxiliary}: {name}");
        }
        assert_eq!(summary.tensors, want.len());
        assert_eq!(want.len(), if auxiliary { 1650 } else { 1636 });
        // Trainable values (3,349,342 without the head) plus two running statistics per
        // BN channel.
        let bn_channels: usize = want
            .iter()
            .filter(|(n, _)| n.ends_with(".running_mean"))
            .map(|(_, (s, _))| s[0])
            .sum();
        assert_eq!(
            summary.values as u64,
            network.param_count(&genotype) + 2 * bn_channels as u64
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn export_then_import_gives_identical_logits() {
    let dir = temp_dir("roundtrip");
    // Every op the reference OPS table has that carries tensors, a stride-2 skip
    // (FactorizedReduce) and both pools.
    let genotype: Genotype = "Genotype(normal=[('sep_conv_5x5', 0), ('dil_conv_5x5', 1), ('conv_7x1_1x7', 0), ('sep_conv_7x7', 2), ('skip_connect', 1), ('avg_pool_3x3', 3)], normal_concat=[2, 3, 4], reduce=[('skip_connect', 0), ('max_pool_3x3', 1), ('dil_conv_3x3', 2), ('sep_conv_3x3', 0)], reduce_concat=[2, 3])"
        .parse()
        .unwrap();
    let network = EvalNetworkConfig::new(6, 5, 10).with_auxiliary(true);
    let device = Default::default();
    let trained = network.init::<Autodiff<B>>(&genotype, &device).unwrap();
    // Forward passes in training mode move every BN's running statistics.
    for _ in 0..2 {
        let x = Tensor::<Autodiff<B>, 4>::random([4, 3, 16, 16], Distribution::Default, &device);
        let _ = trained.forward(x);
    }
    let model = trained.valid();
    let path = dir.join("model.safetensors");
    export_darts_safetensors(&model, &network, &genotype, 2, &path).unwrap();
    let (back, net, g) = import_darts_safetensors::<B>(&path, &device).unwrap();
    assert_eq!(net, network);
    assert_eq!(g, genotype);
    let x = Tensor::<B, 4>::random([3, 3, 16, 16], Distribution::Default, &device);
    let (a, b) = (model.forward(x.clone()), back.forward(x));
    assert_eq!(a.to_data(), b.to_data());
    // An untrained network's logits differ: the comparison can fail.
    let fresh = network.init::<B>(&genotype, &device).unwrap();
    let x = Tensor::<B, 4>::random([3, 3, 16, 16], Distribution::Default, &device);
    assert_ne!(
        model.forward(x.clone()).to_data(),
        fresh.forward(x).to_data()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn what_the_reference_cannot_express_and_bad_files_are_errors() {
    let dir = temp_dir("errors");
    let device = Default::default();
    let network = EvalNetworkConfig::new(4, 3, 10);
    let cases = [
        // Three inputs into a node: the reference Cell takes exactly two.
        (
            "TndGenotype(normal=[[('sep_conv_3x3', 0), ('skip_connect', 1), ('max_pool_3x3', 0)]], normal_concat=[2], reduce=[[('max_pool_3x3', 0), ('max_pool_3x3', 1)]], reduce_concat=[2])",
            "two inputs",
        ),
        // An op outside the reference OPS table.
        (
            "Genotype(normal=[('conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])",
            "conv_3x3",
        ),
    ];
    for (text, culprit) in cases {
        let genotype: Genotype = text.parse().unwrap();
        let model = network.init::<B>(&genotype, &device).unwrap();
        let path = dir.join("refused.safetensors");
        let err = export_darts_safetensors(&model, &network, &genotype, 0, &path).unwrap_err();
        assert!(matches!(err, EvalError::InvalidConfig(_)), "{err}");
        assert!(err.to_string().contains(culprit), "{err}");
        assert!(!path.exists());
    }
    // An existing file is not overwritten.
    let genotype: Genotype = DARTS_V2.parse().unwrap();
    let model = network.init::<B>(&genotype, &device).unwrap();
    let path = dir.join("model.safetensors");
    std::fs::write(&path, b"earlier output").unwrap();
    let err = export_darts_safetensors(&model, &network, &genotype, 0, &path).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"earlier output");
    // Not safetensors; no metadata; a tensor missing.
    let err = import_darts_safetensors::<B>(&path, &device).unwrap_err();
    assert!(err.to_string().contains("model.safetensors"), "{err}");
    let bare = dir.join("bare.safetensors");
    let one = [0f32; 4];
    let bytes: Vec<u8> = one.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![4], &bytes).unwrap();
    safetensors::serialize_to_file([("classifier.bias", view)], None, &bare).unwrap();
    let err = import_darts_safetensors::<B>(&bare, &device).unwrap_err();
    assert!(err.to_string().contains("genotype"), "{err}");
    let good = dir.join("good.safetensors");
    export_darts_safetensors(&model, &network, &genotype, 0, &good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let kept: Vec<(String, safetensors::tensor::TensorView)> = st
        .tensors()
        .into_iter()
        .filter(|(n, _)| n != "stem.0.weight")
        .collect();
    let partial = dir.join("partial.safetensors");
    safetensors::serialize_to_file(kept, meta.metadata().clone(), &partial).unwrap();
    let err = import_darts_safetensors::<B>(&partial, &device).unwrap_err();
    assert!(err.to_string().contains("stem"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
