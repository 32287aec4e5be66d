//! Heatmaps of the policy's probabilities at the end of every stage.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::PlotError;
use super::figure::{DrawResult, Figure, render};
use super::style::{font, text_width};
use crate::OpKind;
use crate::search::{SearchResult, StageSummary};

/// Plots `softmax(alpha)` at the end of every stage of `result` into `path` (`.svg` or
/// `.png`): one heatmap per stage, side by side, rows the edges, columns the ops of the
/// space; each cell coloured and labelled with its probability, ops not active in the
/// stage hatched grey, ops dropped at the stage's end framed red with a cross. Each
/// panel is titled `stage k: N cells, entropy H / max Hmax`.
///
/// ```no_run
/// # fn demo(result: &tnd_nas::SearchResult) -> Result<(), tnd_nas::plot::PlotError> {
/// tnd_nas::plot::alpha(result, std::path::Path::new("out/alpha.svg"))?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`PlotError::NothingToPlot`] when the result has no stage summaries (random search
/// and evolution keep no policy) or no edges; [`PlotError::UnknownFormat`],
/// [`PlotError::Draw`] or [`PlotError::Io`] naming `path`.
pub fn alpha(result: &SearchResult, path: &Path) -> Result<(), PlotError> {
    render(&AlphaFigure::new(result)?, path)
}

/// Pixel sizes of the layout.
const MARGIN: i32 = 20;
const CELL_H: i32 = 24;
const MIN_CELL_W: i32 = 54;
const MIN_PANEL_W: i32 = 360;
const PANEL_GAP: i32 = 36;
const TITLE_H: i32 = 44;
const PANEL_TITLE_H: i32 = 30;
const BAR_W: i32 = 22;
const LEGEND_H: i32 = 44;

/// Probability 0 to 1 as a white-to-dark-blue colour ("Blues").
fn shade(p: f64) -> RGBColor {
    const STOPS: [(f64, (f64, f64, f64)); 5] = [
        (0.0, (247.0, 251.0, 255.0)),
        (0.25, (198.0, 219.0, 239.0)),
        (0.5, (107.0, 174.0, 214.0)),
        (0.75, (33.0, 113.0, 181.0)),
        (1.0, (8.0, 48.0, 107.0)),
    ];
    let p = if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let i = STOPS.iter().rposition(|s| s.0 <= p).unwrap_or(0).min(3);
    let ((p0, c0), (p1, c1)) = (STOPS[i], STOPS[i + 1]);
    let t = (p - p0) / (p1 - p0);
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(mix(c0.0, c1.0), mix(c0.1, c1.1), mix(c0.2, c1.2))
}

const INACTIVE: RGBColor = RGBColor(226, 226, 226);
const HATCH: RGBColor = RGBColor(190, 190, 190);
const DROPPED: RGBColor = RGBColor(214, 39, 40);

struct AlphaFigure {
    title: String,
    ops: Vec<OpKind>,
    edges: Vec<String>,
    /// Row indices before which a separator is drawn (normal | reduce).
    separators: Vec<usize>,
    stages: Vec<StageSummary>,
    label_w: i32,
    col_label_h: i32,
    cell_w: i32,
}

