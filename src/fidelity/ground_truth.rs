//! A ground truth: architectures trained stand-alone, one CSV row per architecture and
//! seed, read with [`CsvTable`] and extended one durable row at a time.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::FidelityError;
use crate::objective::CsvTable;

/// The columns of a ground-truth file, in order.
pub const GROUND_TRUTH_COLUMNS: [&str; 7] = [
    "arch",
    "params",
    "macs",
    "seed",
    "test_accuracy",
    "train_accuracy",
    "train_seconds",
];

/// One architecture trained with one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruthRow {
    /// The architecture string (NAS-Bench-201 notation for that space).
    pub arch: String,
    /// Trainable parameters of the network trained.
    pub params: u64,
    /// Multiply-accumulates of one forward pass of one image.
    pub macs: u64,
    /// Seed of the training run.
    pub seed: u64,
    /// Test accuracy after training, percent.
    pub test_accuracy: f64,
    /// Training accuracy of the last epoch, percent.
    pub train_accuracy: f64,
    /// Wall-clock seconds of the training run.
    pub train_seconds: f64,
}

impl GroundTruthRow {
    fn line(&self) -> String {
        format!(
            "{},{},{},{},{:.2},{:.2},{:.1}\n",
            self.arch,
            self.params,
            self.macs,
            self.seed,
            self.test_accuracy,
            self.train_accuracy,
            self.train_seconds
        )
    }
}

/// One architecture of a ground truth with its accuracy averaged over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthCell {
    /// The architecture string.
    pub arch: String,
    /// Trainable parameters.
    pub params: u64,
    /// Multiply-accumulates.
    pub macs: u64,
    /// Mean test accuracy over the seeds, percent.
    pub accuracy: f64,
    /// Number of seeds trained.
    pub seeds: usize,
}

