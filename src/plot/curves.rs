//! Training and policy curves from a search's event log.

use std::ops::Range;
use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::RGBColor;

use super::PlotError;
use super::figure::{DrawResult, Figure, render};
use super::style::{BEST, GUIDE, STAGE_COLOURS, bounds, emptiest_corner, font, padded, tick};
use crate::search::{AlphaRecord, SearchEvent, StepRecord};

/// Plots the curves of a search's events (read with [`crate::plot::read_log`]) into
/// `path` (`.svg` or `.png`): the supernet's training loss and train accuracy against
/// the global step, and the reward (mean and max of each scored batch) and the policy
/// entropy after each batch's update against the batch's number; a panel appears only when the log has its data (table
/// searches train no supernet; random search and evolution have no policy entropy).
/// Grey vertical lines mark where each stage begins; noisy series get a moving average.
///
/// A resumed search appends to its log from its last checkpoint, so steps and updates
/// logged twice are shown once, from the run that continued.
///
/// ```no_run
/// use std::path::Path;
/// let events = tnd_nas::plot::read_log(Path::new("out/search.jsonl"))?;
/// tnd_nas::plot::curves(&events, Path::new("out/curves.png"))?;
/// # Ok::<(), tnd_nas::plot::PlotError>(())
/// ```
///
/// # Errors
/// [`PlotError::NothingToPlot`] when the events hold no step and no alpha record;
/// [`PlotError::UnknownFormat`], [`PlotError::Draw`] or [`PlotError::Io`] naming `path`.
pub fn curves(events: &[SearchEvent], path: &Path) -> Result<(), PlotError> {
    render(&CurvesFigure::new(events)?, path)
}

/// One series of a panel.
struct Series {
    label: String,
    colour: RGBColor,
    /// (x, y, stage).
    points: Vec<(f64, f64, usize)>,
}

/// One panel: a title, axis names and its series.
struct Panel {
    title: String,
    x_desc: &'static str,
    y_desc: &'static str,
    series: Vec<Series>,
}

struct CurvesFigure {
    title: String,
    panels: Vec<Panel>,
}

const BLUE: RGBColor = STAGE_COLOURS[0];
const GREEN: RGBColor = STAGE_COLOURS[1];
const PURPLE: RGBColor = STAGE_COLOURS[2];
const PANEL_W: u32 = 760;
const PANEL_H: u32 = 440;
const TITLE_H: u32 = 50;

/// Keeps, for every key, the record logged last: a resumed search logs again from its
/// checkpoint, and its records replace the earlier ones from there on.
fn last_run<K: Ord, T>(records: Vec<(K, T)>) -> Vec<(K, T)> {
    let mut out: Vec<(K, T)> = Vec::with_capacity(records.len());
    for (x, r) in records {
        while out.last().is_some_and(|(last, _)| *last >= x) {
            out.pop();
        }
        out.push((x, r));
    }
    out
}

/// The supernet's panels: training loss and train accuracy against the global step.
fn training_panels(steps: &[(u64, &StepRecord)]) -> [Panel; 2] {
    let pts = |f: &dyn Fn(&StepRecord) -> f64| {
        steps
            .iter()
            .map(|(x, s)| (*x as f64, f(s), s.stage))
            .collect::<Vec<_>>()
    };
    [
        Panel {
            title: "supernet training loss".into(),
            x_desc: "global step",
            y_desc: "cross-entropy loss",
            series: vec![Series::new("batch loss", BLUE, pts(&|s| s.loss))],
        },
        Panel {
            title: "supernet train accuracy".into(),
            x_desc: "global step",
            y_desc: "train accuracy (%)",
            series: vec![Series::new("batch accuracy", GREEN, pts(&|s| s.train_acc))],
        },
    ]
}

