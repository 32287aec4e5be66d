//! Property tests of the genotype text notations: DARTS, end-to-end TND, NAS-Bench-201.

use proptest::prelude::*;
use proptest::sample::Index;
use tnd_nas::space::{CellGenotype, GenotypeEdge, SpaceError};
use tnd_nas::spaces::darts::DartsSpaceConfig;
use tnd_nas::spaces::nb201::{Nb201Genotype, Nb201Space};
use tnd_nas::{Architecture, Genotype, OpKind, SearchSpace};

const DARTS_V2: &str = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

const TND: &str = "TndGenotype(normal=[[('sep_conv_3x3', 0), ('skip_connect', 1)], [], [('dil_conv_3x3', 2)], [('conv_3x3', 0)]], normal_concat=[2, 3, 4, 5], reduce=[[('max_pool_3x3', 0)], [('skip_connect', 2), ('max_pool_3x3', 1), ('none', 0)], [], []], reduce_concat=[2, 3, 4, 5])";

const NB201: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|";

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// An architecture of a DARTS-like space from one random index per edge.
fn pick(space: &dyn SearchSpace, picks: &[Index]) -> Architecture {
    Architecture::new(
        space
            .all_candidates()
            .iter()
            .zip(picks)
            .map(|(cands, i)| cands[i.index(cands.len())])
            .collect(),
    )
}

/// A random DARTS-notation cell: `nodes` nodes of two inputs each, any concat list.
fn darts_cell(nodes: usize) -> impl Strategy<Value = CellGenotype> {
    let node = |i: usize| {
        prop::collection::vec(
            (prop::sample::select(OpKind::CELL_OPS.to_vec()), 0..i + 2)
                .prop_map(|(op, from)| GenotypeEdge::new(op, from)),
            2,
        )
    };
    let all_nodes: Vec<_> = (0..nodes).map(node).collect();
    (
        all_nodes,
        prop::collection::vec(2..nodes + 2, 1..=nodes + 1),
    )
        .prop_map(|(nodes, concat)| CellGenotype { nodes, concat })
}

/// A random DARTS-notation genotype with 4 or 5 nodes per cell.
fn darts_genotype() -> impl Strategy<Value = Genotype> {
    (4usize..=5)
        .prop_flat_map(|n| (darts_cell(n), darts_cell(n)))
        .prop_map(|(normal, reduce)| Genotype { normal, reduce })
}

/// Any of the parsers on any text: they return, never panic.
fn parse_all(text: &str) {
    let _ = text.parse::<Genotype>();
    let _ = Genotype::parse_darts(text);
    let _ = Genotype::parse_tnd(text);
    let _ = text.parse::<Nb201Genotype>();
    let _ = Nb201Space::new().parse(text);
}

/// If a (mutated) text still parses, the result prints and parses back to itself.
fn reparse_is_stable(text: &str) -> Result<(), TestCaseError> {
    if let Ok(g) = Genotype::parse_darts(text) {
        let printed = g.to_darts_string();
        prop_assert!(printed.is_ok());
        if let Ok(printed) = printed {
            prop_assert_eq!(Genotype::parse_darts(&printed), Ok(g.clone()));
        }
        prop_assert_eq!(Genotype::parse_tnd(&g.to_tnd_string()), Ok(g));
    }
    if let Ok(g) = Genotype::parse_tnd(text) {
        prop_assert_eq!(Genotype::parse_tnd(&g.to_tnd_string()), Ok(g));
    }
    if let Ok(g) = text.parse::<Nb201Genotype>() {
        prop_assert_eq!(g.to_string().parse::<Nb201Genotype>(), Ok(g));
    }
    Ok(())
}

/// Chars worth inserting into genotype text: its punctuation, digits, quotes and a few
/// others (multi-byte included).
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::sample::select(vec![
            '(', ')', '[', ']', ',', '=', '.', '\'', '"', ' ', '\n', '|', '+', '~', '_', '0', '1',
            '2', '7', '9', 'a', 'x', 'é', '🦀',
        ]),
        any::<char>(),
    ]
}

