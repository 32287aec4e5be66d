#!/usr/bin/env bash
# Builds the README's "A search in ten lines" as an external crate would use it: a
# scratch crate whose only dependency is this one, by path (burn comes through
# `tnd_nas::prelude`, no burn line). Run by .ci/run after the release build, whose
# artifacts it reuses (same target folder, same Cargo.lock).
#
#   bash scripts/readme-check.sh [SCRATCH_DIR]   (default target/readme-check)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=${1:-$repo/target/readme-check}
rm -rf "$scratch"
mkdir -p "$scratch/src"
# The first ```rust block after the heading, verbatim.
awk '/^## A search in ten lines/ { in_section = 1 }
     in_section && /^```rust/ { in_block = 1; next }
     in_block && /^```/ { exit }
     in_block { print }' "$repo/README.md" > "$scratch/src/main.rs"
if [ ! -s "$scratch/src/main.rs" ]; then
    echo "README.md has no \`\`\`rust block under '## A search in ten lines'" >&2
    exit 1
fi
cat > "$scratch/Cargo.toml" <<TOML
[package]
name = "readme-check"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
tnd-nas = { path = "$repo" }

[workspace]
TOML
cp "$repo/Cargo.lock" "$scratch/"
CARGO_TARGET_DIR="$repo/target" cargo build --release --manifest-path "$scratch/Cargo.toml"
echo "README search builds as an external crate: $scratch"
