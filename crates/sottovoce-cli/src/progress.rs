//! Progress on long work (training in `build`, `eval`; the stories of `test`), drawn on stderr
//! only for a person at a terminal: piped or redirected output, and CI logs, get none.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar hidden unless stderr is a terminal (indicatif would also hide it; this says so).
fn visible(bar: ProgressBar) -> ProgressBar {
    if std::io::stderr().is_terminal() {
        bar
    } else {
        ProgressBar::hidden()
    }
}

/// A spinner with `message` and the time elapsed, for work of unknown length (training);
/// `finish_and_clear` it when done.
pub(crate) fn spinner(message: String) -> ProgressBar {
    let bar = visible(ProgressBar::new_spinner());
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("static template"));
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A bar over `len` items with `message`, the count and the time left.
pub(crate) fn bar(len: u64, message: String) -> ProgressBar {
    let bar = visible(ProgressBar::new(len));
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {eta}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}