#[test]
fn darts_v2_prints_identically() {
    let g = Genotype::parse_darts(DARTS_V2).unwrap();
    assert_eq!(g.to_darts_string().unwrap(), DARTS_V2);
    assert_eq!(Genotype::parse_tnd(TND).unwrap().to_tnd_string(), TND);
    assert_eq!(NB201.parse::<Nb201Genotype>().unwrap().to_string(), NB201);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn darts_space_architectures_round_trip_as_tnd(
        tnd in any::<bool>(),
        picks in prop::collection::vec(any::<Index>(), 28),
    ) {
        let cfg = if tnd { DartsSpaceConfig::tnd() } else { DartsSpaceConfig::darts() };
        let space = cfg.init().unwrap();
        let arch = pick(&space, &picks);
        let g = space.genotype(&arch).unwrap();
        let text = g.to_tnd_string();
        prop_assert_eq!(&space.describe(&arch), &text);
        prop_assert_eq!(Genotype::parse_tnd(&text), Ok(g.clone()));
        prop_assert_eq!(text.parse::<Genotype>(), Ok(g.clone()));
        // Two-input genotypes also print in DARTS notation, anything else is refused.
        match g.to_darts_string() {
            Ok(darts) => prop_assert_eq!(Genotype::parse_darts(&darts), Ok(g)),
            Err(e) => {
                prop_assert!(matches!(e, SpaceError::InvalidConfig(_)));
                prop_assert!(g.normal.nodes.iter().chain(&g.reduce.nodes).any(|n| n.len() != 2));
            }
        }
    }

    #[test]
    fn darts_space_top2_genotypes_round_trip_as_darts(
        weights in prop::collection::vec(prop::collection::vec(0.0f64..1.0, 8), 28),
    ) {
        let space = DartsSpaceConfig::darts().init().unwrap();
        let active = space.all_candidates();
        let g = space.derive_top2(&active, &weights).unwrap();
        let text = g.to_darts_string().unwrap();
        prop_assert_eq!(Genotype::parse_darts(&text), Ok(g.clone()));
        prop_assert_eq!(text.parse::<Genotype>(), Ok(g));
    }

    #[test]
    fn nb201_architectures_round_trip(picks in prop::collection::vec(any::<Index>(), 6)) {
        let space = Nb201Space::new();
        let arch = pick(&space, &picks);
        let text = space.describe(&arch);
        prop_assert_eq!(space.parse(&text), Ok(arch.clone()));
        let g = space.genotype(&arch).unwrap();
        prop_assert_eq!(&g.to_string(), &text);
        prop_assert_eq!(text.parse::<Nb201Genotype>(), Ok(g));
    }

    #[test]
    fn darts_notation_genotypes_round_trip(g in darts_genotype()) {
        let text = g.to_darts_string().unwrap();
        let parsed = Genotype::parse_darts(&text);
        prop_assert_eq!(&parsed, &Ok(g.clone()));
        prop_assert_eq!(text.parse::<Genotype>(), Ok(g.clone()));
        prop_assert_eq!(Genotype::parse_tnd(&g.to_tnd_string()), Ok(g.clone()));
        // Double quotes and other whitespace read the same.
        let restyled = text.replace('\'', "\"").replace(", ", ",\n    ");
        prop_assert_eq!(Genotype::parse_darts(&restyled), Ok(g));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        parse_all(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_token_soup_never_panics(
        parts in prop::collection::vec(
            prop::sample::select(vec![
                "Genotype", "TndGenotype", "(", ")", "[", "]", ",", "=", "'", "\"", "normal",
                "reduce", "normal_concat", "reduce_concat", "range", "list", "'sep_conv_3x3'",
                "'none'", "0", "1", "2", "5", "99999999999999999999999", "|", "+", "~",
                "nor_conv_3x3", " ", ".",
            ]),
            0..60,
        ),
    ) {
        let text = parts.concat();
        parse_all(&text);
        reparse_is_stable(&text)?;
    }

    #[test]
    fn mutated_texts_never_panic(
        which in 0usize..3,
        at in any::<Index>(),
        insert in proptest::option::of(interesting_char()),
        twice in any::<bool>(),
        at2 in any::<Index>(),
    ) {
        let base = [DARTS_V2, TND, NB201][which];
        let mut chars: Vec<char> = base.chars().collect();
        for pos in if twice { vec![at, at2] } else { vec![at] } {
            match insert {
                Some(c) => chars.insert(pos.index(chars.len() + 1), c),
                None => {
                    chars.remove(pos.index(chars.len()));
                }
            }
        }
        let text: String = chars.into_iter().collect();
        parse_all(&text);
        reparse_is_stable(&text)?;
    }

    #[test]
    fn mutated_random_genotypes_never_panic(
        g in darts_genotype(),
        at in any::<Index>(),
        insert in proptest::option::of(interesting_char()),
    ) {
        for mut text in [g.to_darts_string().unwrap(), g.to_tnd_string()] {
            let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            let pos = boundaries[at.index(boundaries.len())];
            match insert {
                Some(c) => text.insert(pos, c),
                None => {
                    text.remove(pos);
                }
            }
            parse_all(&text);
            reparse_is_stable(&text)?;
        }
    }
}
