//! NAS-Bench-201 networks as the `state_dict` of the NAS-Bench-201 reference code's
//! `TinyNetwork`.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::backend::Backend;

use super::{Nb201EvalBlock, Nb201Genotype, Nb201Network, Nb201NetworkConfig};
use crate::network::NetworkError;
use crate::network::export::state_dict::{
    ExportSummary, GENOTYPE_KEY, NETWORK_KEY, ReferenceNames, StateDictFile, bn_leaf,
    check_state_dict, file_error, load_state_dict, write_state_dict,
};
use crate::ops::{Op, OpKind};

const REFERENCE: &str = "NAS-Bench-201 TinyNetwork";

/// Names the tensors of an [`Nb201Network`] as the reference `TinyNetwork` does, and,
/// where the genotype and configuration are known, the reference `state_dict` to check
/// the network against.
struct Nb201Names {
    expected: Option<BTreeMap<String, Vec<usize>>>,
}

impl ReferenceNames for Nb201Names {
    fn reference(&self) -> &'static str {
        REFERENCE
    }

    fn name(&self, path: &str) -> Option<String> {
        torch_name(path)
    }

    fn expected(&self) -> Option<&BTreeMap<String, Vec<usize>>> {
        self.expected.as_ref()
    }
}

/// The part of a `ReLUConvBN`'s torch name after `op.`: `Sequential(ReLU, Conv2d,
/// BatchNorm2d)`.
fn relu_conv_bn(rest: &[&str]) -> Option<String> {
    match rest {
        ["convs", "0", leaf] => Some(format!("1.{leaf}")),
        ["bn", leaf] => Some(format!("2.{}", bn_leaf(leaf))),
        _ => None,
    }
}

/// The reference name of the burn tensor at `path`, or `None` for a path with no such name.
fn torch_name(path: &str) -> Option<String> {
    let seg: Vec<&str> = path.split('.').collect();
    let index = |s: &str| s.parse::<usize>().ok();
    Some(match seg.as_slice() {
        ["stem", leaf] => format!("stem.0.{leaf}"),
        ["stem_bn", leaf] => format!("stem.1.{}", bn_leaf(leaf)),
        ["blocks", i, "Cell", "ops", k, "Conv", rest @ ..] => {
            let (i, k) = (index(i)?, index(k)?);
            format!("cells.{i}.layers.{k}.op.{}", relu_conv_bn(rest)?)
        }
        [
            "blocks",
            i,
            "Residual",
            half @ ("conv_a" | "conv_b"),
            rest @ ..,
        ] => {
            format!("cells.{}.{half}.op.{}", index(i)?, relu_conv_bn(rest)?)
        }
        ["blocks", i, "Residual", "shortcut", leaf] => {
            format!("cells.{}.downsample.1.{leaf}", index(i)?)
        }
        ["last_bn", leaf] => format!("lastact.0.{}", bn_leaf(leaf)),
        ["classifier", leaf] => format!("classifier.{leaf}"),
        _ => return None,
    })
}

