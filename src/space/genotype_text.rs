//! Text notations of genotypes: DARTS, end-to-end TND, NAS-Bench-201.
//!
//! * DARTS notation, as the DARTS code prints its `Genotype` namedtuple:
//!   `Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=[2, 3, 4, 5],
//!   reduce=[...], reduce_concat=[...])`, two inputs per intermediate node.
//! * End-to-end TND notation, one input list per intermediate node (any in-degree):
//!   `TndGenotype(normal=[[('sep_conv_3x3', 0), ('skip_connect', 1)], [], ...], normal_concat=[...],
//!   reduce=[...], reduce_concat=[...])`.
//! * NAS-Bench-201 strings: `|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|...|`.
//!
//! The parsers accept single or double quotes, any whitespace, trailing commas, the four
//! fields in any order, a dotted prefix (`genotypes.Genotype(...)`) and concat lists written
//! as `range(a, b)`. Errors are [`SpaceError::Parse`] values carrying the byte offset of the
//! offending token, or [`SpaceError::NodeOutOfRange`] for an edge from a node that does not
//! exist yet; the parsers never panic.

use std::fmt::Write as _;
use std::str::FromStr;

use super::{CellGenotype, Genotype, GenotypeEdge, SpaceError};
use crate::OpKind;

/// The `notation` of errors from [`Genotype::parse_darts`].
const DARTS_NOTATION: &str = "DARTS genotype";
/// The `notation` of errors from [`Genotype::parse_tnd`].
const TND_NOTATION: &str = "TND genotype";

/// The longest piece of user text quoted in an error message, in chars.
const SNIPPET_CHARS: usize = 40;

impl Genotype {
    /// Parses DARTS notation.
    ///
    /// ```
    /// use tnd_nas::Genotype;
    /// let text = "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2], \
    ///             reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=range(2, 3))";
    /// let g = Genotype::parse_darts(text)?;
    /// assert_eq!(g.normal.nodes.len(), 1);
    /// assert_eq!(g.reduce.concat, vec![2]);
    /// assert!(Genotype::parse_darts("Genotype(normal=[('sep_conv_9x9', 0)])").is_err());
    /// # Ok::<(), tnd_nas::space::SpaceError>(())
    /// ```
    ///
    /// # Errors
    /// [`SpaceError::Parse`] naming the position and the problem (including an odd number
    /// of edges in a cell, unknown ops, missing fields and concat entries that are not
    /// intermediate nodes), and [`SpaceError::NodeOutOfRange`] for an edge whose input is
    /// not an earlier node.
    pub fn parse_darts(text: &str) -> Result<Self, SpaceError> {
        parse_genotype(text, DARTS_NOTATION, "Genotype", Parser::darts_cell)
    }

    /// Prints DARTS notation.
    ///
    /// # Errors
    /// [`SpaceError::InvalidConfig`] if a node does not have exactly two inputs.
    pub fn to_darts_string(&self) -> Result<String, SpaceError> {
        for (name, cell) in [("normal", &self.normal), ("reduce", &self.reduce)] {
            if let Some((node, inputs)) = cell
                .nodes
                .iter()
                .enumerate()
                .find(|(_, inputs)| inputs.len() != 2)
            {
                return Err(SpaceError::InvalidConfig(format!(
                    "{name} cell, node {node} has {} inputs but DARTS notation needs exactly 2 \
                     per node (print it with to_tnd_string instead)",
                    inputs.len()
                )));
            }
        }
        let mut out = String::from("Genotype(");
        for (name, cell) in [("normal", &self.normal), ("reduce", &self.reduce)] {
            if name == "reduce" {
                out.push_str(", ");
            }
            out.push_str(name);
            out.push_str("=[");
            for (i, edge) in cell.nodes.iter().flatten().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_edge(&mut out, edge);
            }
            out.push_str("], ");
            write_concat(&mut out, name, &cell.concat);
        }
        out.push(')');
        Ok(out)
    }

    /// Parses the end-to-end TND notation.
    ///
    /// ```
    /// use tnd_nas::Genotype;
    /// let text = "TndGenotype(normal=[[('conv_3x3', 0)], []], normal_concat=[2, 3], \
    ///             reduce=[[], [('skip_connect', 2), ('max_pool_3x3', 1), ('none', 0)]], \
    ///             reduce_concat=[2, 3])";
    /// let g = Genotype::parse_tnd(text)?;
    /// assert!(g.normal.nodes[1].is_empty());
    /// assert_eq!(g.reduce.nodes[1].len(), 3);
    /// assert_eq!(g.to_tnd_string(), text);
    /// # Ok::<(), tnd_nas::space::SpaceError>(())
    /// ```
    ///
    /// # Errors
    /// [`SpaceError::Parse`] naming the position and the problem, and
    /// [`SpaceError::NodeOutOfRange`] for an edge whose input is not an earlier node.
    pub fn parse_tnd(text: &str) -> Result<Self, SpaceError> {
        parse_genotype(text, TND_NOTATION, "TndGenotype", Parser::tnd_cell)
    }

    /// Prints the end-to-end TND notation.
    pub fn to_tnd_string(&self) -> String {
        let mut out = String::from("TndGenotype(");
        for (name, cell) in [("normal", &self.normal), ("reduce", &self.reduce)] {
            if name == "reduce" {
                out.push_str(", ");
            }
            out.push_str(name);
            out.push_str("=[");
            for (n, inputs) in cell.nodes.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                out.push('[');
                for (i, edge) in inputs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_edge(&mut out, edge);
                }
                out.push(']');
            }
            out.push_str("], ");
            write_concat(&mut out, name, &cell.concat);
        }
        out.push(')');
        out
    }
}