/// The rows of a ground-truth file.
///
/// ```
/// use tnd_nas::fidelity::{GroundTruth, GroundTruthRow};
/// let dir = std::env::temp_dir().join(format!("tnd-gt-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("truth.csv");
/// let row = |arch: &str, seed, acc| GroundTruthRow {
///     arch: arch.into(), params: 10, macs: 20, seed, test_accuracy: acc,
///     train_accuracy: 90.0, train_seconds: 1.5 };
/// GroundTruth::append(&path, &row("|a~0|", 0, 80.0))?;
/// GroundTruth::append(&path, &row("|a~0|", 1, 82.0))?;
/// GroundTruth::append(&path, &row("|b~0|", 0, 70.0))?;
/// let truth = GroundTruth::read(&path)?;
/// assert_eq!(truth.rows().len(), 3);
/// assert!(truth.contains("|a~0|", 1));
/// let cells = truth.cells();
/// assert_eq!((cells[0].arch.as_str(), cells[0].accuracy, cells[0].seeds), ("|a~0|", 81.0, 2));
/// assert_eq!(truth.seed_pairs(0, 1), vec![(80.0, 82.0)]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroundTruth {
    rows: Vec<GroundTruthRow>,
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> FidelityError {
    FidelityError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

impl GroundTruth {
    /// Reads a ground-truth file (the header must be [`GROUND_TRUTH_COLUMNS`]).
    ///
    /// # Errors
    /// [`FidelityError::Io`] for a file that cannot be read or has another header;
    /// [`FidelityError::Row`] naming the line of a malformed value or a repeated
    /// architecture and seed.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, FidelityError> {
        let path = path.as_ref();
        let table = CsvTable::from_path(path).map_err(|e| io_error(path, e))?;
        Self::from_table(&table, path)
    }

    fn from_table(table: &CsvTable, path: &Path) -> Result<Self, FidelityError> {
        if table.header() != GROUND_TRUTH_COLUMNS {
            return Err(io_error(
                path,
                format!(
                    "header is `{}`, expected `{}`",
                    table.header().join(","),
                    GROUND_TRUTH_COLUMNS.join(",")
                ),
            ));
        }
        let mut rows: Vec<GroundTruthRow> = Vec::with_capacity(table.len());
        for record in table.rows() {
            let f = &record.fields;
            let bad = |column: usize, what: &str| FidelityError::Row {
                path: path.display().to_string(),
                line: record.line,
                reason: format!(
                    "`{}` = `{}` is not {what}",
                    GROUND_TRUTH_COLUMNS[column], f[column]
                ),
            };
            let int = |c: usize| f[c].parse::<u64>().map_err(|_| bad(c, "a whole number"));
            let num = |c: usize| {
                f[c].parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| bad(c, "a finite number"))
            };
            let row = GroundTruthRow {
                arch: f[0].clone(),
                params: int(1)?,
                macs: int(2)?,
                seed: int(3)?,
                test_accuracy: num(4)?,
                train_accuracy: num(5)?,
                train_seconds: num(6)?,
            };
            if row.arch.is_empty() {
                return Err(bad(0, "an architecture"));
            }
            if rows
                .iter()
                .any(|r| r.arch == row.arch && r.seed == row.seed)
            {
                return Err(FidelityError::Row {
                    path: path.display().to_string(),
                    line: record.line,
                    reason: format!("`{}` with seed {} is there twice", row.arch, row.seed),
                });
            }
            rows.push(row);
        }
        Ok(Self { rows })
    }

    /// Reads `path`, or an empty ground truth if it does not exist yet.
    ///
    /// # Errors
    /// As [`GroundTruth::read`].
    pub fn read_or_empty(path: impl AsRef<Path>) -> Result<Self, FidelityError> {
        let path = path.as_ref();
        if path.exists() {
            Self::read(path)
        } else {
            Ok(Self::default())
        }
    }

    /// Appends one row to `path` (creating it with its header), flushed and synced to
    /// disk before it returns, so a killed run loses at most the row in progress.
    ///
    /// # Errors
    /// [`FidelityError::Io`] naming the file.
    pub fn append(path: impl AsRef<Path>, row: &GroundTruthRow) -> Result<(), FidelityError> {
        let path = path.as_ref();
        let fresh = !path.exists()
            || std::fs::metadata(path)
                .map_err(|e| io_error(path, e))?
                .len()
                == 0;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| io_error(path, e))?;
        let mut text = String::new();
        if fresh {
            text.push_str(&GROUND_TRUTH_COLUMNS.join(","));
            text.push('\n');
        }
        text.push_str(&row.line());
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| io_error(path, e))
    }

    /// The rows in file order.
    pub fn rows(&self) -> &[GroundTruthRow] {
        &self.rows
    }

    /// Whether `arch` was trained with `seed`.
    pub fn contains(&self, arch: &str, seed: u64) -> bool {
        self.rows.iter().any(|r| r.arch == arch && r.seed == seed)
    }

    /// One entry per architecture (in order of first appearance), accuracy averaged
    /// over its seeds.
    pub fn cells(&self) -> Vec<TruthCell> {
        let mut order: Vec<&str> = Vec::new();
        let mut sums: BTreeMap<&str, (f64, usize, u64, u64)> = BTreeMap::new();
        for r in &self.rows {
            let e = sums.entry(&r.arch).or_insert_with(|| {
                order.push(&r.arch);
                (0.0, 0, r.params, r.macs)
            });
            e.0 += r.test_accuracy;
            e.1 += 1;
        }
        order
            .into_iter()
            .map(|arch| {
                let (sum, seeds, params, macs) = sums[arch];
                TruthCell {
                    arch: arch.to_string(),
                    params,
                    macs,
                    accuracy: sum / seeds as f64,
                    seeds,
                }
            })
            .collect()
    }

    /// The accuracies of every architecture trained with both seeds, as
    /// `(accuracy with a, accuracy with b)`, in order of `a`'s rows.
    pub fn seed_pairs(&self, a: u64, b: u64) -> Vec<(f64, f64)> {
        self.rows
            .iter()
            .filter(|r| r.seed == a)
            .filter_map(|r| {
                self.rows
                    .iter()
                    .find(|o| o.seed == b && o.arch == r.arch)
                    .map(|o| (r.test_accuracy, o.test_accuracy))
            })
            .collect()
    }
}
