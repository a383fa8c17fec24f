//! The gateway crate's error.

use crate::instance::Running;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    #[error("Latchkey's gateway is already running{}. Use that one, or quit it first.", match .0 { Some(r) => format!(" at {} (process {})", r.url(), r.pid), None => String::new() })]
    AlreadyRunning(Option<Running>),
    #[error("Could not listen on 127.0.0.1:{port}: {detail}. Another program may use that port; choose another with --port.")]
    Bind { port: u16, detail: String },
    #[error("Gateway files: {0}")]
    Io(String),
    #[error("Could not set up the HTTP client: {0}")]
    Client(String),
}

impl GatewayError {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::AlreadyRunning(_) => "gateway_already_running",
            Self::Bind { .. } => "port_in_use",
            Self::Io(_) => "storage",
            Self::Client(_) => "gateway_error",
        }
    }
}
