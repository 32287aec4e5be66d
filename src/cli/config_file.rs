//! `--config FILE` and `--print-config`: one mechanism for every subcommand.

use std::path::{Path, PathBuf};

use clap::ArgMatches;
use clap::parser::ValueSource;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::CliError;

/// The two options every subcommand has.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct ConfigFlags {
    /// Read options from a TOML or JSON file (keys are the long option names with `_`
    /// for `-`); options on the command line win
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the effective configuration as TOML and exit (give it back with --config)
    #[arg(long)]
    pub print_config: bool,
}

/// A subcommand's options: parsed by clap, (de)serialised for config files.
pub(crate) trait CommandArgs:
    clap::Args + clap::FromArgMatches + Serialize + DeserializeOwned + Sized
{
    /// The config flags.
    fn flags(&self) -> &ConfigFlags;
    /// The config flags, to carry them over a file's values.
    fn flags_mut(&mut self) -> &mut ConfigFlags;
}

/// Implements [`CommandArgs`] for option structs whose config flags are in `flags`.
macro_rules! command_args {
    ($($t:ty),+ $(,)?) => {$(
        impl $crate::cli::config_file::CommandArgs for $t {
            fn flags(&self) -> &$crate::cli::config_file::ConfigFlags {
                &self.flags
            }
            fn flags_mut(&mut self) -> &mut $crate::cli::config_file::ConfigFlags {
                &mut self.flags
            }
        }
    )+};
}
pub(crate) use command_args;

/// Options that only the command line gives: a config file replays settings, never an
/// overwrite or a resume, so `--print-config` leaves them out and a file may not hold them.
const COMMAND_LINE_ONLY: [&str; 2] = ["force", "resume"];

/// The options of a subcommand: the command line over the `--config` file, if any.
///
/// Whatever their source, the options pass one validation before any work: the file's
/// values and the command line's together go through the command line's own parser
/// (its ranges, value checks and conflicts), then through serde for the nested tables.
/// A file may not give `force` or `resume`, a non-finite number, or a key twice.
pub(crate) fn resolve<A: CommandArgs>(matches: &ArgMatches) -> Result<A, CliError> {
    let cli = A::from_arg_matches(matches).map_err(|e| CliError::usage(first_line(&e)))?;
    let Some(path) = cli.flags().config.clone() else {
        return Ok(cli);
    };
    let mut file = match read_config(&path)? {
        Value::Object(map) => map,
        _ => return Err(config_error(&path, "expected a table of options")),
    };
    if let Some(key) = COMMAND_LINE_ONLY.iter().find(|k| file.contains_key(**k)) {
        return Err(config_error(
            &path,
            format!(
                "`{key}` is a command-line option only (a config file replays settings, \
                 not an overwrite or a resume): pass --{key}"
            ),
        ));
    }
    let given = serde_json::to_value(&cli).map_err(|e| {
        CliError::usage(format!(
            "cannot combine the command line with {}: {e}",
            path.display()
        ))
    })?;
    for id in matches.ids() {
        let id = id.as_str();
        if matches.value_source(id) == Some(ValueSource::CommandLine)
            && let Some(v) = given.get(id)
        {
            file.insert(id.to_string(), v.clone());
        }
    }
    check_with_parser::<A>(&file).map_err(|reason| config_error(&path, reason))?;
    let mut merged: A = serde_path_to_error::deserialize(Value::Object(file)).map_err(|e| {
        let at = e.path().to_string();
        config_error(&path, format!("`{at}`: {}", e.inner()))
    })?;
    *merged.flags_mut() = cli.flags().clone();
    Ok(merged)
}

