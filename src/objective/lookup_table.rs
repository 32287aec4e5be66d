//! Per-op cost tables (latency, energy) summed over an architecture.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::{CsvTable, Direction, Objective, ObjectiveContext, ObjectiveError};
use crate::{Architecture, OpKind};

/// A cost model of a target device, as ProxylessNAS and FBNet use for latency and
/// energy: every (op, position) has a measured cost and an architecture costs `base` plus
/// the sum of its edges' costs. Minimised by default.
///
/// The cost of op `o` on edge `e` (of cell type `c`) is the first of: an entry for edge
/// `e` and `o`; an entry for cell type `c` and `o`; an entry for `o` alone. An op with
/// none of these is an error that names it ([`ObjectiveError::UnknownOps`]) — list
/// `none` with cost 0 if it is free.
///
/// Files: CSV with columns `op`, `cost` and optionally `edge` (index into the space's
/// edges) and `cell` (cell-type name), one of the two or neither per row; a row with op
/// `base` sets the constant. JSON: `{"base": 0.5, "costs": [{"op": "sep_conv_3x3",
/// "cost": 1.2, "edge": 3}, ...]}` or just the list.
///
/// ```
/// use tnd_nas::objective::{LookupTable, Objective, ObjectiveContext, ObjectiveError};
/// use tnd_nas::spaces::nb201::Nb201Space;
/// use tnd_nas::{Architecture, OpKind};
/// let csv = "op,cost,edge\nnone,0,\nskip_connect,0.1,\nnor_conv_3x3,2.0,\nnor_conv_3x3,3.0,0\nbase,1.0,\n";
/// let mut latency = LookupTable::from_csv_str(csv, "phone.csv", "latency_ms")?;
/// let space = Nb201Space::new();
/// let ctx = ObjectiveContext::new(&space);
/// let arch = Architecture::new(vec![OpKind::NorConv3x3, OpKind::NorConv3x3, OpKind::None,
///     OpKind::SkipConnect, OpKind::None, OpKind::None]);
/// assert!((latency.evaluate(&arch, &ctx)? - (1.0 + 3.0 + 2.0 + 0.1)).abs() < 1e-12);
/// let pool = Architecture::new(vec![OpKind::AvgPool3x3; 6]);
/// assert!(latency.evaluate(&pool, &ctx).unwrap_err().to_string().contains("avg_pool_3x3 (edge 0"));
/// # Ok::<(), ObjectiveError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LookupTable {
    name: String,
    direction: Direction,
    base: f64,
    by_edge: HashMap<(usize, OpKind), f64>,
    by_cell: HashMap<(String, OpKind), f64>,
    by_op: HashMap<OpKind, f64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonTable {
    List(Vec<JsonEntry>),
    Full {
        #[serde(default)]
        base: f64,
        costs: Vec<JsonEntry>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonEntry {
    op: String,
    cost: f64,
    #[serde(default)]
    edge: Option<usize>,
    #[serde(default)]
    cell: Option<String>,
}

impl LookupTable {
    /// An empty table named `name` (minimised, base cost 0).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            direction: Direction::Minimise,
            base: 0.0,
            by_edge: HashMap::new(),
            by_cell: HashMap::new(),
            by_op: HashMap::new(),
        }
    }

    crate::setters! {
        /// Sets the direction (minimise by default).
        with_direction => direction: Direction;
        /// Sets the constant cost added to every architecture (stem, head).
        with_base => base: f64;
    }

    /// Sets the cost of `op` wherever no more specific entry exists.
    pub fn with_cost(mut self, op: OpKind, cost: f64) -> Self {
        self.by_op.insert(op, cost);
        self
    }

    /// Sets the cost of `op` on the edges of one cell type.
    pub fn with_cell_cost(mut self, cell: impl Into<String>, op: OpKind, cost: f64) -> Self {
        self.by_cell.insert((cell.into(), op), cost);
        self
    }

    /// Sets the cost of `op` on edge `edge`.
    pub fn with_edge_cost(mut self, edge: usize, op: OpKind, cost: f64) -> Self {
        self.by_edge.insert((edge, op), cost);
        self
    }

    /// Reads a CSV file (see the type's docs for the columns).
    ///
    /// # Errors
    /// As [`LookupTable::from_csv`].
    pub fn from_csv_path(
        path: impl AsRef<Path>,
        name: impl Into<String>,
    ) -> Result<Self, ObjectiveError> {
        Self::from_csv(&CsvTable::from_path(path)?, name)
    }

    /// Parses CSV text; `source` names it in errors.
    ///
    /// # Errors
    /// As [`LookupTable::from_csv`].
    pub fn from_csv_str(
        text: &str,
        source: &str,
        name: impl Into<String>,
    ) -> Result<Self, ObjectiveError> {
        Self::from_csv(&CsvTable::parse(text, source)?, name)
    }

    /// Builds the table from parsed CSV.
    ///
    /// # Errors
    /// [`ObjectiveError::UnknownColumn`] without `op` or `cost`; [`ObjectiveError::Csv`]
    /// for an unknown op name, a cost that is not a finite number, a bad edge index, a row
    /// with both `edge` and `cell`, or a repeated entry.
    pub fn from_csv(csv: &CsvTable, name: impl Into<String>) -> Result<Self, ObjectiveError> {
        let op_c = csv.column("op")?;
        let cost_c = csv.column("cost")?;
        let edge_c = csv.column("edge").ok();
        let cell_c = csv.column("cell").ok();
        let costs = csv.numbers("cost")?;
        let mut table = Self::new(name);
        let mut base_seen = false;
        for (row, cost) in csv.rows().iter().zip(costs) {
            let get =
                |c: Option<usize>| c.map(|c| row.fields[c].as_str()).filter(|s| !s.is_empty());
            let op_text = row.fields[op_c].as_str();
            let edge = match get(edge_c) {
                None => None,
                Some(text) => Some(text.parse::<usize>().map_err(|_| {
                    csv.error(
                        row.line,
                        edge_c.unwrap_or(0),
                        format!("`{text}` is not an edge index"),
                    )
                })?),
            };
            let cell = get(cell_c);
            if op_text == "base" {
                if edge.is_some() || cell.is_some() || base_seen {
                    return Err(csv.error(
                        row.line,
                        op_c,
                        "`base` must appear once, without edge or cell".into(),
                    ));
                }
                base_seen = true;
                table.base = cost;
                continue;
            }
            let op: OpKind = op_text
                .parse()
                .map_err(|_| csv.error(row.line, op_c, format!("unknown op name `{op_text}`")))?;
            table
                .insert(op, cost, edge, cell)
                .map_err(|msg| csv.error(row.line, cost_c, msg))?;
        }
        Ok(table)
    }

    /// Reads a JSON file (see the type's docs for the layout).
    ///
    /// # Errors
    /// As [`LookupTable::from_json_str`], or [`ObjectiveError::Io`].
    pub fn from_json_path(
        path: impl AsRef<Path>,
        name: impl Into<String>,
    ) -> Result<Self, ObjectiveError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ObjectiveError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        Self::from_json_str(&text, &path.display().to_string(), name)
    }

    /// Parses JSON text; `source` names it in errors.
    ///
    /// # Errors
    /// [`ObjectiveError::Json`] for malformed JSON, an unknown op name, a non-finite cost,
    /// a row with both `edge` and `cell`, or a repeated entry (naming the entry's index).
    pub fn from_json_str(
        text: &str,
        source: &str,
        name: impl Into<String>,
    ) -> Result<Self, ObjectiveError> {
        let json_err = |message: String| ObjectiveError::Json {
            file: source.to_string(),
            message,
        };
        let parsed: JsonTable = serde_json::from_str(text).map_err(|e| json_err(e.to_string()))?;
        let (base, entries) = match parsed {
            JsonTable::List(entries) => (0.0, entries),
            JsonTable::Full { base, costs } => (base, costs),
        };
        if !base.is_finite() {
            return Err(json_err(format!("base cost {base} is not finite")));
        }
        let mut table = Self::new(name).with_base(base);
        for (i, entry) in entries.into_iter().enumerate() {
            let op: OpKind = entry
                .op
                .parse()
                .map_err(|_| json_err(format!("costs[{i}]: unknown op name `{}`", entry.op)))?;
            table
                .insert(op, entry.cost, entry.edge, entry.cell.as_deref())
                .map_err(|msg| json_err(format!("costs[{i}]: {msg}")))?;
        }
        Ok(table)
    }

    fn insert(
        &mut self,
        op: OpKind,
        cost: f64,
        edge: Option<usize>,
        cell: Option<&str>,
    ) -> Result<(), String> {
        if !cost.is_finite() {
            return Err(format!("cost {cost} is not finite"));
        }
        let fresh = match (edge, cell) {
            (Some(_), Some(_)) => return Err("give either an edge or a cell type, not both".into()),
            (Some(e), None) => self.by_edge.insert((e, op), cost).is_none(),
            (None, Some(c)) => self.by_cell.insert((c.to_string(), op), cost).is_none(),
            (None, None) => self.by_op.insert(op, cost).is_none(),
        };
        if fresh {
            Ok(())
        } else {
            Err(format!("a second cost for `{op}` at the same position"))
        }
    }

    /// The cost of `op` on edge `edge` of cell type `cell`, if the table has one.
    pub fn cost(&self, edge: usize, cell: &str, op: OpKind) -> Option<f64> {
        self.by_edge
            .get(&(edge, op))
            .or_else(|| self.by_cell.get(&(cell.to_string(), op)))
            .or_else(|| self.by_op.get(&op))
            .copied()
    }

    /// The constant part of every architecture's cost.
    pub fn base(&self) -> f64 {
        self.base
    }
}