impl FromStr for Genotype {
    type Err = SpaceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim_start().starts_with("TndGenotype") {
            Self::parse_tnd(s)
        } else {
            Self::parse_darts(s)
        }
    }
}

/// `text` in backticks for an error message, shortened if long.
pub(crate) fn describe_text(text: &str) -> String {
    if text.is_empty() {
        return "nothing".into();
    }
    let mut short: String = text.chars().take(SNIPPET_CHARS).collect();
    if short.len() < text.len() {
        short.push_str("...");
    }
    format!("`{short}`")
}

/// Writes `('op', from)`.
fn write_edge(out: &mut String, edge: &GenotypeEdge) {
    // Writing to a String cannot fail.
    let _ = write!(out, "('{}', {})", edge.op.name(), edge.from);
}

/// Writes `name_concat=[2, 3, 4, 5]`.
fn write_concat(out: &mut String, name: &str, concat: &[usize]) {
    let _ = write!(out, "{name}_concat=[");
    for (i, node) in concat.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{node}");
    }
    out.push(']');
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    /// A Python identifier.
    Ident(&'a str),
    /// The contents of a quoted string.
    Str(&'a str),
    /// A non-negative integer.
    Int(usize),
    /// One of `()[],=.`.
    Punct(char),
    /// The end of the text.
    End,
}

/// A token and the byte offset where it starts.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    tok: Tok<'a>,
    pos: usize,
}

impl Tok<'_> {
    /// The token as an error message names it.
    fn describe(self) -> String {
        match self {
            Tok::Ident(s) => describe_text(s),
            Tok::Str(s) => format!("the string {}", describe_text(s)),
            Tok::Int(n) => format!("`{n}`"),
            Tok::Punct(c) => format!("`{c}`"),
            Tok::End => "the end of the text".into(),
        }
    }
}

/// Splits `text` into tokens; the last one is always [`Tok::End`].
fn lex<'a>(text: &'a str, notation: &'static str) -> Result<Vec<Token<'a>>, SpaceError> {
    let err = |position: usize, message: String| SpaceError::Parse {
        notation,
        position,
        message,
    };
    let slice = |from: usize, to: usize| text.get(from..to).unwrap_or_default();
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((pos, c)) = chars.next() {
        let tok = if c.is_whitespace() {
            continue;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let mut end = pos + c.len_utf8();
            while let Some(&(p, d)) = chars.peek() {
                if !(d.is_ascii_alphanumeric() || d == '_') {
                    break;
                }
                end = p + d.len_utf8();
                chars.next();
            }
            Tok::Ident(slice(pos, end))
        } else if c.is_ascii_digit() {
            let mut end = pos + c.len_utf8();
            while let Some(&(p, d)) = chars.peek() {
                if !d.is_ascii_digit() {
                    break;
                }
                end = p + d.len_utf8();
                chars.next();
            }
            let digits = slice(pos, end);
            let n = digits.parse::<usize>().map_err(|_| {
                err(
                    pos,
                    format!("the number {} is too large", describe_text(digits)),
                )
            })?;
            Tok::Int(n)
        } else if c == '\'' || c == '"' {
            let start = pos + c.len_utf8();
            let end = loop {
                match chars.next() {
                    Some((p, d)) if d == c => break p,
                    Some(_) => {}
                    None => {
                        return Err(err(
                            pos,
                            format!("unterminated string: no closing {c} before the end"),
                        ));
                    }
                }
            };
            Tok::Str(slice(start, end))
        } else if "()[],=.".contains(c) {
            Tok::Punct(c)
        } else {
            return Err(err(pos, format!("unexpected character `{c}`")));
        };
        out.push(Token { tok, pos });
    }
    out.push(Token {
        tok: Tok::End,
        pos: text.len(),
    });
    Ok(out)
}

/// A concat field as written, checked once the cell's node count is known.
enum RawConcat {
    /// `[a, b, ...]`: (node, byte offset) of every entry, and the offset of `[`.
    List(Vec<(usize, usize)>, usize),
    /// `range(start, end)` at a byte offset.
    Range(usize, usize, usize),
}

/// A cell's edges as written, and the offset of its list.
struct RawCell {
    nodes: Vec<Vec<GenotypeEdge>>,
    pos: usize,
}

