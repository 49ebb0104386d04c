//! Progress on stderr for runs and sweeps. indicatif's stderr target draws nothing when stderr
//! is not a terminal, so pipes, CI logs and tests see no progress output, and no output file
//! depends on it.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

/// A spinner with the elapsed wall time while one scenario runs; cleared when dropped.
pub fn spinner(name: &str) -> Progress {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} simulating {msg} {elapsed}") {
        bar.set_style(style);
    }
    bar.set_message(name.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    Progress(bar)
}

/// A bar counting the runs of a sweep.
pub fn runs(total: u64) -> Progress {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:40} {pos}/{len} runs, {elapsed} elapsed, about {eta} left",
    ) {
        bar.set_style(style);
    }
    Progress(bar)
}

/// A progress display, removed from the terminal when dropped.
pub struct Progress(ProgressBar);

impl Progress {
    pub fn inc(&self) {
        self.0.inc(1);
    }

    /// Prints a line above the bar (or plainly when there is no terminal).
    pub fn println(&self, line: &str) {
        if self.0.is_hidden() {
            eprintln!("{line}");
        } else {
            self.0.println(line);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
