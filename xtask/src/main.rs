//! `cargo xtask bundle …` is nice-plug's bundler; `cargo xtask install` also copies the bundles
//! into the user's plugin folders; `cargo xtask bundle-windows` builds the Windows ones
//! (`windows.rs`); `cargo xtask test [--all]` runs the tests (see `test.rs`, `arm.rs`).

mod arm;
mod install;
mod same_reports;
mod smoke;
mod test;
mod windows;

fn main() -> nice_plug_xtask::Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    match args.peek().map(String::as_str) {
        Some("install") => install::run(),
        Some("bundle-windows") => Ok(windows::bundle().map(|_| ())?),
        Some("test") => {
            let all = args.any(|a| a == "--all");
            Ok(test::run(all)?)
        }
        _ => nice_plug_xtask::main(),
    }
}
