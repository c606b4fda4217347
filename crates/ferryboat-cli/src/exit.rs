//! Exit codes, the one contract scripts and schedulers read.

use std::process::ExitCode;

use ferryboat::{Error, ErrorKind};

/// Done, and the answer is yes: in sync, identical, found, deleted.
pub const OK: u8 = 0;
/// The command ran and the answer is no, or some objects failed: a mirror not in sync, a
/// check that found differences, a key that is not there. Running it again may help.
pub const FAILED: u8 = 1;
/// Bad input: a malformed URL, an unknown scheme or remote, a missing credential, an
/// unknown flag. Running it again unchanged cannot help (a scheduler should not retry).
pub const BAD_INPUT: u8 = 2;
/// `check` could not compare everything it was asked to (a key it could not read, or a
/// comparison that would have needed a read `--no-read` forbade).
pub const INCOMPLETE: u8 = 3;

/// The exit code for an error that stopped a command: bad input for errors no retry can
/// fix, a failure otherwise (an unreachable endpoint may answer next time).
pub fn for_error(e: &Error) -> u8 {
    match e.kind() {
        ErrorKind::InvalidConfig
        | ErrorKind::InvalidPath
        | ErrorKind::Unauthenticated
        | ErrorKind::PermissionDenied
        | ErrorKind::NotSupported
        | ErrorKind::PolicyViolation => BAD_INPUT,
        _ => FAILED,
    }
}

/// Prints the error on one line and returns its exit code.
pub fn report(e: &Error) -> ExitCode {
    // Store errors are sanitised where they are made: no query string, no secret.
    let line = e.to_string().replace(['\n', '\r'], " ");
    eprintln!("error: {line}");
    ExitCode::from(for_error(e))
}
