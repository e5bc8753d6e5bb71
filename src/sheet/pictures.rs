//! The sheet's pictures, as inline SVG: waveform strips, level bars, the limiter's passages and
//! the null test over the song.

use super::html::escape;
use super::model::{Levels, NullStretch, PassagePicture, Waveform};
use std::fmt::Write;

/// Width of every picture, in SVG units.
const WIDTH: f64 = 800.0;
/// Height of a waveform strip.
const STRIP_HEIGHT: f64 = 80.0;
/// Height of a level bar.
const BAR_HEIGHT: f64 = 22.0;
/// The level bars run from here ...
const BAR_FLOOR_DB: f64 = -60.0;
/// ... to here.
const BAR_TOP_DB: f64 = 3.0;
/// The lines drawn on every strip, dBFS.
const STRIP_LINES_DB: [f64; 3] = [-6.0, -3.0, 0.0];
/// Height of the limiter picture and of the null test's timeline.
const PLOT_HEIGHT: f64 = 150.0;
/// The null test's timeline runs from here to 0 dBFS.
const NULL_FLOOR_DB: f64 = -72.0;
/// The limiter picture's peaks run from here to [`PASSAGE_TOP_DB`].
const PASSAGE_FLOOR_DB: f64 = -24.0;
const PASSAGE_TOP_DB: f64 = 1.0;

/// The waveform, the dB lines and a marker at each clip or over.
pub fn waveform(page: &mut String, w: &Waveform) {
    let half = STRIP_HEIGHT / 2.0;
    let y = |v: f64| half - v.clamp(-1.0, 1.0) * (half - 1.0);
    let _ = write!(
        page,
        "<svg class=\"strip\" viewBox=\"0 0 {WIDTH} {STRIP_HEIGHT}\" role=\"img\" \
         aria-label=\"waveform\"><rect width=\"{WIDTH}\" height=\"{STRIP_HEIGHT}\" fill=\"#fff\"/>"
    );
    for db in STRIP_LINES_DB {
        let a = 10f64.powf(db / 20.0);
        let class = if db == 0.0 { "db db0" } else { "db" };
        for level in [a, -a] {
            let _ = write!(
                page,
                "<line class=\"{class}\" data-db=\"{db}\" x1=\"0\" x2=\"{WIDTH}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
                y(level),
                y(level)
            );
        }
    }
    // Each column a vertical stroke as wide as the column: a short pass's few columns touch.
    let _ = write!(
        page,
        "<path class=\"wave\" style=\"stroke-width:{:.2}\" d=\"",
        (w.column_share * WIDTH).max(1.0)
    );
    for (i, column) in w.columns.iter().enumerate() {
        let x = (i as f64 + 0.5) * w.column_share * WIDTH;
        let (low, high) = (y(f64::from(column.min)), y(f64::from(column.max)));
        // At least a pixel tall, so silence still draws a line.
        let _ = write!(
            page,
            "M{x:.1} {:.1}V{:.1}",
            high.min(half - 0.5),
            low.max(half + 0.5)
        );
    }
    page.push_str("\"/>");
    // Overs first, so a clip at the same place is drawn over its over, red on top.
    let (overs, clips): (Vec<_>, Vec<_>) = w.markers.iter().partition(|m| m.over);
    for marker in overs.into_iter().chain(clips) {
        let x = marker.at_share * WIDTH;
        let class = if marker.over { "over" } else { "clip" };
        let _ = write!(
            page,
            "<line class=\"{class}\" data-time=\"{:.6}\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"0\" y2=\"{STRIP_HEIGHT}\">\
             <title>{}</title></line>",
            marker.time_s,
            escape(&marker.title),
        );
    }
    page.push_str("</svg>");
}