/// The float tensors of the reference `TinyNetwork(C, N, genotype, num_classes).state_dict()`
/// (`num_batches_tracked` left out), from the reference code: `tiny_network.py`
/// (`TinyNetwork`), `cells.py` (`InferCell`), `cell_operations.py` (`ReLUConvBN`,
/// `ResNetBasicblock`, `POOLING`, `Identity`, `Zero`).
fn reference_layout(g: &Nb201Genotype, net: &Nb201NetworkConfig) -> BTreeMap<String, Vec<usize>> {
    let mut out = BTreeMap::new();
    let mut add = |name: String, shape: Vec<usize>| {
        out.insert(name, shape);
    };
    let bn = |add: &mut dyn FnMut(String, Vec<usize>), module: &str, c: usize| {
        for leaf in ["weight", "bias", "running_mean", "running_var"] {
            add(format!("{module}.{leaf}"), vec![c]);
        }
    };
    let c = net.channels;
    add("stem.0.weight".into(), vec![c, net.in_channels, 3, 3]);
    bn(&mut add, "stem.1", c);
    let mut c_prev = c;
    let mut i = 0;
    for stage in 0..3 {
        if stage > 0 {
            // ResNetBasicblock(C_prev, 2 C_prev, stride 2, affine=True)
            let c_out = 2 * c_prev;
            add(
                format!("cells.{i}.conv_a.op.1.weight"),
                vec![c_out, c_prev, 3, 3],
            );
            bn(&mut add, &format!("cells.{i}.conv_a.op.2"), c_out);
            add(
                format!("cells.{i}.conv_b.op.1.weight"),
                vec![c_out, c_out, 3, 3],
            );
            bn(&mut add, &format!("cells.{i}.conv_b.op.2"), c_out);
            add(
                format!("cells.{i}.downsample.1.weight"),
                vec![c_out, c_prev, 1, 1],
            );
            c_prev = c_out;
            i += 1;
        }
        for _ in 0..net.cells {
            // InferCell: none, skip_connect and avg_pool_3x3 carry no tensors.
            for (k, op) in g.ops.iter().enumerate() {
                let kernel = match op {
                    OpKind::NorConv1x1 => 1,
                    OpKind::NorConv3x3 => 3,
                    _ => continue,
                };
                add(
                    format!("cells.{i}.layers.{k}.op.1.weight"),
                    vec![c_prev, c_prev, kernel, kernel],
                );
                bn(&mut add, &format!("cells.{i}.layers.{k}.op.2"), c_prev);
            }
            i += 1;
        }
    }
    bn(&mut add, "lastact.0", c_prev);
    add("classifier.weight".into(), vec![net.classes, c_prev]);
    add("classifier.bias".into(), vec![net.classes]);
    out
}

fn structure_error(tensor: Option<String>, reason: String) -> NetworkError {
    NetworkError::ReferenceLayout {
        what: "the network".into(),
        reference: REFERENCE.into(),
        tensor,
        reason,
    }
}

fn op_variant<B: Backend>(op: &Op<B>) -> &'static str {
    match op {
        Op::Zero(_) => "Zero",
        Op::Identity(_) => "Identity",
        Op::FactorizedReduce(_) => "FactorizedReduce",
        Op::MaxPool(_) => "MaxPool",
        Op::AvgPool(_) => "AvgPool",
        Op::SepConv(_) => "SepConv",
        Op::DilConv(_) => "DilConv",
        Op::Conv(_) => "Conv",
    }
}

/// Whether `op` is what the reference `InferCell` builds for `kind` (the tensors'
/// shapes are checked separately).
fn op_fits<B: Backend>(kind: OpKind, op: &Op<B>) -> bool {
    match (kind, op) {
        (OpKind::None, Op::Zero(z)) => z.stride == 1,
        (OpKind::SkipConnect, Op::Identity(_)) => true,
        (OpKind::AvgPool3x3, Op::AvgPool(p)) => p.bn.is_none(),
        (OpKind::NorConv1x1 | OpKind::NorConv3x3, Op::Conv(c)) => c.convs.len() == 1,
        _ => false,
    }
}

/// Checks that `model` is the network `network` builds from `genotype`, in the shape of the
/// reference `TinyNetwork(network.channels, network.cells, genotype, network.classes)`:
/// `3N + 2` blocks with the residual blocks at `N` and `2N + 1`, each cell's six ops of
/// the genotype's kinds (`none`, `skip_connect` and `avg_pool_3x3` carry no tensors, so
/// their modules are compared), and every tensor of the reference `state_dict` present
/// under its name with its shape, and no other.
///
/// # Errors
/// [`NetworkError::InvalidConfig`] for a configuration or genotype that cannot be built;
/// [`NetworkError::ReferenceLayout`] naming the first block, op or tensor that differs.
pub fn check_nb201_exportable<B: Backend>(
    model: &Nb201Network<B>,
    network: &Nb201NetworkConfig,
    genotype: &Nb201Genotype,
) -> Result<(), NetworkError> {
    network.validate(genotype)?;
    let n = network.cells;
    if model.blocks.len() != 3 * n + 2 {
        return Err(structure_error(
            None,
            format!(
                "it has {} blocks; TinyNetwork with N = {n} has 3N + 2 = {} cells",
                model.blocks.len(),
                3 * n + 2
            ),
        ));
    }
    for (i, block) in model.blocks.iter().enumerate() {
        let residual = i == n || i == 2 * n + 1;
        match block {
            Nb201EvalBlock::Residual(_) if residual => {}
            Nb201EvalBlock::Cell(cell) if !residual => {
                if cell.ops.len() != genotype.ops.len() {
                    return Err(structure_error(
                        Some(format!("cells.{i}.layers")),
                        format!(
                            "{} ops in the network's cell, 6 in InferCell",
                            cell.ops.len()
                        ),
                    ));
                }
                for (k, (op, kind)) in cell.ops.iter().zip(genotype.ops).enumerate() {
                    if !op_fits(kind, op) {
                        return Err(structure_error(
                            Some(format!("cells.{i}.layers.{k}")),
                            format!(
                                "the network has `{}` there, the cell string says `{kind}`",
                                op_variant(op)
                            ),
                        ));
                    }
                }
            }
            _ => {
                let (want, got) = if residual {
                    ("a ResNetBasicblock", "a cell")
                } else {
                    ("an InferCell", "a residual block")
                };
                return Err(structure_error(
                    Some(format!("cells.{i}")),
                    format!("{want} in the reference model, {got} in the network"),
                ));
            }
        }
    }
    crate::ops::materialize(model);
    check_state_dict(model, &exporting(network, genotype))
}

