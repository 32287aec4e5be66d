//! Objective 1 against objective 2 of every scored sample, with the Pareto front.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;
use super::axis::{ObjectiveAxis, objective_axis};
use super::figure::{DrawResult, Figure, render};
use super::style::{BEST, FRONT, bounds, emptiest_corner, font, padded, stage_colour, tick};
use crate::objective::Direction;
use crate::search::SearchResult;

/// Plots objective 1 (x) against objective 2 (y) of every scored sample of `result`
/// into `path` (`.svg` or `.png`): points coloured by stage, the non-dominated front
/// as a red staircase, the final architecture (a black triangle) and the best-rewarded
/// sample (an orange ring). Axis labels carry the unit and the better direction
/// (`params (M) - lower is better`).
///
/// ```no_run
/// # fn demo(result: &tnd_nas::SearchResult) -> Result<(), tnd_nas::plot::PlotError> {
/// tnd_nas::plot::front(result, std::path::Path::new("out/front.png"))?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`PlotError::NothingToPlot`] with fewer than two objectives or no sample with two
/// finite values; [`PlotError::UnknownFormat`], [`PlotError::Draw`] or
/// [`PlotError::Io`] naming `path`.
pub fn front(result: &SearchResult, path: &Path) -> Result<(), PlotError> {
    render(&FrontFigure::new(result)?, path)
}

/// Legend label and points of every stage.
type StagePoints = Vec<(String, Vec<(f64, f64)>)>;

/// Everything the front plot draws, in plotted units.
struct FrontFigure {
    title: String,
    x: ObjectiveAxis,
    y: ObjectiveAxis,
    directions: (Direction, Direction),
    stages: StagePoints,
    /// Front points sorted by x.
    front: Vec<(f64, f64)>,
    final_point: Option<(f64, f64)>,
    best: Option<((f64, f64), Option<f64>)>,
    xr: Range<f64>,
    yr: Range<f64>,
}

/// The first two of objective values `v`, times the axes' `scale`, where both are finite.
fn plotted(v: &[f64], scale: (f64, f64)) -> Option<(f64, f64)> {
    let (a, b) = (*v.first()? * scale.0, *v.get(1)? * scale.1);
    (a.is_finite() && b.is_finite()).then_some((a, b))
}

/// The legend label and the plotted points of each stage's samples.
///
/// # Errors
/// [`PlotError::NothingToPlot`] when no sample has a point.
fn stage_points(
    result: &SearchResult,
    point: impl Fn(&[f64]) -> Option<(f64, f64)>,
) -> Result<StagePoints, PlotError> {
    let mut by_stage: BTreeMap<usize, Vec<(f64, f64)>> = BTreeMap::new();
    for s in &result.samples {
        if let Some(p) = point(&s.objectives) {
            by_stage.entry(s.stage).or_default().push(p);
        }
    }
    if by_stage.is_empty() {
        return Err(PlotError::nothing(
            "front",
            "no sample has two finite objective values",
        ));
    }
    let single = by_stage.len() == 1 && result.stages.len() <= 1;
    Ok(by_stage
        .into_iter()
        .map(|(stage, points)| {
            let label = if single {
                format!("samples ({})", points.len())
            } else {
                format!("stage {} samples ({})", stage + 1, points.len())
            };
            (label, points)
        })
        .collect())
}

/// The plot's title: the search, its samples and its front (`points` distinct points).
fn title(result: &SearchResult, points: usize) -> String {
    // Several architectures can share one point of the front: the legend counts
    // points, the title samples, and says so when they differ.
    let distinct = if points == result.front.len() {
        String::new()
    } else {
        format!(" ({points} distinct points)")
    };
    format!(
        "{} search ({} evaluator): {} samples, {} on the Pareto front{distinct}",
        result.strategy,
        result.evaluator,
        result.sample_count,
        result.front.len()
    )
}

