//! `stem-preflight`: check exported stems before they go to mastering.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use stem_preflight::analysis::HeadroomThresholds;
use stem_preflight::check::note::{delivery_note, NoteInfo};
use stem_preflight::check::report::{render, Colour};
use stem_preflight::check::sheet::sheet;
use stem_preflight::check::{atomic_file, pack};
use stem_preflight::check::{check, CheckOptions, CheckReport};

const USAGE: &str = "\
Usage: stem-preflight check [OPTIONS] <FOLDER|FILE|ZIP>...
       stem-preflight note [OPTIONS] <FOLDER|FILE|ZIP>...
       stem-preflight pack [OPTIONS] <FOLDER|FILE|ZIP>...

Check exported stems before they go to mastering: format and bit depth, sample
rates, names, lengths and start offsets, whether the stems add up to the mix,
peaks and true peaks, clipping, a limiter on the mix, lossy origin, 16-bit
truncation, normalization, cut tails, silence and DC offset.

Commands:
  check    Check the files and print a verdict per file with the fix
  note     Check the files and write the delivery note for the mastering engineer
  pack     Check the files and, when nothing fails, write one ZIP to send: the
           audio files as they are and the delivery note

A ZIP given as input is checked in place, without unpacking it.

Options (check and note):
  -r, --reference FILE   The reference mix (default: the file whose name says
                         mix, reference, master or stereo)
      --target DB        Headroom target, dBFS [default: -6]
      --warning DB       Too-hot threshold, dBFS [default: -3]

Options (check):
      --json             Print the report as JSON (schema in the README)
      --html FILE        Also write the delivery sheet: one self-contained page
                         with each file's waveform, clips, levels and findings

Options (note and pack):
      --tempo BPM        Tempo
      --key KEY          Key, e.g. \"A minor\"
      --time-signature S Time signature, e.g. 4/4
      --song NAME        Song title (default: from the file names)
      --artist NAME      Artist
  -o, --output FILE      Where to write. note: default \"Delivery note.txt\" in
                         the first folder given, \"-\" for standard output;
                         pack: default FOLDER_stems.zip beside the first folder
      --force            pack: write the ZIP even when checks fail, the
                         failures at the top of the note

  -h, --help             Print this help
  -V, --version          Print the version

Exit status:
  0  every check passed (note, pack: written)
  1  warnings (note, pack: written)
  2  failures (pack: not written, unless --force)
  3  usage error, or no readable audio file
  4  the delivery note, the sheet or the ZIP could not be written

Colour only on a terminal and when NO_COLOR is unset.
";

enum Command {
    Check {
        json: bool,
        html: Option<PathBuf>,
    },
    Note {
        info: NoteInfo,
        output: Option<PathBuf>,
    },
    Pack {
        info: NoteInfo,
        output: Option<PathBuf>,
        force: bool,
    },
}

struct Args {
    command: Command,
    paths: Vec<PathBuf>,
    options: CheckOptions,
}

enum Parsed {
    Run(Box<Args>),
    Exit(ExitCode),
}

fn parse() -> Result<Parsed, lexopt::Error> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    let mut command = None;
    let mut json = false;
    let mut html = None;
    let mut info = NoteInfo::default();
    let mut output = None;
    let mut force = false;
    let mut paths = Vec::new();
    let mut options = CheckOptions::default();
    let mut thresholds = HeadroomThresholds::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => {
                print!("{USAGE}");
                return Ok(Parsed::Exit(ExitCode::SUCCESS));
            }
            Short('V') | Long("version") => {
                println!("stem-preflight {}", env!("CARGO_PKG_VERSION"));
                return Ok(Parsed::Exit(ExitCode::SUCCESS));
            }
            Short('r') | Long("reference") => options.reference = Some(parser.value()?.into()),
            Long("target") => thresholds.target_dbfs = parser.value()?.parse()?,
            Long("warning") => thresholds.warning_dbfs = parser.value()?.parse()?,
            Long("json") => json = true,
            Long("html") => html = Some(PathBuf::from(parser.value()?)),
            Long("force") => force = true,
            Long("tempo") => info.tempo_bpm = Some(parser.value()?.parse()?),
            Long("key") => info.key = Some(parser.value()?.string()?),
            Long("time-signature") => info.time_signature = Some(parser.value()?.string()?),
            Long("song") => info.song = Some(parser.value()?.string()?),
            Long("artist") => info.artist = Some(parser.value()?.string()?),
            Short('o') | Long("output") => output = Some(PathBuf::from(parser.value()?)),
            Value(value) if command.is_none() => {
                command = Some(value.string()?);
            }
            Value(value) => paths.push(PathBuf::from(value)),
            _ => return Err(arg.unexpected()),
        }
    }
    options.thresholds = thresholds;
    let command = match command.as_deref() {
        Some("check") => Command::Check { json, html },
        Some("note") => Command::Note { info, output },
        Some("pack") => Command::Pack {
            info,
            output,
            force,
        },
        Some(other) => {
            return Err(format!("unknown command '{other}' (try check, note or pack)").into())
        }
        None => return Err("a command is needed: check, note or pack".into()),
    };
    if paths.is_empty() {
        return Err("give the folder or the files to check".into());
    }
    if options.thresholds.target_dbfs > options.thresholds.warning_dbfs {
        return Err("--target must be at or below --warning".into());
    }
    Ok(Parsed::Run(Box::new(Args {
        command,
        paths,
        options,
    })))
}

