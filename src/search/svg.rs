//! A dependency-free SVG scatter plot of scored samples and the Pareto front.

use std::fmt::Write;

use super::SearchResult;

const W: f64 = 640.0;
const H: f64 = 480.0;
const M: f64 = 60.0;

fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + 1e-9 * span {
        out.push(t);
        t += step;
    }
    out
}

fn label(v: f64) -> String {
    if v.abs() >= 1e4 || (v != 0.0 && v.abs() < 1e-2) {
        format!("{v:.2e}")
    } else {
        format!("{}", (v * 1000.0).round() / 1000.0)
    }
}

/// Objective 0 (x) against objective 1 (y; objective 0 against the sample index when
/// there is only one objective): every sample in grey, the front in red.
/// The sample and front points and the axis names of a result.
type PlotData = (Vec<(f64, f64)>, Vec<(f64, f64)>, String, String);

fn plot_data(result: &SearchResult) -> PlotData {
    let pick = |values: &[f64], i: usize| -> (f64, f64) {
        match values.len() {
            0 => (i as f64, 0.0),
            1 => (i as f64, values[0]),
            _ => (values[0], values[1]),
        }
    };
    let points = result
        .samples
        .iter()
        .enumerate()
        .map(|(i, s)| pick(&s.objectives, i))
        .collect();
    let front = result
        .front
        .iter()
        .map(|f| {
            let i = result.samples.iter().position(|s| s == f).unwrap_or(0);
            pick(&f.objectives, i)
        })
        .collect();
    let (xname, yname) = match result.objectives.len() {
        0 => ("sample".to_string(), String::new()),
        1 => ("sample".to_string(), result.objectives[0].clone()),
        _ => (result.objectives[0].clone(), result.objectives[1].clone()),
    };
    (points, front, xname, yname)
}

/// The data range of the plot, padded by 5%.
struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn around(points: &[(f64, f64)]) -> Self {
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y) in points.iter().filter(|p| p.0.is_finite() && p.1.is_finite()) {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
        if !x0.is_finite() {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        let pad = |lo: f64, hi: f64| {
            let d = if hi > lo {
                (hi - lo) * 0.05
            } else {
                lo.abs().max(1.0) * 0.05
            };
            (lo - d, hi + d)
        };
        let ((x0, x1), (y0, y1)) = (pad(x0, x1), pad(y0, y1));
        Self { x0, x1, y0, y1 }
    }
    fn sx(&self, x: f64) -> f64 {
        M + (x - self.x0) / (self.x1 - self.x0) * (W - 2.0 * M)
    }
    fn sy(&self, y: f64) -> f64 {
        H - M - (y - self.y0) / (self.y1 - self.y0) * (H - 2.0 * M)
    }
}

/// Axes, ticks and axis names.
fn axes(s: &mut String, f: &Frame, xname: &str, yname: &str) {
    let _ = writeln!(
        s,
        r#"<line x1="{M}" y1="{}" x2="{}" y2="{}" stroke="black"/>"#,
        H - M,
        W - M,
        H - M
    );
    let _ = writeln!(
        s,
        r#"<line x1="{M}" y1="{M}" x2="{M}" y2="{}" stroke="black"/>"#,
        H - M
    );
    for t in ticks(f.x0, f.x1) {
        let _ = writeln!(
            s,
            r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="black"/><text x="{0}" y="{3}" text-anchor="middle">{4}</text>"#,
            f.sx(t),
            H - M,
            H - M + 5.0,
            H - M + 18.0,
            label(t)
        );
    }
    for t in ticks(f.y0, f.y1) {
        let _ = writeln!(
            s,
            r#"<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="black"/><text x="{3}" y="{4}" text-anchor="end">{5}</text>"#,
            M - 5.0,
            f.sy(t),
            M,
            M - 8.0,
            f.sy(t) + 4.0,
            label(t)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        W / 2.0,
        H - 15.0,
        escape(xname)
    );
    let _ = writeln!(
        s,
        r#"<text x="15" y="{}" text-anchor="middle" transform="rotate(-90 15 {})">{}</text>"#,
        H / 2.0,
        H / 2.0,
        escape(yname)
    );
}

/// The samples in grey, the front as a red line with red points.
fn marks(s: &mut String, f: &Frame, points: &[(f64, f64)], front: Vec<(f64, f64)>) {
    for &(x, y) in points.iter().filter(|p| p.0.is_finite() && p.1.is_finite()) {
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#999" fill-opacity="0.5"/>"##,
            f.sx(x),
            f.sy(y)
        );
    }
    let mut sorted: Vec<_> = front
        .into_iter()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    if sorted.len() > 1 {
        let pts: Vec<String> = sorted
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", f.sx(x), f.sy(y)))
            .collect();
        let _ = writeln!(
            s,
            r##"<polyline points="{}" fill="none" stroke="#d62728"/>"##,
            pts.join(" ")
        );
    }
    for &(x, y) in &sorted {
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#d62728"/>"##,
            f.sx(x),
            f.sy(y)
        );
    }
}

pub(crate) fn scatter(result: &SearchResult) -> String {
    let (points, front, xname, yname) = plot_data(result);
    let frame = Frame::around(&points);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    axes(&mut s, &frame, &xname, &yname);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="25" text-anchor="middle" font-size="14">{} samples, {} on the Pareto front</text>"#,
        W / 2.0,
        points.len(),
        front.len()
    );
    marks(&mut s, &frame, &points, front);
    s.push_str("</svg>\n");
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
