//! The one mechanism behind every exported network family: a burn module's tensors under
//! the names of a reference implementation's `state_dict()`, written as safetensors, and
//! a reference-named file checked against a module and loaded into it. A family only
//! says how its burn paths are named ([`ReferenceNames`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn_store::{
    BurnToPyTorchAdapter, KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore,
};

use crate::network::NetworkError;

/// Metadata key of the genotype in an exported file: DARTS notation for a DARTS network,
/// the cell string (`|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`) for a NAS-Bench-201 network.
pub const GENOTYPE_KEY: &str = "genotype";
/// Metadata key of the network configuration in an exported file
/// ([`EvalNetworkConfig`](crate::spaces::darts::EvalNetworkConfig) or
/// [`Nb201NetworkConfig`](crate::spaces::nb201::Nb201NetworkConfig) as JSON).
pub const NETWORK_KEY: &str = "tnd_nas_network";

/// What an export (`export_darts_safetensors`, `export_nb201_safetensors`) wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// The file.
    pub path: PathBuf,
    /// Tensors written (`num_batches_tracked` included).
    pub tensors: usize,
    /// Trainable and running-statistics values written (`num_batches_tracked` excluded).
    pub values: usize,
}

/// How a network family's burn tensors are named in its reference implementation's
/// `state_dict()`.
pub(crate) trait ReferenceNames {
    /// The reference model, for messages (`DARTS NetworkCIFAR`).
    fn reference(&self) -> &'static str;

    /// The reference name of the burn tensor at `path` (as burn-store writes paths, enum
    /// variants included; BN leaves `gamma`/`beta`), or `None` where the reference model
    /// has no such tensor.
    fn name(&self, path: &str) -> Option<String>;

    /// The reference `state_dict`'s float tensors (name -> shape, `num_batches_tracked`
    /// left out), where the family derives them from the reference code independently of
    /// the burn module; the module's named tensors must then be exactly these.
    fn expected(&self) -> Option<&BTreeMap<String, Vec<usize>>> {
        None
    }
}

/// A BN leaf's torch name.
pub(crate) fn bn_leaf(leaf: &str) -> &str {
    match leaf {
        "gamma" => "weight",
        "beta" => "bias",
        other => other,
    }
}

