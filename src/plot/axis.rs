//! Axis labels of objectives: a readable name, the unit, and which way is better.

use crate::objective::Direction;

/// How an objective is shown on an axis.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ObjectiveAxis {
    /// E.g. `params (M) - lower is better`.
    pub label: String,
    /// The short name with its unit, for legends and titles: `params (M)`.
    pub short: String,
    /// The factor values are multiplied by before plotting (1e-6 for raw counts shown
    /// in millions, 100 for accuracies given as fractions).
    pub scale: f64,
}

/// The axis of objective `name` in `direction`, for the values `values` (raw, as the
/// search stored them).
///
/// Units come from the names the crate's objectives use: `accuracy` (and any name with
/// `acc`) in percent; `params`/`macs` (and names with `param`, `mac`, `flop`) in
/// millions, scaled down when the values are raw counts; `latency_ms` (and names with
/// `latency` or ending `_ms`) in milliseconds. Other names get no unit.
pub(crate) fn objective_axis(name: &str, direction: Direction, values: &[f64]) -> ObjectiveAxis {
    let lower = name.to_ascii_lowercase();
    let finite = || values.iter().copied().filter(|v| v.is_finite());
    let max_abs = finite().map(f64::abs).fold(0.0, f64::max);
    let (pretty, unit, scale) = if lower == "accuracy" {
        ("validation accuracy".to_string(), Some("%"), 1.0)
    } else if lower.contains("acc") {
        let fractions = finite().all(|v| (0.0..=1.0).contains(&v)) && finite().count() > 0;
        (
            name.to_string(),
            Some("%"),
            if fractions { 100.0 } else { 1.0 },
        )
    } else if ["param", "mac", "flop"].iter().any(|k| lower.contains(k)) {
        // A count of a thousand million is no network this crate searches: larger
        // values are raw counts.
        let raw = max_abs >= 1e3;
        (name.to_string(), Some("M"), if raw { 1e-6 } else { 1.0 })
    } else if lower.contains("latency") || lower.ends_with("_ms") {
        let base = name
            .strip_suffix("_ms")
            .filter(|b| !b.is_empty())
            .unwrap_or(name);
        (base.to_string(), Some("ms"), 1.0)
    } else {
        (name.to_string(), None, 1.0)
    };
    let short = match unit {
        Some(u) => format!("{pretty} ({u})"),
        None => pretty,
    };
    let better = match direction {
        Direction::Minimise => "lower is better",
        Direction::Maximise => "higher is better",
    };
    ObjectiveAxis {
        label: format!("{short} - {better}"),
        short,
        scale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_the_crates_objective_names() {
        let acc = objective_axis("accuracy", Direction::Maximise, &[50.0]);
        assert_eq!(acc.label, "validation accuracy (%) - higher is better");
        let params = objective_axis("params", Direction::Minimise, &[0.4, 1.2]);
        assert_eq!(params.label, "params (M) - lower is better");
        assert_eq!(params.scale, 1.0);
        let raw = objective_axis("params", Direction::Minimise, &[40_000.0]);
        assert_eq!((raw.short.as_str(), raw.scale), ("params (M)", 1e-6));
        let lat = objective_axis("latency_ms", Direction::Minimise, &[3.0]);
        assert_eq!(lat.short, "latency (ms)");
        let table = objective_axis("cifar10_test_acc_200ep", Direction::Maximise, &[93.0]);
        assert_eq!(table.short, "cifar10_test_acc_200ep (%)");
        let frac = objective_axis("val_acc", Direction::Maximise, &[0.5, 0.9]);
        assert_eq!(frac.scale, 100.0);
        let other = objective_axis("energy", Direction::Minimise, &[1.0]);
        assert_eq!(other.label, "energy - lower is better");
    }
}
