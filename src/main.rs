//! The `tnd-nas` program: `tnd-nas --help` lists its commands.
fn main() -> std::process::ExitCode {
    tnd_nas::cli::main()
}
