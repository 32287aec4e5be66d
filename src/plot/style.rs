//! Colours, fonts and number formats shared by the plots.

use plotters::prelude::*;
use plotters::style::RGBColor;

use super::font::FAMILY;

/// Stage colours (the tab10 palette without its red, orange and grey, which mark the
/// front, the best sample and inactive cells).
pub(crate) const STAGE_COLOURS: [RGBColor; 7] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
/// The front.
pub(crate) const FRONT: RGBColor = RGBColor(214, 39, 40);
/// The best-rewarded sample.
pub(crate) const BEST: RGBColor = RGBColor(255, 127, 14);
/// Stage boundaries and other guides.
pub(crate) const GUIDE: RGBColor = RGBColor(175, 175, 175);

/// The colour of stage `i`.
pub(crate) fn stage_colour(i: usize) -> RGBColor {
    STAGE_COLOURS[i % STAGE_COLOURS.len()]
}

/// The bundled font at `size` pixels.
pub(crate) fn font(size: u32) -> FontDesc<'static> {
    (FAMILY, size).into_font()
}

/// A range padded by 5% on each side (or around a single value).
pub(crate) fn padded(lo: f64, hi: f64) -> std::ops::Range<f64> {
    if !(lo.is_finite() && hi.is_finite()) {
        return 0.0..1.0;
    }
    let pad = if hi > lo {
        (hi - lo) * 0.05
    } else if lo == 0.0 {
        1.0
    } else {
        lo.abs() * 0.1
    };
    (lo - pad)..(hi + pad)
}

/// The smallest and largest finite value.
pub(crate) fn bounds(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((f64::min(lo, v), f64::max(hi, v))),
        })
}

/// A tick label with as many decimals as a range of width `span` needs.
pub(crate) fn tick(v: f64, span: f64) -> String {
    let v = if v.abs() < span * 1e-9 { 0.0 } else { v };
    if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-4) {
        return format!("{v:.1e}");
    }
    let step = span / 8.0;
    let decimals = if step > 0.0 && step.is_finite() {
        (-step.log10().floor()).clamp(0.0, 6.0) as usize
    } else {
        2
    };
    format!("{v:.decimals$}")
}

/// The width in pixels of `text` in the bundled font at `size` (an estimate if the
/// font is not registered yet).
pub(crate) fn text_width(size: u32, text: &str) -> i32 {
    font(size)
        .box_size(text)
        .map(|(w, _)| w as i32)
        .unwrap_or_else(|_| (text.chars().count() as u32 * size * 6 / 10) as i32)
}

/// The corner of a chart with `xr` by `yr` where a legend covering the fraction
/// `(w, h)` of each axis hides the fewest of `points` (ties: upper right, upper left,
/// lower right, lower left).
pub(crate) fn emptiest_corner(
    points: impl IntoIterator<Item = (f64, f64)>,
    xr: &std::ops::Range<f64>,
    yr: &std::ops::Range<f64>,
    (w, h): (f64, f64),
) -> SeriesLabelPosition {
    let mut counts = [0usize; 4];
    let (xs, ys) = (
        (xr.end - xr.start).max(1e-300),
        (yr.end - yr.start).max(1e-300),
    );
    for (x, y) in points {
        let (u, v) = ((x - xr.start) / xs, (y - yr.start) / ys);
        let (left, right, low, high) = (u <= w, u >= 1.0 - w, v <= h, v >= 1.0 - h);
        for (i, inside) in [high && right, high && left, low && right, low && left]
            .into_iter()
            .enumerate()
        {
            counts[i] += usize::from(inside);
        }
    }
    let best = (0..4).min_by_key(|&i| (counts[i], i)).unwrap_or(0);
    [
        SeriesLabelPosition::UpperRight,
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::LowerRight,
        SeriesLabelPosition::LowerLeft,
    ][best]
        .clone()
}
