//! Objectives read from a benchmark table (NAS-Bench-201 style).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::{CsvTable, Direction, Objective, ObjectiveContext, ObjectiveError};
use crate::Architecture;

/// A benchmark table: a CSV whose column `arch_column` holds architecture strings (as
/// the space's [`crate::SearchSpace::describe`] writes them, e.g. NAS-Bench-201 strings)
/// and whose other columns hold metrics.
///
/// Share one table between several [`Tabular`] objectives with an [`Arc`].
#[derive(Debug, Clone)]
pub struct TabularTable {
    csv: CsvTable,
    arch_column: String,
    index: HashMap<String, usize>,
}

impl TabularTable {
    /// Reads a table from a CSV file.
    ///
    /// # Errors
    /// As [`CsvTable::from_path`] and [`TabularTable::from_csv`].
    pub fn from_path(path: impl AsRef<Path>, arch_column: &str) -> Result<Self, ObjectiveError> {
        Self::from_csv(CsvTable::from_path(path)?, arch_column)
    }

    /// Indexes a parsed CSV by its architecture column.
    ///
    /// # Errors
    /// [`ObjectiveError::UnknownColumn`] if the column is missing; [`ObjectiveError::Csv`]
    /// for a table without rows, or an empty or repeated architecture string (naming both
    /// lines).
    pub fn from_csv(csv: CsvTable, arch_column: &str) -> Result<Self, ObjectiveError> {
        let c = csv.column(arch_column)?;
        if csv.rows().is_empty() {
            return Err(csv.error(1, c, "no rows: the table holds only a header".into()));
        }
        let mut index = HashMap::with_capacity(csv.len());
        for (i, row) in csv.rows().iter().enumerate() {
            let key = row.fields[c].as_str();
            if key.is_empty() {
                return Err(csv.error(row.line, c, "empty architecture string".into()));
            }
            if let Some(prev) = index.insert(key.to_string(), i) {
                return Err(csv.error(
                    row.line,
                    c,
                    format!(
                        "architecture `{key}` already listed on line {}",
                        csv.rows()[prev].line
                    ),
                ));
            }
        }
        Ok(Self {
            csv,
            arch_column: arch_column.to_string(),
            index,
        })
    }

    /// The underlying CSV.
    pub fn csv(&self) -> &CsvTable {
        &self.csv
    }

    /// The name of the architecture column.
    pub fn arch_column(&self) -> &str {
        &self.arch_column
    }

    /// The row index of an architecture string.
    pub fn row_of(&self, arch: &str) -> Option<usize> {
        self.index.get(arch).copied()
    }

    /// Number of architectures listed.
    pub fn len(&self) -> usize {
        self.csv.len()
    }

    /// Whether the table lists no architecture.
    pub fn is_empty(&self) -> bool {
        self.csv.is_empty()
    }
}

/// One metric column of a [`TabularTable`] as an objective: the value of the row whose
/// architecture string equals `ctx.space.describe(arch)`.
///
/// ```
/// use std::sync::Arc;
/// use tnd_nas::objective::{CsvTable, Direction, Objective, ObjectiveContext, ObjectiveError, Tabular, TabularTable};
/// use tnd_nas::spaces::nb201::Nb201Space;
/// use tnd_nas::{Architecture, OpKind, SearchSpace};
///
/// let space = Nb201Space::new();
/// let arch = Architecture::new(vec![OpKind::NorConv3x3; 6]);
/// let text = format!("arch,acc\n{},94.3\n", space.describe(&arch));
/// let table = Arc::new(TabularTable::from_csv(CsvTable::parse(&text, "bench.csv")?, "arch")?);
/// let mut acc = Tabular::new(table, "acc", Direction::Maximise)?;
/// let ctx = ObjectiveContext::new(&space);
/// assert_eq!(acc.evaluate(&arch, &ctx)?, 94.3);
/// let other = Architecture::new(vec![OpKind::None; 6]);
/// assert!(matches!(acc.evaluate(&other, &ctx), Err(ObjectiveError::MissingArchitecture { .. })));
/// # Ok::<(), ObjectiveError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Tabular {
    name: String,
    direction: Direction,
    table: Arc<TabularTable>,
    values: Vec<f64>,
}

impl Tabular {
    /// The objective of column `column`, named after it.
    ///
    /// # Errors
    /// [`ObjectiveError::UnknownColumn`], or [`ObjectiveError::Csv`] naming the first
    /// value of the column that is not a finite number.
    pub fn new(
        table: Arc<TabularTable>,
        column: &str,
        direction: Direction,
    ) -> Result<Self, ObjectiveError> {
        let values = table.csv.numbers(column)?;
        Ok(Self {
            name: column.to_string(),
            direction,
            table,
            values,
        })
    }

    /// Renames the objective (the default name is the column's).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The value of an architecture string, if listed.
    pub fn value_of(&self, arch: &str) -> Option<f64> {
        self.table.row_of(arch).map(|r| self.values[r])
    }

    /// The best value in the column (by the objective's direction).
    pub fn best(&self) -> Option<f64> {
        self.values
            .iter()
            .copied()
            .reduce(|a, b| if self.direction.better(b, a) { b } else { a })
    }
}

impl Objective for Tabular {
    fn name(&self) -> &str {
        &self.name
    }

    fn direction(&self) -> Direction {
        self.direction
    }

    fn evaluate(
        &mut self,
        arch: &Architecture,
        ctx: &ObjectiveContext<'_>,
    ) -> Result<f64, ObjectiveError> {
        let key = ctx.space.describe(arch);
        self.value_of(&key)
            .ok_or_else(|| ObjectiveError::MissingArchitecture {
                file: self.table.csv.source().to_string(),
                arch: key,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_arch_names_both_lines() {
        let csv = CsvTable::parse("arch,acc\nx,1\ny,2\nx,3\n", "b.csv").unwrap();
        let err = TabularTable::from_csv(csv, "arch").unwrap_err().to_string();
        assert_eq!(
            err,
            "b.csv, line 4, column `arch`: architecture `x` already listed on line 2"
        );
    }

    #[test]
    fn best_respects_direction() {
        let csv = CsvTable::parse("arch,acc\nx,1\ny,3\nz,2\n", "b.csv").unwrap();
        let table = Arc::new(TabularTable::from_csv(csv, "arch").unwrap());
        assert_eq!(
            Tabular::new(table.clone(), "acc", Direction::Maximise)
                .unwrap()
                .best(),
            Some(3.0)
        );
        assert_eq!(
            Tabular::new(table.clone(), "acc", Direction::Minimise)
                .unwrap()
                .best(),
            Some(1.0)
        );
        assert!(Tabular::new(table, "loss", Direction::Minimise).is_err());
    }
}
