//! Progress for long command-line work (blacklist imports and exports): drawn on standard error
//! only when it is a terminal, so scripts that pipe or redirect it see nothing but the results.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether progress is drawn: standard error is a terminal and `DOORMAN_NO_PROGRESS` is unset.
fn drawn() -> ProgressDrawTarget {
    if std::env::var_os("DOORMAN_NO_PROGRESS").is_some() {
        return ProgressDrawTarget::hidden();
    }
    // indicatif hides itself where standard error is no terminal.
    ProgressDrawTarget::stderr()
}

/// A bar over `total` bytes of a file being sent, such as an import.
pub fn bytes(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), drawn());
    let style =
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)")
            .expect("a valid progress template")
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}

/// A running count with no known end, such as the lines of an export.
pub fn count(what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, drawn());
    let style = ProgressStyle::with_template("{spinner} {msg}: {human_pos} ({per_sec})")
        .expect("a valid progress template");
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}
