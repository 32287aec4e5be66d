//! Export of DARTS and NAS-Bench-201 evaluation networks in their reference
//! implementations' names (safetensors) and import back.

use std::collections::BTreeMap;
use std::path::PathBuf;

use burn::backend::{Autodiff, NdArray};
use burn::module::AutodiffModule;
use burn::tensor::{Distribution, Tensor};
use tnd_nas::Genotype;
use tnd_nas::network::{GENOTYPE_KEY, NETWORK_KEY, NetworkError};
use tnd_nas::spaces::darts::{
    EvalNetworkConfig, export_darts_safetensors, import_darts_safetensors,
};
use tnd_nas::spaces::nb201::{
    Nb201Genotype, Nb201NetworkConfig, export_nb201_safetensors, import_nb201_safetensors,
    load_nb201_safetensors,
};

type B = NdArray;

const DARTS_V2: &str = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tnd-nas-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

type Layout = BTreeMap<String, (Vec<usize>, String)>;

/// `name -> (shape, dtype)` of a reference `state_dict` fixture in tests/data.
fn parse_fixture(text: &str) -> Layout {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
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

/// The DARTS_V2 reference `state_dict`, with or without the auxiliary head.
fn reference(auxiliary: bool) -> Layout {
    parse_fixture(include_str!("data/darts_v2_c36_l20_state_dict.txt"))
        .into_iter()
        .filter(|(n, _)| auxiliary || !n.starts_with("auxiliary_head."))
        .collect()
}

/// Asserts that a file holds exactly the tensors of `want`.
fn assert_layout(got: &Layout, want: &Layout, what: &str) {
    let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(missing.is_empty(), "{what}: missing {missing:?}");
    assert!(extra.is_empty(), "{what}: extra {extra:?}");
    for (name, w) in want {
        assert_eq!(&got[name], w, "{what}: {name}");
    }
}

/// Values of the fixture's tensors: (trainable, trainable + running statistics).
fn fixture_values(want: &Layout) -> (usize, usize) {
    let f32s = want.iter().filter(|(_, (_, d))| d == "f32");
    let count = |(_, (s, _)): (&String, &(Vec<usize>, String))| s.iter().product::<usize>();
    let all: usize = f32s.clone().map(count).sum();
    let stats: usize = f32s
        .filter(|(n, _)| n.ends_with(".running_mean") || n.ends_with(".running_var"))
        .map(count)
        .sum();
    (all - stats, all)
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
        assert_layout(&file_names(&path), &want, &format!("aux {auxiliary}"));
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
        assert!(matches!(err, NetworkError::InvalidConfig(_)), "{err}");
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

const NB201_CELL: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";
const NB201_NONE_CONV1: &str =
    "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_1x1~2|";

#[test]
fn nb201_exports_exactly_the_reference_state_dict() {
    let dir = temp_dir("nb201-names");
    let fixtures = [
        (
            NB201_CELL,
            include_str!("data/nb201_c16_n5_conv3_pool_skip_state_dict.txt"),
            802_426,
        ),
        (
            NB201_NONE_CONV1,
            include_str!("data/nb201_c16_n5_none_conv1_state_dict.txt"),
            372_346,
        ),
    ];
    for (i, (cell, text, params)) in fixtures.into_iter().enumerate() {
        let g: Nb201Genotype = cell.parse().unwrap();
        // The benchmark's network: C = 16, N = 5, CIFAR-10.
        let network = Nb201NetworkConfig::new(16, 5, 10);
        let model = network.init::<B>(&g, &Default::default()).unwrap();
        let path = dir.join(format!("nb201_{i}.safetensors"));
        let summary = export_nb201_safetensors(&model, &network, &g, 3, &path).unwrap();
        let want = parse_fixture(text);
        assert_layout(&file_names(&path), &want, cell);
        assert_eq!(want.len(), 309);
        assert_eq!(summary.tensors, want.len());
        let (trainable, all) = fixture_values(&want);
        assert_eq!(trainable, params);
        assert_eq!(network.param_count(&g), params as u64);
        assert_eq!(summary.values, all);
        // Metadata: the cell string and the configuration; num_batches_tracked as given.
        let bytes = std::fs::read(&path).unwrap();
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let meta = meta.metadata().clone().unwrap();
        assert_eq!(meta[GENOTYPE_KEY], cell);
        let back: Nb201NetworkConfig = serde_json::from_str(&meta[NETWORK_KEY]).unwrap();
        assert_eq!(back, network);
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let counter = st
            .tensor("cells.16.layers.0.op.2.num_batches_tracked")
            .unwrap();
        assert_eq!(counter.data().to_vec(), 3i64.to_le_bytes().to_vec());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nb201_export_then_import_gives_identical_logits() {
    let dir = temp_dir("nb201-roundtrip");
    // Every NAS-Bench-201 op, with and without tensors.
    let g: Nb201Genotype = NB201_NONE_CONV1.parse().unwrap();
    let network = Nb201NetworkConfig::new(4, 1, 10);
    let device = Default::default();
    let trained = network.init::<Autodiff<B>>(&g, &device).unwrap();
    // Forward passes in training mode move every BN's running statistics.
    for _ in 0..2 {
        let x = Tensor::<Autodiff<B>, 4>::random([4, 3, 8, 8], Distribution::Default, &device);
        let _ = trained.forward(x);
    }
    let model = trained.valid();
    let path = dir.join("model.safetensors");
    export_nb201_safetensors(&model, &network, &g, 2, &path).unwrap();
    let (back, net, cell) = import_nb201_safetensors::<B>(&path, &device).unwrap();
    assert_eq!((net, cell), (network.clone(), g));
    let x = Tensor::<B, 4>::random([3, 3, 8, 8], Distribution::Default, &device);
    let want = model.forward(x.clone()).to_data();
    assert_eq!(back.forward(x.clone()).to_data(), want);
    // Loading into a fresh network of the same cell gives the same logits; before, they
    // differ, so the comparison can fail.
    let mut fresh = network.init::<B>(&g, &device).unwrap();
    assert_ne!(fresh.forward(x.clone()).to_data(), want);
    load_nb201_safetensors(&mut fresh, &g, &path).unwrap();
    assert_eq!(fresh.forward(x).to_data(), want);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A safetensors file's tensors: name, dtype, shape, bytes.
type Entries = Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)>;

/// Rewrites `from` into `to` with `edit` applied to its tensors.
fn rewrite(from: &std::path::Path, to: &std::path::Path, edit: impl FnOnce(&mut Entries)) {
    let bytes = std::fs::read(from).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut tensors: Entries = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    edit(&mut tensors);
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(n, d, s, b)| {
            let view = safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap();
            (n.clone(), view)
        })
        .collect();
    safetensors::serialize_to_file(views, meta.metadata().clone(), to).unwrap();
}

fn layout_tensor(err: &NetworkError) -> Option<&str> {
    match err {
        NetworkError::ReferenceLayout { tensor, .. } => tensor.as_deref(),
        _ => None,
    }
}

#[test]
fn nb201_structure_mismatches_and_bad_files_are_errors() {
    let dir = temp_dir("nb201-errors");
    let device = Default::default();
    let network = Nb201NetworkConfig::new(4, 1, 10);
    let g: Nb201Genotype = NB201_CELL.parse().unwrap();
    let model = network.init::<B>(&g, &device).unwrap();
    let path = dir.join("refused.safetensors");
    // The network of another cell: node 3's last edge `none` instead of `skip_connect`
    // (no tensors tell them apart), or `nor_conv_1x1` instead of `nor_conv_3x3` (a
    // shape does).
    let cases = [
        (
            NB201_CELL.replace("skip_connect~2", "none~2"),
            "cells.0.layers.5",
        ),
        (
            NB201_CELL.replacen("nor_conv_3x3~0", "nor_conv_1x1~0", 1),
            "cells.0.layers.0.op.1.weight",
        ),
    ];
    for (other, culprit) in cases {
        let other: Nb201Genotype = other.parse().unwrap();
        let err = export_nb201_safetensors(&model, &network, &other, 0, &path).unwrap_err();
        assert_eq!(layout_tensor(&err), Some(culprit), "{err}");
        assert!(err.to_string().contains(culprit), "{err}");
        assert!(!path.exists());
    }
    // A network of another N.
    let err = export_nb201_safetensors(&model, &Nb201NetworkConfig::new(4, 2, 10), &g, 0, &path)
        .unwrap_err();
    assert!(matches!(err, NetworkError::ReferenceLayout { .. }), "{err}");
    assert!(err.to_string().contains("3N + 2"), "{err}");
    // An existing file is not overwritten.
    let good = dir.join("good.safetensors");
    export_nb201_safetensors(&model, &network, &g, 0, &good).unwrap();
    let before = std::fs::read(&good).unwrap();
    let err = export_nb201_safetensors(&model, &network, &g, 0, &good).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&good).unwrap(), before);
    // A tensor missing, one mis-shaped, one unknown: each error names the tensor.
    let bad = |name: &str, edit: &dyn Fn(&mut Entries)| {
        let path = dir.join(format!("{name}.safetensors"));
        rewrite(&good, &path, edit);
        import_nb201_safetensors::<B>(&path, &device).unwrap_err()
    };
    let missing = "cells.0.layers.4.op.1.weight";
    let err = bad("missing", &|t| t.retain(|(n, ..)| n != missing));
    assert_eq!(layout_tensor(&err), Some(missing), "{err}");
    assert!(err.to_string().contains("missing"), "{err}");
    let err = bad("misshaped", &|t| {
        let bias = t.iter_mut().find(|(n, ..)| n == "classifier.bias").unwrap();
        (bias.2, bias.3) = (vec![11], vec![0; 44]);
    });
    assert_eq!(layout_tensor(&err), Some("classifier.bias"), "{err}");
    assert!(err.to_string().contains("[11]"), "{err}");
    let unknown = "cells.0.layers.2.op.1.weight";
    let err = bad("unknown", &|t| {
        t.push((unknown.into(), safetensors::Dtype::F32, vec![1], vec![0; 4]))
    });
    assert_eq!(layout_tensor(&err), Some(unknown), "{err}");
    // Loading into the network of another cell.
    let other: Nb201Genotype = NB201_NONE_CONV1.parse().unwrap();
    let mut wrong = network.init::<B>(&other, &device).unwrap();
    let err = load_nb201_safetensors(&mut wrong, &other, &good).unwrap_err();
    assert!(
        err.to_string().contains("holds the weights of the cell"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
