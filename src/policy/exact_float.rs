//! Serde helpers that write floats as their shortest exact decimal text, in strings.
//!
//! serde_json (without its `float_roundtrip` feature) may parse a 17-digit float one ulp
//! off; optimiser state written through these helpers comes back bit for bit, so a
//! restored search continues exactly as the original would have.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Text {
    Str(String),
    Num(f64),
}

fn to_text(x: f64) -> String {
    format!("{x:?}")
}

fn from_text<E: serde::de::Error>(t: Text) -> Result<f64, E> {
    match t {
        Text::Num(x) => Ok(x),
        Text::Str(s) => s
            .parse::<f64>()
            .map_err(|_| E::custom(format!("`{s}` is not a number"))),
    }
}

/// `Option<f64>`.
pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        x.map(to_text).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<Text>::deserialize(d)?.map(from_text).transpose()
    }
}

/// `Vec<Vec<f64>>`.
pub(crate) mod nested {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(x: &[Vec<f64>], s: S) -> Result<S::Ok, S::Error> {
        x.iter()
            .map(|row| row.iter().map(|v| to_text(*v)).collect::<Vec<_>>())
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
        Vec::<Vec<Text>>::deserialize(d)?
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(from_text)
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, D::Error>>()
            .map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Holder {
        #[serde(with = "super::nested")]
        v: Vec<Vec<f64>>,
        #[serde(with = "super::option")]
        o: Option<f64>,
    }

    #[test]
    fn bit_exact_round_trip() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let v: Vec<Vec<f64>> = (0..50)
            .map(|_| {
                (0..20)
                    .map(|_| (rng.random::<f64>() - 0.5) * 10f64.powi(rng.random_range(-12..12)))
                    .collect()
            })
            .collect();
        let h = Holder {
            v,
            o: Some(0.1 + 0.2),
        };
        let back: Holder = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
        for (a, b) in h.v.iter().flatten().zip(back.v.iter().flatten()) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
        assert_eq!(back, h);
        let plain: Holder = serde_json::from_str(r#"{"v":[[1.5, 2]],"o":null}"#).unwrap();
        assert_eq!(plain.v, vec![vec![1.5, 2.0]]);
        assert_eq!(plain.o, None);
    }
}
