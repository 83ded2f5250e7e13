//! The `doorman` binary; everything lives in the library's [`doorman::hosts::cli`].

fn main() -> std::process::ExitCode {
    doorman::hosts::cli::run()
}