/// A recursive-descent parser over the tokens of a genotype.
struct Parser<'a> {
    toks: Vec<Token<'a>>,
    next: usize,
    notation: &'static str,
    end: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, notation: &'static str) -> Result<Self, SpaceError> {
        Ok(Self {
            toks: lex(text, notation)?,
            next: 0,
            notation,
            end: text.len(),
        })
    }

    fn err(&self, position: usize, message: impl Into<String>) -> SpaceError {
        SpaceError::Parse {
            notation: self.notation,
            position,
            message: message.into(),
        }
    }

    fn peek(&self) -> Token<'a> {
        self.toks.get(self.next).copied().unwrap_or(Token {
            tok: Tok::End,
            pos: self.end,
        })
    }

    fn bump(&mut self) -> Token<'a> {
        let t = self.peek();
        if self.next < self.toks.len() {
            self.next += 1;
        }
        t
    }

    /// An error at the next token: `expected {expected}, found ...`.
    fn unexpected(&self, expected: &str) -> SpaceError {
        let t = self.peek();
        self.err(
            t.pos,
            format!("expected {expected}, found {}", t.tok.describe()),
        )
    }

    /// Consumes `c` if it is next; returns its offset.
    fn eat(&mut self, c: char) -> Option<usize> {
        let t = self.peek();
        (t.tok == Tok::Punct(c)).then(|| {
            self.bump();
            t.pos
        })
    }

    fn expect(&mut self, c: char, expected: &str) -> Result<usize, SpaceError> {
        self.eat(c).ok_or_else(|| self.unexpected(expected))
    }

    fn ident(&mut self, expected: &str) -> Result<(&'a str, usize), SpaceError> {
        match self.peek() {
            Token {
                tok: Tok::Ident(s),
                pos,
            } => {
                self.bump();
                Ok((s, pos))
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    fn int(&mut self, expected: &str) -> Result<(usize, usize), SpaceError> {
        match self.peek() {
            Token {
                tok: Tok::Int(n),
                pos,
            } => {
                self.bump();
                Ok((n, pos))
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    /// `[item, item, ...]` with an optional trailing comma; returns the items and the
    /// offset of `[`.
    fn list<T>(
        &mut self,
        what: &str,
        mut item: impl FnMut(&mut Self) -> Result<T, SpaceError>,
    ) -> Result<(Vec<T>, usize), SpaceError> {
        let open = self.expect('[', &format!("`[` opening a list of {what}s"))?;
        let mut items = Vec::new();
        loop {
            if self.eat(']').is_some() {
                break;
            }
            items.push(item(self)?);
            if self.eat(',').is_none() {
                self.expect(']', &format!("`,` or `]` after {what}"))?;
                break;
            }
        }
        Ok((items, open))
    }

    /// `('op', from)`.
    fn edge(&mut self) -> Result<GenotypeEdge, SpaceError> {
        self.expect('(', "`(` opening an edge `('op', input)`")?;
        let (name, pos) = match self.peek() {
            Token {
                tok: Tok::Str(s),
                pos,
            } => {
                self.bump();
                (s, pos + 1)
            }
            _ => return Err(self.unexpected("an op name in quotes")),
        };
        let op = name.parse::<OpKind>().map_err(|_| {
            let known = OpKind::ALL
                .iter()
                .map(|o| o.name())
                .collect::<Vec<_>>()
                .join(", ");
            self.err(
                pos,
                format!(
                    "unknown op {}; expected one of {known}",
                    describe_text(name)
                ),
            )
        })?;
        self.expect(',', "`,` after the op name")?;
        let (from, _) = self.int("an input node index")?;
        self.eat(',');
        self.expect(')', "`)` closing the edge")?;
        Ok(GenotypeEdge::new(op, from))
    }

    /// A DARTS cell: a flat list of edges, two per node.
    fn darts_cell(&mut self) -> Result<RawCell, SpaceError> {
        let (edges, pos) = self.list("edge", Self::edge)?;
        if edges.len() % 2 != 0 {
            return Err(self.err(
                pos,
                format!(
                    "DARTS notation needs exactly two edges per node, but this list has {} \
                     (an odd number)",
                    edges.len()
                ),
            ));
        }
        Ok(RawCell {
            nodes: edges.chunks_exact(2).map(<[_]>::to_vec).collect(),
            pos,
        })
    }

    /// A TND cell: a list of input lists, one per node.
    fn tnd_cell(&mut self) -> Result<RawCell, SpaceError> {
        let (nodes, pos) = self.list("node input list", |p| {
            p.list("edge", Self::edge).map(|(edges, _)| edges)
        })?;
        Ok(RawCell { nodes, pos })
    }

    /// `[2, 3, 4, 5]`, `range(2, 6)` or `list(range(2, 6))`.
    fn concat(&mut self) -> Result<RawConcat, SpaceError> {
        let t = self.peek();
        match t.tok {
            Tok::Punct('[') => {
                let (items, open) = self.list("node index", |p| p.int("a node index"))?;
                Ok(RawConcat::List(items, open))
            }
            Tok::Ident("list") => {
                self.bump();
                self.expect('(', "`(` after `list`")?;
                let range = self.range()?;
                self.expect(')', "`)` closing `list(`")?;
                Ok(range)
            }
            Tok::Ident("range") => self.range(),
            _ => Err(self.unexpected("a concat list `[2, 3, ...]` or `range(a, b)`")),
        }
    }

    /// `range(a, b)`.
    fn range(&mut self) -> Result<RawConcat, SpaceError> {
        let (name, pos) = self.ident("`range(a, b)`")?;
        if name != "range" {
            return Err(self.err(
                pos,
                format!("expected `range(a, b)`, found {}", describe_text(name)),
            ));
        }
        self.expect('(', "`(` after `range`")?;
        let (start, _) = self.int("the first node of the range")?;
        self.expect(',', "`,` in `range(a, b)`")?;
        let (end, _) = self.int("the end of the range")?;
        self.eat(',');
        self.expect(')', "`)` closing `range(a, b)`")?;
        Ok(RawConcat::Range(start, end, pos))
    }

    /// Fails unless every token was read.
    fn finish(&self) -> Result<(), SpaceError> {
        match self.peek().tok {
            Tok::End => Ok(()),
            _ => Err(self.unexpected("the end of the text after the genotype")),
        }
    }
}

/// The four fields of a genotype, as written.
#[derive(Default)]
struct RawFields {
    normal: Option<RawCell>,
    normal_concat: Option<RawConcat>,
    reduce: Option<RawCell>,
    reduce_concat: Option<RawConcat>,
}

/// Parses `[prefix.]type_name(normal=..., normal_concat=..., reduce=..., reduce_concat=...)`.
fn parse_genotype<'a>(
    text: &'a str,
    notation: &'static str,
    type_name: &str,
    cell: fn(&mut Parser<'a>) -> Result<RawCell, SpaceError>,
) -> Result<Genotype, SpaceError> {
    let mut p = Parser::new(text, notation)?;
    let opening = format!("`{type_name}(`");
    let (mut name, mut name_pos) = p.ident(&opening)?;
    while p.eat('.').is_some() {
        (name, name_pos) = p.ident(&format!("a name after `.`, such as {opening}"))?;
    }
    if name != type_name {
        return Err(p.err(
            name_pos,
            format!("expected {opening}, found {}", describe_text(name)),
        ));
    }
    p.expect('(', &format!("`(` after `{type_name}`"))?;
    let mut f = RawFields::default();
    let close = loop {
        if let Some(pos) = p.eat(')') {
            break pos;
        }
        let (key, key_pos) =
            p.ident("a field name (normal, normal_concat, reduce, reduce_concat)")?;
        let duplicate = match key {
            "normal" => f.normal.is_some(),
            "normal_concat" => f.normal_concat.is_some(),
            "reduce" => f.reduce.is_some(),
            "reduce_concat" => f.reduce_concat.is_some(),
            _ => {
                return Err(p.err(
                    key_pos,
                    format!(
                        "unknown field {}; expected normal, normal_concat, reduce or reduce_concat",
                        describe_text(key)
                    ),
                ));
            }
        };
        if duplicate {
            return Err(p.err(key_pos, format!("duplicate field `{key}`")));
        }
        p.expect('=', &format!("`=` after `{key}`"))?;
        match key {
            "normal" => f.normal = Some(cell(&mut p)?),
            "reduce" => f.reduce = Some(cell(&mut p)?),
            "normal_concat" => f.normal_concat = Some(p.concat()?),
            _ => f.reduce_concat = Some(p.concat()?),
        }
        if p.eat(',').is_none() {
            break p.expect(')', &format!("`,` or `)` closing `{type_name}(`"))?;
        }
    };
    p.finish()?;
    let missing = |field: &str| p.err(close, format!("missing field `{field}`"));
    let normal = f.normal.ok_or_else(|| missing("normal"))?;
    let normal_concat = f.normal_concat.ok_or_else(|| missing("normal_concat"))?;
    let reduce = f.reduce.ok_or_else(|| missing("reduce"))?;
    let reduce_concat = f.reduce_concat.ok_or_else(|| missing("reduce_concat"))?;
    Ok(Genotype {
        normal: build_cell(&p, "normal", normal, normal_concat)?,
        reduce: build_cell(&p, "reduce", reduce, reduce_concat)?,
    })
}

/// Checks a parsed cell: at least one node, every input an earlier node, every concat
/// entry an intermediate node.
fn build_cell(
    p: &Parser<'_>,
    name: &str,
    raw: RawCell,
    concat: RawConcat,
) -> Result<CellGenotype, SpaceError> {
    let n = raw.nodes.len();
    if n == 0 {
        return Err(p.err(
            raw.pos,
            format!("the {name} cell has no intermediate nodes"),
        ));
    }
    for (node, inputs) in raw.nodes.iter().enumerate() {
        if let Some(edge) = inputs.iter().find(|e| e.from >= node + 2) {
            return Err(SpaceError::NodeOutOfRange {
                cell: name.to_string(),
                node,
                input: edge.from,
                limit: node + 2,
            });
        }
    }
    let limit = n + 2;
    let out_of_range = |v: usize, pos: usize| {
        p.err(
            pos,
            format!(
                "`{name}_concat` entry {v} is not an intermediate node of the {name} cell \
                 (expected 2..{limit}, i.e. 2 to {})",
                limit - 1
            ),
        )
    };
    let concat = match concat {
        RawConcat::List(items, pos) => {
            if items.is_empty() {
                return Err(p.err(pos, format!("`{name}_concat` is empty")));
            }
            if let Some(&(v, pos)) = items.iter().find(|(v, _)| !(2..limit).contains(v)) {
                return Err(out_of_range(v, pos));
            }
            items.into_iter().map(|(v, _)| v).collect()
        }
        RawConcat::Range(start, end, pos) => {
            if start >= end {
                return Err(p.err(
                    pos,
                    format!("`{name}_concat` is empty: range({start}, {end})"),
                ));
            }
            if start < 2 {
                return Err(out_of_range(start, pos));
            }
            if end > limit {
                return Err(out_of_range(end - 1, pos));
            }
            (start..end).collect()
        }
    };
    Ok(CellGenotype {
        nodes: raw.nodes,
        concat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SearchSpace;
    use crate::space::Architecture;
    use crate::spaces::darts::DartsSpaceConfig;
    use crate::spaces::nb201::Nb201Space;
    use crate::spaces::nb201::{NB201_NOTATION, Nb201Genotype};

    const DARTS_V2: &str = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

    const NASNET: &str = "Genotype(normal=[('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 0), ('sep_conv_3x3', 0), ('avg_pool_3x3', 1), ('skip_connect', 0), ('avg_pool_3x3', 0), ('avg_pool_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 1)], normal_concat=[2, 3, 4, 5, 6], reduce=[('sep_conv_5x5', 1), ('sep_conv_7x7', 0), ('max_pool_3x3', 1), ('sep_conv_7x7', 0), ('avg_pool_3x3', 1), ('sep_conv_5x5', 0), ('skip_connect', 3), ('avg_pool_3x3', 2), ('sep_conv_3x3', 2), ('max_pool_3x3', 1)], reduce_concat=[4, 5, 6])";

    /// As written in the DARTS repository's `genotypes.py`.
    const AMOEBANET: &str = "Genotype(
  normal = [
    ('avg_pool_3x3', 0),
    ('max_pool_3x3', 1),
    ('sep_conv_3x3', 0),
    ('sep_conv_5x5', 2),
    ('sep_conv_3x3', 0),
    ('avg_pool_3x3', 3),
    ('sep_conv_3x3', 1),
    ('skip_connect', 1),
    ('skip_connect', 0),
    ('avg_pool_3x3', 1),
    ],
  normal_concat = [4, 5, 6],
  reduce = [
    ('avg_pool_3x3', 0),
    ('sep_conv_3x3', 1),
    ('max_pool_3x3', 0),
    ('sep_conv_7x7', 2),
    ('sep_conv_7x7', 0),
    ('avg_pool_3x3', 1),
    ('max_pool_3x3', 0),
    ('max_pool_3x3', 1),
    ('conv_7x1_1x7', 0),
    ('sep_conv_3x3', 5),
  ],
  reduce_concat = [3, 4, 6]
)";

    const TND: &str = "TndGenotype(normal=[[('sep_conv_3x3', 0), ('skip_connect', 1)], [], [('dil_conv_3x3', 2)], [('conv_3x3', 0)]], normal_concat=[2, 3, 4, 5], reduce=[[('max_pool_3x3', 0)], [('skip_connect', 2), ('max_pool_3x3', 1), ('none', 0)], [], []], reduce_concat=[2, 3, 4, 5])";

    const NB201: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";

    fn parse_err(r: Result<Genotype, SpaceError>) -> (usize, String) {
        match r {
            Err(SpaceError::Parse {
                position, message, ..
            }) => (position, message),
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn darts_v2_prints_byte_for_byte() {
        let g = Genotype::parse_darts(DARTS_V2).unwrap();
        assert_eq!(g.normal.nodes.len(), 4);
        assert_eq!(
            g.normal.nodes[3],
            vec![
                GenotypeEdge::new(OpKind::SkipConnect, 0),
                GenotypeEdge::new(OpKind::DilConv3x3, 2)
            ]
        );
        assert_eq!(g.reduce.concat, vec![2, 3, 4, 5]);
        assert_eq!(g.to_darts_string().unwrap(), DARTS_V2);
        assert_eq!(DARTS_V2.parse::<Genotype>().unwrap(), g);
        // TND notation of the same genotype parses back to it.
        assert_eq!(Genotype::parse_tnd(&g.to_tnd_string()).unwrap(), g);
        assert_eq!(g.to_tnd_string().parse::<Genotype>().unwrap(), g);
    }

    #[test]
    fn nasnet_five_nodes_round_trips() {
        let g = Genotype::parse_darts(NASNET).unwrap();
        assert_eq!(g.normal.nodes.len(), 5);
        assert_eq!(g.normal.concat, vec![2, 3, 4, 5, 6]);
        assert_eq!(g.reduce.concat, vec![4, 5, 6]);
        assert_eq!(
            g.reduce.nodes[3][0],
            GenotypeEdge::new(OpKind::SkipConnect, 3)
        );
        assert_eq!(g.to_darts_string().unwrap(), NASNET);
    }

    #[test]
    fn amoebanet_multiline_with_trailing_commas() {
        let g = Genotype::parse_darts(AMOEBANET).unwrap();
        assert_eq!(
            g.reduce.nodes[4][0],
            GenotypeEdge::new(OpKind::Conv7x1x1x7, 0)
        );
        assert_eq!(
            g.reduce.nodes[4][1],
            GenotypeEdge::new(OpKind::SepConv3x3, 5)
        );
        assert_eq!(g.reduce.concat, vec![3, 4, 6]);
        let printed = g.to_darts_string().unwrap();
        assert!(printed.contains("('conv_7x1_1x7', 0)"));
        assert_eq!(Genotype::parse_darts(&printed).unwrap(), g);
    }

    #[test]
    fn darts_variants_accepted() {
        let g = Genotype::parse_darts(DARTS_V2).unwrap();
        let double = DARTS_V2.replace('\'', "\"");
        assert_eq!(Genotype::parse_darts(&double).unwrap(), g);
        let ranged = DARTS_V2.replace("[2, 3, 4, 5]", "range(2, 6)");
        assert_eq!(Genotype::parse_darts(&ranged).unwrap(), g);
        let listed = DARTS_V2.replace("[2, 3, 4, 5]", "list(range(2,6))");
        assert_eq!(Genotype::parse_darts(&listed).unwrap(), g);
        let prefixed = format!("  genotypes.{DARTS_V2}\n");
        assert_eq!(Genotype::parse_darts(&prefixed).unwrap(), g);
        assert_eq!(prefixed.parse::<Genotype>().unwrap(), g);
        let spaced = DARTS_V2.replace(", ", " ,\n\t").replace('=', " = ");
        assert_eq!(Genotype::parse_darts(&spaced).unwrap(), g);
        // Fields in another order.
        let reordered = format!(
            "Genotype(reduce_concat=[2, 3, 4, 5], reduce={}, normal_concat=[2, 3, 4, 5], normal={},)",
            "[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)]",
            "[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)]",
        );
        assert_eq!(Genotype::parse_darts(&reordered).unwrap(), g);
    }

    #[test]
    fn tnd_round_trips() {
        let g = Genotype::parse_tnd(TND).unwrap();
        assert!(g.normal.nodes[1].is_empty());
        assert_eq!(g.reduce.nodes[1].len(), 3);
        assert_eq!(g.to_tnd_string(), TND);
        assert_eq!(TND.parse::<Genotype>().unwrap(), g);
        assert!(matches!(
            g.to_darts_string(),
            Err(SpaceError::InvalidConfig(_))
        ));
    }

    #[test]
    fn darts_space_describe_parses_back() {
        for cfg in [DartsSpaceConfig::darts(), DartsSpaceConfig::tnd()] {
            let space = cfg.init().unwrap();
            let ops: Vec<OpKind> = space
                .all_candidates()
                .iter()
                .enumerate()
                .map(|(e, c)| c[(e * 7 + 3) % c.len()])
                .collect();
            let arch = Architecture::new(ops);
            let g = space.genotype(&arch).unwrap();
            let text = space.describe(&arch);
            assert_eq!(text.parse::<Genotype>().unwrap(), g);
        }
    }

    #[test]
    fn nb201_round_trips() {
        let g: Nb201Genotype = NB201.parse().unwrap();
        assert_eq!(g.ops[0], OpKind::NorConv3x3);
        assert_eq!(g.ops[2], OpKind::AvgPool3x3);
        assert_eq!(g.ops[5], OpKind::SkipConnect);
        assert_eq!(g.to_string(), NB201);
        assert_eq!(format!(" {NB201}\n").parse::<Nb201Genotype>().unwrap(), g);
        let space = Nb201Space::new();
        let arch = space.parse(NB201).unwrap();
        assert_eq!(space.describe(&arch), NB201);
    }

    fn nb201_err(text: &str) -> (usize, String) {
        match text.parse::<Nb201Genotype>() {
            Err(SpaceError::Parse {
                notation,
                position,
                message,
            }) => {
                assert_eq!(notation, NB201_NOTATION);
                assert!(position <= text.len());
                (position, message)
            }
            other => panic!("expected a parse error for {text:?}, got {other:?}"),
        }
    }

    #[test]
    fn nb201_errors() {
        // Unknown op, pointing at it.
        let bad = NB201.replace("avg_pool_3x3", "avg_pool_9x9");
        let (pos, msg) = nb201_err(&bad);
        assert!(bad[pos..].starts_with("avg_pool_9x9"), "{msg}");
        assert!(msg.contains("avg_pool_9x9"), "{msg}");
        // A DARTS op is not a NAS-Bench-201 op.
        let darts = NB201.replacen("nor_conv_3x3", "sep_conv_3x3", 1);
        let (pos, msg) = nb201_err(&darts);
        assert_eq!(pos, 1);
        assert!(msg.contains("not a NAS-Bench-201 op"), "{msg}");
        // Missing `~`.
        let (pos, msg) =
            nb201_err("|nor_conv_3x3~0|+|nor_conv_3x30|avg_pool_3x3~1|+|none~0|none~1|none~2|");
        assert_eq!(pos, 18);
        assert!(msg.contains('~'), "{msg}");
        // Wrong index.
        let (pos, msg) = nb201_err("|none~0|+|none~0|none~2|+|none~0|none~1|none~2|");
        assert_eq!(pos, 22);
        assert!(msg.contains("node 1"), "{msg}");
        let (pos, _) = nb201_err("|none~0|+|none~0|none~|+|none~0|none~1|none~2|");
        assert_eq!(pos, 22);
        // Wrong entry counts.
        let (pos, msg) = nb201_err("|none~0|+|none~0|+|none~0|none~1|none~2|");
        assert!(msg.contains("exactly 2 entries"), "{msg}");
        assert_eq!(pos, 16);
        let (pos, _) = nb201_err("|none~0|none~1|+|none~0|none~1|+|none~0|none~1|none~2|");
        assert_eq!(pos, 8);
        let (_, msg) = nb201_err("||+|none~0|none~1|+|none~0|none~1|none~2|");
        assert!(msg.contains("found 0"), "{msg}");
        // Wrong group counts.
        let (pos, msg) = nb201_err("|none~0|+|none~0|none~1|");
        assert_eq!(pos, 24);
        assert!(msg.contains("3 node groups"), "{msg}");
        let (pos, _) = nb201_err(&format!("{NB201}+|none~0|"));
        assert_eq!(pos, NB201.len());
        // Missing bars, empty text, garbage.
        nb201_err("none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
        nb201_err("|none~0+|none~0|none~1|+|none~0|none~1|none~2|");
        nb201_err("");
        nb201_err("   ");
        nb201_err("|");
        nb201_err("+++");
        nb201_err("|~|+|~|~|+|~|~|~|");
        nb201_err("|none~99999999999999999999999|+|none~0|none~1|+|none~0|none~1|none~2|");
        nb201_err("|é~0|+|none~0|none~1|+|none~0|none~1|none~2|");
    }

    #[test]
    fn unknown_op_is_named_and_located() {
        let bad = DARTS_V2.replacen("dil_conv_3x3", "dil_conv_9x9", 1);
        let (pos, msg) = parse_err(Genotype::parse_darts(&bad));
        assert!(bad[pos..].starts_with("dil_conv_9x9"), "{pos}: {msg}");
        assert!(msg.contains("unknown op `dil_conv_9x9`"), "{msg}");
        let bad_tnd = TND.replacen("'conv_3x3'", "\"conv_4x4\"", 1);
        let (pos, msg) = parse_err(Genotype::parse_tnd(&bad_tnd));
        assert!(bad_tnd[pos..].starts_with("conv_4x4\""), "{msg}");
        assert!(msg.contains("unknown op `conv_4x4`"), "{msg}");
    }

    #[test]
    fn node_out_of_range() {
        // Node 0 (first pair) may only read 0 and 1.
        let bad = DARTS_V2.replacen("('sep_conv_3x3', 1)", "('sep_conv_3x3', 2)", 1);
        assert_eq!(
            Genotype::parse_darts(&bad),
            Err(SpaceError::NodeOutOfRange {
                cell: "normal".into(),
                node: 0,
                input: 2,
                limit: 2
            })
        );
        let bad = DARTS_V2.replace(
            "('max_pool_3x3', 1)], reduce_concat",
            "('max_pool_3x3', 6)], reduce_concat",
        );
        assert_eq!(
            Genotype::parse_darts(&bad),
            Err(SpaceError::NodeOutOfRange {
                cell: "reduce".into(),
                node: 3,
                input: 6,
                limit: 5
            })
        );
        let bad = TND.replacen("('dil_conv_3x3', 2)", "('dil_conv_3x3', 4)", 1);
        assert!(matches!(
            Genotype::parse_tnd(&bad),
            Err(SpaceError::NodeOutOfRange {
                node: 2,
                input: 4,
                ..
            })
        ));
    }

    #[test]
    fn structural_errors() {
        // Odd edge count.
        let odd = DARTS_V2.replacen("('sep_conv_3x3', 0), ", "", 1);
        let (pos, msg) = parse_err(Genotype::parse_darts(&odd));
        assert!(odd[pos..].starts_with("[('sep_conv_3x3', 1)"), "{msg}");
        assert!(msg.contains("odd"), "{msg}");
        // Missing field.
        let missing = DARTS_V2.replace(", normal_concat=[2, 3, 4, 5]", "");
        let (pos, msg) = parse_err(Genotype::parse_darts(&missing));
        assert_eq!(pos, missing.len() - 1);
        assert!(msg.contains("missing field `normal_concat`"), "{msg}");
        // Duplicate and unknown fields.
        let dup = DARTS_V2.replace("reduce_concat", "normal_concat");
        let (_, msg) = parse_err(Genotype::parse_darts(&dup));
        assert!(msg.contains("duplicate field `normal_concat`"), "{msg}");
        let unknown = DARTS_V2.replace("reduce_concat", "reduction_concat");
        let (pos, msg) = parse_err(Genotype::parse_darts(&unknown));
        assert!(unknown[pos..].starts_with("reduction_concat"), "{msg}");
        // Concat entries must be intermediate nodes.
        let concat = DARTS_V2.replacen("[2, 3, 4, 5]", "[2, 3, 4, 6]", 1);
        let (pos, msg) = parse_err(Genotype::parse_darts(&concat));
        assert!(concat[pos..].starts_with("6]"), "{msg}");
        for bad in ["[1, 2]", "[]", "range(2, 7)", "range(1, 6)", "range(4, 4)"] {
            let text = DARTS_V2.replacen("[2, 3, 4, 5]", bad, 1);
            parse_err(Genotype::parse_darts(&text));
        }
        // Empty cell.
        let (_, msg) = parse_err(Genotype::parse_tnd(
            "TndGenotype(normal=[], normal_concat=[2], reduce=[[]], reduce_concat=[2])",
        ));
        assert!(msg.contains("no intermediate nodes"), "{msg}");
        // Wrong notation name.
        let (pos, _) = parse_err(Genotype::parse_darts(TND));
        assert_eq!(pos, 0);
        let (pos, _) = parse_err(Genotype::parse_tnd(DARTS_V2));
        assert_eq!(pos, 0);
        // TND lists in DARTS notation and vice versa.
        parse_err(Genotype::parse_darts(&TND.replacen(
            "TndGenotype",
            "Genotype",
            1,
        )));
        parse_err(Genotype::parse_tnd(&format!("Tnd{DARTS_V2}")));
        // Trailing text.
        let (pos, _) = parse_err(Genotype::parse_darts(&format!("{DARTS_V2})")));
        assert_eq!(pos, DARTS_V2.len());
        // Negative and huge numbers.
        parse_err(Genotype::parse_darts(
            &DARTS_V2.replacen(", 0)", ", -1)", 1),
        ));
        parse_err(Genotype::parse_darts(&DARTS_V2.replacen(
            ", 0)",
            ", 99999999999999999999999999)",
            1,
        )));
        // Unterminated string, unexpected characters.
        parse_err(Genotype::parse_darts("Genotype(normal=[('sep_conv_3x3, 0)"));
        parse_err(Genotype::parse_darts(
            "Genotype(normal=[('sep_conv_3x3', 0)]; ",
        ));
        parse_err(Genotype::parse_darts("Génotype()"));
    }

    #[test]
    fn truncated_and_garbage_never_panic() {
        for text in [DARTS_V2, NASNET, AMOEBANET, TND] {
            for (i, _) in text.char_indices() {
                assert!(
                    text[..i].parse::<Genotype>().is_err(),
                    "prefix {i} of {text}"
                );
                let _ = Genotype::parse_darts(&text[i..]);
                let _ = Genotype::parse_tnd(&text[i..]);
            }
        }
        for (i, _) in NB201.char_indices() {
            assert!(NB201[..i].parse::<Nb201Genotype>().is_err());
            let _ = NB201[i..].parse::<Nb201Genotype>();
        }
        for garbage in [
            "",
            " ",
            "Genotype",
            "Genotype(",
            "Genotype()",
            "Genotype(normal",
            "Genotype(normal=",
            "Genotype(normal=[(",
            "Genotype(normal=[('",
            "Genotype(normal=[('none'",
            "TndGenotype(normal=[[",
            ")(][,,==..",
            "'\"",
            "\u{0}\u{ffff}🦀",
            "||||++++~~~~",
        ] {
            assert!(garbage.parse::<Genotype>().is_err(), "{garbage:?}");
            assert!(garbage.parse::<Nb201Genotype>().is_err(), "{garbage:?}");
        }
    }

    #[test]
    fn errors_display_position() {
        let err = Genotype::parse_darts("Genotype(x=1)").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("DARTS genotype"), "{text}");
        assert!(text.contains("byte 9"), "{text}");
    }
}
