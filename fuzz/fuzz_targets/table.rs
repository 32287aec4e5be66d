//! CSV tables, benchmark tables and per-op lookup tables (CSV and JSON): errors, never
//! panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tnd_nas::objective::{CsvTable, LookupTable, TabularTable};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(csv) = CsvTable::parse(text, "fuzz.csv") {
        if let Some(first) = csv.header().first().cloned() {
            for column in csv.header() {
                let _ = csv.numbers(column);
            }
            let _ = TabularTable::from_csv(csv.clone(), &first);
        }
        let _ = LookupTable::from_csv(&csv, "fuzz");
    }
    let _ = LookupTable::from_json_str(text, "fuzz.json", "fuzz");
});
