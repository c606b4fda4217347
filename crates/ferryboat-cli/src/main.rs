//! The `ferryboat` binary.

fn main() -> std::process::ExitCode {
    ferryboat_cli::main_with(std::env::args_os())
}
