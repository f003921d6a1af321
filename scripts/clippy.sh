# Sourced by scripts/test and scripts/local: compiles the workspace's crates with clippy's driver
# (rustc with clippy's lints added) and -D warnings, as `cargo clippy` does on a `cargo check`
# build, but on the build the command makes anyway: the lints of
# `cargo clippy --workspace --all-targets -- -D warnings` (the workspace has no benches or
# examples) without a second compilation of every dependency. Dependencies are compiled by rustc
# as usual; both scripts share the same artifacts.
clippy_build_env() {
  local driver
  driver=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver) || {
    echo "clippy is missing: rustup component add clippy" >&2
    return 1
  }
  export RUSTC_WORKSPACE_WRAPPER="$driver"
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
}
