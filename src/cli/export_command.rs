//! `tnd-nas export`: a retrained network as safetensors in the reference PyTorch names.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CliError;
use super::common::OutputFile;
use super::config_file::ConfigFlags;
use burn::backend::Flex;

use crate::Genotype;
use crate::network::ExportSummary;
use crate::spaces::darts::export_darts_safetensors;
use crate::spaces::nb201::{Nb201Genotype, Nb201NetworkConfig, export_nb201_safetensors};
use crate::train::{RetrainReport, load_model, load_weights};

/// Options of `tnd-nas export`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
#[command(
    after_help = "Reads RUN_DIR/train.json and RUN_DIR/model.mpk (what `tnd-nas retrain` \
    writes) and writes the network's weights as safetensors whose tensor names and shapes \
    are the DARTS reference NetworkCIFAR's state_dict() (BN statistics included), with \
    the genotype in the metadata: load it in PyTorch with strict=True."
)]
pub struct ExportArgs {
    /// A retraining's output folder
    #[arg(value_name = "RUN_DIR")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_dir: Option<PathBuf>,
    /// The file to write [default: RUN_DIR/model.safetensors]
    #[arg(long, value_name = "FILE")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out: Option<PathBuf>,
    /// Replace an existing --out file
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    #[command(flatten)]
    #[serde(skip)]
    #[allow(missing_docs)]
    pub flags: ConfigFlags,
}

impl ExportArgs {
    /// The options with the output file resolved.
    ///
    /// # Errors
    /// [`CliError::Usage`] without a run folder.
    pub fn effective(&self) -> Result<Self, CliError> {
        let Some(dir) = &self.run_dir else {
            return Err(CliError::usage("RUN_DIR is required"));
        };
        Ok(Self {
            out: Some(
                self.out
                    .clone()
                    .unwrap_or_else(|| dir.join("model.safetensors")),
            ),
            ..self.clone()
        })
    }

    /// Writes the safetensors file and prints a summary.
    ///
    /// # Errors
    /// [`CliError::Io`] / [`CliError::Input`] for a missing or unreadable `train.json`,
    /// [`CliError::Network`] or [`CliError::Retrain`] if the weights do not load or the genotype has no reference
    /// layout.
    pub fn run(&self) -> Result<(), CliError> {
        let args = self.effective()?;
        let (Some(dir), Some(out)) = (&args.run_dir, &args.out) else {
            return Err(CliError::usage("RUN_DIR is required"));
        };
        let report_path = dir.join("train.json");
        let weights = dir.join(crate::train::MODEL_FILE);
        let _lock = OutputFile::open(out, args.force, &[&report_path, &weights])?;
        let text =
            std::fs::read_to_string(&report_path).map_err(|e| CliError::io(&report_path, e))?;
        let bad =
            |e: &dyn std::fmt::Display| CliError::Input(format!("{}: {e}", report_path.display()));
        let family = serde_json::from_str::<serde_json::Value>(&text)
            .map_err(|e| bad(&e))?
            .get("space")
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "darts".into());
        // Written beside `out` and renamed over it: with --force the old file is
        // replaced only by a complete new one.
        let tmp = crate::atomic_write::tmp_beside(out);
        if tmp.exists() {
            std::fs::remove_file(&tmp).map_err(|e| CliError::io(&tmp, e))?;
        }
        let (mut summary, genotype) = export(&family, &text, &report_path, dir, &tmp)?;
        std::fs::rename(&tmp, out).map_err(|e| CliError::io(out, e))?;
        summary.path = out.clone();
        eprintln!(
            "wrote {} tensors ({} values) of {genotype} in the {} reference names",
            summary.tensors,
            summary.values,
            if family == "nb201" {
                "NAS-Bench-201"
            } else {
                "DARTS"
            }
        );
        println!("{}", summary.path.display());
        Ok(())
    }
}

/// Writes the network of `family` that the retraining report `text` (read from
/// `report_path`) describes, with the weights in `dir`, to `tmp` as safetensors in its
/// reference names; returns the summary and the genotype's text.
fn export(
    family: &str,
    text: &str,
    report_path: &Path,
    dir: &Path,
    tmp: &Path,
) -> Result<(ExportSummary, String), CliError> {
    let bad =
        |e: &dyn std::fmt::Display| CliError::Input(format!("{}: {e}", report_path.display()));
    let device = Default::default();
    match family {
        "nb201" => {
            let report: RetrainReport<Nb201NetworkConfig> =
                serde_json::from_str(text).map_err(|e| bad(&e))?;
            let genotype: Nb201Genotype = report.genotype.trim().parse().map_err(|e| {
                CliError::Input(format!("{}: field `genotype`: {e}", report_path.display()))
            })?;
            let model = load_weights::<Flex, _>(
                report.network.init::<Flex>(&genotype, &device)?,
                dir,
                &device,
            )?;
            let summary = export_nb201_safetensors(
                &model,
                &report.network,
                &genotype,
                report.steps as i64,
                tmp,
            )?;
            Ok((summary, report.genotype))
        }
        "darts" => {
            let report: RetrainReport = serde_json::from_str(text).map_err(|e| bad(&e))?;
            let genotype: Genotype = report.genotype.parse().map_err(|e| {
                CliError::Input(format!("{}: field `genotype`: {e}", report_path.display()))
            })?;
            let model = load_model::<Flex>(&report.network, &genotype, dir, &device)?;
            let summary = export_darts_safetensors(
                &model,
                &report.network,
                &genotype,
                report.steps as i64,
                tmp,
            )?;
            Ok((summary, report.genotype))
        }
        other => Err(CliError::Input(format!(
            "{}: `{other}` networks have no reference PyTorch layout to export to \
             (darts and nb201 have)",
            report_path.display()
        ))),
    }
}
