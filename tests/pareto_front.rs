//! Dominance, the Pareto front and hypervolume against hand-computed examples.

use tnd_nas::objective::{Direction, ParetoArchive, ScoredSample, dominates, hypervolume};
use tnd_nas::{Architecture, OpKind};

fn arch(i: usize) -> Architecture {
    Architecture::new(vec![OpKind::ALL[i % OpKind::ALL.len()]; 3])
}

#[test]
fn accuracy_params_front_and_hypervolume() {
    // (accuracy %, params M): maximise, minimise.
    let dirs = vec![Direction::Maximise, Direction::Minimise];
    let mut archive =
        ParetoArchive::new(vec!["acc".into(), "params".into()], dirs.clone()).unwrap();
    let points = [
        (90.0, 3.0), // front
        (85.0, 1.0), // front
        (80.0, 2.0), // dominated by (85, 1)
        (92.0, 4.0), // front
        (85.0, 1.0), // same values, another architecture: front
        (70.0, 0.5), // front
        (60.0, 5.0), // dominated
    ];
    for (i, (a, p)) in points.iter().enumerate() {
        archive
            .push(ScoredSample {
                arch: arch(i),
                values: vec![*a, *p],
                stage: i / 3,
                step: i as u64,
            })
            .unwrap();
    }
    assert_eq!(archive.front_indices(), vec![0, 1, 3, 4, 5]);
    // Reference (50 %, 6 M). Sorted by params: (70, 0.5), (85, 1), (90, 3), (92, 4).
    // Strips: [0.5,1]x[50,70] = 10, [1,3]x[50,85] = 70, [3,4]x[50,90] = 40, [4,6]x[50,92] = 84.
    assert_eq!(archive.hypervolume(&[50.0, 6.0]).unwrap(), 204.0);
    // A reference that only the two cheapest points beat: [0.5,1]x[50,70] + [1,1.5]x[50,85].
    assert_eq!(archive.hypervolume(&[50.0, 1.5]).unwrap(), 10.0 + 17.5);
    // Every non-front sample is dominated by a front sample; no front sample is.
    let front: Vec<_> = archive.front();
    for s in archive.samples() {
        let dominated = front.iter().any(|f| dominates(&f.values, &s.values, &dirs));
        assert_eq!(dominated, !front.iter().any(|f| f.values == s.values));
    }
}

#[test]
fn three_objective_hypervolume_by_hand() {
    let dirs = [
        Direction::Minimise,
        Direction::Minimise,
        Direction::Maximise,
    ];
    // Minimisation view of the points with reference (4, 4, 0) -> flip the third axis.
    // a = (1, 2, 3): box [1,4]x[2,4]x[0,3] = 3*2*3 = 18
    // b = (2, 1, 2): box [2,4]x[1,4]x[0,2] = 2*3*2 = 12
    // a ∩ b = [2,4]x[2,4]x[0,2] = 8  -> 22
    // c = (3, 3, 4): box [3,4]x[3,4]x[0,4] = 4; c ∩ (a ∪ b) = [3,4]x[3,4]x[0,3] = 3 -> 23
    let pts = vec![
        vec![1.0, 2.0, 3.0],
        vec![2.0, 1.0, 2.0],
        vec![3.0, 3.0, 4.0],
    ];
    assert_eq!(hypervolume(&pts, &dirs, &[4.0, 4.0, 0.0]).unwrap(), 23.0);
    assert!(dominates(&[1.0, 1.0, 3.0], &[1.0, 2.0, 3.0], &dirs));
    assert!(!dominates(&[1.0, 1.0, 2.0], &[1.0, 2.0, 3.0], &dirs));
}
