//! Graphviz DOT drawings of genotypes.
//!
//! [`Genotype::to_dot`] draws the normal and the reduction cell as two clusters of one
//! digraph ([`crate::spaces::nb201::Nb201Genotype::to_dot`] draws the NAS-Bench-201 cell). Render with
//! `dot -Tsvg cell.dot > cell.svg`.

use std::fmt::Write as _;

use super::{CellGenotype, Genotype};
use crate::OpKind;

impl Genotype {
    /// The two cells as one Graphviz digraph with a cluster per cell.
    ///
    /// Each cluster has the cell inputs `c_{k-2}` and `c_{k-1}`, the intermediate nodes
    /// `0 .. n-1`, and the output `c_{k}`; every genotype edge is drawn with its op name as
    /// label, and every concatenated node has an unlabelled, dashed edge into the output.
    /// Node ids carry the cell name (`normal_in0`, `reduce_n2`, `normal_out`, ...) so they
    /// are unique across clusters. `none` edges contribute nothing and are not drawn.
    ///
    /// The genotype is drawn as it is, without validation: an input that names a node the
    /// cell does not have is drawn as an extra node outside the cluster.
    ///
    /// ```
    /// use tnd_nas::Genotype;
    /// let g: Genotype = "TndGenotype(normal=[[('sep_conv_3x3', 0)], [('skip_connect', 2), ('none', 1)]], \
    ///                    normal_concat=[2, 3], reduce=[[('max_pool_3x3', 1)], []], reduce_concat=[2, 3])"
    ///     .parse()?;
    /// let dot = g.to_dot();
    /// assert!(dot.starts_with("digraph genotype {"));
    /// assert!(dot.contains("normal_in0 -> normal_n0 [label=\"sep_conv_3x3\"];"));
    /// assert!(dot.contains("normal_n0 -> normal_n1 [label=\"skip_connect\"];"));
    /// assert!(dot.contains("reduce_in1 -> reduce_n0 [label=\"max_pool_3x3\"];"));
    /// assert!(dot.contains("reduce_n1 -> reduce_out"));
    /// assert!(!dot.contains("none"));
    /// # Ok::<(), tnd_nas::space::SpaceError>(())
    /// ```
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph genotype {\n");
        out.push_str("  rankdir=LR;\n");
        out.push_str("  node [shape=box, style=\"rounded,filled\", fillcolor=lightblue];\n");
        write_cell(&mut out, "normal", "normal cell", &self.normal);
        write_cell(&mut out, "reduce", "reduction cell", &self.reduce);
        out.push_str("}\n");
        out
    }
}

/// Writes one cell as `subgraph cluster_{prefix}`.
fn write_cell(out: &mut String, prefix: &str, title: &str, cell: &CellGenotype) {
    let _ = writeln!(out, "  subgraph cluster_{prefix} {{");
    let _ = writeln!(out, "    label={};", quote(title));
    let _ = writeln!(
        out,
        "    {prefix}_in0 [label=\"c_{{k-2}}\", fillcolor=darkseagreen2];"
    );
    let _ = writeln!(
        out,
        "    {prefix}_in1 [label=\"c_{{k-1}}\", fillcolor=darkseagreen2];"
    );
    for i in 0..cell.nodes.len() {
        let _ = writeln!(out, "    {prefix}_n{i} [label=\"{i}\"];");
    }
    let _ = writeln!(
        out,
        "    {prefix}_out [label=\"c_{{k}}\", fillcolor=palegoldenrod];"
    );
    for (i, inputs) in cell.nodes.iter().enumerate() {
        for edge in inputs.iter().filter(|e| e.op != OpKind::None) {
            let _ = writeln!(
                out,
                "    {} -> {prefix}_n{i} [label={}];",
                node_id(prefix, edge.from),
                quote(edge.op.name())
            );
        }
    }
    for &node in &cell.concat {
        let _ = writeln!(
            out,
            "    {} -> {prefix}_out [style=dashed];",
            node_id(prefix, node)
        );
    }
    out.push_str("  }\n");
}

/// The id of node `index` of a cell (0, 1: inputs; `i + 2`: intermediate node `i`).
fn node_id(prefix: &str, index: usize) -> String {
    match index {
        0 | 1 => format!("{prefix}_in{index}"),
        i => format!("{prefix}_n{}", i - 2),
    }
}

