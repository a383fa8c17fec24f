//! Diagnostic: exercises `KeychainStore` once and prints the classified result, so the keychain
//! error mapping can be checked by hand in unusual sessions (locked keyring, no Secret Service,
//! no bus). Never prints a stored value, only its length.
//!
//! Usage: `cargo run -p latchkey-secrets --example probe -- [probe | get ACCOUNT |
//! set ACCOUNT VALUE | delete ACCOUNT]` (service name `latchkey-probe-example`).
//! Exit status: 0 on success, 1 on a keychain error, 2 on bad usage.

use latchkey_secrets::{KeychainStore, SecretString, SecretsError, TokenStore};

fn main() {
    let store = KeychainStore::new("latchkey-probe-example");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result: Result<String, SecretsError> = match args.as_slice() {
        [] | ["probe"] => store.probe().map(|()| format!("{} is usable", store.describe())),
        ["get", account] => store.get(account).map(|v| match v {
            Some(v) => format!("found a value of {} bytes", v.expose().len()),
            None => "no entry".to_owned(),
        }),
        ["set", account, value] => store.set(account, &SecretString::from(*value)).map(|()| "stored".into()),
        ["delete", account] => store.delete(account).map(|()| "deleted".into()),
        _ => {
            eprintln!("usage: probe | get ACCOUNT | set ACCOUNT VALUE | delete ACCOUNT");
            std::process::exit(2);
        }
    };
    match result {
        Ok(msg) => println!("ok: {msg}"),
        Err(err) => {
            println!("kind={} unavailable={}", err.kind(), err.is_unavailable());
            println!("message={err}");
            println!("debug={err:?}");
            std::process::exit(1);
        }
    }
}
