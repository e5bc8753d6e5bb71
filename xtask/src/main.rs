//! `cargo xtask bundle …` is nice-plug's bundler; `cargo xtask install` also copies the bundles
//! into the user's plugin folders.

mod install;
mod smoke;

fn main() -> nice_plug_xtask::Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("install") {
        return install::run();
    }
    nice_plug_xtask::main()
}