fn run_check(args: &Args) -> Result<CheckReport, ExitCode> {
    let bar = indicatif::ProgressBar::hidden();
    let show_progress = std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if show_progress && total >= 4 {
            if bar.is_hidden() {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    };
    let report = check(&args.paths, &args.options, &progress);
    bar.finish_and_clear();
    report.map_err(|e| {
        eprintln!("stem-preflight: {e}");
        ExitCode::from(3)
    })
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Exit(code)) => return code,
        Err(e) => {
            eprintln!("stem-preflight: {e}\nTry 'stem-preflight --help'.");
            return ExitCode::from(3);
        }
    };
    let report = match run_check(&args) {
        Ok(report) => report,
        Err(code) => return code,
    };
    match &args.command {
        Command::Check { json, html } => {
            if let Some(target) = html {
                let note = delivery_note(&report, &NoteInfo::default());
                let page = sheet(&report, &note, args.options.thresholds);
                if let Err(e) = atomic_file::write(target, page.as_bytes()) {
                    eprintln!("stem-preflight: cannot write {}: {e}", target.display());
                    return ExitCode::from(4);
                }
            }
            let text = if *json {
                serde_json::to_string_pretty(&report)
                    .map(|s| s + "\n")
                    .unwrap_or_default()
            } else {
                let colour = if std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                {
                    Colour::On
                } else {
                    Colour::Off
                };
                render(&report, &args.paths, colour)
            };
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::stdout().write_all(text.as_bytes());
            if report.exit_code() == 3 {
                eprintln!("stem-preflight: no readable WAV or AIFF file among the inputs");
            }
            ExitCode::from(report.exit_code() as u8)
        }
        Command::Pack {
            info,
            output,
            force,
        } => run_pack(
            &report,
            &args.paths,
            info,
            output.as_deref(),
            *force,
            args.options.thresholds,
        ),
        Command::Note { info, output } => {
            if report.exit_code() == 3 {
                eprintln!("stem-preflight: no readable WAV or AIFF file among the inputs");
                return ExitCode::from(3);
            }
            let note = delivery_note(&report, info);
            let target = output
                .clone()
                .unwrap_or_else(|| first_folder(&args.paths).join("Delivery note.txt"));
            if target.as_os_str() == "-" {
                let _ = std::io::stdout().write_all(note.as_bytes());
                return ExitCode::SUCCESS;
            }
            match atomic_file::write(&target, note.as_bytes()) {
                Ok(()) => {
                    eprintln!("Wrote {}", target.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!(
                        "stem-preflight: cannot write {}: {e}. The note follows on standard output.",
                        target.display()
                    );
                    let _ = std::io::stdout().write_all(note.as_bytes());
                    ExitCode::from(4)
                }
            }
        }
    }
}

/// The first folder given, or the folder of the first file.
fn first_folder(paths: &[PathBuf]) -> PathBuf {
    paths
        .iter()
        .find(|p| p.is_dir())
        .cloned()
        .or_else(|| paths[0].parent().map(PathBuf::from))
        .unwrap_or_default()
}

/// `pack`: the ZIP is written only when nothing fails, or when forced.
fn run_pack(
    report: &CheckReport,
    paths: &[PathBuf],
    info: &NoteInfo,
    output: Option<&std::path::Path>,
    force: bool,
    thresholds: HeadroomThresholds,
) -> ExitCode {
    let code = report.exit_code();
    if code == 3 {
        eprintln!("stem-preflight: no readable WAV or AIFF file among the inputs");
        return ExitCode::from(3);
    }
    let text = render(report, paths, Colour::Off);
    let _ = std::io::stdout().write_all(text.as_bytes());
    if code == 2 && !force {
        eprintln!("stem-preflight: not packed: fix the failures above first (or pack anyway with --force)");
        return ExitCode::from(2);
    }
    let note = pack::failures_first(report, &delivery_note(report, info));
    let sheet = sheet(report, &note, thresholds);
    let target = output.map(PathBuf::from).unwrap_or_else(|| {
        let folder = first_folder(paths);
        let absolute = folder.canonicalize().unwrap_or(folder);
        let name = absolute
            .file_name()
            .map_or_else(|| "Stems".to_string(), |n| n.to_string_lossy().into_owned());
        absolute
            .parent()
            .unwrap_or(&absolute)
            .join(format!("{name}_stems.zip"))
    });
    let files = pack::audio_files(report);
    let documents = [(pack::NOTE_NAME, note), (pack::SHEET_NAME, sheet)];
    match pack::pack(&files, &documents, &target) {
        Ok(()) => {
            eprintln!(
                "Wrote {} ({} audio files, {} and {})",
                target.display(),
                files.len(),
                pack::NOTE_NAME,
                pack::SHEET_NAME
            );
            ExitCode::from(code as u8)
        }
        Err(e) => {
            eprintln!("stem-preflight: cannot write {}: {e}", target.display());
            ExitCode::from(4)
        }
    }
}
