//! A NAS-Bench-201 cell as a value ([`Nb201Genotype`]) and its text, the benchmark's
//! architecture strings.

use std::fmt::{self, Write as _};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::OpKind;
use crate::space::{SpaceError, describe_text, dot_quote as quote};

/// The `notation` of errors from parsing an [`Nb201Genotype`].
pub(crate) const NB201_NOTATION: &str = "NAS-Bench-201 string";
/// The ops a NAS-Bench-201 string may name.
const NB201_OPS: [OpKind; 5] = [
    OpKind::None,
    OpKind::SkipConnect,
    OpKind::NorConv1x1,
    OpKind::NorConv3x3,
    OpKind::AvgPool3x3,
];

/// A NAS-Bench-201 cell: one op on each of the 6 edges, in the order
/// `1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2`.
///
/// Prints and parses `|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|...|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Nb201Genotype {
    /// The op of each edge, in string order.
    pub ops: [OpKind; 6],
}

impl fmt::Display for Nb201Genotype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = |i: usize| self.ops[i].name();
        write!(
            f,
            "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|",
            o(0),
            o(1),
            o(2),
            o(3),
            o(4),
            o(5)
        )
    }
}

impl FromStr for Nb201Genotype {
    type Err = SpaceError;

    /// Parses `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` (surrounding whitespace allowed).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |position: usize, message: String| SpaceError::Parse {
            notation: NB201_NOTATION,
            position,
            message,
        };
        let trimmed = s.trim_start();
        let start = s.len() - trimmed.len();
        let body = trimmed.trim_end();
        let mut ops = [OpKind::None; 6];
        let mut slot = 0;
        let mut groups = 0;
        let mut group_pos = start;
        for (g, group) in body.split('+').enumerate() {
            let pos = group_pos;
            group_pos += group.len() + 1;
            let want = g + 1;
            if want > 3 {
                return Err(err(
                    pos.saturating_sub(1),
                    format!(
                        "expected exactly 3 node groups separated by `+`, found {}",
                        body.split('+').count()
                    ),
                ));
            }
            let Some(inner) = group.strip_prefix('|') else {
                return Err(err(
                    pos,
                    format!(
                        "expected `|` opening node group {want}, found {}",
                        describe_text(group)
                    ),
                ));
            };
            let Some(inner) = inner.strip_suffix('|') else {
                return Err(err(
                    pos + group.len(),
                    format!("expected `|` closing node group {want}"),
                ));
            };
            // (byte offset, text) of every `op~index` entry.
            let mut entries = Vec::new();
            if !inner.is_empty() {
                let mut entry_pos = pos + 1;
                for entry in inner.split('|') {
                    entries.push((entry_pos, entry));
                    entry_pos += entry.len() + 1;
                }
            }
            if entries.len() != want {
                let at = entries
                    .get(want)
                    .map_or(pos + group.len().saturating_sub(1), |e| e.0);
                return Err(err(
                    at,
                    format!(
                        "node group {want} must have exactly {want} entries `op~index` \
                         (one per earlier node), found {}",
                        entries.len()
                    ),
                ));
            }
            for (i, (entry_pos, entry)) in entries.into_iter().enumerate() {
                let op = nb201_entry(entry, entry_pos, i, want).map_err(|(at, m)| err(at, m))?;
                if let Some(o) = ops.get_mut(slot) {
                    *o = op;
                }
                slot += 1;
            }
            groups += 1;
        }
        if groups != 3 {
            return Err(err(
                start + body.len(),
                format!("expected exactly 3 node groups separated by `+`, found {groups}"),
            ));
        }
        Ok(Self { ops })
    }
}

/// The op of entry `i` (`op~i`) of node group `want`, starting at byte `entry_pos`; or
/// the byte position and message of the problem.
fn nb201_entry(
    entry: &str,
    entry_pos: usize,
    i: usize,
    want: usize,
) -> Result<OpKind, (usize, String)> {
    let Some((name, index)) = entry.split_once('~') else {
        return Err((
            entry_pos,
            format!(
                "expected `op~{i}`, found {} (missing `~`)",
                describe_text(entry)
            ),
        ));
    };
    let op = nb201_op(name).map_err(|m| (entry_pos, m))?;
    let index_pos = entry_pos + name.len() + 1;
    let from = if !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) {
        index.parse::<usize>().ok()
    } else {
        None
    };
    if from != Some(i) {
        return Err((
            index_pos,
            format!(
                "entry {} of node group {want} must read from node {i} (`~{i}`), found {}",
                i + 1,
                describe_text(index)
            ),
        ));
    }
    Ok(op)
}

/// The NAS-Bench-201 op called `name`, or a message saying why there is none.
fn nb201_op(name: &str) -> Result<OpKind, String> {
    let expected = || {
        NB201_OPS
            .iter()
            .map(|o| o.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name.parse::<OpKind>() {
        Ok(op) if NB201_OPS.contains(&op) => Ok(op),
        Ok(op) => Err(format!(
            "`{op}` is not a NAS-Bench-201 op; expected one of {}",
            expected()
        )),
        Err(_) => Err(format!(
            "unknown op {}; expected one of {}",
            describe_text(name),
            expected()
        )),
    }
}

impl Nb201Genotype {
    /// The cell as a Graphviz digraph: node `0` is the cell input, node `3` its output,
    /// each of the 6 edges is labelled with its op; `none` edges are not drawn.
    ///
    /// ```
    /// use tnd_nas::spaces::nb201::Nb201Genotype;
    /// let g: Nb201Genotype =
    ///     "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|".parse()?;
    /// let dot = g.to_dot();
    /// assert!(dot.starts_with("digraph nb201_cell {"));
    /// assert!(dot.contains("n0 -> n1 [label=\"nor_conv_3x3\"];"));
    /// assert!(dot.contains("n1 -> n2 [label=\"avg_pool_3x3\"];"));
    /// assert!(dot.contains("n2 -> n3 [label=\"nor_conv_1x1\"];"));
    /// assert!(!dot.contains("none"));
    /// # Ok::<(), tnd_nas::space::SpaceError>(())
    /// ```
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph nb201_cell {\n");
        out.push_str("  rankdir=LR;\n");
        out.push_str("  node [shape=box, style=\"rounded,filled\", fillcolor=lightblue];\n");
        out.push_str("  subgraph cluster_cell {\n");
        out.push_str("    label=\"NAS-Bench-201 cell\";\n");
        for node in 0..4 {
            let (label, color) = match node {
                0 => ("0 (input)".to_string(), "darkseagreen2"),
                3 => ("3 (output)".to_string(), "palegoldenrod"),
                n => (n.to_string(), "lightblue"),
            };
            let _ = writeln!(
                out,
                "    n{node} [label={}, fillcolor={color}];",
                quote(&label)
            );
        }
        let mut e = 0;
        for to in 1..4 {
            for from in 0..to {
                let op = self.ops.get(e).copied().unwrap_or(OpKind::None);
                e += 1;
                if op != OpKind::None {
                    let _ = writeln!(out, "    n{from} -> n{to} [label={}];", quote(op.name()));
                }
            }
        }
        out.push_str("  }\n}\n");
        out
    }
}
