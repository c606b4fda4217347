//! Progress while a mirror runs: a bar on a terminal, a plain line every few seconds
//! otherwise (a log file, a pipe, a Kubernetes pod's stdout collector).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferryboat::mirror::{human_bytes, Progress};
use tokio::task::JoinHandle;

/// A running display; [`Watcher::finish`] ends it and leaves the terminal clean.
pub struct Watcher {
    task: JoinHandle<()>,
    bar: Option<indicatif::ProgressBar>,
}

impl Watcher {
    /// Starts showing `progress` on stderr, or nothing when `quiet`. `every` is the interval
    /// of plain lines when stderr is not a terminal.
    pub fn start(progress: Arc<Progress>, quiet: bool, every: Duration) -> Option<Watcher> {
        if quiet {
            return None;
        }
        if std::io::stderr().is_terminal() {
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            let bar = indicatif::ProgressBar::new(0).with_style(style);
            let shown = bar.clone();
            let task = tokio::spawn(async move {
                loop {
                    shown.set_length(progress.planned_bytes());
                    shown.set_position(progress.done_bytes());
                    shown.set_message(format!(
                        "{}/{} objects, {} compared",
                        progress.done_objects(),
                        progress.planned_objects(),
                        progress.checked_keys()
                    ));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
            return Some(Watcher { task, bar: Some(bar) });
        }
        let every = every.max(Duration::from_millis(50));
        let task = tokio::spawn(async move {
            let started = Instant::now();
            loop {
                tokio::time::sleep(every).await;
                eprintln!("{}", line(&progress, started.elapsed()));
            }
        });
        Some(Watcher { task, bar: None })
    }

    /// Stops the display; a bar is cleared from the terminal.
    pub async fn finish(self) {
        self.task.abort();
        let _ = self.task.await;
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// One plain progress line.
fn line(progress: &Progress, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    format!(
        "progress: {}/{} objects, {} of {}, {}/s, {} keys compared",
        progress.done_objects(),
        progress.planned_objects(),
        human_bytes(progress.done_bytes()),
        human_bytes(progress.planned_bytes()),
        human_bytes((progress.done_bytes() as f64 / secs) as u64),
        progress.checked_keys()
    )
}