/// `text` as a DOT double-quoted string.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SearchSpace;
    use crate::space::{Architecture, GenotypeEdge};
    use crate::spaces::darts::DartsSpaceConfig;
    use crate::spaces::nb201::Nb201Genotype;

    const DARTS_V2: &str = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

    /// Braces balance (outside quoted strings) and never go negative; quotes are closed.
    fn assert_balanced(dot: &str) {
        let mut depth = 0i64;
        let mut in_str = false;
        let mut escaped = false;
        for c in dot.chars() {
            if in_str {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_str = true,
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    assert!(depth >= 0, "unbalanced braces:\n{dot}");
                }
                _ => {}
            }
        }
        assert!(!in_str, "unterminated string:\n{dot}");
        assert_eq!(depth, 0, "unbalanced braces:\n{dot}");
    }

    /// The labelled edges `(from_id, to_id, label)` of a DOT text as written by this module.
    fn labelled_edges(dot: &str) -> Vec<(String, String, String)> {
        dot.lines()
            .filter_map(|l| {
                let (lhs, rest) = l.trim().split_once(" -> ")?;
                let (to, attrs) = rest.split_once(" [label=\"")?;
                let label = attrs.strip_suffix("\"];")?;
                Some((lhs.to_string(), to.to_string(), label.to_string()))
            })
            .collect()
    }

    /// Node ids declared (`id [label=...]`) in a DOT text.
    fn declared_nodes(dot: &str) -> Vec<String> {
        dot.lines()
            .filter_map(|l| {
                let l = l.trim();
                let (id, _) = l.split_once(" [label=")?;
                (!id.contains("->")).then(|| id.to_string())
            })
            .collect()
    }

    fn check_genotype(g: &Genotype) {
        let dot = g.to_dot();
        assert_balanced(&dot);
        assert!(dot.starts_with("digraph genotype {\n"));
        assert!(dot.contains("subgraph cluster_normal {"));
        assert!(dot.contains("subgraph cluster_reduce {"));
        let nodes = declared_nodes(&dot);
        let mut unique = nodes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), nodes.len(), "duplicate node ids:\n{dot}");
        assert_eq!(
            nodes.len(),
            2 * 3 + g.normal.nodes.len() + g.reduce.nodes.len()
        );
        let mut expected = Vec::new();
        for (prefix, cell) in [("normal", &g.normal), ("reduce", &g.reduce)] {
            for (i, inputs) in cell.nodes.iter().enumerate() {
                for e in inputs.iter().filter(|e| e.op != OpKind::None) {
                    expected.push((
                        node_id(prefix, e.from),
                        format!("{prefix}_n{i}"),
                        e.op.name().to_string(),
                    ));
                }
            }
            for &c in &cell.concat {
                let line = format!("{} -> {prefix}_out [style=dashed];", node_id(prefix, c));
                assert!(dot.contains(&line), "missing {line}:\n{dot}");
            }
            assert_eq!(
                dot.matches(&format!("-> {prefix}_out")).count(),
                cell.concat.len()
            );
        }
        let mut found = labelled_edges(&dot);
        expected.sort();
        found.sort();
        assert_eq!(found, expected, "{dot}");
        // Every edge endpoint is a declared node.
        for (from, to, _) in &found {
            assert!(
                nodes.contains(from) && nodes.contains(to),
                "{from} -> {to}:\n{dot}"
            );
        }
    }

    #[test]
    fn darts_v2_dot() {
        let g: Genotype = DARTS_V2.parse().unwrap();
        check_genotype(&g);
        let dot = g.to_dot();
        assert!(dot.contains("normal_in1 -> normal_n0 [label=\"sep_conv_3x3\"];"));
        assert!(dot.contains("normal_n0 -> normal_n3 [label=\"dil_conv_3x3\"];"));
        assert!(dot.contains("reduce_n0 -> reduce_n3 [label=\"skip_connect\"];"));
        assert!(dot.contains("reduce_in0 [label=\"c_{k-2}\""));
        assert!(dot.contains("reduce_out [label=\"c_{k}\""));
        assert_eq!(labelled_edges(&dot).len(), 16);
    }

    #[test]
    fn space_genotypes_omit_none_edges() {
        for cfg in [DartsSpaceConfig::darts(), DartsSpaceConfig::tnd()] {
            let space = cfg.init().unwrap();
            let ops: Vec<OpKind> = space
                .all_candidates()
                .iter()
                .enumerate()
                .map(|(e, c)| c[(e * 5 + 1) % c.len()])
                .collect();
            let nones = ops.iter().filter(|o| **o == OpKind::None).count();
            assert!(nones > 0);
            let g = space.genotype(&Architecture::new(ops)).unwrap();
            check_genotype(&g);
            assert_eq!(labelled_edges(&g.to_dot()).len(), 28 - nones);
            assert!(!g.to_dot().contains("\"none\""));
        }
    }

    #[test]
    fn explicit_none_edges_and_empty_nodes() {
        let g = Genotype {
            normal: CellGenotype {
                nodes: vec![
                    vec![],
                    vec![
                        GenotypeEdge::new(OpKind::None, 0),
                        GenotypeEdge::new(OpKind::Conv3x3, 2),
                    ],
                    vec![
                        GenotypeEdge::new(OpKind::SepConv5x5, 0),
                        GenotypeEdge::new(OpKind::SkipConnect, 1),
                        GenotypeEdge::new(OpKind::AvgPool3x3, 3),
                    ],
                ],
                concat: vec![2, 3, 4],
            },
            reduce: CellGenotype {
                nodes: vec![vec![GenotypeEdge::new(OpKind::MaxPool3x3, 1)]],
                concat: vec![2],
            },
        };
        check_genotype(&g);
        let dot = g.to_dot();
        assert!(!dot.contains("none"));
        assert_eq!(labelled_edges(&dot).len(), 5);
    }

    #[test]
    fn nb201_dot() {
        let g: Nb201Genotype = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
            .parse()
            .unwrap();
        let dot = g.to_dot();
        assert_balanced(&dot);
        let mut edges = labelled_edges(&dot);
        edges.sort();
        let e = |a: &str, b: &str, l: &str| (a.to_string(), b.to_string(), l.to_string());
        assert_eq!(
            edges,
            vec![
                e("n0", "n1", "nor_conv_3x3"),
                e("n0", "n2", "nor_conv_3x3"),
                e("n0", "n3", "skip_connect"),
                e("n1", "n2", "avg_pool_3x3"),
                e("n2", "n3", "skip_connect"),
            ]
        );
        assert_eq!(declared_nodes(&dot), ["n0", "n1", "n2", "n3"]);
        let all_none = Nb201Genotype {
            ops: [OpKind::None; 6],
        }
        .to_dot();
        assert_balanced(&all_none);
        assert!(labelled_edges(&all_none).is_empty());
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
