//! A space of the user's own, with an op of the user's own, defined outside the crate:
//! it runs the full supernet search (TND, shrinking stages) on the bundled sample, and a
//! search stopped mid-way resumes from its checkpoint bit for bit. The same code is the
//! tutorial in docs/writing-a-search-space.md.

mod common;

use std::sync::Arc;

use burn::backend::{Autodiff, NdArray};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Tensor, activation, backend::Backend};
use common::StopAfterEpochs;
use tnd_nas::data::{FashionMnistSample, ImageDataset};
use tnd_nas::network::EvalNetworkSpec;
use tnd_nas::objective::{MnasReward, Objective, ParamCount, ValidationAccuracy};
use tnd_nas::ops::{Op, OpConfig};
use tnd_nas::schedule::{ShrinkScheduleConfig, StageConfig};
use tnd_nas::scoring::{DataShape, SupernetSpace};
use tnd_nas::search::{Search, SearchConfig, SearchError};
use tnd_nas::space::{Edge, SpaceError};
use tnd_nas::supernet::{Path, SuperNetError, SupernetForward, check_path};
use tnd_nas::{Architecture, OpKind, SearchSpace};

type B = Autodiff<NdArray>;

// --- The user's op: a 3x3 convolution gated by a sigmoid of itself (GLU-like). -------

/// The name under which the op is registered.
const GATED: &str = "gated_conv_3x3";

fn gated_op() -> OpKind {
    OpKind::user(GATED).expect("a valid user-op name")
}

#[derive(Module, Debug)]
struct GatedConv<B: Backend> {
    conv: Conv2d<B>,
}

impl<B: Backend> GatedConv<B> {
    fn new(channels: usize, device: &B::Device) -> Self {
        Self {
            conv: Conv2dConfig::new([channels, 2 * channels], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
        }
    }

    fn params(channels: usize) -> u64 {
        (2 * channels * channels * 9 + 2 * channels) as u64
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [value, gate] = self
            .conv
            .forward(x)
            .chunk(2, 1)
            .try_into()
            .expect("two halves");
        value * activation::sigmoid(gate)
    }
}

/// A candidate of the chain: a built-in op of the crate, or the user's.
#[allow(clippy::large_enum_variant)] // built once per supernet; size does not matter
#[derive(Module, Debug)]
enum ChainOp<B: Backend> {
    Builtin(Op<B>),
    Gated(GatedConv<B>),
}

impl<B: Backend> ChainOp<B> {
    fn new(op: OpKind, channels: usize, device: &B::Device) -> Self {
        if op == gated_op() {
            ChainOp::Gated(GatedConv::new(channels, device))
        } else {
            ChainOp::Builtin(OpConfig::new(op, channels).init(device))
        }
    }

    fn params(op: OpKind, channels: usize) -> u64 {
        if op == gated_op() {
            GatedConv::<B>::params(channels)
        } else {
            OpConfig::new(op, channels).param_count()
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        match self {
            ChainOp::Builtin(op) => op.forward(x),
            ChainOp::Gated(op) => op.forward(x),
        }
    }
}

// --- The user's space: a chain of `edges` ops after a stem conv. -----------------------

#[derive(Debug, Clone)]
struct ChainSpace {
    edges: Vec<Edge>,
    ops: Vec<OpKind>,
}

impl ChainSpace {
    fn new(edges: usize) -> Self {
        Self {
            edges: (0..edges)
                .map(|i| Edge {
                    cell: 0,
                    from: i,
                    to: i + 1,
                })
                .collect(),
            ops: vec![
                OpKind::SkipConnect,
                OpKind::NorConv3x3,
                gated_op(),
                OpKind::AvgPool3x3,
            ],
        }
    }
}

impl SearchSpace for ChainSpace {
    fn id(&self) -> String {
        format!("chain-{}", self.edges.len())
    }
    fn cell_types(&self) -> Vec<String> {
        vec!["chain".into()]
    }
    fn edges(&self) -> &[Edge] {
        &self.edges
    }
    fn candidates(&self, _edge: usize) -> &[OpKind] {
        &self.ops
    }
}

/// The supernet: stem conv, one mixed edge per decision, pool, classifier.
#[derive(Module, Debug)]
struct ChainSuperNet<B: Backend> {
    stem: Conv2d<B>,
    edges: Vec<Vec<ChainOp<B>>>,
    classifier: Linear<B>,
}

impl<B: Backend> SupernetForward<B> for ChainSuperNet<B> {
    fn num_edges(&self) -> usize {
        self.edges.len()
    }
    fn active_ops(&self) -> Vec<Vec<OpKind>> {
        Vec::new() // not needed by the search
    }
    fn forward_path(&self, x: Tensor<B, 4>, path: &Path) -> Result<Tensor<B, 2>, SuperNetError> {
        check_path(path, self.edges.len())?;
        let mut x = self.stem.forward(x);
        for (e, ops) in self.edges.iter().enumerate() {
            let choice = path
                .edge(e)
                .ok_or_else(|| SuperNetError::PathMismatch(format!("edge {e}")))?;
            x = choice
                .mix(ops.len(), |i| Some(ops[i].forward(x.clone())))?
                .unwrap_or_else(|| x.zeros_like());
        }
        let pooled = x.mean_dim(3).mean_dim(2).flatten::<2>(1, 3);
        Ok(self.classifier.forward(pooled))
    }
}

/// The evaluation network's counts: stem, the chosen ops at width `channels`, classifier.
#[derive(Debug, Clone)]
struct ChainNetwork {
    space: ChainSpace,
    channels: usize,
    data: DataShape,
}

impl EvalNetworkSpec for ChainNetwork {
    fn param_count(&self, arch: &Architecture) -> Result<u64, SpaceError> {
        self.space.validate(arch)?;
        let c = self.channels;
        let ops: u64 = arch
            .ops()
            .iter()
            .map(|&op| ChainOp::<NdArray>::params(op, c))
            .sum();
        Ok((self.data.channels * c * 9 + c) as u64
            + ops
            + (c * self.data.classes + self.data.classes) as u64)
    }
    fn macs(&self, arch: &Architecture, input: usize) -> Result<u64, SpaceError> {
        // Every op keeps the resolution: MACs are parameters times pixels (biases aside).
        Ok(self.param_count(arch)? * (input * input) as u64)
    }
    fn in_channels(&self) -> usize {
        self.data.channels
    }
}

impl SupernetSpace for ChainSpace {
    type Supernet<Bk: Backend> = ChainSuperNet<Bk>;