/// Runs the merged options through the command line's parser, as if every value had
/// been typed: a value the command line would refuse is refused here too. Values the
/// command line cannot hold (the nested tables of config files) are left to serde and
/// to the command's own validation.
fn check_with_parser<A: CommandArgs>(
    options: &serde_json::Map<String, Value>,
) -> Result<(), String> {
    let command = A::augment_args(clap::Command::new("config")).no_binary_name(true);
    let mut tokens: Vec<String> = Vec::new();
    let mut positionals: Vec<String> = Vec::new();
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        let Some(value) = options.get(id) else {
            continue;
        };
        let values: Vec<String> = match value {
            Value::Array(items) => items.iter().filter_map(scalar).collect(),
            Value::Null | Value::Object(_) => continue,
            other => scalar(other).into_iter().collect(),
        };
        if arg.is_positional() {
            positionals.extend(values);
            continue;
        }
        let Some(long) = arg.get_long() else {
            continue;
        };
        let takes_value = arg.get_action().takes_values();
        for v in values {
            match (takes_value, v.as_str()) {
                (true, _) => tokens.push(format!("--{long}={v}")),
                (false, "true") => tokens.push(format!("--{long}")),
                _ => {}
            }
        }
    }
    if !positionals.is_empty() {
        tokens.push("--".into());
        tokens.extend(positionals);
    }
    command
        .try_get_matches_from(tokens)
        .map(|_| ())
        .map_err(|e| {
            // Name the key as the file spells it.
            let key = match e.get(clap::error::ContextKind::InvalidArg) {
                Some(clap::error::ContextValue::String(arg)) => arg
                    .trim_start_matches('-')
                    .split([' ', '='])
                    .next()
                    .map(|long| format!("`{}`: ", long.replace('-', "_"))),
                _ => None,
            };
            format!("{}{}", key.unwrap_or_default(), first_line(&e))
        })
}

/// The options as TOML, for `--print-config`.
pub(crate) fn to_toml<T: Serialize>(config: &T) -> Result<String, CliError> {
    // Through JSON first: nulls (unset options) are dropped, which TOML cannot hold.
    let value = serde_json::to_value(config)
        .map_err(|e| CliError::usage(format!("cannot print the configuration: {e}")))?;
    let value = match drop_nulls(value) {
        Value::Object(mut map) => {
            for key in COMMAND_LINE_ONLY {
                map.remove(key);
            }
            Value::Object(map)
        }
        other => other,
    };
    toml::to_string_pretty(&value)
        .map_err(|e| CliError::usage(format!("cannot print the configuration as TOML: {e}")))
}

fn drop_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, drop_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(drop_nulls).collect()),
        other => other,
    }
}

fn read_config(path: &Path) -> Result<Value, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| config_error(path, e))?;
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => serde_json::from_str::<StrictJson>(&text)
            .map(|v| v.0)
            .map_err(|e| config_error(path, e)),
        Some("toml") => {
            let value: toml::Value =
                toml::from_str(&text).map_err(|e| config_error(path, one_line(&e)))?;
            if let Some(at) = non_finite(&value, String::new()) {
                return Err(config_error(path, format!("`{at}` is not a finite number")));
            }
            serde_json::to_value(value).map_err(|e| config_error(path, e))
        }
        _ => Err(config_error(
            path,
            "name a .toml or .json file (the extension tells the format)",
        )),
    }
}

/// The path of the first non-finite float in a TOML value (`nan`, `inf`), which JSON
/// cannot hold and would otherwise turn into an unset option.
fn non_finite(value: &toml::Value, at: String) -> Option<String> {
    match value {
        toml::Value::Float(f) if !f.is_finite() => Some(at),
        toml::Value::Table(t) => t.iter().find_map(|(k, v)| {
            non_finite(
                v,
                if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                },
            )
        }),
        toml::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| non_finite(v, format!("{at}[{i}]"))),
        _ => None,
    }
}

/// A JSON value whose objects hold each key once (serde_json keeps the last of a key
/// given twice; a config file with one should be refused, not half read).
struct StrictJson(Value);

impl<'de> serde::Deserialize<'de> for StrictJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictJson)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
    fn visit_seq<S: serde::de::SeqAccess<'de>>(self, mut seq: S) -> Result<Value, S::Error> {
        let mut items = Vec::new();
        while let Some(StrictJson(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Value, M::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "key `{key}` is given twice"
                )));
            }
            let StrictJson(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

fn config_error(path: &Path, reason: impl std::fmt::Display) -> CliError {
    CliError::Config {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// A message on one line.
pub(crate) fn one_line(text: &impl std::fmt::Display) -> String {
    text.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first line of a clap error, without its `error: ` prefix.
pub(crate) fn first_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}
