//! Throughput with the gateway on a core of its own. On two shared cores every proxy loses to
//! direct, because it does as much HTTP work per request as the bench upstream does, on the same
//! cores. In use, the upstream is remote and only the app shares the machine with the gateway.
//! This round models that with CPU affinity: the load generator (this process) and the upstream
//! on CPU 0, the proxy under test on CPU 1, and direct measured under the same pinning.

use std::process::Command;

/// The CPU list of every CPU, for undoing the pinning.
fn all_cpus() -> String {
    let n = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("0-{}", n.saturating_sub(1))
}

/// Pins every thread of `pid` to `cpus` with `taskset`; false when that is not possible.
pub fn pin(pid: u32, cpus: &str) -> bool {
    Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Pins the load side (`load`) to CPU 0 and the proxies (`proxies`) to CPU 1. Returns `None`
/// (and pins nothing that stays pinned) when there are fewer than two CPUs or no `taskset`.
pub fn split(load: &[u32], proxies: &[u32]) -> Option<Pinned> {
    if std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) < 2 {
        return None;
    }
    let pinned = Pinned { pids: load.iter().chain(proxies).copied().collect() };
    let ok = load.iter().all(|p| pin(*p, "0")) && proxies.iter().all(|p| pin(*p, "1"));
    ok.then_some(pinned)
}

/// Undoes the pinning when dropped.
pub struct Pinned {
    pids: Vec<u32>,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let all = all_cpus();
        for p in &self.pids {
            pin(*p, &all);
        }
    }
}
