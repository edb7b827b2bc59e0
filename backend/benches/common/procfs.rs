//! CPU time from `/proc/self/stat`, shared by the backend's bench binaries (each
//! includes this file as a module).

/// `USER_HZ`, the unit of `/proc/<pid>/stat`'s times (100 on every Linux we run on).
pub(crate) const CLOCK_TICKS_PER_S: f64 = 100.0;

/// (this process's user + system time, its waited-for children's), in clock ticks; `None`
/// without a readable `/proc/self/stat`.
pub(crate) fn cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which is in parentheses and may hold spaces):
    // state(0) ... utime(11) stime(12) cutime(13) cstime(14).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    match fields[..] {
        [utime, stime, cutime, cstime] => Some((utime + stime, cutime + cstime)),
        _ => None,
    }
}