impl AlphaFigure {
    fn new(result: &SearchResult) -> Result<Self, PlotError> {
        if result.stages.is_empty() {
            return Err(PlotError::nothing(
                "alpha",
                format!(
                    "the `{}` strategy reports no stage probabilities",
                    result.strategy
                ),
            ));
        }
        if result.stages.iter().all(|s| s.probabilities.is_empty()) {
            return Err(PlotError::nothing(
                "alpha",
                format!(
                    "the `{}` strategy keeps no policy probabilities",
                    result.strategy
                ),
            ));
        }
        super::font::register()?;
        let rows = result
            .stages
            .iter()
            .map(|s| s.probabilities.len().max(s.active.len()))
            .max()
            .unwrap_or(0);
        if rows == 0 {
            return Err(PlotError::nothing("alpha", "the stages have no edges"));
        }
        let mut ops: Vec<OpKind> = result
            .stages
            .iter()
            .flat_map(|s| s.active.iter().flatten().copied())
            .collect();
        ops.sort();
        ops.dedup();
        let (edges, separators) = edge_labels(result, rows);
        let widest = |texts: &mut dyn Iterator<Item = String>| {
            texts.map(|t| text_width(14, &t)).max().unwrap_or(0)
        };
        let label_w = widest(&mut edges.iter().cloned().chain(["edge".into()])) + 14;
        let col_label_h = widest(&mut ops.iter().map(|o| o.to_string())) + 12;
        let title_w = widest(&mut result.stages.iter().map(Self::panel_title)) + 20;
        let cols = ops.len().max(1) as i32;
        let cell_w = MIN_CELL_W.max((title_w.max(MIN_PANEL_W) + cols - 1) / cols);
        Ok(Self {
            title: format!(
                "{} search: probabilities softmax(alpha) of every edge at the end of each stage",
                result.strategy
            ),
            ops,
            edges,
            separators,
            stages: result.stages.clone(),
            label_w,
            col_label_h,
            cell_w,
        })
    }

    fn panel_w(&self) -> i32 {
        self.cell_w * self.ops.len() as i32
    }

    fn grid_top(&self) -> i32 {
        MARGIN + TITLE_H + PANEL_TITLE_H + self.col_label_h
    }

    fn grid_h(&self) -> i32 {
        CELL_H * self.edges.len() as i32
    }

    fn panel_left(&self, k: usize) -> i32 {
        MARGIN + self.label_w + k as i32 * (self.panel_w() + PANEL_GAP)
    }

    fn panel_title(s: &StageSummary) -> String {
        let entropy = match s.entropy {
            Some(h) => format!("entropy {h:.2} / max {:.2}", s.max_entropy),
            None => format!("max entropy {:.2}", s.max_entropy),
        };
        format!("stage {}: {} cells, {entropy}", s.stage + 1, s.cells)
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        k: usize,
        s: &StageSummary,
    ) -> DrawResult<DB> {
        let left = self.panel_left(k);
        let top = self.grid_top();
        let centre = TextStyle::from(font(16)).pos(Pos::new(HPos::Center, VPos::Center));
        root.draw(&Text::new(
            Self::panel_title(s),
            (
                left + self.panel_w() / 2,
                MARGIN + TITLE_H + PANEL_TITLE_H / 2 - 6,
            ),
            centre,
        ))?;
        let column = TextStyle::from(font(14))
            .pos(Pos::new(HPos::Left, VPos::Center))
            .transform(FontTransform::Rotate270);
        for (c, op) in self.ops.iter().enumerate() {
            let x = left + c as i32 * self.cell_w + self.cell_w / 2;
            root.draw(&Text::new(op.to_string(), (x, top - 6), column.clone()))?;
        }
        for e in 0..self.edges.len() {
            let active = s.active.get(e).map(Vec::as_slice).unwrap_or(&[]);
            let probs = s.probabilities.get(e).map(Vec::as_slice).unwrap_or(&[]);
            let dropped = s.dropped.get(e).map(Vec::as_slice).unwrap_or(&[]);
            for (c, op) in self.ops.iter().enumerate() {
                let x0 = left + c as i32 * self.cell_w;
                let y0 = top + e as i32 * CELL_H;
                let (x1, y1) = (x0 + self.cell_w, y0 + CELL_H);
                match active.iter().position(|a| a == op) {
                    Some(i) => {
                        let p = probs.get(i).copied().unwrap_or(f64::NAN);
                        root.draw(&Rectangle::new([(x0, y0), (x1, y1)], shade(p).filled()))?;
                        let ink = if p > 0.5 { WHITE } else { BLACK };
                        let text = if p.is_finite() {
                            format!("{p:.2}")
                        } else {
                            "?".into()
                        };
                        // Leave room for the cross of a dropped op.
                        let nudge = if dropped.contains(op) { 5 } else { 0 };
                        root.draw(&Text::new(
                            text,
                            ((x0 + x1) / 2 - nudge, (y0 + y1) / 2),
                            TextStyle::from(font(13))
                                .color(&ink)
                                .pos(Pos::new(HPos::Center, VPos::Center)),
                        ))?;
                    }
                    None => hatch(root, (x0, y0), (x1, y1))?,
                }
                if dropped.contains(op) {
                    dropped_mark(root, (x0, y0), (x1, y1))?;
                }
            }
        }
        self.grid_lines(root, left)
    }

