//! Lines on stdout that never panic: a reader that went away (`ferryboat ls … | head`)
//! ends the process quietly instead of aborting it with a broken-pipe panic.

use std::io::Write;

/// Writes one line to stdout. A closed pipe exits with 0 (the reader had what it wanted);
/// any other write error exits with 1.
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(i32::from(crate::exit::FAILED));
    }
}

/// `println!` through [`line`].
macro_rules! outln {
    ($($t:tt)*) => { $crate::out::line(format_args!($($t)*)) };
}
pub(crate) use outln;
