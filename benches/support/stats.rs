//! Latency figures shared by the benchmarks.

use std::time::Duration;

/// The `p` quantile (0.0 to 1.0) of `sorted` latencies, nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// The `p` quantile in microseconds.
#[allow(dead_code)] // not every benchmark reports in microseconds
pub fn percentile_us(sorted: &[Duration], p: f64) -> f64 {
    percentile(sorted, p).as_secs_f64() * 1e6
}

/// The `p` quantile in milliseconds.
#[allow(dead_code)] // not every benchmark reports in milliseconds
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    percentile(sorted, p).as_secs_f64() * 1e3
}
