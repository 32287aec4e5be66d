//! The MBConv chain space (ProxylessNAS / FBNet style) on the MobileNetV2 backbone.

use serde::{Deserialize, Serialize};

use crate::OpKind;
use crate::space::{Architecture, Edge, SearchSpace, SpaceError};

/// The six MBConv block choices, in the order of the space's candidates.
pub const MBCONV_OPS: [OpKind; 6] = OpKind::MBCONV;

/// The searchable stages of MobileNetV2: `(channels, blocks, first stride)`.
pub const MOBILENET_V2_STAGES: [(usize, usize, usize); 6] = [
    (24, 2, 2),
    (32, 3, 2),
    (64, 4, 2),
    (96, 3, 1),
    (160, 3, 2),
    (320, 1, 1),
];

const NOTATION: &str = "MBConv block list";

/// MobileNetV2's channel rounding (`_make_divisible` in torchvision): `v` to the nearest
/// multiple of 8, never below 8 nor more than 10% below `v`.
///
/// ```
/// use tnd_nas::spaces::mbconv::make_divisible;
/// assert_eq!(make_divisible(32.0), 32);
/// assert_eq!(make_divisible(24.0 * 0.35), 8);
/// assert_eq!(make_divisible(1280.0 * 1.4), 1792);
/// ```
pub fn make_divisible(v: f64) -> usize {
    let d = 8.0_f64;
    let mut new = d.max(((v + d / 2.0) / d).floor() * d);
    if new < 0.9 * v {
        new += d;
    }
    new as usize
}

/// One searchable block of the chain at a given width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockSlot {
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Stride of the depthwise convolution.
    pub stride: usize,
    /// Whether the block opens its stage (no `skip` there).
    pub first_of_stage: bool,
}

/// The channel plan of the chain at one width: stem, fixed first block, the searchable
/// blocks, the last 1x1 conv.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MbConvPlan {
    /// Stem output channels (32 at width 1).
    pub stem: usize,
    /// Output channels of the fixed first block (expansion 1, 3x3; 16 at width 1).
    pub first: usize,
    /// The searchable blocks, in order.
    pub blocks: Vec<BlockSlot>,
    /// Channels of the last 1x1 conv (1280 at width <= 1).
    pub last: usize,
}

/// Configuration of an [`MbConvSpace`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MbConvSpaceConfig {
    /// `(channels, blocks, first stride)` of each searchable stage.
    pub stages: Vec<(usize, usize, usize)>,
    /// The block choices of every block.
    pub ops: Vec<OpKind>,
    /// Whether blocks other than the first of their stage may be `skip`.
    pub skip: bool,
}

impl Default for MbConvSpaceConfig {
    fn default() -> Self {
        Self::mobilenet_v2()
    }
}

impl MbConvSpaceConfig {
    /// MobileNetV2's 16 searchable blocks, the six MBConv choices, `skip` allowed.
    pub fn mobilenet_v2() -> Self {
        Self {
            stages: MOBILENET_V2_STAGES.to_vec(),
            ops: MBCONV_OPS.to_vec(),
            skip: true,
        }
    }

    /// Validates and builds the space.
    ///
    /// # Errors
    /// [`SpaceError::InvalidConfig`] for no stage, a stage with zero channels, blocks or
    /// a stride other than 1 or 2, an empty or repeated op list, or an op that is not an
    /// MBConv block.
    pub fn init(&self) -> Result<MbConvSpace, SpaceError> {
        let bad = |m: String| Err(SpaceError::InvalidConfig(m));
        if self.stages.is_empty() {
            return bad("an MBConv space needs at least one stage".into());
        }
        for (i, &(c, n, s)) in self.stages.iter().enumerate() {
            if c == 0 || n == 0 || !(1..=2).contains(&s) {
                return bad(format!(
                    "stage {i}: channels ({c}) and blocks ({n}) must be positive, stride ({s}) 1 or 2"
                ));
            }
        }
        if self.ops.is_empty() {
            return bad("an MBConv space needs at least one block choice".into());
        }
        for (i, op) in self.ops.iter().enumerate() {
            if !op.is_mbconv() {
                return bad(format!("`{op}` is not an MBConv block (e3_k3 ... e6_k7)"));
            }
            if self.ops[..i].contains(op) {
                return bad(format!("`{op}` appears twice in the block choices"));
            }
        }
        Ok(MbConvSpace::build(self.clone()))
    }
}

