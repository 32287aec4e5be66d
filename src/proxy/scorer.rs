//! Scoring architectures (not networks) with a proxy: build, seed, score; and the same as
//! a search objective.

use std::collections::HashMap;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{ProxyError, ProxyInput, ZeroCost, ZeroCostProxy, score};
use crate::network::{BuildNetwork, ImageClassifier, NetworkError};
use crate::objective::{Direction, Objective, ObjectiveContext, ObjectiveError};
use crate::ops::seeded_module;
use crate::{Architecture, SearchSpace};

/// The settings of a [`ProxyScorer`].
///
/// ```
/// use tnd_nas::proxy::{ProxyScorerConfig, ZeroCostProxy};
/// let config = ProxyScorerConfig::new(ZeroCostProxy::ZeroCost).with_seed(3);
/// assert_eq!(config.reference, 64);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyScorerConfig {
    /// The proxy.
    pub proxy: ZeroCostProxy,
    /// Seed of every network's initialisation (the same for every architecture) and of
    /// the zero-cost reference sample.
    pub seed: u64,
    /// Architectures in the zero-cost reference sample ([`ZeroCost::REFERENCE`]).
    pub reference: usize,
    /// synflow scores already known for this network and seed (for example the bundled
    /// NAS-Bench-201 file), used instead of building those networks.
    #[serde(skip)]
    pub known_synflow: HashMap<Architecture, f64>,
}

impl ProxyScorerConfig {
    /// `proxy` at seed 0 with a reference of [`ZeroCost::REFERENCE`].
    pub fn new(proxy: ZeroCostProxy) -> Self {
        Self {
            proxy,
            seed: 0,
            reference: ZeroCost::REFERENCE,
            known_synflow: HashMap::new(),
        }
    }

    crate::setters! {
        /// Sets the seed.
        with_seed => seed: u64;
        /// Sets the size of the zero-cost reference sample.
        with_reference => reference: usize;
        /// synflow scores known for this network and seed.
        with_known_synflow => known_synflow: HashMap<Architecture, f64>;
    }

    /// A scorer of architectures of `space`, whose networks `network` builds on
    /// `device`; `input` is what the proxy reads (a batch for the data-dependent ones).
    /// For `zero-cost` the reference sample (uniform over `space`, drawn from the seed)
    /// is scored now.
    ///
    /// # Errors
    /// [`ProxyError::Data`] for a data-dependent proxy without a batch or a reference
    /// smaller than two; any error scoring the reference.
    pub fn init<B, N>(
        self,
        network: N,
        space: &dyn SearchSpace,
        input: ProxyInput<B>,
        device: B::Device,
    ) -> Result<ProxyScorer<B, N>, ProxyError>
    where
        B: AutodiffBackend,
        N: BuildNetwork,
        N::Network<B>: AutodiffModule<B>,
        <N::Network<B> as AutodiffModule<B>>::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        if self.proxy.needs_data() && input.batch.is_none() {
            return Err(ProxyError::Data {
                proxy: self.proxy.to_string(),
                reason: "needs a batch of images (give a dataset)".into(),
            });
        }
        let mut scorer = ProxyScorer {
            proxy: self.proxy,
            network,
            input,
            seed: self.seed,
            device,
            zero_cost: None,
            known_synflow: self.known_synflow,
            cache: HashMap::new(),
        };
        if self.proxy == ZeroCostProxy::ZeroCost {
            let candidates = space.all_candidates();
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            let mut pairs = Vec::with_capacity(self.reference);
            for _ in 0..self.reference {
                let arch = Architecture::new(
                    candidates
                        .iter()
                        .map(|ops| ops[rng.random_range(0..ops.len())])
                        .collect(),
                );
                pairs.push(scorer.synflow_and_params(&arch)?);
            }
            scorer.zero_cost = Some(ZeroCost::fit(&pairs)?);
        }
        Ok(scorer)
    }
}

