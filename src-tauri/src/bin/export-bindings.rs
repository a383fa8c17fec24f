//! Writes the TypeScript bindings (`ui/src/bindings.ts`) from the commands and events in
//! `latchkey_app::specta_builder`. `cargo run -p latchkey-app --bin export-bindings`
//! (`--check` exits 1 when the committed file differs instead of writing it).

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(latchkey_app::BINDINGS_PATH);
    let text = match latchkey_app::bindings() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("could not generate the bindings: {e}");
            return ExitCode::FAILURE;
        }
    };
    if std::env::args().any(|a| a == "--check") {
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            println!("{} is up to date", path.display());
            return ExitCode::SUCCESS;
        }
        eprintln!("{} differs from the Rust commands: run `cargo run -p latchkey-app --bin export-bindings`", path.display());
        return ExitCode::FAILURE;
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&path, text) {
        Ok(()) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("could not write {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}
