//! The names of the candidate operations.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::OpError;

/// A candidate operation on a cell edge, named as the DARTS and NAS-Bench-201 code name it
/// (and, for the MBConv blocks, as ProxylessNAS names them: `e6_k3` is expansion 6,
/// kernel 3).
///
/// `Display` and `FromStr` use those names (`sep_conv_3x3`, `nor_conv_1x1`, ...), and so
/// does serde.
///
/// **Your own op** is [`OpKind::User`]: register its name once with [`OpKind::user`] and
/// build its module in your own [`crate::scoring::SupernetSpace`]; from then on the name
/// parses, prints and serialises like a built-in one (see `docs/writing-a-search-space.md`).
/// The built-in supernets refuse user ops with a typed error.
///
/// ```
/// use tnd_nas::OpKind;
/// let op: OpKind = "dil_conv_5x5".parse()?;
/// assert_eq!(op, OpKind::DilConv5x5);
/// assert_eq!(op.to_string(), "dil_conv_5x5");
/// assert!("gated_conv_3x3".parse::<OpKind>().is_err()); // not registered yet
/// let gated = OpKind::user("gated_conv_3x3")?;
/// assert_eq!("gated_conv_3x3".parse::<OpKind>()?, gated);
/// assert_eq!(gated.name(), "gated_conv_3x3");
/// # Ok::<(), tnd_nas::ops::OpError>(())
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
    /// `e3_k3`: MBConv inverted residual, expansion 3, depthwise 3x3.
    MbE3K3,
    /// `e3_k5`: MBConv, expansion 3, depthwise 5x5.
    MbE3K5,
    /// `e3_k7`: MBConv, expansion 3, depthwise 7x7.
    MbE3K7,
    /// `e6_k3`: MBConv, expansion 6, depthwise 3x3 (MobileNetV2's block).
    MbE6K3,
    /// `e6_k5`: MBConv, expansion 6, depthwise 5x5.
    MbE6K5,
    /// `e6_k7`: MBConv, expansion 6, depthwise 7x7.
    MbE6K7,
    /// An op of your own, registered by [`OpKind::user`].
    User(UserOp),
}

/// The name of a user op: registered once by [`OpKind::user`], then copied freely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserOp(&'static str);

impl UserOp {
    /// The registered name.
    pub fn name(self) -> &'static str {
        self.0
    }
}

/// Every registered user-op name. Each distinct name is leaked once (a few bytes for the
/// process lifetime), so that `OpKind` stays `Copy`.
static USER_OPS: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

fn registered(name: &str) -> Option<&'static str> {
    USER_OPS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
        .copied()
}

impl OpKind {
    /// Every built-in operation: the cell ops, then the MBConv blocks.
    pub const ALL: [OpKind; 23] = {
        let mut all = [OpKind::None; 23];
        let mut i = 0;
        while i < 17 {
            all[i] = OpKind::CELL_OPS[i];
            i += 1;
        }
        while i < 23 {
            all[i] = OpKind::MBCONV[i - 17];
            i += 1;
        }
        all
    };

    /// The six MBConv block choices (`e3_k3 e3_k5 e3_k7 e6_k3 e6_k5 e6_k7`).
    pub const MBCONV: [OpKind; 6] = [
        OpKind::MbE3K3,
        OpKind::MbE3K5,
        OpKind::MbE3K7,
        OpKind::MbE6K3,
        OpKind::MbE6K5,
        OpKind::MbE6K7,
    ];

    /// The cell ops (DARTS and NAS-Bench-201), which [`crate::ops::OpConfig`] builds.
    pub const CELL_OPS: [OpKind; 17] = [
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

    /// Registers (or looks up) the user op `name` and returns it. Registering a name
    /// twice returns the same op.
    ///
    /// # Errors
    /// [`OpError::InvalidUserOp`] for a name that is a built-in op's, is empty, longer
    /// than 64 bytes, or uses anything but `a-z`, `0-9` and `_`.
    pub fn user(name: &str) -> Result<OpKind, OpError> {
        let bad = |reason: &str| OpError::InvalidUserOp {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        if OpKind::ALL.iter().any(|op| op.name() == name) {
            return Err(bad("it is the name of a built-in op"));
        }
        if name.is_empty() || name.len() > 64 {
            return Err(bad("a name has 1 to 64 bytes"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(bad("a name uses only a-z, 0-9 and _"));
        }
        let mut ops = USER_OPS.lock().unwrap_or_else(PoisonError::into_inner);
        let interned = match ops.get(name) {
            Some(&n) => n,
            None => {
                let n: &'static str = Box::leak(name.to_string().into_boxed_str());
                ops.insert(n);
                n
            }
        };
        Ok(OpKind::User(UserOp(interned)))
    }

    /// Whether the op is one of the MBConv blocks (`e3_k3` ... `e6_k7`).
    pub fn is_mbconv(self) -> bool {
        self.mbconv().is_some()
    }

    /// `(expansion, kernel)` of an MBConv op.
    pub fn mbconv(self) -> Option<(usize, usize)> {
        Some(match self {
            OpKind::MbE3K3 => (3, 3),
            OpKind::MbE3K5 => (3, 5),
            OpKind::MbE3K7 => (3, 7),
            OpKind::MbE6K3 => (6, 3),
            OpKind::MbE6K5 => (6, 5),
            OpKind::MbE6K7 => (6, 7),
            _ => return None,
        })
    }

    /// Whether the op is a user op.
    pub fn is_user(self) -> bool {
        matches!(self, OpKind::User(_))
    }

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
            OpKind::MbE3K3 => "e3_k3",
            OpKind::MbE3K5 => "e3_k5",
            OpKind::MbE3K7 => "e3_k7",
            OpKind::MbE6K3 => "e6_k3",
            OpKind::MbE6K5 => "e6_k5",
            OpKind::MbE6K7 => "e6_k7",
            OpKind::User(u) => u.name(),
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
    type Err = OpError;

    /// A built-in op's name, or a user op's registered by [`OpKind::user`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OpKind::ALL
            .iter()
            .copied()
            .find(|op| op.name() == s)
            .or_else(|| registered(s).map(|n| OpKind::User(UserOp(n))))
            .ok_or_else(|| OpError::UnknownOp(s.to_string()))
    }
}

impl From<OpKind> for String {
    fn from(op: OpKind) -> Self {
        op.name().to_string()
    }
}

impl TryFrom<String> for OpKind {
    type Error = OpError;

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
    fn user_ops_register_once_and_round_trip() {
        assert!("kind_test_op".parse::<OpKind>().is_err());
        let a = OpKind::user("kind_test_op").unwrap();
        let b = OpKind::user("kind_test_op").unwrap();
        assert_eq!(a, b);
        assert_eq!("kind_test_op".parse::<OpKind>().unwrap(), a);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<OpKind>(&json).unwrap(), a);
        assert!(!a.is_pool() && a.is_parametric() && a.is_user());
        for bad in ["sep_conv_3x3", "", "Has-Caps", &"x".repeat(65)] {
            let err = OpKind::user(bad).unwrap_err();
            assert!(matches!(err, OpError::InvalidUserOp { .. }), "{bad}");
        }
    }

    #[test]
    fn unknown_name_is_named_in_error() {
        let err = "sep_conv_9x9".parse::<OpKind>().unwrap_err();
        assert!(err.to_string().contains("sep_conv_9x9"));
    }
}