/// The strategy's panels: the reward of each scored batch and, where the strategy has a
/// policy, its entropy after each batch's update.
fn policy_panels(alphas: &[((u64, u64), &AlphaRecord)]) -> Vec<Panel> {
    let pts = |f: &dyn Fn(&AlphaRecord) -> Option<f64>| {
        alphas
            .iter()
            .enumerate()
            .filter_map(|(i, (_, a))| Some(((i + 1) as f64, f(a)?, a.stage)))
            .collect::<Vec<_>>()
    };
    let mut panels = vec![Panel {
        title: "reward of each scored batch".into(),
        x_desc: "scored batch",
        y_desc: "reward",
        // Batches of one sample (evolution) have max = mean: one line.
        series: if alphas.iter().all(|(_, a)| a.reward_max == a.reward_mean) {
            vec![Series::new("reward", BLUE, pts(&|a| Some(a.reward_mean)))]
        } else {
            vec![
                Series::new("max", BEST, pts(&|a| Some(a.reward_max))),
                Series::new("mean", BLUE, pts(&|a| Some(a.reward_mean))),
            ]
        },
    }];
    let entropy = pts(&|a| a.entropy);
    if !entropy.is_empty() {
        panels.push(Panel {
            title: "policy entropy".into(),
            x_desc: "scored batch",
            y_desc: "entropy (nats, summed over edges)",
            series: vec![Series::new("entropy", PURPLE, entropy)],
        });
    }
    panels
}

impl CurvesFigure {
    fn new(events: &[SearchEvent]) -> Result<Self, PlotError> {
        let steps = last_run(
            events
                .iter()
                .filter_map(|e| match e {
                    SearchEvent::Step(s) => Some((s.global_step, s)),
                    _ => None,
                })
                .collect(),
        );
        let alphas = last_run(
            events
                .iter()
                .filter_map(|e| match e {
                    // Strategies without a policy log the same `update` for every
                    // batch; the global step tells batches apart.
                    SearchEvent::Alpha(a) => Some(((a.global_step, a.update), a)),
                    _ => None,
                })
                .collect(),
        );
        if steps.is_empty() && alphas.is_empty() {
            return Err(PlotError::nothing(
                "curves",
                "the log has no step and no alpha record",
            ));
        }
        let mut panels = Vec::new();
        if !steps.is_empty() {
            panels.extend(training_panels(&steps));
        }
        if !alphas.is_empty() {
            panels.extend(policy_panels(&alphas));
        }
        let stages = steps
            .iter()
            .map(|(_, s)| s.stage)
            .chain(alphas.iter().map(|(_, a)| a.stage))
            .max()
            .map_or(0, |s| s + 1);
        let mut parts = Vec::new();
        if !steps.is_empty() {
            parts.push(format!("{} logged steps", steps.len()));
        }
        if !alphas.is_empty() {
            parts.push(format!("{} scored batches", alphas.len()));
        }
        let plural = if stages == 1 { "" } else { "s" };
        Ok(Self {
            title: format!(
                "search curves: {} in {stages} stage{plural}",
                parts.join(", ")
            ),
            panels,
        })
    }

    fn grid(&self) -> (usize, usize) {
        let cols = self.panels.len().clamp(1, 2);
        (self.panels.len().div_ceil(cols), cols)
    }
}

/// A centred moving average over `window` points.
fn moving_average(points: &[(f64, f64, usize)], window: usize) -> Vec<(f64, f64)> {
    let half = window / 2;
    (0..points.len())
        .map(|i| {
            let span = &points[i.saturating_sub(half)..(i + half + 1).min(points.len())];
            let mean = span.iter().map(|p| p.1).sum::<f64>() / span.len() as f64;
            (points[i].0, mean)
        })
        .collect()
}

/// Where each stage after the first begins: halfway between its first point and the
/// previous stage's last.
fn stage_starts(points: &[(f64, f64, usize)]) -> Vec<(f64, usize)> {
    points
        .windows(2)
        .filter(|w| w[0].2 != w[1].2)
        .map(|w| ((w[0].0 + w[1].0) / 2.0, w[1].2))
        .collect()
}

/// Series with this many points or more are drawn thin with a thick moving average.
const SMOOTH_FROM: usize = 40;
/// Series with fewer points than this get a marker at every point.
const MARKERS_BELOW: usize = 25;