    /// Thin white lines between cells, a dark frame, and separators between cell types.
    fn grid_lines<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        left: i32,
    ) -> DrawResult<DB> {
        let top = self.grid_top();
        let (right, bottom) = (left + self.panel_w(), top + self.grid_h());
        root.draw(&Rectangle::new(
            [(left, top), (right, bottom)],
            BLACK.stroke_width(1),
        ))?;
        for &row in &self.separators {
            let y = top + row as i32 * CELL_H;
            root.draw(&PathElement::new(
                vec![(left - 4, y), (right + 4, y)],
                BLACK.stroke_width(2),
            ))?;
        }
        Ok(())
    }

    fn draw_colour_bar<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let x0 = self.panel_left(self.stages.len()) - PANEL_GAP + 30;
        let top = self.grid_top();
        let h = self.grid_h().max(120);
        const BAND: i32 = 3;
        for i in (0..h).step_by(BAND as usize) {
            let p = 1.0 - (i + BAND / 2) as f64 / h as f64;
            let bottom = (top + i + BAND).min(top + h);
            root.draw(&Rectangle::new(
                [(x0, top + i), (x0 + BAR_W, bottom)],
                shade(p).filled(),
            ))?;
        }
        root.draw(&Rectangle::new(
            [(x0, top), (x0 + BAR_W, top + h)],
            BLACK.stroke_width(1),
        ))?;
        let label = TextStyle::from(font(14)).pos(Pos::new(HPos::Left, VPos::Center));
        for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let y = top + ((1.0 - t) * (h - 1) as f64).round() as i32;
            root.draw(&PathElement::new(
                vec![(x0 + BAR_W, y), (x0 + BAR_W + 5, y)],
                BLACK,
            ))?;
            root.draw(&Text::new(
                format!("{t:.2}"),
                (x0 + BAR_W + 8, y),
                label.clone(),
            ))?;
        }
        let title = TextStyle::from(font(14))
            .pos(Pos::new(HPos::Left, VPos::Center))
            .transform(FontTransform::Rotate270);
        root.draw(&Text::new("probability", (x0 + BAR_W / 2, top - 8), title))?;
        Ok(())
    }

    fn draw_legend<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let y = self.grid_top() + self.grid_h().max(120) + 16;
        let x = self.panel_left(0);
        let (w, h) = (self.cell_w.min(40), CELL_H);
        let text = TextStyle::from(font(15)).pos(Pos::new(HPos::Left, VPos::Center));
        hatch(root, (x, y), (x + w, y + h))?;
        root.draw(&Text::new(
            "not active in the stage",
            (x + w + 8, y + h / 2),
            text.clone(),
        ))?;
        let x2 = x + w + 40 + text_width(15, "not active in the stage");
        root.draw(&Rectangle::new(
            [(x2, y), (x2 + w, y + h)],
            shade(0.1).filled(),
        ))?;
        dropped_mark(root, (x2, y), (x2 + w, y + h))?;
        root.draw(&Text::new(
            "dropped at the stage's end",
            (x2 + w + 8, y + h / 2),
            text,
        ))?;
        Ok(())
    }
}

