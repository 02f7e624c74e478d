//! The process's own resource use, read from `/proc/self` when `/metrics` is scraped (Linux
//! only; elsewhere [`read`] finds nothing and no process gauges are exported).

/// A snapshot of this process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessStats {
    /// User plus system CPU time.
    pub cpu_seconds: f64,
    pub resident_memory_bytes: u64,
    pub virtual_memory_bytes: u64,
    pub threads: u64,
    /// Unix time the process started.
    pub start_time_seconds: f64,
    pub open_fds: u64,
    /// The soft open-file limit.
    pub max_fds: u64,
}

/// This process now; None where `/proc` cannot be read.
#[cfg(target_os = "linux")]
pub fn read() -> Option<ProcessStats> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let boot_time = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("btime ").and_then(|secs| secs.trim().parse::<u64>().ok()))?;
    // SAFETY: sysconf only reads system constants.
    let (ticks, page) = unsafe { (libc::sysconf(libc::_SC_CLK_TCK), libc::sysconf(libc::_SC_PAGESIZE)) };
    let (ticks, page) = (u64::try_from(ticks).ok().filter(|&t| t > 0)?, u64::try_from(page).ok()?);
    let fields = parse_stat(&stat)?;
    let open_fds = std::fs::read_dir("/proc/self/fd").map(|dir| dir.count() as u64).unwrap_or(0);
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we pass.
    let max_fds = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 { limit.rlim_cur } else { 0 };
    Some(ProcessStats {
        cpu_seconds: (fields.utime + fields.stime) as f64 / ticks as f64,
        resident_memory_bytes: fields.rss_pages.saturating_mul(page),
        virtual_memory_bytes: fields.vsize,
        threads: fields.threads,
        start_time_seconds: boot_time as f64 + fields.start_ticks as f64 / ticks as f64,
        open_fds,
        max_fds,
    })
}

#[cfg(not(target_os = "linux"))]
pub fn read() -> Option<ProcessStats> {
    None
}

/// The fields of `/proc/self/stat` used here (proc(5)), in their units.
#[derive(Debug, PartialEq, Eq)]
struct StatFields {
    utime: u64,
    stime: u64,
    threads: u64,
    start_ticks: u64,
    vsize: u64,
    rss_pages: u64,
}

/// Parses `pid (comm) state ppid ...`. The command name may hold spaces and parentheses, so
/// the fields are counted from the last `)`.
fn parse_stat(stat: &str) -> Option<StatFields> {
    let (_, after_comm) = stat.rsplit_once(')')?;
    // Field 3 (state) is index 0 here, so field n is index n - 3.
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|value| value.parse::<u64>().ok());
    Some(StatFields {
        utime: field(14)?,
        stime: field(15)?,
        threads: field(20)?,
        start_ticks: field(22)?,
        vsize: field(23)?,
        rss_pages: field(24)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let stat = "4242 (latchkey (a) b) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 75 0 0 30 10 9 0 \
                    123456 987654321 4321 18446744073709551615 1 1 0 0 0 0 0 4096 17415 0 0 0 17 1 0 0 0 0 0";
        let fields = parse_stat(stat).unwrap();
        assert_eq!(
            fields,
            StatFields { utime: 250, stime: 75, threads: 9, start_ticks: 123456, vsize: 987654321, rss_pages: 4321 }
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_read() {
        let stats = read().expect("/proc/self");
        assert!(stats.resident_memory_bytes > 0 && stats.threads >= 1 && stats.open_fds >= 3, "{stats:?}");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        assert!(stats.start_time_seconds > now - 86_400.0 && stats.start_time_seconds <= now + 1.0, "{stats:?}");
    }
}
