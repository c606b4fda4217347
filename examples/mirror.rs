//! `mirror`: replicate a bucket from any store ferry opens to any other.
//!
//! ```text
//! cargo run --release --example mirror -- SRC_URL DST_URL [flags]
//! cargo run --release --example mirror            # demo: local -> local, twice
//! ```
//!
//! The same code as `ferryboat mirror` (crate `ferryboat-cli`), with the same flags. Exit
//! code 0 only when source and destination match at the end; 1 when objects failed or the
//! run stopped on an error a retry may fix; 2 for bad input.

fn main() -> std::process::ExitCode {
    ferryboat_cli::mirror::example_main(std::env::args_os())
}