fn exporting(network: &Nb201NetworkConfig, genotype: &Nb201Genotype) -> Nb201Names {
    Nb201Names {
        expected: Some(reference_layout(genotype, network)),
    }
}

/// Writes `model` (built from `network` and `genotype`) to `path` as safetensors whose
/// tensor names, shapes and dtypes are exactly the `state_dict()` of the NAS-Bench-201
/// reference implementation's `TinyNetwork(C, N, genotype, num_classes)`
/// (github.com/D-X-Y/AutoDL-Projects, `xautodl/models/cell_infers/tiny_network.py`; the
/// network NAS-Bench-201 and NATS-Bench train, `C = 16, N = 5`): `stem.0.weight`,
/// `stem.1.*`, `cells.i.layers.k.op.1.weight` and `cells.i.layers.k.op.2.*` for each
/// `nor_conv_*` edge `k` of each cell `i`, `cells.i.conv_a.op.*`, `cells.i.conv_b.op.*`
/// and `cells.i.downsample.1.weight` for the residual blocks (`i = N` and `2N + 1`),
/// `lastact.0.*`, `classifier.*`; every BN with `weight`, `bias`, `running_mean`,
/// `running_var` (f32) and `num_batches_tracked` (i64, shape `[]`, set to
/// `batches_tracked`, e.g. the training steps). The cell string and the network
/// configuration (JSON) go into the file's metadata ([`GENOTYPE_KEY`], [`NETWORK_KEY`]),
/// so [`import_nb201_safetensors`] rebuilds the network from the file alone. In PyTorch:
///
/// ```text
/// from safetensors.torch import load_file
/// from xautodl.models.cell_infers.tiny_network import TinyNetwork
/// from xautodl.models.cell_searchs.genotypes import Structure
/// model = TinyNetwork(16, 5, Structure.str2structure(cell_string), 10)
/// model.load_state_dict(load_file("model.safetensors"), strict=True)
/// ```
///
/// The file is written through a temporary file and renamed into place; an existing
/// `path` is never overwritten.
///
/// # Mapping
/// | burn ([`Nb201Network`]) | reference (`TinyNetwork`) |
/// | --- | --- |
/// | `stem` (conv 3x3, no bias), `stem_bn` | `stem.0`, `stem.1` |
/// | `blocks[i]`, `i < 3N + 2` | `cells.i` |
/// | cell `ops[k]`, edges `1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2` | `InferCell.layers.k` (nodes in order, inputs in string order) |
/// | `nor_conv_kxk`: `ReluConvBn` `convs[0]`, `bn` | `ReLUConvBN.op.1` (no bias), `op.2` |
/// | `none` (`Zero`), `skip_connect` (`Identity`), `avg_pool_3x3` (`AvgPool`, no BN) | `Zero`, `Identity`, `POOLING` without `preprocess`: no tensors |
/// | residual block `conv_a`, `conv_b`, `shortcut` | `ResNetBasicblock.conv_a.op.*`, `conv_b.op.*`, `downsample.1` |
/// | `last_bn` | `lastact.0` |
/// | `classifier` (burn weight `[in, out]`) | `classifier` (weight `[out, in]`: transposed) |
///
/// Every BN on both sides is affine and tracks running statistics (the reference
/// `InferCell` is built with its defaults `affine=True, track_running_stats=True`, the
/// `ResNetBasicblock`s with `affine=True`; ours are [`BatchNorm2dConfig::cell`]`(c, true)`
/// and the affine defaults), with epsilon `1e-5` and momentum `0.1` on both sides: burn
/// `gamma`/`beta` are torch `weight`/`bias`, the running mean and variance copy over.
/// Burn keeps no `num_batches_tracked`: export writes `batches_tracked`, import reads past
/// it. What differs without touching the tensors: our residual shortcut pools with
/// `ceil_mode` and without counting padding where the reference's `AvgPool2d(2, 2)`
/// floors, the same on even sides (CIFAR's 32, 16, 8; on odd sides the reference cannot
/// add its two branches); `none` writes zeros where the reference multiplies by 0 (the
/// same but for NaN or infinite inputs); the reference's `forward` returns
/// `(features, logits)`, ours the logits. `TinyNetwork` hard-codes 3 input channels; a
/// network of other `in_channels` exports with the same names and its own stem shape.
///
/// [`BatchNorm2dConfig::cell`]: crate::ops::BatchNorm2dConfig::cell
///
/// ```
/// use burn::backend::NdArray;
/// use tnd_nas::spaces::nb201::{Nb201NetworkConfig, export_nb201_safetensors, import_nb201_safetensors};
/// use tnd_nas::spaces::nb201::Nb201Genotype;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let cell: Nb201Genotype = "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_1x1~2|".parse()?;
/// let network = Nb201NetworkConfig::new(4, 1, 10);
/// let model = network.init::<NdArray>(&cell, &Default::default())?;
/// let dir = std::env::temp_dir().join(format!("tnd-nas-doc-nb201-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("model.safetensors");
/// let summary = export_nb201_safetensors(&model, &network, &cell, 0, &path)?;
/// // The trainable values and every BN's running mean and variance.
/// assert!(summary.values as u64 > network.param_count(&cell));
/// let (back, net, g) = import_nb201_safetensors::<NdArray>(&path, &Default::default())?;
/// assert_eq!((net, g), (network, cell));
/// # let _ = back;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// As [`check_nb201_exportable`] for a model that is not the reference network of
/// `network` and `genotype`; [`NetworkError::File`](crate::network::NetworkError::File)
/// naming the file when it exists or cannot be written.
pub fn export_nb201_safetensors<B: Backend>(
    model: &Nb201Network<B>,
    network: &Nb201NetworkConfig,
    genotype: &Nb201Genotype,
    batches_tracked: i64,
    path: impl AsRef<Path>,
) -> Result<ExportSummary, NetworkError> {
    let path = path.as_ref();
    check_nb201_exportable(model, network, genotype)?;
    let config = serde_json::to_string(network)
        .map_err(|e| file_error(path, format!("network configuration: {e}")))?;
    let metadata = vec![(GENOTYPE_KEY, genotype.to_string()), (NETWORK_KEY, config)];
    write_state_dict(
        model,
        &exporting(network, genotype),
        metadata,
        batches_tracked,
        path,
    )
}