impl Panel {
    /// The moving-average window of the panel's series, if they are smoothed.
    fn window(&self) -> Option<usize> {
        let n = self
            .series
            .iter()
            .map(|s| s.points.len())
            .max()
            .unwrap_or(0);
        (n >= SMOOTH_FROM).then(|| (n / 25).clamp(3, 51) | 1)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let all = || self.series.iter().flat_map(|s| s.points.iter());
        let (x0, x1) = bounds(all().map(|p| p.0)).unwrap_or((0.0, 1.0));
        let (y0, y1) = bounds(all().map(|p| p.1)).unwrap_or((0.0, 1.0));
        let (xr, yr) = (padded(x0, x1), padded(y0, y1));
        let (xspan, yspan) = (xr.end - xr.start, yr.end - yr.start);
        let window = self.window();
        let caption = match window {
            Some(w) => format!("{} (thick: moving average of {w})", self.title),
            None => self.title.clone(),
        };
        let mut chart = ChartBuilder::on(area)
            .caption(caption, font(19))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(xr.clone(), yr.clone())?;
        let xfmt = |v: &f64| tick(*v, xspan);
        let yfmt = |v: &f64| tick(*v, yspan);
        chart
            .configure_mesh()
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .axis_desc_style(font(16))
            .label_style(font(14))
            .x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .x_labels(8)
            .y_labels(8)
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;
        let starts = self
            .series
            .first()
            .map(|s| stage_starts(&s.points))
            .unwrap_or_default();
        draw_stage_lines(&mut chart, &starts, &yr)?;
        for s in &self.series {
            s.draw(&mut chart, window)?;
        }
        // The stage labels sit at the top of their lines; the legend avoids them too.
        let labels = starts
            .iter()
            .flat_map(|&(x, _)| [(x, yr.end), (x + 0.08 * xspan, yr.end)]);
        let position = emptiest_corner(
            all().map(|p| (p.0, p.1)).chain(labels),
            &xr,
            &yr,
            (0.3, 0.08 + 0.07 * self.series.len() as f64),
        );
        chart
            .configure_series_labels()
            .position(position)
            .margin(10)
            .label_font(font(14))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .draw()?;
        Ok(())
    }
}

/// A panel's chart: `f64` on both axes.
type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A grey vertical line and a label where each stage after the first begins.
fn draw_stage_lines<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    starts: &[(f64, usize)],
    yr: &Range<f64>,
) -> DrawResult<DB> {
    for &(x, stage) in starts {
        chart.draw_series(LineSeries::new(
            [(x, yr.start), (x, yr.end)],
            GUIDE.stroke_width(2),
        ))?;
        let label = format!("stage {}", stage + 1);
        let ink = font(14).color(&RGBColor(110, 110, 110));
        chart.draw_series(std::iter::once(
            EmptyElement::at((x, yr.end)) + Text::new(label, (5, 4), ink),
        ))?;
    }
    Ok(())
}

impl Series {
    fn new(label: &str, colour: RGBColor, points: Vec<(f64, f64, usize)>) -> Self {
        Self {
            label: label.to_string(),
            colour,
            points,
        }
    }

    /// Draws the series: thin with a thick moving average of `window` points when
    /// smoothed, markers when short, and its legend entry.
    fn draw<DB: DrawingBackend>(
        &self,
        chart: &mut Chart<'_, DB>,
        window: Option<usize>,
    ) -> DrawResult<DB> {
        let colour = self.colour;
        let thick = colour.stroke_width(2);
        let raw = if window.is_some() {
            colour.mix(0.3).stroke_width(1)
        } else {
            thick
        };
        let points = || self.points.iter().map(|p| (p.0, p.1));
        chart.draw_series(LineSeries::new(points(), raw))?;
        if self.points.len() < MARKERS_BELOW {
            chart.draw_series(points().map(|p| Circle::new(p, 4, colour.filled())))?;
        }
        let legend = match window {
            Some(w) => {
                chart.draw_series(LineSeries::new(moving_average(&self.points, w), thick))?
            }
            None => chart.draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?,
        };
        legend
            .label(self.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], thick));
        Ok(())
    }
}

impl Figure for CurvesFigure {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = self.grid();
        (PANEL_W * cols as u32, TITLE_H + PANEL_H * rows as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = root.titled(&self.title, font(22))?;
        let cells = area.split_evenly(self.grid());
        for (panel, cell) in self.panels.iter().zip(&cells) {
            panel.draw(cell)?;
        }
        Ok(())
    }
}
