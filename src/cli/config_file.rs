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
    clap::FromArgMatches + Serialize + DeserializeOwned + Sized
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

/// The options of a subcommand: the command line over the `--config` file, if any.
pub(crate) fn resolve<A: CommandArgs>(matches: &ArgMatches) -> Result<A, CliError> {
    let cli = A::from_arg_matches(matches).map_err(|e| CliError::usage(first_line(&e)))?;
    let Some(path) = cli.flags().config.clone() else {
        return Ok(cli);
    };
    let mut file = match read_config(&path)? {
        Value::Object(map) => map,
        _ => return Err(config_error(&path, "expected a table of options")),
    };
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
    let mut merged: A = serde_path_to_error::deserialize(Value::Object(file)).map_err(|e| {
        let at = e.path().to_string();
        config_error(&path, format!("`{at}`: {}", e.inner()))
    })?;
    *merged.flags_mut() = cli.flags().clone();
    Ok(merged)
}

/// The options as TOML, for `--print-config`.
pub(crate) fn to_toml<T: Serialize>(config: &T) -> Result<String, CliError> {
    // Through JSON first: nulls (unset options) are dropped, which TOML cannot hold.
    let value = serde_json::to_value(config)
        .map_err(|e| CliError::usage(format!("cannot print the configuration: {e}")))?;
    toml::to_string_pretty(&drop_nulls(value))
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
        Some("json") => serde_json::from_str(&text).map_err(|e| config_error(path, e)),
        Some("toml") => toml::from_str(&text).map_err(|e| config_error(path, one_line(&e))),
        _ => Err(config_error(
            path,
            "name a .toml or .json file (the extension tells the format)",
        )),
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

/// Refuses to replace an existing output file unless `force`.
pub(crate) fn refuse_existing(path: &Path, force: bool) -> Result<(), CliError> {
    if path.exists() && !force {
        return Err(CliError::usage(format!(
            "{} exists: pass --force to replace it, or choose another --out",
            path.display()
        )));
    }
    Ok(())
}

/// The first line of a clap error, without its `error: ` prefix.
pub(crate) fn first_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}