/// A proxy's score of architectures: each network built by a [`BuildNetwork`] (any
/// space: DARTS, NAS-Bench-201, MBConv, your own), freshly initialised from one seed, and
/// scored with [`score`] (or, for `zero-cost`, [`ZeroCost`] of its synflow and parameter
/// count). It is also an [`Objective`] (maximised, named after the proxy, each
/// architecture scored once), so a search can use it beside or instead of supernet
/// accuracy: with [`crate::search::SearchBuilder::build_table`] it is a search without
/// any training.
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use tnd_nas::spaces::nb201::{Nb201NetworkConfig, Nb201NetworkSpec};
/// use tnd_nas::objective::{Objective, ObjectiveContext};
/// use tnd_nas::proxy::{ProxyInput, ProxyScorerConfig, ZeroCostProxy};
/// use tnd_nas::spaces::nb201::Nb201Space;
/// type B = Autodiff<NdArray>;
/// let space = Nb201Space::new();
/// let spec = Nb201NetworkSpec::new(Nb201NetworkConfig::new(4, 1, 10));
/// let input = ProxyInput::<B> { shape: [3, 8, 8], batch: None };
/// let mut zc = ProxyScorerConfig::new(ZeroCostProxy::ZeroCost)
///     .with_reference(8)
///     .init(spec, &space, input, Default::default())?;
/// let convs = space.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")?;
/// let pools = space.parse("|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|skip_connect~0|avg_pool_3x3~1|avg_pool_3x3~2|")?;
/// assert!(zc.score(&convs)? > zc.score(&pools)?);
/// // As an objective.
/// let ctx = ObjectiveContext::new(&space);
/// assert_eq!(zc.evaluate(&convs, &ctx)?, zc.score(&convs)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ProxyScorer<B: AutodiffBackend, N: BuildNetwork> {
    proxy: ZeroCostProxy,
    network: N,
    input: ProxyInput<B>,
    seed: u64,
    device: B::Device,
    zero_cost: Option<ZeroCost>,
    known_synflow: HashMap<Architecture, f64>,
    cache: HashMap<Architecture, f64>,
}

impl<B: AutodiffBackend, N: BuildNetwork> std::fmt::Debug for ProxyScorer<B, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyScorer")
            .field("proxy", &self.proxy)
            .field("network", &self.network)
            .field("seed", &self.seed)
            .field("zero_cost", &self.zero_cost)
            .field("known_synflow", &self.known_synflow.len())
            .field("cached", &self.cache.len())
            .finish()
    }
}

impl<B, N> ProxyScorer<B, N>
where
    B: AutodiffBackend,
    N: BuildNetwork,
    N::Network<B>: AutodiffModule<B>,
    <N::Network<B> as AutodiffModule<B>>::InnerModule: ImageClassifier<B::InnerBackend>,
{
    /// The proxy.
    pub fn proxy(&self) -> ZeroCostProxy {
        self.proxy
    }

    /// The zero-cost standardisation fitted on the reference sample (`zero-cost` only).
    pub fn zero_cost(&self) -> Option<&ZeroCost> {
        self.zero_cost.as_ref()
    }

    /// The score of `arch`'s network, freshly initialised from the seed.
    ///
    /// # Errors
    /// [`ProxyError::Space`] for an architecture of another space; any error of
    /// [`score`].
    pub fn score(&self, arch: &Architecture) -> Result<f64, ProxyError> {
        match (self.proxy, &self.zero_cost) {
            (ZeroCostProxy::ZeroCost, Some(zc)) => {
                let (synflow, params) = self.synflow_and_params(arch)?;
                Ok(zc.score(synflow, params))
            }
            (proxy, _) => self.proxy_score(proxy, arch),
        }
    }

    fn synflow_and_params(&self, arch: &Architecture) -> Result<(f64, u64), ProxyError> {
        let params = self.network.param_count(arch)?;
        Ok((self.proxy_score(ZeroCostProxy::Synflow, arch)?, params))
    }

    fn proxy_score(&self, proxy: ZeroCostProxy, arch: &Architecture) -> Result<f64, ProxyError> {
        if proxy == ZeroCostProxy::Synflow
            && let Some(&known) = self.known_synflow.get(arch)
        {
            return Ok(known);
        }
        let network = seeded_module::<B, _, _>(&self.device, self.seed, || {
            self.network.build::<B>(arch, &self.device)
        })
        .map_err(|e| match e {
            NetworkError::Genotype(e) => ProxyError::Space(e),
            e => ProxyError::Network(e.to_string()),
        })?;
        score(proxy, network, &self.input)
    }
}

impl<B, N> Objective for ProxyScorer<B, N>
where
    B: AutodiffBackend,
    N: BuildNetwork,
    N::Network<B>: AutodiffModule<B>,
    <N::Network<B> as AutodiffModule<B>>::InnerModule: ImageClassifier<B::InnerBackend>,
{
    fn name(&self) -> &str {
        self.proxy.name()
    }

    fn direction(&self) -> Direction {
        Direction::Maximise
    }

    fn evaluate(
        &mut self,
        arch: &Architecture,
        ctx: &ObjectiveContext<'_>,
    ) -> Result<f64, ObjectiveError> {
        if let Some(&value) = self.cache.get(arch) {
            return Ok(value);
        }
        ctx.space.validate(arch)?;
        let value = self.score(arch).map_err(|e| match e {
            ProxyError::Space(e) => ObjectiveError::Space(e),
            e => ObjectiveError::Failed {
                objective: self.proxy.name().to_string(),
                reason: e.to_string(),
            },
        })?;
        self.cache.insert(arch.clone(), value);
        Ok(value)
    }
}