/// The MBConv chain space: one decision per searchable block, between the MBConv
/// choices (`e3_k3 e3_k5 e3_k7 e6_k3 e6_k5 e6_k7`) plus `skip` on every block that is not
/// the first of its stage. Cell types: `first` (blocks that open a stage) and `block`.
/// Notation: the choices comma-separated, in block order, `skip` for
/// [`OpKind::SkipConnect`].
///
/// ```
/// use tnd_nas::spaces::mbconv::MbConvSpace;
/// use tnd_nas::SearchSpace;
/// let space = MbConvSpace::mobilenet_v2();
/// assert_eq!(space.edges().len(), 16);
/// let v2 = space.parse(&vec!["e6_k3"; 16].join(","))?;
/// assert_eq!(space.describe(&v2), vec!["e6_k3"; 16].join(","));
/// assert!(space.parse("skip").is_err()); // 1 choice for 16 blocks
/// # Ok::<(), tnd_nas::space::SpaceError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MbConvSpace {
    config: MbConvSpaceConfig,
    edges: Vec<Edge>,
    first: Vec<bool>,
    with_skip: Vec<OpKind>,
}

impl MbConvSpace {
    /// The MobileNetV2 chain with all choices.
    pub fn mobilenet_v2() -> Self {
        Self::build(MbConvSpaceConfig::mobilenet_v2())
    }