/// A file-level failure (I/O, not safetensors, metadata) naming the file.
pub(crate) fn file_error(path: &Path, reason: impl std::fmt::Display) -> NetworkError {
    NetworkError::File {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn layout_error(
    what: impl Into<String>,
    names: &impl ReferenceNames,
    tensor: Option<&str>,
    reason: impl Into<String>,
) -> NetworkError {
    NetworkError::ReferenceLayout {
        what: what.into(),
        reference: names.reference().to_string(),
        tensor: tensor.map(str::to_string),
        reason: reason.into(),
    }
}

fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("[{}]", dims.join(","))
}

/// One tensor of a module under its reference name.
struct Named {
    /// The reference name.
    name: String,
    /// The module's own path (what a loader looks up).
    burn_path: String,
    /// The snapshot in PyTorch layout (a `Linear` weight transposed).
    snapshot: burn_store::TensorSnapshot,
}

/// Every tensor of `model` under its reference name, checked against
/// [`ReferenceNames::expected`] where the family has it.
fn named_tensors<B: Backend, M: Module<B>>(
    model: &M,
    names: &impl ReferenceNames,
) -> Result<Vec<Named>, NetworkError> {
    const NETWORK: &str = "the network";
    let torch = model.collect(None, Some(Box::new(BurnToPyTorchAdapter)), false);
    let burn = model.collect(None, None, false);
    if torch.len() != burn.len() {
        return Err(layout_error(
            NETWORK,
            names,
            None,
            "burn-store collected its tensors differently with and without the PyTorch adapter",
        ));
    }
    let mut out: Vec<Named> = Vec::with_capacity(torch.len());
    let mut seen = BTreeMap::new();
    for (snapshot, plain) in torch.into_iter().zip(burn) {
        let burn_path = plain.full_path();
        let name = names.name(&snapshot.full_path()).ok_or_else(|| {
            layout_error(
                NETWORK,
                names,
                None,
                format!("its tensor `{burn_path}` has no place in the reference model"),
            )
        })?;
        if let Some(other) = seen.insert(name.clone(), burn_path.clone()) {
            return Err(layout_error(
                NETWORK,
                names,
                Some(&name),
                format!("its tensors `{other}` and `{burn_path}` both map there"),
            ));
        }
        out.push(Named {
            name,
            burn_path,
            snapshot,
        });
    }
    if let Some(expected) = names.expected() {
        check_expected(&out, &seen, expected, names)?;
    }
    Ok(out)
}

/// Checks the module's tensors `out` (reference name -> burn path in `seen`) are
/// exactly the reference `state_dict`'s `expected` tensors, of the same shapes.
fn check_expected(
    out: &[Named],
    seen: &BTreeMap<String, String>,
    expected: &BTreeMap<String, Vec<usize>>,
    names: &impl ReferenceNames,
) -> Result<(), NetworkError> {
    const NETWORK: &str = "the network";
    for n in out {
        let shape = n.snapshot.shape.to_vec();
        match expected.get(&n.name) {
            None => {
                return Err(layout_error(
                    NETWORK,
                    names,
                    Some(&n.name),
                    format!(
                        "the network has it (`{}`), the reference model of this genotype \
                         and configuration has not",
                        n.burn_path
                    ),
                ));
            }
            Some(want) if *want != shape => {
                return Err(layout_error(
                    NETWORK,
                    names,
                    Some(&n.name),
                    format!(
                        "shape {} in the network (`{}`), {} in the reference model",
                        shape_text(&shape),
                        n.burn_path,
                        shape_text(want)
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    if let Some((name, shape)) = expected.iter().find(|(k, _)| !seen.contains_key(*k)) {
        return Err(layout_error(
            NETWORK,
            names,
            Some(name),
            format!(
                "the reference model has it ({}), the network has not",
                shape_text(shape)
            ),
        ));
    }
    Ok(())
}

/// Checks that every tensor of `model` has a reference name (and is exactly the
/// reference `state_dict` where the family knows it).
pub(crate) fn check_state_dict<B: Backend, M: Module<B>>(
    model: &M,
    names: &impl ReferenceNames,
) -> Result<(), NetworkError> {
    named_tensors(model, names).map(|_| ())
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

/// Refuses an existing `path`: exports never overwrite.
pub(crate) fn refuse_existing(path: &Path) -> Result<(), NetworkError> {
    if path.exists() {
        return Err(file_error(
            path,
            "already exists; choose another path or remove it",
        ));
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same directory, synced
/// before and after the rename; refuses an existing `path`.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), NetworkError> {
    refuse_existing(path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| file_error(path, "is not a file path"))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".partial");
    let tmp = dir.join(tmp_name);
    let mut f = std::fs::File::create(&tmp).map_err(|e| file_error(&tmp, e))?;
    f.write_all(bytes).map_err(|e| file_error(&tmp, e))?;
    f.sync_all().map_err(|e| file_error(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| file_error(path, e))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        // Directory fsync is not supported everywhere; the rename is already done.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes every tensor of `model` under its reference name to `path` (f32; each BN's
/// `num_batches_tracked` added as an i64 scalar holding `batches_tracked`), with
/// `metadata` and `format: pt` in the header.
pub(crate) fn write_state_dict<B: Backend, M: Module<B>>(
    model: &M,
    names: &impl ReferenceNames,
    metadata: Vec<(&str, String)>,
    batches_tracked: i64,
    path: &Path,
) -> Result<ExportSummary, NetworkError> {
    refuse_existing(path)?;
    crate::ops::materialize(model);
    // A record round trip syncs the BN running statistics.
    let model = model.clone().load_record(model.clone().into_record());
    let mut tensors: BTreeMap<String, Raw> = BTreeMap::new();
    let mut values = 0;
    for n in named_tensors(&model, names)? {
        let data = n
            .snapshot
            .to_data()
            .map_err(|e| file_error(path, format!("reading `{}`: {e:?}", n.burn_path)))?
            .convert::<f32>();
        values += data.num_elements();
        if let Some(bn) = n.name.strip_suffix(".running_mean") {
            tensors.insert(
                format!("{bn}.num_batches_tracked"),
                Raw {
                    dtype: safetensors::Dtype::I64,
                    shape: Vec::new(),
                    bytes: batches_tracked.to_le_bytes().to_vec(),
                },
            );
        }
        tensors.insert(
            n.name,
            Raw {
                dtype: safetensors::Dtype::F32,
                shape: n.snapshot.shape.to_vec(),
                bytes: data.as_bytes().to_vec(),
            },
        );
    }
    let mut header = HashMap::from([("format".to_string(), "pt".to_string())]);
    header.extend(metadata.into_iter().map(|(k, v)| (k.to_string(), v)));
    let count = tensors.len();
    let bytes = safetensors::serialize(&tensors, Some(header)).map_err(|e| file_error(path, e))?;
    write_new(path, &bytes)?;
    Ok(ExportSummary {
        path: path.to_path_buf(),
        tensors: count,
        values,
    })
}

/// A safetensors file's bytes and header metadata.
pub(crate) struct StateDictFile {
    pub bytes: Vec<u8>,
    pub metadata: HashMap<String, String>,
}

impl StateDictFile {
    /// Reads `path` and its header.
    pub fn read(path: &Path) -> Result<Self, NetworkError> {
        let bytes = std::fs::read(path).map_err(|e| file_error(path, e))?;
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| file_error(path, format!("not a safetensors file: {e}")))?;
        let metadata = meta.metadata().clone().unwrap_or_default();
        Ok(Self { bytes, metadata })
    }

    /// The metadata value under `key`.
    pub fn get(&self, key: &str, path: &Path) -> Result<&str, NetworkError> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| file_error(path, format!("no `{key}` in the file's metadata")))
    }
}

/// Checks the reference-named tensors in `bytes` against `model` (every tensor present,
/// of the model's shape and a float dtype; nothing else but `num_batches_tracked` of the
/// model's BNs, which burn does not keep) and loads them into it.
pub(crate) fn load_state_dict<B: Backend, M: Module<B>>(
    model: &mut M,
    names: &impl ReferenceNames,
    bytes: Vec<u8>,
    path: &Path,
) -> Result<(), NetworkError> {
    let named = named_tensors(model, names)?;
    check_file(&named, names, &bytes, path)?;
    let pairs: Vec<(String, String)> = named
        .iter()
        .filter(|n| n.name != n.burn_path)
        .map(|n| (format!("^{}$", regex_escape(&n.name)), n.burn_path.clone()))
        .collect();
    let remapper = KeyRemapper::from_patterns(pairs)
        .map_err(|e| file_error(path, format!("tensor name pattern: {e}")))?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .remap(remapper)
        .with_from_adapter(PyTorchToBurnAdapter)
        .validate(true)
        .allow_partial(false);
    let result = model
        .load_from(&mut store)
        .map_err(|e| file_error(path, e))?;
    if !result.errors.is_empty() || !result.missing.is_empty() {
        return Err(file_error(
            path,
            format!(
                "burn-store could not load every tensor: errors {:?}, missing {:?}",
                result.errors, result.missing
            ),
        ));
    }
    Ok(())
}

/// Checks the tensors in `bytes` (read from `path`) against the module's `named`
/// tensors: the first problem names its tensor, with up to eight more in the reason.
fn check_file(
    named: &[Named],
    names: &impl ReferenceNames,
    bytes: &[u8],
    path: &Path,
) -> Result<(), NetworkError> {
    let file = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| file_error(path, format!("not a safetensors file: {e}")))?;
    let in_file: BTreeMap<String, (safetensors::Dtype, Vec<usize>)> = file
        .iter()
        .map(|(name, view)| (name.to_string(), (view.dtype(), view.shape().to_vec())))
        .collect();
    let problems = file_problems(named, &in_file);
    if let Some((tensor, first)) = problems.first() {
        let mut reason = first.clone();
        if problems.len() > 1 {
            let more: Vec<String> = problems[1..]
                .iter()
                .take(8)
                .map(|(t, p)| format!("`{t}` {p}"))
                .collect();
            let rest = problems.len() - 1 - more.len();
            reason.push_str(&format!("; also {}", more.join("; ")));
            if rest > 0 {
                reason.push_str(&format!("; and {rest} more"));
            }
        }
        return Err(layout_error(
            path.display().to_string(),
            names,
            Some(tensor),
            reason,
        ));
    }
    Ok(())
}

/// Every problem of the file's tensors `in_file` (name -> dtype and shape) for the
/// module's `named` tensors, each with its tensor: missing, of another shape, not
/// floats, or not the module's (a BN's `num_batches_tracked` aside).
fn file_problems(
    named: &[Named],
    in_file: &BTreeMap<String, (safetensors::Dtype, Vec<usize>)>,
) -> Vec<(String, String)> {
    let wanted: BTreeMap<&str, &Named> = named.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut problems: Vec<(String, String)> = Vec::new();
    for n in named {
        let want = n.snapshot.shape.to_vec();
        match in_file.get(&n.name) {
            None => problems.push((
                n.name.clone(),
                format!(
                    "missing from the file (the network needs {})",
                    shape_text(&want)
                ),
            )),
            Some((_, shape)) if *shape != want => problems.push((
                n.name.clone(),
                format!(
                    "shape {} in the file, {} in the network",
                    shape_text(shape),
                    shape_text(&want)
                ),
            )),
            Some((dtype, _)) if !is_float(*dtype) => problems.push((
                n.name.clone(),
                format!("{dtype:?} in the file; the network needs floats"),
            )),
            Some(_) => {}
        }
    }
    for name in in_file.keys() {
        let counter_of_a_bn = name
            .strip_suffix(".num_batches_tracked")
            .is_some_and(|bn| wanted.contains_key(format!("{bn}.running_mean").as_str()));
        if !wanted.contains_key(name.as_str()) && !counter_of_a_bn {
            problems.push((
                name.clone(),
                "in the file, but the network has no such tensor".to_string(),
            ));
        }
    }
    problems
}

fn is_float(dtype: safetensors::Dtype) -> bool {
    use safetensors::Dtype::{BF16, F16, F32, F64};
    matches!(dtype, F16 | BF16 | F32 | F64)
}

/// `name` as a regex matching itself (reference names hold only `[A-Za-z0-9_.]`).
fn regex_escape(name: &str) -> String {
    name.replace('.', r"\.")
}
