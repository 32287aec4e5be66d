//! The three genotype notations and MBConv strings: parsing never panics, and what
//! parses prints back to text that parses to the same genotype.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tnd_nas::space::{Genotype, MbConvSpaceConfig, Nb201Genotype};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(g) = text.parse::<Genotype>() {
        let tnd = g.to_tnd_string();
        let again: Genotype = tnd.parse().expect("TND text of a parsed genotype parses");
        assert_eq!(again, g, "TND round trip");
        if let Ok(darts) = g.to_darts_string() {
            let again: Genotype = darts
                .parse()
                .expect("DARTS text of a parsed genotype parses");
            assert_eq!(again, g, "DARTS round trip");
        }
    }
    if let Ok(g) = text.parse::<Nb201Genotype>() {
        let again: Nb201Genotype = g.to_string().parse().expect("NB201 text parses");
        assert_eq!(again, g, "NB201 round trip");
    }
    if let Ok(space) = MbConvSpaceConfig::default().init() {
        let _ = space.parse(text);
    }
});