/// Reads a file written by [`export_nb201_safetensors`] (or a reference `TinyNetwork`
/// `state_dict` saved with `safetensors.torch.save_file` plus the two metadata entries)
/// and returns the network with its weights and BN statistics, its configuration and
/// its cell. `num_batches_tracked` is read past: burn keeps no such counter.
///
/// # Errors
/// [`NetworkError::File`](crate::network::NetworkError::File) naming the file for a
/// missing file, bad safetensors, missing or invalid metadata;
/// [`NetworkError::ReferenceLayout`] naming the file and the first tensor that does not fit
/// the network (missing, of another shape or dtype, or unknown other than a BN's
/// `num_batches_tracked`).
pub fn import_nb201_safetensors<B: Backend>(
    path: impl AsRef<Path>,
    device: &B::Device,
) -> Result<(Nb201Network<B>, Nb201NetworkConfig, Nb201Genotype), NetworkError> {
    let path = path.as_ref();
    let file = StateDictFile::read(path)?;
    let genotype = file_genotype(&file, path)?;
    let network: Nb201NetworkConfig = serde_json::from_str(file.get(NETWORK_KEY, path)?)
        .map_err(|e| file_error(path, format!("metadata `{NETWORK_KEY}`: {e}")))?;
    let mut model = network.init::<B>(&genotype, device)?;
    load_state_dict(
        &mut model,
        &exporting(&network, &genotype),
        file.bytes,
        path,
    )?;
    Ok((model, network, genotype))
}

