//! The MBConv chain supernet: every active block choice on every searchable block.

use burn::module::Module;
use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

use super::{
    MbConvBlock, MbConvBlockConfig, MbConvEnds, MbConvHead, MbConvPlan, MbConvSpace, MbConvStem,
};
use crate::OpKind;
use crate::supernet::{Path, SuperNetError, SupernetForward, check_path};

/// Configuration of an [`MbConvSuperNet`] over the `active` choices of every block of
/// an MBConv space, at width multiplier `width`. As in DARTS supernets, BNs have no affine
/// parameters and normalise with batch statistics (those of the sampled path); there is
/// no dropout.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MbConvSuperNetConfig {
    /// Number of classes.
    pub classes: usize,
    /// The active choices of every block, in block order.
    pub active: Vec<Vec<OpKind>>,
    /// Width multiplier.
    #[serde(default = "mb_conv_super_net_config_width")]
    pub width: f64,
    /// Image channels.
    #[serde(default = "mb_conv_super_net_config_in_channels")]
    pub in_channels: usize,
}

impl MbConvSuperNetConfig {
    /// The configuration of the required fields; every other field takes its default.
    pub fn new(classes: usize, active: Vec<Vec<OpKind>>) -> Self {
        Self {
            classes,
            active,
            width: mb_conv_super_net_config_width(),
            in_channels: mb_conv_super_net_config_in_channels(),
        }
    }

    crate::setters! {
        /// Sets [`width`](Self::width) (default 1.0).
        with_width => width: f64;
        /// Sets [`in_channels`](Self::in_channels) (default 3).
        with_in_channels => in_channels: usize;
    }
}

fn mb_conv_super_net_config_width() -> f64 {
    1.0
}

fn mb_conv_super_net_config_in_channels() -> usize {
    3
}

impl MbConvSuperNetConfig {
    /// Builds the supernet of `space`.
    ///
    /// # Errors
    /// [`SuperNetError::InvalidConfig`] for a wrong number of blocks, an empty block, an
    /// op that is neither an MBConv choice nor `skip_connect`, or a bad size.
    pub fn init<B: Backend>(
        &self,
        space: &MbConvSpace,
        device: &B::Device,
    ) -> Result<MbConvSuperNet<B>, SuperNetError> {
        let bad = |m: String| Err(SuperNetError::InvalidConfig(m));
        if self.classes == 0
            || self.in_channels == 0
            || !(self.width > 0.0 && self.width.is_finite())
        {
            return bad(format!(
                "classes ({}) and in_channels ({}) must be positive, width ({}) positive and finite",
                self.classes, self.in_channels, self.width
            ));
        }
        let plan = space.plan(self.width);
        if self.active.len() != plan.blocks.len() {
            return bad(format!(
                "{} active-op lists for {} blocks",
                self.active.len(),
                plan.blocks.len()
            ));
        }
        let mut edges = Vec::with_capacity(plan.blocks.len());
        for (e, (slot, ops)) in plan.blocks.iter().zip(&self.active).enumerate() {
            if ops.is_empty() {
                return bad(format!("block {e} has no active op"));
            }
            let mut blocks = Vec::with_capacity(ops.len());
            for &op in ops {
                let block = MbConvBlockConfig::for_choice(op, slot.c_in, slot.c_out, slot.stride);
                match block {
                    Some(b) => blocks.push(Some(b.with_batch_stats(true).init(device))),
                    None if op == OpKind::SkipConnect
                        && slot.stride == 1
                        && slot.c_in == slot.c_out =>
                    {
                        blocks.push(None)
                    }
                    None => {
                        return bad(format!(
                            "block {e} cannot hold `{op}` (MBConv choices, and skip where the shape is kept)"
                        ));
                    }
                }
            }
            edges.push(MbConvEdge {
                blocks,
                kinds: ops.clone(),
            });
        }
        let ends = mbconv_ends(&plan, self.in_channels, self.classes, 0.0, true);
        let net = MbConvSuperNet {
            stem: ends.init_stem(device),
            edges,
            head: ends.init_head(device),
        };
        // Lazy parameters would draw new values in every clone: initialise them now.
        crate::ops::materialize(&net);
        Ok(net)
    }
}

/// The fixed ends (stem + first block, head) of the chain of `plan`, shared by the
/// supernet and the evaluation network.
pub(crate) fn mbconv_ends(
    plan: &MbConvPlan,
    in_channels: usize,
    classes: usize,
    dropout: f64,
    batch_stats: bool,
) -> MbConvEnds {
    MbConvEnds {
        in_channels,
        stem: plan.stem,
        first: plan.first,
        last_in: plan.blocks.last().map_or(plan.first, |b| b.c_out),
        last: plan.last,
        classes,
        dropout,
        batch_stats,
    }
}

/// The active choices of one block (`None` is `skip`).
#[derive(Module, Debug)]
pub struct MbConvEdge<B: Backend> {
    /// One block per active choice.
    pub blocks: Vec<Option<MbConvBlock<B>>>,
    #[module(skip)]
    kinds: Vec<OpKind>,
}

impl<B: Backend> MbConvEdge<B> {
    /// The active choices.
    pub fn kinds(&self) -> &[OpKind] {
        &self.kinds
    }
}

/// The MBConv chain supernet.
///
/// # Shapes
/// - input `[n, in_channels, h, w]`, output logits `[n, classes]`
#[derive(Module, Debug)]
pub struct MbConvSuperNet<B: Backend> {
    /// Stem and fixed first block.
    pub stem: MbConvStem<B>,
    /// The searchable blocks.
    pub edges: Vec<MbConvEdge<B>>,
    /// Last conv, pool, classifier.
    pub head: MbConvHead<B>,
}

impl<B: Backend> SupernetForward<B> for MbConvSuperNet<B> {
    fn num_edges(&self) -> usize {
        self.edges.len()
    }

    fn active_ops(&self) -> Vec<Vec<OpKind>> {
        self.edges.iter().map(|e| e.kinds.clone()).collect()
    }

    fn forward_path(&self, x: Tensor<B, 4>, path: &Path) -> Result<Tensor<B, 2>, SuperNetError> {
        check_path(path, self.edges.len())?;
        let mut x = self.stem.forward(x);
        for (e, edge) in self.edges.iter().enumerate() {
            let choice = path
                .edge(e)
                .ok_or_else(|| SuperNetError::PathMismatch(format!("no entry for block {e}")))?;
            let mixed = choice
                .mix(edge.blocks.len(), |i| {
                    Some(match &edge.blocks[i] {
                        Some(block) => block.forward(x.clone()),
                        None => x.clone(),
                    })
                })
                .map_err(|err| SuperNetError::PathMismatch(format!("block {e}: {err}")))?;
            // Every choice outputs something, so `mixed` is only empty for all-zero
            // weights: then the edge outputs zeros of the first choice's shape.
            x = match mixed {
                Some(y) => y,
                None => match &edge.blocks[0] {
                    Some(block) => block.forward(x).mul_scalar(0.0),
                    None => x.zeros_like(),
                },
            };
        }
        Ok(self.head.forward(x))
    }
}
