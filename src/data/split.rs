//! Which published split of a dataset to read.

use serde::{Deserialize, Serialize};

/// A published split of a dataset: the training or the test set.
///
/// ```
/// use tnd_nas::data::Split;
/// assert_eq!(Split::Train.to_string(), "train");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// The training set.
    Train,
    /// The test set.
    Test,
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Train => "train",
            Self::Test => "test",
        })
    }
}