/// Sample peak and true peak as bars on a -60..+3 dB scale, with the target and warning lines.
pub fn level_bars(page: &mut String, m: &Levels) {
    let x = |db: f64| {
        ((db.clamp(BAR_FLOOR_DB, BAR_TOP_DB) - BAR_FLOOR_DB) / (BAR_TOP_DB - BAR_FLOOR_DB)) * WIDTH
    };
    let half = BAR_HEIGHT / 2.0;
    let _ = write!(
        page,
        "<svg class=\"bars\" viewBox=\"0 0 {WIDTH} {BAR_HEIGHT}\" role=\"img\" aria-label=\"peak and true peak\">\
         <rect class=\"bar-bg\" width=\"{WIDTH}\" height=\"{BAR_HEIGHT}\"/>\
         <rect class=\"bar-sp\" data-db=\"{sp:.2}\" width=\"{:.1}\" height=\"{half}\"><title>peak {sp:.1} dBFS</title></rect>\
         <rect class=\"bar-tp\" data-db=\"{tp:.2}\" y=\"{half}\" width=\"{:.1}\" height=\"{half}\"><title>true peak {tp:.1} dBTP</title></rect>",
        x(f64::from(m.sample_peak_dbfs)),
        x(f64::from(m.true_peak_dbtp)),
        sp = m.sample_peak_dbfs,
        tp = m.true_peak_dbtp,
    );
    for (class, db) in [
        ("target", m.thresholds.target_dbfs),
        ("warning", m.thresholds.warning_dbfs),
    ] {
        let at = x(f64::from(db));
        let _ = write!(
            page,
            "<line class=\"{class}\" x1=\"{at:.1}\" x2=\"{at:.1}\" y1=\"0\" y2=\"{BAR_HEIGHT}\"><title>{class} {db} dBFS</title></line>"
        );
    }
    page.push_str("</svg>");
}

/// The limiter evidence: every kind of 400 ms passage as a dot, its peak against its loudness.
/// Free peaks rise with the loudness; a limiter flattens the loud ones into a row at its
/// ceiling, drawn as a dashed line.
pub fn passages(page: &mut String, picture: &PassagePicture) {
    let loud: Vec<_> = picture.passages.iter().filter(|p| p.loud).collect();
    let (Some(low), Some(high)) = (
        loud.iter().map(|p| p.loudness_dbfs).reduce(f32::min),
        loud.iter().map(|p| p.loudness_dbfs).reduce(f32::max),
    ) else {
        return;
    };
    let (from, to) = (f64::from(low) - 3.0, f64::from(high) + 2.0);
    let x = |db: f64| (db - from) / (to - from) * (WIDTH - 60.0) + 50.0;
    let y = |db: f64| {
        let t = (db.clamp(PASSAGE_FLOOR_DB, PASSAGE_TOP_DB) - PASSAGE_FLOOR_DB)
            / (PASSAGE_TOP_DB - PASSAGE_FLOOR_DB);
        (PLOT_HEIGHT - 20.0) * (1.0 - t) + 4.0
    };
    let ceiling = picture.ceiling_dbfs;
    let _ = write!(
        page,
        "<svg class=\"limiter\" data-found=\"{}\" data-ceiling=\"{}\" viewBox=\"0 0 {WIDTH} {PLOT_HEIGHT}\" \
         role=\"img\" aria-label=\"peaks of loud passages against their loudness\">\
         <rect width=\"{WIDTH}\" height=\"{PLOT_HEIGHT}\" fill=\"#fff\"/>",
        ceiling.is_some(),
        ceiling.map_or_else(String::new, |c| format!("{c:.2}")),
    );
    for db in [-18.0, -12.0, -6.0, 0.0] {
        let at = y(db);
        let _ = write!(
            page,
            "<line class=\"db\" x1=\"50\" x2=\"{WIDTH}\" y1=\"{at:.1}\" y2=\"{at:.1}\"/>\
             <text class=\"axis\" x=\"44\" y=\"{:.1}\" text-anchor=\"end\">{db}</text>",
            at + 4.0
        );
    }
    let _ = write!(
        page,
        "<text class=\"axis\" x=\"50\" y=\"{:.1}\">peak of each 400 ms passage (dBFS) against its loudness: {from:.0} to {to:.0} dBFS RMS \u{2192}</text>",
        PLOT_HEIGHT - 4.0
    );
    for passage in &picture.passages {
        let class = if passage.loud {
            "passage"
        } else {
            "passage quiet"
        };
        let radius = (1.5 + f64::from(passage.count).sqrt()).min(6.0);
        let loudness = f64::from(passage.loudness_dbfs);
        if loudness < from {
            continue;
        }
        let _ = write!(
            page,
            "<circle class=\"{class}\" data-peak=\"{:.2}\" data-loudness=\"{loudness:.1}\" data-count=\"{}\" \
             cx=\"{:.1}\" cy=\"{:.1}\" r=\"{radius:.1}\"/>",
            passage.peak_dbfs,
            passage.count,
            x(loudness),
            y(f64::from(passage.peak_dbfs)),
        );
    }
    if let Some(ceiling) = ceiling {
        let at = y(f64::from(ceiling));
        let _ = write!(
            page,
            "<line class=\"ceiling\" x1=\"50\" x2=\"{WIDTH}\" y1=\"{at:.1}\" y2=\"{at:.1}\">\
             <title>ceiling {ceiling:.1} dBFS</title></line>\
             <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">limiter ceiling {ceiling:.1} dBFS</text>",
            WIDTH - 4.0,
            at - 5.0
        );
    }
    page.push_str("</svg>");
}

