//! Drawing one channel's meter bar.

use egui::{Color32, Pos2, Rect, Sense, Stroke, StrokeKind, Ui, Vec2};

use super::ballistics::{PeakDisplay, FLOOR_DB};

/// Top of the scale, dBFS: room to show true-peak overs.
const CEILING_DB: f32 = 3.0;

/// Colour for a level against the thresholds.
pub fn level_colour(level_db: f32, target_dbfs: f32, warning_dbfs: f32) -> Color32 {
    if level_db >= 0.0 {
        Color32::from_rgb(230, 40, 40)
    } else if level_db > warning_dbfs {
        Color32::from_rgb(240, 140, 20)
    } else if level_db > target_dbfs {
        Color32::from_rgb(220, 200, 40)
    } else {
        Color32::from_rgb(60, 190, 90)
    }
}

fn x_of(rect: Rect, db: f32) -> f32 {
    let t = ((db - FLOOR_DB) / (CEILING_DB - FLOOR_DB)).clamp(0.0, 1.0);
    rect.left() + t * rect.width()
}

/// A horizontal bar: sample peak filled, true peak as a thin bar below it, hold line, and ticks
/// at the target, the warning level and 0 dBFS.
pub fn draw(
    ui: &mut Ui,
    width: f32,
    sample: &PeakDisplay,
    true_peak: &PeakDisplay,
    target_dbfs: f32,
    warning_dbfs: f32,
) {
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, 18.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(28));

    let main = Rect::from_min_max(rect.min, Pos2::new(rect.max.x, rect.top() + 12.0));
    let fill = Rect::from_min_max(main.min, Pos2::new(x_of(main, sample.level_db), main.max.y));
    painter.rect_filled(
        fill,
        1.0,
        level_colour(sample.level_db, target_dbfs, warning_dbfs),
    );

    let thin = Rect::from_min_max(
        Pos2::new(rect.left(), rect.top() + 13.0),
        Pos2::new(x_of(rect, true_peak.level_db), rect.bottom()),
    );
    painter.rect_filled(
        thin,
        0.0,
        level_colour(true_peak.level_db, target_dbfs, warning_dbfs),
    );

    let hold_db = sample.hold_db.max(true_peak.hold_db);
    if hold_db > FLOOR_DB {
        let x = x_of(rect, hold_db);
        painter.line_segment(
            [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
            Stroke::new(2.0, Color32::WHITE),
        );
    }
    for (db, colour) in [
        (target_dbfs, Color32::from_gray(170)),
        (warning_dbfs, Color32::from_rgb(240, 140, 20)),
        (0.0, Color32::from_rgb(230, 40, 40)),
    ] {
        let x = x_of(rect, db);
        painter.line_segment(
            [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
            Stroke::new(1.0, colour),
        );
    }
    painter.rect_stroke(
        rect,
        2.0,
        Stroke::new(1.0, Color32::from_gray(80)),
        StrokeKind::Inside,
    );
}