    fn supernet<Bk: Backend>(
        &self,
        stage: &StageConfig,
        active: &[Vec<OpKind>],
        data: &DataShape,
        device: &Bk::Device,
    ) -> Result<ChainSuperNet<Bk>, SuperNetError> {
        let c = stage.channels;
        Ok(ChainSuperNet {
            stem: Conv2dConfig::new([data.channels, c], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            edges: active
                .iter()
                .map(|ops| ops.iter().map(|&op| ChainOp::new(op, c, device)).collect())
                .collect(),
            classifier: LinearConfig::new(c, data.classes).init(device),
        })
    }

    fn network(&self, data: &DataShape) -> Arc<dyn EvalNetworkSpec> {
        Arc::new(ChainNetwork {
            space: self.clone(),
            channels: 16,
            data: *data,
        })
    }
}

// --- The search. ------------------------------------------------------------------------

fn data() -> ImageDataset {
    let all = FashionMnistSample::load().unwrap().downsample(2).unwrap();
    all.subset(&(0..256).collect::<Vec<_>>()).unwrap()
}

/// 4 -> 2 -> 1 ops per edge over two stages of 2 epochs (1 warm-up) of 4 steps.
fn config() -> SearchConfig {
    let stages = vec![
        StageConfig::new(1, vec![2])
            .with_epochs(2, 1)
            .with_channels(8),
        StageConfig::new(1, vec![1])
            .with_epochs(2, 1)
            .with_channels(8),
    ];
    let mut c = SearchConfig::quick()
        .with_schedule(ShrinkScheduleConfig::new(stages))
        .with_batch_size(16)
        .with_max_steps_per_epoch(Some(4))
        .with_seed(11);
    c.train.alpha_every = 1;
    c
}

fn search() -> Search {
    let objectives: Vec<Box<dyn Objective>> = vec![
        Box::new(ValidationAccuracy::new()),
        Box::new(ParamCount::new()),
    ];
    let reward = MnasReward::new(vec![20_000.0], vec![-0.1]).unwrap();
    Search::builder(ChainSpace::new(4))
        .objectives(objectives)
        .reward(reward)
        .build::<B>(config(), data(), Default::default())
        .unwrap()
}

#[test]
fn a_user_space_with_a_user_op_searches_and_resumes_bit_for_bit() {
    let dir = std::env::temp_dir().join(format!("tnd-nas-user-space-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let full = search()
        .with_checkpoint_dir(dir.join("a"))
        .run(&mut [])
        .unwrap();
    // The search ran both stages, scored samples and ended with one op per edge.
    assert_eq!(full.stages.len(), 2);
    assert!(full.sample_count > 0);
    let arch = &full.final_architecture.architecture;
    ChainSpace::new(4).validate(arch).unwrap();
    assert!(
        full.final_architecture
            .text
            .split(',')
            .all(|op| op.parse::<OpKind>().is_ok())
    );
    // The user op took part: it was sampled and scored like the built-in ones.
    assert!(
        full.samples.iter().any(|s| s.arch.contains(GATED)),
        "gated op never sampled"
    );
    assert!(full.stages[0].dropped.iter().flatten().count() > 0);

    // Stopped after the first epoch of stage 2, then resumed: identical.
    let err = search()
        .with_checkpoint_dir(dir.join("b"))
        .run(&mut [&mut StopAfterEpochs(3)])
        .unwrap_err();
    assert!(
        matches!(
            err,
            SearchError::Stopped {
                checkpoint: Some(_),
                ..
            }
        ),
        "{err}"
    );
    let resumed = search()
        .resume_from(dir.join("b"))
        .unwrap()
        .run(&mut [])
        .unwrap();
    assert_eq!(resumed.final_architecture, full.final_architecture);
    assert_eq!(resumed.final_values, full.final_values);
    for (a, b) in resumed.stages.iter().zip(&full.stages) {
        assert_eq!(a.probabilities, b.probabilities, "stage {}", a.stage);
        assert_eq!(a.dropped, b.dropped);
    }
    let scores = |r: &tnd_nas::SearchResult| -> Vec<(String, Vec<f64>)> {
        r.samples
            .iter()
            .map(|s| (s.arch.clone(), s.objectives.clone()))
            .collect()
    };
    assert_eq!(scores(&resumed), scores(&full));
    let _ = std::fs::remove_dir_all(&dir);
}