    /// The space of a validated configuration.
    fn build(config: MbConvSpaceConfig) -> Self {
        let with_skip: Vec<OpKind> = config
            .ops
            .iter()
            .copied()
            .chain(std::iter::once(OpKind::SkipConnect))
            .collect();
        let (mut edges, mut first) = (Vec::new(), Vec::new());
        for &(_, n, _) in &config.stages {
            for b in 0..n {
                let opens = b == 0 || !config.skip;
                edges.push(Edge {
                    cell: usize::from(!opens),
                    from: edges.len(),
                    to: edges.len() + 1,
                });
                first.push(b == 0);
            }
        }
        Self {
            config,
            edges,
            first,
            with_skip,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MbConvSpaceConfig {
        &self.config
    }

    /// The channel plan at width multiplier `width` (1.0 is MobileNetV2).
    pub fn plan(&self, width: f64) -> MbConvPlan {
        let mut blocks = Vec::new();
        let first = make_divisible(16.0 * width);
        let mut c_in = first;
        for &(c, n, s) in &self.config.stages {
            let c_out = make_divisible(c as f64 * width);
            for b in 0..n {
                blocks.push(BlockSlot {
                    c_in,
                    c_out,
                    stride: if b == 0 { s } else { 1 },
                    first_of_stage: b == 0,
                });
                c_in = c_out;
            }
        }
        MbConvPlan {
            stem: make_divisible(32.0 * width),
            first,
            blocks,
            last: make_divisible(1280.0 * width.max(1.0)),
        }
    }

    /// Parses the block list (`e6_k3,skip,...`, one choice per block; whitespace around
    /// the commas allowed).
    ///
    /// # Errors
    /// [`SpaceError::Parse`] naming the byte position of an unknown choice or a wrong
    /// count; [`SpaceError::OpNotAllowed`] for `skip` on the first block of a stage.
    pub fn parse(&self, text: &str) -> Result<Architecture, SpaceError> {
        let mut ops = Vec::new();
        let mut position = 0;
        for token in text.split(',') {
            let name = token.trim();
            let at = position + (token.len() - token.trim_start().len());
            let op = match name {
                "skip" => OpKind::SkipConnect,
                _ => match name.parse::<OpKind>() {
                    Ok(op) if op.is_mbconv() => op,
                    _ => {
                        return Err(SpaceError::Parse {
                            notation: NOTATION,
                            position: at,
                            message: format!(
                                "`{name}` is not a block choice (e3_k3 e3_k5 e3_k7 e6_k3 e6_k5 e6_k7 skip)"
                            ),
                        });
                    }
                },
            };
            ops.push(op);
            position += token.len() + 1;
        }
        if ops.len() != self.edges.len() {
            return Err(SpaceError::Parse {
                notation: NOTATION,
                position: text.len(),
                message: format!(
                    "{} choices for the {} searchable blocks",
                    ops.len(),
                    self.edges.len()
                ),
            });
        }
        let arch = Architecture::new(ops);
        self.validate(&arch)?;
        Ok(arch)
    }
}

impl SearchSpace for MbConvSpace {
    fn id(&self) -> String {
        let stages: Vec<String> = self
            .config
            .stages
            .iter()
            .map(|(c, n, s)| format!("{c}x{n}s{s}"))
            .collect();
        let ops: Vec<&str> = self.config.ops.iter().map(|o| o.name()).collect();
        format!(
            "mbconv[{}][{}]{}",
            stages.join(","),
            ops.join(","),
            if self.config.skip { "+skip" } else { "" }
        )
    }

    fn cell_types(&self) -> Vec<String> {
        if self.config.skip {
            vec!["first".into(), "block".into()]
        } else {
            vec!["first".into()]
        }
    }

    fn edges(&self) -> &[Edge] {
        &self.edges
    }

    fn candidates(&self, edge: usize) -> &[OpKind] {
        if self.first.get(edge).copied().unwrap_or(true) || !self.config.skip {
            &self.config.ops
        } else {
            &self.with_skip
        }
    }

    fn describe(&self, arch: &Architecture) -> String {
        arch.ops()
            .iter()
            .map(|o| match o {
                OpKind::SkipConnect => "skip",
                o => o.name(),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobilenet_v2_plan_and_candidates() {
        let space = MbConvSpace::mobilenet_v2();
        let plan = space.plan(1.0);
        assert_eq!((plan.stem, plan.first, plan.last), (32, 16, 1280));
        assert_eq!(plan.blocks.len(), 16);
        assert_eq!(
            plan.blocks[0],
            BlockSlot {
                c_in: 16,
                c_out: 24,
                stride: 2,
                first_of_stage: true
            }
        );
        assert_eq!(plan.blocks[15].c_out, 320);
        let firsts: Vec<usize> = (0..16)
            .filter(|&e| space.candidates(e).len() == 6)
            .collect();
        assert_eq!(firsts, [0, 2, 5, 9, 12, 15]);
        assert_eq!(space.candidates(1).len(), 7);
        assert_eq!(
            space.num_architectures(),
            Some(6u128.pow(6) * 7u128.pow(10))
        );
        let small = space.plan(0.25);
        assert_eq!((small.stem, small.first, small.last), (8, 8, 1280));
    }

    #[test]
    fn parse_names_the_culprit() {
        let space = MbConvSpace::mobilenet_v2();
        let mut v = vec!["e6_k3"; 16];
        v[3] = "e9_k3";
        let err = space.parse(&v.join(",")).unwrap_err();
        assert!(
            matches!(err, SpaceError::Parse { position: 18, .. }),
            "{err}"
        );
        v[3] = "skip";
        v[2] = "skip"; // the first block of stage 2
        assert!(matches!(
            space.parse(&v.join(",")),
            Err(SpaceError::OpNotAllowed { edge: 2, .. })
        ));
        let bad = MbConvSpaceConfig {
            ops: vec![OpKind::SepConv3x3],
            ..MbConvSpaceConfig::mobilenet_v2()
        };
        assert!(bad.init().is_err());
    }
}
