//! Preset candidate-op sets.

use serde::{Deserialize, Serialize};

use super::SpaceError;
use crate::OpKind;

/// An ordered, duplicate-free list of candidate ops for one cell type.
///
/// ```
/// use tnd_nas::space::OpSet;
/// assert_eq!(OpSet::darts().len(), 8);
/// assert_eq!(OpSet::tnd_normal().len(), 9);
/// assert_eq!(OpSet::tnd_reduce().len(), 6);
/// let mine = OpSet::new(vec!["none".parse()?, "sep_conv_3x3".parse()?])?;
/// assert_eq!(mine.ops()[1].to_string(), "sep_conv_3x3");
/// # Ok::<(), tnd_nas::space::SpaceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<OpKind>", into = "Vec<OpKind>")]
pub struct OpSet(Vec<OpKind>);

impl OpSet {
    /// A user-defined set.
    ///
    /// # Errors
    /// [`SpaceError::InvalidConfig`] when the list is empty or repeats an op.
    pub fn new(ops: Vec<OpKind>) -> Result<Self, SpaceError> {
        if ops.is_empty() {
            return Err(SpaceError::InvalidConfig(
                "an op set needs at least one op".into(),
            ));
        }
        for (i, op) in ops.iter().enumerate() {
            if ops[..i].contains(op) {
                return Err(SpaceError::InvalidConfig(format!(
                    "op `{op}` appears twice in the op set"
                )));
            }
        }
        Ok(Self(ops))
    }

    /// The 8 ops of DARTS: none, max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3,
    /// sep_conv_5x5, dil_conv_3x3, dil_conv_5x5.
    pub fn darts() -> Self {
        Self(vec![
            OpKind::None,
            OpKind::MaxPool3x3,
            OpKind::AvgPool3x3,
            OpKind::SkipConnect,
            OpKind::SepConv3x3,
            OpKind::SepConv5x5,
            OpKind::DilConv3x3,
            OpKind::DilConv5x5,
        ])
    }

    /// The 9 ops of TND-NAS normal cells.
    pub fn tnd_normal() -> Self {
        Self(vec![
            OpKind::None,
            OpKind::SkipConnect,
            OpKind::SepConv3x3,
            OpKind::SepConv5x5,
            OpKind::SepConv7x7,
            OpKind::DilConv3x3,
            OpKind::DilConv5x5,
            OpKind::Conv3x3,
            OpKind::Conv3x1x1x3,
        ])
    }

    /// The 6 ops of TND-NAS reduction cells.
    pub fn tnd_reduce() -> Self {
        Self(vec![
            OpKind::None,
            OpKind::SkipConnect,
            OpKind::MaxPool3x3,
            OpKind::AvgPool3x3,
            OpKind::MaxPool5x5,
            OpKind::MaxPool7x7,
        ])
    }

    /// The 5 ops of NAS-Bench-201.
    pub fn nb201() -> Self {
        Self(vec![
            OpKind::None,
            OpKind::SkipConnect,
            OpKind::NorConv1x1,
            OpKind::NorConv3x3,
            OpKind::AvgPool3x3,
        ])
    }

    /// A preset by name: `darts`, `tnd_normal`, `tnd_reduce`, `nb201`.
    ///
    /// # Errors
    /// [`SpaceError::InvalidConfig`] for an unknown preset name.
    pub fn preset(name: &str) -> Result<Self, SpaceError> {
        match name {
            "darts" => Ok(Self::darts()),
            "tnd_normal" => Ok(Self::tnd_normal()),
            "tnd_reduce" => Ok(Self::tnd_reduce()),
            "nb201" => Ok(Self::nb201()),
            other => Err(SpaceError::InvalidConfig(format!(
                "unknown op-set preset `{other}` (expected darts, tnd_normal, tnd_reduce or nb201)"
            ))),
        }
    }

    /// The ops in order.
    pub fn ops(&self) -> &[OpKind] {
        &self.0
    }

    /// Number of ops.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false for a valid set; present for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<Vec<OpKind>> for OpSet {
    type Error = SpaceError;
    fn try_from(ops: Vec<OpKind>) -> Result<Self, SpaceError> {
        Self::new(ops)
    }
}

impl From<OpSet> for Vec<OpKind> {
    fn from(set: OpSet) -> Self {
        set.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_empty_rejected() {
        assert!(OpSet::new(vec![]).is_err());
        assert!(OpSet::new(vec![OpKind::None, OpKind::None]).is_err());
        assert!(serde_json::from_str::<OpSet>("[\"none\",\"none\"]").is_err());
    }
}