impl Figure for AlphaFigure {
    fn size(&self) -> (u32, u32) {
        let w = self.panel_left(self.stages.len()) - PANEL_GAP + 30 + BAR_W + 60 + MARGIN;
        let h = self.grid_top() + self.grid_h().max(120) + LEGEND_H + MARGIN;
        (w.max(600) as u32, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.draw(&Text::new(
            self.title.as_str(),
            (MARGIN, MARGIN + 8),
            TextStyle::from(font(20)).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        let rows = TextStyle::from(font(14)).pos(Pos::new(HPos::Right, VPos::Center));
        let header = TextStyle::from(font(14)).pos(Pos::new(HPos::Right, VPos::Bottom));
        root.draw(&Text::new(
            "edge",
            (self.panel_left(0) - 8, self.grid_top() - 6),
            header,
        ))?;
        for (e, label) in self.edges.iter().enumerate() {
            let y = self.grid_top() + e as i32 * CELL_H + CELL_H / 2;
            root.draw(&Text::new(
                label.as_str(),
                (self.panel_left(0) - 8, y),
                rows.clone(),
            ))?;
        }
        for (k, s) in self.stages.iter().enumerate() {
            self.draw_panel(root, k, s)?;
        }
        self.draw_colour_bar(root)?;
        self.draw_legend(root)
    }
}

/// A grey cell with diagonal hatching.
fn hatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
) -> DrawResult<DB> {
    root.draw(&Rectangle::new([(x0, y0), (x1, y1)], INACTIVE.filled()))?;
    // Lines x + y = c, clipped to the cell, every 10 px.
    let mut c = x0 + y0 + 10;
    while c < x1 + y1 {
        let (ax, ay) = if c - y1 >= x0 {
            (c - y1, y1)
        } else {
            (x0, c - x0)
        };
        let (bx, by) = if c - x1 >= y0 {
            (x1, c - x1)
        } else {
            (c - y0, y0)
        };
        root.draw(&PathElement::new(vec![(ax, ay), (bx, by)], HATCH))?;
        c += 10;
    }
    Ok(())
}

/// A red frame with a cross in the corner: the op is dropped at the stage's end.
fn dropped_mark<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
) -> DrawResult<DB> {
    let red = DROPPED.stroke_width(2);
    root.draw(&Rectangle::new([(x0 + 1, y0 + 1), (x1 - 1, y1 - 1)], red))?;
    let (cx, cy, r) = (x1 - 7, y0 + 7, 3);
    root.draw(&PathElement::new(
        vec![(cx - r, cy - r), (cx + r, cy + r)],
        red,
    ))?;
    root.draw(&PathElement::new(
        vec![(cx - r, cy + r), (cx + r, cy - r)],
        red,
    ))?;
    Ok(())
}

/// Row labels of `rows` edges, and the rows where a new cell type begins. DARTS
/// results (a genotype) have a normal and a reduction cell, each with the edges into
/// node 2, 3, ... from every earlier node; NAS-Bench-201 results (`|op~0|+...`) have
/// the six edges of one cell. Anything else is numbered.
fn edge_labels(result: &SearchResult, rows: usize) -> (Vec<String>, Vec<usize>) {
    let into = |count: usize, first_target: usize| -> Option<Vec<String>> {
        let mut labels = Vec::new();
        let mut to = first_target;
        while labels.len() < count {
            for from in 0..to {
                labels.push(format!("{to}<-{from}"));
            }
            to += 1;
        }
        (labels.len() == count).then_some(labels)
    };
    let arch = &result.final_architecture;
    if arch.genotype.is_some()
        && rows.is_multiple_of(2)
        && let Some(cell) = into(rows / 2, 2)
    {
        let labels = ["normal", "reduce"]
            .iter()
            .flat_map(|c| cell.iter().map(move |e| format!("{c} {e}")))
            .collect();
        return (labels, vec![rows / 2]);
    }
    if arch.text.starts_with('|')
        && let Some(cell) = into(rows, 1)
    {
        return (cell, Vec::new());
    }
    ((0..rows).map(|e| format!("edge {e}")).collect(), Vec::new())
}