impl FrontFigure {
    fn new(result: &SearchResult) -> Result<Self, PlotError> {
        if result.objectives.len() < 2 || result.directions.len() < 2 {
            return Err(PlotError::nothing(
                "front",
                format!(
                    "{} objective(s), a front needs two",
                    result.objectives.len()
                ),
            ));
        }
        let column = |i: usize| -> Vec<f64> {
            result
                .samples
                .iter()
                .filter_map(|s| s.objectives.get(i).copied())
                .collect()
        };
        let x = objective_axis(&result.objectives[0], result.directions[0], &column(0));
        let y = objective_axis(&result.objectives[1], result.directions[1], &column(1));
        let scale = (x.scale, y.scale);
        let point = |v: &[f64]| plotted(v, scale);
        let stages = stage_points(result, point)?;
        let mut front: Vec<(f64, f64)> = result
            .front
            .iter()
            .filter_map(|s| point(&s.objectives))
            .collect();
        front.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        front.dedup();
        let final_point = match result.final_values.as_slice() {
            [Some(a), Some(b), ..] => point(&[*a, *b]),
            _ => None,
        };
        let best = result
            .best
            .as_ref()
            .and_then(|b| point(&b.objectives))
            .map(|p| (p, result.best_reward));
        let all = || {
            stages
                .iter()
                .flat_map(|(_, p)| p.iter().copied())
                .chain(final_point)
                .chain(best.map(|b| b.0))
        };
        let (x0, x1) = bounds(all().map(|p| p.0)).unwrap_or((0.0, 1.0));
        let (y0, y1) = bounds(all().map(|p| p.1)).unwrap_or((0.0, 1.0));
        let title = title(result, front.len());
        Ok(Self {
            title,
            x,
            y,
            directions: (result.directions[0], result.directions[1]),
            stages,
            front,
            final_point,
            best,
            xr: padded(x0, x1),
            yr: padded(y0, y1),
        })
    }

    /// The front as a staircase: between two neighbours, the corner both dominate.
    fn staircase(&self) -> Vec<(f64, f64)> {
        let worse = |d: Direction, a: f64, b: f64| if d.better(a, b) { b } else { a };
        let mut out = Vec::with_capacity(2 * self.front.len());
        for (i, &p) in self.front.iter().enumerate() {
            if let Some(&prev) = i.checked_sub(1).and_then(|j| self.front.get(j)) {
                out.push((
                    worse(self.directions.0, prev.0, p.0),
                    worse(self.directions.1, prev.1, p.1),
                ));
            }
            out.push(p);
        }
        out
    }

    /// The legend's corner: the one that hides the fewest points and front segments.
    fn legend_position(&self) -> SeriesLabelPosition {
        let stair = self.staircase();
        let along = stair.windows(2).flat_map(|w| {
            (0..=10).map(move |k| {
                let t = k as f64 / 10.0;
                (
                    w[0].0 + (w[1].0 - w[0].0) * t,
                    w[0].1 + (w[1].1 - w[0].1) * t,
                )
            })
        });
        let points = self
            .stages
            .iter()
            .flat_map(|(_, p)| p.iter().copied())
            .chain(along)
            .chain(self.final_point)
            .chain(self.best.map(|b| b.0));
        emptiest_corner(points, &self.xr, &self.yr, (0.45, 0.32))
    }
}

impl Figure for FrontFigure {
    fn size(&self) -> (u32, u32) {
        (1000, 720)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, font(22))
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(90)
            .build_cartesian_2d(self.xr.clone(), self.yr.clone())?;
        let (xspan, yspan) = (self.xr.end - self.xr.start, self.yr.end - self.yr.start);
        let xfmt = |v: &f64| tick(*v, xspan);
        let yfmt = |v: &f64| tick(*v, yspan);
        chart
            .configure_mesh()
            .x_desc(self.x.label.as_str())
            .y_desc(self.y.label.as_str())
            .axis_desc_style(font(18))
            .label_style(font(15))
            .x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;
        for (i, (label, points)) in self.stages.iter().enumerate() {
            let colour = stage_colour(i);
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|&p| Circle::new(p, 4, colour.mix(0.65).filled())),
                )?
                .label(label.as_str())
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
        }
        if !self.front.is_empty() {
            let line = FRONT.stroke_width(2);
            chart.draw_series(LineSeries::new(self.staircase(), line))?;
            chart
                .draw_series(self.front.iter().map(|&p| Circle::new(p, 6, line)))?
                .label(format!("Pareto front ({})", self.front.len()))
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (20, 0)], line)
                        + Circle::new((10, 0), 6, line)
                });
        }
        if let Some((p, reward)) = self.best {
            let ring = BEST.stroke_width(3);
            let label = match reward {
                Some(r) => format!("best-rewarded sample (reward {r:.4})"),
                None => "best-rewarded sample".to_string(),
            };
            chart
                .draw_series(std::iter::once(Circle::new(p, 11, ring)))?
                .label(label)
                .legend(move |(x, y)| Circle::new((x + 10, y), 8, ring));
        }
        if let Some(p) = self.final_point {
            chart
                .draw_series(std::iter::once(TriangleMarker::new(p, 10, BLACK.filled())))?
                .label("final architecture")
                .legend(|(x, y)| TriangleMarker::new((x + 10, y), 8, BLACK.filled()));
        }
        chart
            .configure_series_labels()
            .position(self.legend_position())
            .margin(12)
            .legend_area_size(30)
            .label_font(font(16))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}
