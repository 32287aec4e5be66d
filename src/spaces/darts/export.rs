//! DARTS-space networks as the `state_dict` of the DARTS reference code's `NetworkCIFAR`.

use std::path::Path;

use burn::tensor::backend::Backend;

use super::{EvalNetwork, EvalNetworkConfig};
use crate::network::NetworkError;
use crate::network::export::state_dict::{
    ExportSummary, GENOTYPE_KEY, NETWORK_KEY, ReferenceNames, StateDictFile, bn_leaf, file_error,
    load_state_dict, write_state_dict,
};
use crate::space::Genotype;

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

/// Checks that the reference code's `Cell` can express the genotype: two inputs per node
/// (`_ops[2i]` and `_ops[2i + 1]` feed node `i`) and only ops of its `OPS` table.
///
/// # Errors
/// [`NetworkError::InvalidConfig`] naming the cell, node or op.
pub fn check_darts_exportable(genotype: &Genotype) -> Result<(), NetworkError> {
    for (name, cell) in [("normal", &genotype.normal), ("reduce", &genotype.reduce)] {
        for (i, node) in cell.nodes.iter().enumerate() {
            if node.len() != 2 {
                return Err(NetworkError::InvalidConfig(format!(
                    "the DARTS reference Cell takes two inputs per node; {name} node {} has {}",
                    i + 2,
                    node.len()
                )));
            }
            if let Some(e) = node.iter().find(|e| !TORCH_OPS.contains(&e.op.name())) {
                return Err(NetworkError::InvalidConfig(format!(
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

/// Names the tensors of one DARTS network (of one genotype) as the reference code does.
struct DartsNames {
    reduction: Vec<bool>,
    offsets: [Vec<usize>; 2],
}

impl DartsNames {
    fn new<B: Backend>(model: &EvalNetwork<B>, genotype: &Genotype) -> Self {
        Self {
            reduction: model.cells.iter().map(|c| c.reduction).collect(),
            offsets: op_offsets(genotype),
        }
    }
}

impl ReferenceNames for DartsNames {
    fn reference(&self) -> &'static str {
        "DARTS NetworkCIFAR"
    }

    fn name(&self, path: &str) -> Option<String> {
        torch_name(path, &self.reduction, &self.offsets)
    }
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
/// `NetworkCIFAR` hard-codes 3 input channels and a stem multiplier of 3; a network
/// with other values exports with the same names and its own shapes (edit the stem to
/// load it). The file is written through a temporary file and renamed into place; an
/// existing `path` is never overwritten.
///
/// ```
/// use burn::backend::NdArray;
/// use tnd_nas::spaces::darts::{EvalNetworkConfig, export_darts_safetensors, import_darts_safetensors};
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
/// [`NetworkError::InvalidConfig`] for a genotype the reference code cannot express
/// ([`check_darts_exportable`]) or for one the model was not built from;
/// [`NetworkError::ReferenceLayout`] for a model with tensors the reference has no place
/// for; [`NetworkError::File`](crate::network::NetworkError::File) naming the file when it exists or cannot be written.
pub fn export_darts_safetensors<B: Backend>(
    model: &EvalNetwork<B>,
    network: &EvalNetworkConfig,
    genotype: &Genotype,
    batches_tracked: i64,
    path: impl AsRef<Path>,
) -> Result<ExportSummary, NetworkError> {
    let path = path.as_ref();
    check_darts_exportable(genotype)?;
    network.validate(genotype)?;
    let config = serde_json::to_string(network)
        .map_err(|e| file_error(path, format!("network configuration: {e}")))?;
    let metadata = vec![
        (GENOTYPE_KEY, genotype.to_darts_string()?),
        (NETWORK_KEY, config),
    ];
    let names = DartsNames::new(model, genotype);
    write_state_dict(model, &names, metadata, batches_tracked, path)
}

/// Reads a file written by [`export_darts_safetensors`] (or a reference `state_dict`
/// saved with `safetensors.torch.save_file` plus the two metadata entries) and returns
/// the network with its weights and BN statistics, its configuration and its genotype.
///
/// # Errors
/// [`NetworkError::File`](crate::network::NetworkError::File) naming the file for a missing file, bad safetensors, missing
/// or invalid metadata; [`NetworkError::ReferenceLayout`] naming the file and the first
/// tensor that does not match the network (missing, of another shape, or unknown other
/// than `num_batches_tracked`).
pub fn import_darts_safetensors<B: Backend>(
    path: impl AsRef<Path>,
    device: &B::Device,
) -> Result<(EvalNetwork<B>, EvalNetworkConfig, Genotype), NetworkError> {
    let path = path.as_ref();
    let file = StateDictFile::read(path)?;
    let genotype = file_genotype(&file, path)?;
    let network: EvalNetworkConfig = serde_json::from_str(file.get(NETWORK_KEY, path)?)
        .map_err(|e| file_error(path, format!("metadata `{NETWORK_KEY}`: {e}")))?;
    check_darts_exportable(&genotype)?;
    let mut model = network.init::<B>(&genotype, device)?;
    let names = DartsNames::new(&model, &genotype);
    load_state_dict(&mut model, &names, file.bytes, path)?;
    Ok((model, network, genotype))
}

fn file_genotype(file: &StateDictFile, path: &Path) -> Result<Genotype, NetworkError> {
    file.get(GENOTYPE_KEY, path)?
        .parse()
        .map_err(|e| file_error(path, format!("metadata `{GENOTYPE_KEY}`: {e}")))
}

/// Loads the tensors of a reference-named safetensors file into `model`, which must be
/// the network of `genotype`.
///
/// # Errors
/// As [`import_darts_safetensors`]; also [`NetworkError::File`](crate::network::NetworkError::File) when the file's
/// metadata names another genotype.
pub fn load_darts_safetensors<B: Backend>(
    model: &mut EvalNetwork<B>,
    genotype: &Genotype,
    path: impl AsRef<Path>,
) -> Result<(), NetworkError> {
    let path = path.as_ref();
    check_darts_exportable(genotype)?;
    let file = StateDictFile::read(path)?;
    if file.metadata.contains_key(GENOTYPE_KEY) && file_genotype(&file, path)? != *genotype {
        return Err(file_error(
            path,
            format!(
                "holds the weights of the genotype {}, not of {}",
                file.metadata[GENOTYPE_KEY],
                genotype.to_darts_string()?
            ),
        ));
    }
    let names = DartsNames::new(model, genotype);
    load_state_dict(model, &names, file.bytes, path)
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