/// The null test over the song: the mix's level in grey, what the stems leave unexplained in
/// purple. A stem missing for a section, or drifting, shows as purple rising towards the grey
/// there.
pub fn null_timeline(page: &mut String, timeline: &[NullStretch]) {
    if timeline.is_empty() {
        return;
    }
    let column = WIDTH / timeline.len() as f64;
    let y = |db: f64| {
        let t = (db.clamp(NULL_FLOOR_DB, 0.0) - NULL_FLOOR_DB) / -NULL_FLOOR_DB;
        (PLOT_HEIGHT - 18.0) * (1.0 - t)
    };
    let _ = write!(
        page,
        "<svg class=\"null\" viewBox=\"0 0 {WIDTH} {PLOT_HEIGHT}\" role=\"img\" \
         aria-label=\"null test over the song\"><rect width=\"{WIDTH}\" height=\"{PLOT_HEIGHT}\" fill=\"#fff\"/>"
    );
    let bottom = y(NULL_FLOOR_DB);
    for (i, stretch) in timeline.iter().enumerate() {
        let (Some(mix), Some(residual)) = (stretch.mix_dbfs, stretch.residual_dbfs) else {
            continue;
        };
        let left = i as f64 * column;
        for (class, db) in [("mix", mix), ("residual", residual)] {
            let top = y(f64::from(db));
            let _ = write!(
                page,
                "<rect class=\"{class}\" data-i=\"{i}\" data-db=\"{db:.1}\" x=\"{left:.1}\" y=\"{top:.1}\" \
                 width=\"{column:.2}\" height=\"{:.1}\"/>",
                (bottom - top).max(0.0)
            );
        }
    }
    for db in [-60.0, -40.0, -20.0] {
        let at = y(db);
        let _ = write!(
            page,
            "<line class=\"db\" x1=\"0\" x2=\"{WIDTH}\" y1=\"{at:.1}\" y2=\"{at:.1}\"/>\
             <text class=\"axis\" x=\"4\" y=\"{:.1}\">{db} dBFS</text>",
            at - 2.0
        );
    }
    let _ = write!(
        page,
        "<text class=\"axis\" x=\"4\" y=\"{:.1}\">null test over the song: the mix (grey) and what the stems leave unexplained (purple)</text></svg>",
        PLOT_HEIGHT - 3.0
    );
}
