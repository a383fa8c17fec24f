//! Where the workspace and its build outputs are, for tests and benches that run the real
//! binaries (`latchkey`, `latchkey-bridge`) rather than the library.

use std::path::{Path, PathBuf};

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Cargo's target dir: `$CARGO_TARGET_DIR` (relative to the workspace when relative), else
/// `target/`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { workspace_root().join(p) })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// A debug build of binary `name` from `package`; panics with the build command when missing.
pub fn debug_bin(name: &str, package: &str) -> PathBuf {
    let bin = target_dir().join("debug").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.is_file(), "{} is missing: run `cargo build -p {package}` first", bin.display());
    bin
}
