//! The NAS-Bench-201 CIFAR-10 table bundled with the crate.

use std::io::Read;

use super::{CsvTable, ObjectiveError, TabularTable};

/// The gzipped CSV (`data/nb201/cifar10.csv.gz`).
const CIFAR10_GZ: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/nb201/cifar10.csv.gz"
));

/// Where the bundled table lives in the crate, as errors name it.
const SOURCE: &str = "data/nb201/cifar10.csv.gz";

/// The gzipped synflow scores (`data/nb201/synflow-seed0.csv.gz`).
const SYNFLOW_GZ: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/nb201/synflow-seed0.csv.gz"
));

/// The score column of [`TabularTable::nb201_synflow`].
pub const NB201_SYNFLOW: &str = "synflow";

/// The architecture column of [`TabularTable::nb201_cifar10`].
pub const NB201_ARCH_COLUMN: &str = "arch";

/// The accuracy column of [`TabularTable::nb201_cifar10`]: CIFAR-10 test accuracy
/// after 200 epochs, percent, mean over the benchmark's seeds.
pub const NB201_CIFAR10_ACCURACY: &str = "cifar10_test_acc_200ep";

impl TabularTable {
    /// The bundled NAS-Bench-201 table: for each of the 15,625 cells (column
    /// [`NB201_ARCH_COLUMN`], `|op~input|+|...|` strings as
    /// [`crate::spaces::nb201::Nb201Space`] writes them), the 200-epoch CIFAR-10 test accuracy
    /// (column [`NB201_CIFAR10_ACCURACY`]). Source: NATS-Bench (Dong et al., topology
    /// search space, 200-epoch results), MIT licence; see `data/nb201/README.md`. No
    /// download: the table is compiled into the library (126 kB gzipped).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tnd_nas::objective::{NB201_CIFAR10_ACCURACY, Tabular, TabularTable, WeightedSum};
    /// use tnd_nas::search::{Search, TableSearchConfig};
    /// use tnd_nas::spaces::nb201::Nb201Space;
    ///
    /// let table = Arc::new(TabularTable::nb201_cifar10()?);
    /// assert_eq!(table.len(), 15_625);
    /// let accuracy = Tabular::new(table, NB201_CIFAR10_ACCURACY, "max".parse()?)?;
    /// let best = accuracy.best().unwrap_or(0.0);
    /// let mut search = Search::builder(Nb201Space::new())
    ///     .objective(accuracy)
    ///     .reward(WeightedSum::new(vec![1.0])?)
    ///     .build_table(TableSearchConfig::new(300).with_seed(0))?;
    /// let result = search.run(&mut [])?;
    /// let found = result.best.as_ref().map(|b| b.objectives[0]).unwrap_or(0.0);
    /// println!("best found {found:.2}% of the table's best {best:.2}%");
    /// assert!(found > 93.5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// None in practice: [`ObjectiveError::Io`] or [`ObjectiveError::Csv`] if the
    /// embedded file were damaged.
    pub fn nb201_cifar10() -> Result<Self, ObjectiveError> {
        Self::gzipped(CIFAR10_GZ, SOURCE)
    }

    /// The synflow score (column [`NB201_SYNFLOW`]) of every NAS-Bench-201 cell's network
    /// as the zero-cost-nas protocol scores it (C = 16, N = 5, 10 classes, one all-ones
    /// 3x32x32 image), each network initialised from seed 0 on `Flex` (float32): what
    /// `tnd-nas score --proxy synflow --seed 0` writes, compiled in (229 kB gzipped) so
    /// that zero-training searches of NAS-Bench-201 need not build 15,625 networks. See
    /// `data/nb201/README.md`.
    ///
    /// ```
    /// use tnd_nas::objective::{NB201_SYNFLOW, Tabular, TabularTable};
    /// let table = std::sync::Arc::new(TabularTable::nb201_synflow()?);
    /// assert_eq!(table.len(), 15_625);
    /// let synflow = Tabular::new(table, NB201_SYNFLOW, "max".parse()?)?;
    /// assert_eq!(synflow.value_of("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"), Some(0.0));
    /// # Ok::<(), tnd_nas::objective::ObjectiveError>(())
    /// ```
    ///
    /// # Errors
    /// None in practice: [`ObjectiveError::Io`] or [`ObjectiveError::Csv`] if the
    /// embedded file were damaged.
    pub fn nb201_synflow() -> Result<Self, ObjectiveError> {
        Self::gzipped(SYNFLOW_GZ, "data/nb201/synflow-seed0.csv.gz")
    }

    /// A table from a gzipped CSV compiled into the library.
    fn gzipped(bytes: &[u8], source: &str) -> Result<Self, ObjectiveError> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .map_err(|source_error| ObjectiveError::Io {
                file: source.into(),
                source: source_error,
            })?;
        Self::from_csv(CsvTable::parse(&text, source)?, NB201_ARCH_COLUMN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objective::{Direction, Tabular};

    #[test]
    fn bundled_table_has_every_cell_and_the_known_values() {
        let table = std::sync::Arc::new(TabularTable::nb201_cifar10().unwrap());
        assert_eq!(table.len(), 15_625);
        let acc = Tabular::new(table, NB201_CIFAR10_ACCURACY, Direction::Maximise).unwrap();
        let v = acc
            .value_of("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
            .unwrap();
        assert!((v - 93.66).abs() < 1e-9, "{v}");
        assert!((acc.best().unwrap() - 94.3733).abs() < 1e-3);
    }
}