impl Objective for LookupTable {
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
        ctx.space.validate(arch)?;
        let types = ctx.space.cell_types();
        let mut total = self.base;
        let mut missing = Vec::new();
        for (e, (edge, &op)) in ctx.space.edges().iter().zip(arch.ops()).enumerate() {
            let cell = types.get(edge.cell).map_or("", String::as_str);
            match self.cost(e, cell, op) {
                Some(c) => total += c,
                None => missing.push(format!("{op} (edge {e}, {cell} cell)")),
            }
        }
        if missing.is_empty() {
            Ok(total)
        } else {
            Err(ObjectiveError::UnknownOps {
                table: self.name.clone(),
                missing: missing.join(", "),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SearchSpace;
    use crate::space::OpSet;
    use crate::spaces::darts::DartsSpaceConfig;

    #[test]
    fn precedence_edge_cell_op() {
        let space = DartsSpaceConfig::new(OpSet::darts(), OpSet::darts())
            .init()
            .unwrap();
        let json = r#"{"base": 2, "costs": [
            {"op": "none", "cost": 0},
            {"op": "skip_connect", "cost": 1},
            {"op": "skip_connect", "cell": "reduce", "cost": 10},
            {"op": "skip_connect", "edge": 14, "cost": 100}
        ]}"#;
        let mut t = LookupTable::from_json_str(json, "t.json", "lat").unwrap();
        let mut ops = vec![OpKind::None; 28];
        ops[0] = OpKind::SkipConnect; // normal: 1
        ops[14] = OpKind::SkipConnect; // edge override: 100
        ops[15] = OpKind::SkipConnect; // reduce: 10
        let v = t
            .evaluate(&Architecture::new(ops), &ObjectiveContext::new(&space))
            .unwrap();
        assert_eq!(v, 2.0 + 1.0 + 100.0 + 10.0);
        assert_eq!(space.cell_types()[1], "reduce");
    }

    #[test]
    fn unknown_ops_all_named() {
        let space = crate::spaces::nb201::Nb201Space::new();
        let mut t = LookupTable::new("lat").with_cost(OpKind::None, 0.0);
        let mut ops = vec![OpKind::None; 6];
        ops[2] = OpKind::NorConv1x1;
        ops[5] = OpKind::AvgPool3x3;
        let err = t
            .evaluate(&Architecture::new(ops), &ObjectiveContext::new(&space))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "lookup table `lat` has no cost for: nor_conv_1x1 (edge 2, cell cell), avg_pool_3x3 (edge 5, cell cell)"
        );
    }

    #[test]
    fn file_errors_are_located() {
        let e = LookupTable::from_csv_str("op,cost\nnone,0\nsep_conv_9x9,1\n", "d.csv", "x")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "d.csv, line 3, column `op`: unknown op name `sep_conv_9x9`"
        );
        let e = LookupTable::from_csv_str("op,cost\nnone,0\nnone,1\n", "d.csv", "x").unwrap_err();
        assert!(e.to_string().starts_with("d.csv, line 3"), "{e}");
        let e = LookupTable::from_csv_str("op,cost,edge,cell\nnone,0,1,normal\n", "d.csv", "x")
            .unwrap_err();
        assert!(e.to_string().contains("not both"), "{e}");
        let e = LookupTable::from_json_str(
            r#"[{"op":"none","cost":0},{"op":"zap","cost":1}]"#,
            "d.json",
            "x",
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "d.json: costs[1]: unknown op name `zap`");
        assert!(LookupTable::from_json_str("[{", "d.json", "x").is_err());
    }
}