fn file_genotype(file: &StateDictFile, path: &Path) -> Result<Nb201Genotype, NetworkError> {
    file.get(GENOTYPE_KEY, path)?
        .parse()
        .map_err(|e| file_error(path, format!("metadata `{GENOTYPE_KEY}`: {e}")))
}

/// Loads the tensors of a reference-named safetensors file into `model`, which must be
/// the network of `genotype` (its ops are checked: `none`, `skip_connect` and
/// `avg_pool_3x3` have no tensors to tell them apart).
///
/// # Errors
/// As [`import_nb201_safetensors`]; [`NetworkError::ReferenceLayout`] when `model`'s ops
/// are not those of `genotype`; [`NetworkError::File`](crate::network::NetworkError::File)
/// when the file's metadata names another cell.
pub fn load_nb201_safetensors<B: Backend>(
    model: &mut Nb201Network<B>,
    genotype: &Nb201Genotype,
    path: impl AsRef<Path>,
) -> Result<(), NetworkError> {
    let path = path.as_ref();
    let file = StateDictFile::read(path)?;
    if file.metadata.contains_key(GENOTYPE_KEY) {
        let other = file_genotype(&file, path)?;
        if other != *genotype {
            return Err(file_error(
                path,
                format!("holds the weights of the cell {other}, not of {genotype}"),
            ));
        }
    }
    for (i, block) in model.blocks.iter().enumerate() {
        if let Nb201EvalBlock::Cell(cell) = block {
            let bad = cell.ops.len() != genotype.ops.len()
                || cell
                    .ops
                    .iter()
                    .zip(genotype.ops)
                    .any(|(op, k)| !op_fits(k, op));
            if bad {
                return Err(structure_error(
                    Some(format!("cells.{i}")),
                    format!("the network's cell is not the cell {genotype}"),
                ));
            }
        }
    }
    load_state_dict(model, &Nb201Names { expected: None }, file.bytes, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burn_paths_map_to_reference_names() {
        let t = |p: &str| torch_name(p);
        assert_eq!(t("stem.weight").unwrap(), "stem.0.weight");
        assert_eq!(t("stem_bn.beta").unwrap(), "stem.1.bias");
        assert_eq!(
            t("blocks.3.Cell.ops.4.Conv.convs.0.weight").unwrap(),
            "cells.3.layers.4.op.1.weight"
        );
        assert_eq!(
            t("blocks.0.Cell.ops.5.Conv.bn.running_var").unwrap(),
            "cells.0.layers.5.op.2.running_var"
        );
        assert_eq!(
            t("blocks.5.Residual.conv_b.bn.gamma").unwrap(),
            "cells.5.conv_b.op.2.weight"
        );
        assert_eq!(
            t("blocks.11.Residual.shortcut.weight").unwrap(),
            "cells.11.downsample.1.weight"
        );
        assert_eq!(t("last_bn.gamma").unwrap(), "lastact.0.weight");
        // A second conv (conv_3x1_1x3) has no place in a ReLUConvBN.
        assert!(t("blocks.0.Cell.ops.0.Conv.convs.1.weight").is_none());
        assert!(t("blocks.x.Cell.ops.0.Conv.convs.0.weight").is_none());
        assert!(t("somewhere.else").is_none());
    }

    #[test]
    fn the_layout_counts_the_reference_parameters() {
        let g: Nb201Genotype = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
            .parse()
            .unwrap();
        let net = Nb201NetworkConfig::new(16, 5, 10);
        let layout = reference_layout(&g, &net);
        let trainable: usize = layout
            .iter()
            .filter(|(n, _)| !n.ends_with("running_mean") && !n.ends_with("running_var"))
            .map(|(_, s)| s.iter().product::<usize>())
            .sum();
        // NAS-Bench-201's 1.53 MB (all nor_conv_3x3, CIFAR-10).
        assert_eq!(trainable, 1_531_546);
        assert_eq!(trainable as u64, net.param_count(&g));
    }
}
