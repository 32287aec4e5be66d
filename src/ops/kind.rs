//! The names of the candidate operations.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::space::SpaceError;

/// A candidate operation on a cell edge, named as the DARTS and NAS-Bench-201 code name it.
///
/// `Display` and `FromStr` use those names (`sep_conv_3x3`, `nor_conv_1x1`, ...), and so
/// does serde.
///
/// ```
/// use tnd_nas::OpKind;
/// let op: OpKind = "dil_conv_5x5".parse()?;
/// assert_eq!(op, OpKind::DilConv5x5);
/// assert_eq!(op.to_string(), "dil_conv_5x5");
/// # Ok::<(), tnd_nas::space::SpaceError>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum OpKind {
    /// `none`: outputs zeros (strided at stride 2).
    None,
    /// `skip_connect`: identity at stride 1, FactorizedReduce at stride 2.
    SkipConnect,
    /// `max_pool_3x3`.
    MaxPool3x3,
    /// `max_pool_5x5`.
    MaxPool5x5,
    /// `max_pool_7x7`.
    MaxPool7x7,
    /// `avg_pool_3x3` (padding not counted).
    AvgPool3x3,
    /// `sep_conv_3x3`: two stacked ReLU-depthwise-pointwise-BN blocks.
    SepConv3x3,
    /// `sep_conv_5x5`.
    SepConv5x5,
    /// `sep_conv_7x7`.
    SepConv7x7,
    /// `dil_conv_3x3`: ReLU, dilated (2) depthwise 3x3, pointwise 1x1, BN.
    DilConv3x3,
    /// `dil_conv_5x5`.
    DilConv5x5,
    /// `conv_1x1`: ReLU, Conv 1x1, BN.
    Conv1x1,
    /// `conv_3x3`: ReLU, Conv 3x3, BN.
    Conv3x3,
    /// `conv_3x1_1x3`: ReLU, Conv 1x3, Conv 3x1, BN.
    Conv3x1x1x3,
    /// `conv_7x1_1x7`: ReLU, Conv 1x7, Conv 7x1, BN.
    Conv7x1x1x7,
    /// `nor_conv_1x1` (NAS-Bench-201): ReLU, Conv 1x1, BN.
    NorConv1x1,
    /// `nor_conv_3x3` (NAS-Bench-201): ReLU, Conv 3x3, BN.
    NorConv3x3,
}

impl OpKind {
    /// Every operation this crate can build.
    pub const ALL: [OpKind; 17] = [
        OpKind::None,
        OpKind::SkipConnect,
        OpKind::MaxPool3x3,
        OpKind::MaxPool5x5,
        OpKind::MaxPool7x7,
        OpKind::AvgPool3x3,
        OpKind::SepConv3x3,
        OpKind::SepConv5x5,
        OpKind::SepConv7x7,
        OpKind::DilConv3x3,
        OpKind::DilConv5x5,
        OpKind::Conv1x1,
        OpKind::Conv3x3,
        OpKind::Conv3x1x1x3,
        OpKind::Conv7x1x1x7,
        OpKind::NorConv1x1,
        OpKind::NorConv3x3,
    ];

    /// The name used in genotypes and papers.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::None => "none",
            OpKind::SkipConnect => "skip_connect",
            OpKind::MaxPool3x3 => "max_pool_3x3",
            OpKind::MaxPool5x5 => "max_pool_5x5",
            OpKind::MaxPool7x7 => "max_pool_7x7",
            OpKind::AvgPool3x3 => "avg_pool_3x3",
            OpKind::SepConv3x3 => "sep_conv_3x3",
            OpKind::SepConv5x5 => "sep_conv_5x5",
            OpKind::SepConv7x7 => "sep_conv_7x7",
            OpKind::DilConv3x3 => "dil_conv_3x3",
            OpKind::DilConv5x5 => "dil_conv_5x5",
            OpKind::Conv1x1 => "conv_1x1",
            OpKind::Conv3x3 => "conv_3x3",
            OpKind::Conv3x1x1x3 => "conv_3x1_1x3",
            OpKind::Conv7x1x1x7 => "conv_7x1_1x7",
            OpKind::NorConv1x1 => "nor_conv_1x1",
            OpKind::NorConv3x3 => "nor_conv_3x3",
        }
    }

    /// Whether the op is a pooling op (followed by a non-affine BN in the DARTS supernet).
    pub fn is_pool(self) -> bool {
        matches!(
            self,
            OpKind::MaxPool3x3 | OpKind::MaxPool5x5 | OpKind::MaxPool7x7 | OpKind::AvgPool3x3
        )
    }

    /// Whether the op has trainable weights (convolutions; skip at stride 2 too).
    pub fn is_parametric(self) -> bool {
        !matches!(self, OpKind::None | OpKind::SkipConnect) && !self.is_pool()
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for OpKind {
    type Err = SpaceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OpKind::ALL
            .iter()
            .copied()
            .find(|op| op.name() == s)
            .ok_or_else(|| SpaceError::UnknownOp(s.to_string()))
    }
}

impl From<OpKind> for String {
    fn from(op: OpKind) -> Self {
        op.name().to_string()
    }
}

impl TryFrom<String> for OpKind {
    type Error = SpaceError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in OpKind::ALL {
            assert_eq!(op.name().parse::<OpKind>().unwrap(), op);
            let json = serde_json::to_string(&op).unwrap();
            assert_eq!(json, format!("\"{}\"", op.name()));
            assert_eq!(serde_json::from_str::<OpKind>(&json).unwrap(), op);
        }
    }

    #[test]
    fn unknown_name_is_named_in_error() {
        let err = "sep_conv_9x9".parse::<OpKind>().unwrap_err();
        assert!(err.to_string().contains("sep_conv_9x9"));
    }
}
