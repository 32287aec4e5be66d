//! Zero-cost proxies as `--objective`s of `tabular` and `search`.

use std::collections::HashMap;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;

use super::{CliError, DatasetName};
use crate::network::{BuildNetwork, ImageClassifier};
use crate::objective::{Direction, NB201_SYNFLOW, Objective, Tabular, TabularTable};
use crate::proxy::{ProxyInput, ProxyScorerConfig, ZeroCostProxy};
use crate::{Architecture, SearchSpace};

/// What the proxies of a command read, and the number of classes: without a dataset one
/// 3x32x32 image shape and 10 classes (synflow's all-ones input); with one, its image
/// shape and classes and, when `batch` is `Some(n)`, one batch of `n` of its training
/// images drawn with `seed` (normalised, not augmented).
///
/// # Errors
/// An unreadable dataset, a batch it cannot fill.
pub(crate) fn proxy_input<B: AutodiffBackend>(
    dataset: Option<DatasetName>,
    data_dir: Option<&std::path::Path>,
    batch: Option<usize>,
    seed: u64,
    device: &B::Device,
) -> Result<(ProxyInput<B>, usize), CliError> {
    let Some(dataset) = dataset else {
        let input = ProxyInput {
            shape: [3, 32, 32],
            batch: None,
        };
        return Ok((input, 10));
    };
    let data = dataset.train(data_dir)?;
    let classes = data.num_classes();
    let input = ProxyInput::from_dataset(data, Some(dataset.normalization()), batch, seed, device)?;
    Ok((input, classes))
}

/// The names an `--objective` may give a proxy.
pub(crate) const PROXY_OBJECTIVES: &str = "synflow, naswot, grad-norm, snip or zero-cost";

/// The proxy an `--objective` spec names (`synflow`, `synflow:max`, `zero-cost:max`,
/// ...), or `None` when it names something else.
///
/// # Errors
/// [`CliError::Usage`] for a proxy given `:min` or a third part.
pub(crate) fn proxy_in_spec(spec: &str) -> Result<Option<ZeroCostProxy>, CliError> {
    let mut parts = spec.split(':');
    let Some(Ok(proxy)) = parts.next().map(str::parse::<ZeroCostProxy>) else {
        return Ok(None);
    };
    let direction = parts.next();
    let maximised = match direction {
        None => true,
        Some(d) => d.parse::<Direction>()? == Direction::Maximise,
    };
    if !maximised || parts.next().is_some() {
        return Err(CliError::usage(format!(
            "--objective `{spec}`: a proxy can only be maximised (`{}:max`)",
            spec.split(':').next().unwrap_or_default()
        )));
    }
    Ok(Some(proxy))
}

/// The objective that scores each architecture of `space` by `proxy` on its network
/// `network`, freshly initialised from `seed`; `known_synflow` holds scores already
/// computed for that network and seed.
///
/// # Errors
/// [`CliError::Usage`] for a data-dependent proxy without a batch; a zero-cost reference
/// sample that cannot be scored.
pub(crate) fn proxy_objective<B, N>(
    proxy: ZeroCostProxy,
    network: N,
    space: &dyn SearchSpace,
    input: ProxyInput<B>,
    seed: u64,
    device: B::Device,
    known_synflow: HashMap<Architecture, f64>,
) -> Result<Box<dyn Objective>, CliError>
where
    B: AutodiffBackend,
    N: BuildNetwork + 'static,
    N::Network<B>: AutodiffModule<B>,
    <N::Network<B> as AutodiffModule<B>>::InnerModule: ImageClassifier<B::InnerBackend>,
{
    if proxy.needs_data() && input.batch.is_none() {
        return Err(CliError::usage(format!(
            "--objective {proxy} reads a batch of images: give --dataset"
        )));
    }
    let scorer = ProxyScorerConfig::new(proxy)
        .with_seed(seed)
        .with_known_synflow(known_synflow)
        .init(network, space, input, device)?;
    Ok(Box::new(scorer))
}

/// The bundled synflow score of every NAS-Bench-201 cell (the NAS-Bench-201 network at
/// C = 16, N = 5, 10 classes, 3x32x32, seed 0, on the CPU backend).
///
/// # Errors
/// None in practice (the embedded file is read).
pub(crate) fn bundled_nb201_synflow(
    space: &dyn SearchSpace,
) -> Result<HashMap<Architecture, f64>, CliError> {
    let table = std::sync::Arc::new(TabularTable::nb201_synflow()?);
    let column = Tabular::new(table.clone(), NB201_SYNFLOW, Direction::Maximise)?;
    let csv = table.csv();
    let c = csv.column(table.arch_column())?;
    let mut known = HashMap::with_capacity(table.len());
    for row in csv.rows() {
        let text = &row.fields[c];
        let arch = crate::spaces::nb201::Nb201Space::new().parse(text)?;
        space.validate(&arch)?;
        if let Some(v) = column.value_of(text) {
            known.insert(arch, v);
        }
    }
    Ok(known)
}
