//! A DARTS evaluation network as the PyTorch `state_dict` of the DARTS reference code's
//! `NetworkCIFAR`, in safetensors, and back.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn_store::{
    BurnToPyTorchAdapter, KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore,
};

use super::{EvalError, EvalNetwork, EvalNetworkConfig, RetrainError};
use crate::space::Genotype;

/// Metadata key of the genotype (DARTS notation) in an exported file.
pub const GENOTYPE_KEY: &str = "genotype";
/// Metadata key of the network configuration ([`EvalNetworkConfig`] as JSON).
pub const NETWORK_KEY: &str = "tnd_nas_network";

/// The ops of the reference code's `OPS` table (`cnn/operations.py`).
const TORCH_OPS: [&str; 10] = [
    "none",
    "avg_pool_3x3",
    "max_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "sep_conv_7x7",
    "dil_conv_3x3",
    "dil_conv_5x5",
    "conv_7x1_1x7",
];

/// What [`export_darts_safetensors`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// The file.
    pub path: PathBuf,
    /// Tensors written (`num_batches_tracked` included).
    pub tensors: usize,
    /// Trainable and running-statistics values written (`num_batches_tracked` excluded).
    pub values: usize,
}

fn export_error(path: &Path, reason: impl std::fmt::Display) -> EvalError {
    RetrainError::Record {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
    .into()
}

/// Checks that the reference code's `Cell` can express the genotype: two inputs per node
/// (`_ops[2i]` and `_ops[2i + 1]` feed node `i`) and only ops of its `OPS` table.
///
/// # Errors
/// [`EvalError::InvalidConfig`] naming the cell, node or op.
pub fn check_darts_exportable(genotype: &Genotype) -> Result<(), EvalError> {
    for (name, cell) in [("normal", &genotype.normal), ("reduce", &genotype.reduce)] {
        for (i, node) in cell.nodes.iter().enumerate() {
            if node.len() != 2 {
                return Err(EvalError::InvalidConfig(format!(
                    "the DARTS reference Cell takes two inputs per node; {name} node {} has {}",
                    i + 2,
                    node.len()
                )));
            }
            if let Some(e) = node.iter().find(|e| !TORCH_OPS.contains(&e.op.name())) {
                return Err(EvalError::InvalidConfig(format!(
                    "`{}` ({name} node {}) is not in the DARTS reference OPS table ({})",
                    e.op.name(),
                    i + 2,
                    TORCH_OPS.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// The flat `_ops` index of the first edge into each node, per cell type.
fn op_offsets(genotype: &Genotype) -> [Vec<usize>; 2] {
    [&genotype.normal, &genotype.reduce].map(|cell| {
        let mut at = 0;
        cell.nodes
            .iter()
            .map(|n| {
                let first = at;
                at += n.len();
                first
            })
            .collect()
    })
}

/// A BN leaf's torch name.
fn bn_leaf(leaf: &str) -> &str {
    match leaf {
        "gamma" => "weight",
        "beta" => "bias",
        other => other,
    }
}

/// The part of an op's torch name after `_ops.j.`.
fn op_name(rest: &[&str]) -> Option<String> {
    // (module, whether it is a BN, leaf)
    let (module, bn, leaf): (String, bool, &str) = match rest {
        ["SepConv", half @ ("first" | "second"), m, leaf] => {
            let base = if *half == "first" { 0 } else { 4 };
            let (k, bn) = match *m {
                "depthwise" => (1, false),
                "pointwise" => (2, false),
                "bn" => (3, true),
                _ => return None,
            };
            (format!("op.{}", base + k), bn, leaf)
        }
        ["DilConv", m, leaf] => {
            let (module, bn) = match *m {
                "depthwise" => ("op.1", false),
                "pointwise" => ("op.2", false),
                "bn" => ("op.3", true),
                _ => return None,
            };
            (module.to_string(), bn, leaf)
        }
        ["FactorizedReduce", m, leaf] => {
            let (module, bn) = match *m {
                "conv_a" => ("conv_1", false),
                "conv_b" => ("conv_2", false),
                "bn" => ("bn", true),
                _ => return None,
            };
            (module.to_string(), bn, leaf)
        }
        // conv_7x1_1x7 is a bare Sequential in the reference: ReLU, conv, conv, BN.
        ["Conv", "convs", i @ ("0" | "1"), leaf] => {
            (if *i == "0" { "1" } else { "2" }.to_string(), false, leaf)
        }
        ["Conv", "bn", leaf] => ("3".to_string(), true, leaf),
        _ => return None,
    };
    let leaf = if bn { bn_leaf(leaf) } else { leaf };
    Some(format!("{module}.{leaf}"))
}

/// The reference code's name of the burn tensor at `path` (as burn-store writes paths,
/// enum variants included), or `None` for a path with no such name.
fn torch_name(path: &str, reduction: &[bool], offsets: &[Vec<usize>; 2]) -> Option<String> {
    let seg: Vec<&str> = path.split('.').collect();
    Some(match seg.as_slice() {
        ["stem", leaf] => format!("stem.0.{leaf}"),
        ["stem_bn", leaf] => format!("stem.1.{}", bn_leaf(leaf)),
        ["classifier", leaf] => format!("classifier.{leaf}"),
        ["aux", "classifier", leaf] => format!("auxiliary_head.classifier.{leaf}"),
        ["aux", m, leaf] => {
            let (k, bn) = match *m {
                "conv1" => (2, false),
                "bn1" => (3, true),
                "conv2" => (5, false),
                "bn2" => (6, true),
                _ => return None,
            };
            let leaf = if bn { bn_leaf(leaf) } else { leaf };
            format!("auxiliary_head.features.{k}.{leaf}")
        }
        ["cells", i, rest @ ..] => {
            let cell: usize = i.parse().ok()?;
            let tail = match rest {
                ["pre0", "Conv", "convs", "0", leaf] => format!("preprocess0.op.1.{leaf}"),
                ["pre0", "Conv", "bn", leaf] => format!("preprocess0.op.2.{}", bn_leaf(leaf)),
                ["pre0", "Reduce", "conv_a", leaf] => format!("preprocess0.conv_1.{leaf}"),
                ["pre0", "Reduce", "conv_b", leaf] => format!("preprocess0.conv_2.{leaf}"),
                ["pre0", "Reduce", "bn", leaf] => format!("preprocess0.bn.{}", bn_leaf(leaf)),
                ["pre1", "convs", "0", leaf] => format!("preprocess1.op.1.{leaf}"),
                ["pre1", "bn", leaf] => format!("preprocess1.op.2.{}", bn_leaf(leaf)),
                ["ops", n, k, op @ ..] => {
                    let (n, k): (usize, usize) = (n.parse().ok()?, k.parse().ok()?);
                    let kind = usize::from(*reduction.get(cell)?);
                    let j = offsets[kind].get(n)? + k;
                    format!("_ops.{j}.{}", op_name(op)?)
                }
                _ => return None,
            };
            format!("cells.{cell}.{tail}")
        }
        _ => return None,
    })
}

/// Names the tensors of one network (of one genotype) as the reference code does.
struct Namer {
    reduction: Vec<bool>,
    offsets: [Vec<usize>; 2],
}

impl Namer {
    fn new<B: Backend>(model: &EvalNetwork<B>, genotype: &Genotype) -> Self {
        Self {
            reduction: model.cells.iter().map(|c| c.reduction).collect(),
            offsets: op_offsets(genotype),
        }
    }

    /// The reference name of the burn tensor at `path`.
    fn name(&self, path: &str) -> Result<String, EvalError> {
        torch_name(path, &self.reduction, &self.offsets).ok_or_else(|| {
            EvalError::InvalidConfig(format!(
                "no DARTS reference name for the network's tensor `{path}`"
            ))
        })
    }
}

/// One tensor ready for safetensors.
struct Raw {
    dtype: safetensors::Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl safetensors::View for &Raw {
    fn dtype(&self) -> safetensors::Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory, synced
/// before and after the rename; refuses an existing `path`.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), EvalError> {
    if path.exists() {
        return Err(export_error(
            path,
            "already exists; choose another path or remove it",
        ));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| export_error(path, "is not a file path"))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".partial");
    let tmp = dir.join(tmp_name);
    let mut f = std::fs::File::create(&tmp).map_err(|e| export_error(&tmp, e))?;
    f.write_all(bytes).map_err(|e| export_error(&tmp, e))?;
    f.sync_all().map_err(|e| export_error(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| export_error(path, e))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        // Directory fsync is not supported everywhere; the rename is already done.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes `model` (built from `network` and `genotype`) to `path` as safetensors whose
/// tensor names, shapes and dtypes are exactly the `state_dict()` of the DARTS reference
/// implementation's `NetworkCIFAR(C, num_classes, layers, auxiliary, genotype)`
/// (github.com/quark0/darts, `cnn/model.py`): `stem.0.weight`, `stem.1.*`,
/// `cells.i.preprocess0.op.1.weight`, `cells.i._ops.j.op.1.weight`, ...,
/// `auxiliary_head.*` when the network has the auxiliary head, `classifier.*`; every BN
/// with `weight`, `bias`, `running_mean`, `running_var` (f32) and `num_batches_tracked`
/// (i64, shape `[]`, set to `batches_tracked`, e.g. the training steps). The genotype
/// (DARTS notation) and the network configuration (JSON) go into the file's metadata
/// ([`GENOTYPE_KEY`], [`NETWORK_KEY`]), so [`import_darts_safetensors`] rebuilds the
/// network from the file alone. In PyTorch:
///
/// ```text
/// from safetensors.torch import load_file
/// model = NetworkCIFAR(C, 10, layers, auxiliary, genotype)   # the reference model.py
/// model.load_state_dict(load_file("model.safetensors"), strict=True)
/// ```
///
/// No maintained crate writes ONNX from burn 0.21 modules (burn imports ONNX only); load
/// the file in PyTorch and use `torch.onnx.export` for ONNX.
///
/// `NetworkCIFAR` hard-codes 3 input channels and a stem multiplier of 3; a network
/// with other values exports with the same names and its own shapes (edit the stem to
/// load it). The file is written through a temporary file and renamed into place; an
/// existing `path` is never overwritten.
///
/// ```
/// use burn::backend::NdArray;
/// use tnd_nas::eval::{EvalNetworkConfig, export_darts_safetensors, import_darts_safetensors};
/// use tnd_nas::Genotype;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let genotype: Genotype = "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2], reduce=[('max_pool_3x3', 0), ('dil_conv_3x3', 1)], reduce_concat=[2])".parse()?;
/// let network = EvalNetworkConfig::new(4, 3, 10).with_in_channels(1);
/// let model = network.init::<NdArray>(&genotype, &Default::default())?;
/// let dir = std::env::temp_dir().join(format!("tnd-nas-doc-export-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("model.safetensors");
/// let summary = export_darts_safetensors(&model, &network, &genotype, 0, &path)?;
/// // The trainable values and every BN's running mean and variance.
/// assert!(summary.values as u64 > network.param_count(&genotype));
/// assert!(export_darts_safetensors(&model, &network, &genotype, 0, &path).is_err()); // no overwrite
/// let (back, net, g) = import_darts_safetensors::<NdArray>(&path, &Default::default())?;
/// assert_eq!((net, g), (network, genotype));
/// # let _ = back;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// [`EvalError::InvalidConfig`] for a genotype the reference code cannot express
/// ([`check_darts_exportable`]); [`RetrainError::Record`] naming the file when it
/// exists or cannot be written.
pub fn export_darts_safetensors<B: Backend>(
    model: &EvalNetwork<B>,
    network: &EvalNetworkConfig,
    genotype: &Genotype,
    batches_tracked: i64,
    path: impl AsRef<Path>,
) -> Result<ExportSummary, EvalError> {
    let path = path.as_ref();
    check_darts_exportable(genotype)?;
    network.validate(genotype)?;
    if path.exists() {
        return Err(export_error(
            path,
            "already exists; choose another path or remove it",
        ));
    }
    super::retrain::materialize(model);
    // A record round trip syncs the BN running statistics.
    let model = model.clone().load_record(model.clone().into_record());
    let namer = Namer::new(&model, genotype);
    let mut tensors: BTreeMap<String, Raw> = BTreeMap::new();
    let mut values = 0;
    for snap in model.collect(None, Some(Box::new(BurnToPyTorchAdapter)), false) {
        let path_b = snap.full_path();
        let name = namer.name(&path_b)?;
        let data = snap
            .to_data()
            .map_err(|e| export_error(path, format!("reading `{path_b}`: {e:?}")))?
            .convert::<f32>();
        values += data.num_elements();
        let raw = Raw {
            dtype: safetensors::Dtype::F32,
            shape: snap.shape.to_vec(),
            bytes: data.as_bytes().to_vec(),
        };
        if let Some(bn) = name.strip_suffix(".running_mean") {
            tensors.insert(
                format!("{bn}.num_batches_tracked"),
                Raw {
                    dtype: safetensors::Dtype::I64,
                    shape: Vec::new(),
                    bytes: batches_tracked.to_le_bytes().to_vec(),
                },
            );
        }
        if tensors.insert(name.clone(), raw).is_some() {
            return Err(EvalError::InvalidConfig(format!(
                "two tensors of the network map to `{name}`"
            )));
        }
    }
    let config = serde_json::to_string(network)
        .map_err(|e| export_error(path, format!("network configuration: {e}")))?;
    let metadata = HashMap::from([
        ("format".to_string(), "pt".to_string()),
        (GENOTYPE_KEY.to_string(), genotype.to_darts_string()?),
        (NETWORK_KEY.to_string(), config),
    ]);
    let count = tensors.len();
    let bytes =
        safetensors::serialize(&tensors, Some(metadata)).map_err(|e| export_error(path, e))?;
    write_new(path, &bytes)?;
    Ok(ExportSummary {
        path: path.to_path_buf(),
        tensors: count,
        values,
    })
}

/// Reads a file written by [`export_darts_safetensors`] (or a reference `state_dict`
/// saved with `safetensors.torch.save_file` plus the two metadata entries) and returns
/// the network with its weights and BN statistics, its configuration and its genotype.
///
/// # Errors
/// [`RetrainError::Record`] naming the file for a missing file, bad safetensors, missing
/// or invalid metadata, or tensors that do not match the network (missing, of another
/// shape, or unknown other than `num_batches_tracked`).
pub fn import_darts_safetensors<B: Backend>(
    path: impl AsRef<Path>,
    device: &B::Device,
) -> Result<(EvalNetwork<B>, EvalNetworkConfig, Genotype), EvalError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| export_error(path, e))?;
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| export_error(path, format!("not a safetensors file: {e}")))?;
    let info = meta.metadata().clone().unwrap_or_default();
    let get = |key: &str| {
        info.get(key)
            .ok_or_else(|| export_error(path, format!("no `{key}` in the file's metadata")))
    };
    let genotype: Genotype = get(GENOTYPE_KEY)?
        .parse()
        .map_err(|e| export_error(path, format!("metadata `{GENOTYPE_KEY}`: {e}")))?;
    let network: EvalNetworkConfig = serde_json::from_str(get(NETWORK_KEY)?)
        .map_err(|e| export_error(path, format!("metadata `{NETWORK_KEY}`: {e}")))?;
    let mut model = network.init::<B>(&genotype, device)?;
    load_darts_safetensors_bytes(&mut model, &genotype, bytes, path)?;
    Ok((model, network, genotype))
}

/// Loads the tensors of a reference-named safetensors file into `model`, which must be
/// the network of `genotype`.
///
/// # Errors
/// As [`import_darts_safetensors`].
pub fn load_darts_safetensors<B: Backend>(
    model: &mut EvalNetwork<B>,
    genotype: &Genotype,
    path: impl AsRef<Path>,
) -> Result<(), EvalError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| export_error(path, e))?;
    load_darts_safetensors_bytes(model, genotype, bytes, path)
}

fn load_darts_safetensors_bytes<B: Backend>(
    model: &mut EvalNetwork<B>,
    genotype: &Genotype,
    bytes: Vec<u8>,
    path: &Path,
) -> Result<(), EvalError> {
    check_darts_exportable(genotype)?;
    // File names -> burn paths: the model's own paths run through the export naming.
    let namer = Namer::new(model, genotype);
    let mut pairs = Vec::new();
    for snap in model.collect(None, None, false) {
        let burn = snap.full_path();
        let torch = namer.name(&burn)?;
        if burn != torch {
            pairs.push((format!("^{}$", torch.replace('.', r"\.")), burn));
        }
    }
    let remapper = KeyRemapper::from_patterns(pairs)
        .map_err(|e| EvalError::InvalidConfig(format!("tensor name pattern: {e}")))?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .remap(remapper)
        .with_from_adapter(PyTorchToBurnAdapter)
        .validate(true)
        .allow_partial(false);
    let result = model
        .load_from(&mut store)
        .map_err(|e| export_error(path, e))?;
    if !result.errors.is_empty() {
        return Err(export_error(
            path,
            format!("tensors that do not fit the network: {:?}", result.errors),
        ));
    }
    if !result.missing.is_empty() {
        let names: Vec<&str> = result.missing.iter().map(|(p, _)| p.as_str()).collect();
        return Err(export_error(
            path,
            format!("tensors missing from the file: {}", names.join(", ")),
        ));
    }
    let unknown: Vec<&String> = result
        .unused
        .iter()
        .filter(|n| !n.ends_with(".num_batches_tracked"))
        .collect();
    if !unknown.is_empty() {
        return Err(export_error(
            path,
            format!("tensors the network does not have: {unknown:?}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burn_paths_map_to_reference_names() {
        let offsets = [vec![0, 2, 4, 6], vec![0, 2, 4, 6]];
        let red = [false, true, false];
        let t = |p: &str| torch_name(p, &red, &offsets);
        assert_eq!(t("stem.weight").unwrap(), "stem.0.weight");
        assert_eq!(t("stem_bn.gamma").unwrap(), "stem.1.weight");
        assert_eq!(
            t("cells.2.pre0.Reduce.conv_b.weight").unwrap(),
            "cells.2.preprocess0.conv_2.weight"
        );
        assert_eq!(
            t("cells.0.ops.3.1.SepConv.second.bn.beta").unwrap(),
            "cells.0._ops.7.op.7.bias"
        );
        assert_eq!(
            t("cells.1.ops.0.1.DilConv.pointwise.weight").unwrap(),
            "cells.1._ops.1.op.2.weight"
        );
        assert_eq!(
            t("cells.0.ops.1.0.Conv.convs.1.weight").unwrap(),
            "cells.0._ops.2.2.weight"
        );
        assert_eq!(
            t("cells.0.ops.1.0.Conv.bn.running_var").unwrap(),
            "cells.0._ops.2.3.running_var"
        );
        assert_eq!(
            t("aux.bn2.gamma").unwrap(),
            "auxiliary_head.features.6.weight"
        );
        assert!(t("cells.9.ops.0.0.SepConv.first.bn.gamma").is_none());
        assert!(t("somewhere.else").is_none());
    }
}
