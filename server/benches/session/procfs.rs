//! What the benchmark reads from `/proc` (Linux only; no unsafe, so no `getrusage`):
//! a thread's CPU time and run-queue wait from `schedstat` (nanoseconds), and a
//! process's resident memory from `status`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// CPU time and time spent runnable but waiting for a core, of one thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ThreadTimes {
    /// Time on a CPU, ns (`schedstat` field 1, `sum_exec_runtime`).
    pub(crate) cpu_ns: u64,
    /// Time runnable on a run queue, ns (`schedstat` field 2): contention, not work.
    pub(crate) wait_ns: u64,
}

impl ThreadTimes {
    /// `self - earlier`, saturating.
    pub(crate) fn since(self, earlier: Self) -> Self {
        Self {
            cpu_ns: self.cpu_ns.saturating_sub(earlier.cpu_ns),
            wait_ns: self.wait_ns.saturating_sub(earlier.wait_ns),
        }
    }

    /// Sum of two threads' times.
    pub(crate) fn plus(self, other: Self) -> Self {
        Self {
            cpu_ns: self.cpu_ns + other.cpu_ns,
            wait_ns: self.wait_ns + other.wait_ns,
        }
    }
}

/// `/proc/<pid>/task/<tid>` of the calling thread, to read its times from any thread.
pub(crate) fn this_thread_dir() -> PathBuf {
    let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self (Linux)");
    Path::new("/proc").join(link)
}

/// Moves the thread whose `/proc` directory is `dir` to `cpus` (`taskset -c` syntax);
/// a warning, not a failure, when `taskset` is missing or refuses.
pub(crate) fn pin(dir: &Path, cpus: &str) {
    let tid = dir.file_name().and_then(|t| t.to_str()).unwrap_or_default();
    let done = std::process::Command::new("taskset")
        .args(["-p", "-c", cpus, tid])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !done {
        eprintln!("warning: could not pin thread {tid} to CPUs {cpus}");
    }
}

/// The times of the thread whose `/proc` directory is `dir` (zeros once it has exited).
pub(crate) fn thread_times(dir: &Path) -> ThreadTimes {
    let text = std::fs::read_to_string(dir.join("schedstat")).unwrap_or_default();
    let mut fields = text
        .split_whitespace()
        .map(|f| f.parse::<u64>().unwrap_or(0));
    ThreadTimes {
        cpu_ns: fields.next().unwrap_or(0),
        wait_ns: fields.next().unwrap_or(0),
    }
}

/// Resident memory of this process, KiB (`VmRSS`).
pub(crate) fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

/// The anonymous part of [`rss_kib`] (`RssAnon`: heap, stacks), KiB. The rest is mostly
/// file-backed pages of the executable's code, faulted in the first time a code path
/// runs and shared by every process running the same binary.
pub(crate) fn anon_kib() -> u64 {
    status_kib("RssAnon:")
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// `nproc` and the CPU model, for the report.
pub(crate) fn machine() -> (usize, String) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
    (cores, model)
}
