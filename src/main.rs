//! The `doorman` binary; everything lives in the library's [`doorman::hosts::cli`].

/// mimalloc: the forwarding path allocates a few small objects per request, and mimalloc's
/// thread-local free lists make that measurably cheaper than glibc's malloc (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    doorman::hosts::cli::run()
}
