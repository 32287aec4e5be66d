//! Which of the two CIFAR-100 label sets to use.

use serde::{Deserialize, Serialize};

/// The label granularity of CIFAR-100: 100 fine classes or 20 coarse superclasses.
///
/// ```
/// use tnd_nas::data::Cifar100Labels;
/// assert_eq!(Cifar100Labels::default(), Cifar100Labels::Fine);
/// assert_eq!(Cifar100Labels::Coarse.num_classes(), 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cifar100Labels {
    /// The 100 fine classes (the usual benchmark).
    #[default]
    Fine,
    /// The 20 coarse superclasses.
    Coarse,
}

impl Cifar100Labels {
    /// Number of classes of this label set.
    pub const fn num_classes(self) -> usize {
        match self {
            Self::Fine => 100,
            Self::Coarse => 20,
        }
    }
}

impl std::fmt::Display for Cifar100Labels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Fine => "fine",
            Self::Coarse => "coarse",
        })
    }
}
