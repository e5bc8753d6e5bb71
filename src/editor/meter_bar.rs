//! The channel meters: bars on a dB scale with the target and warning zones as bands, a hold
//! line, and a clip light per channel.

use egui::{Align2, Color32, FontId, Pos2, Rect, Response, Sense, Stroke, StrokeKind, Ui, Vec2};

use super::ballistics::{PeakDisplay, FLOOR_DB};

/// Top of the scale, dBFS: room to show true-peak overs.
pub const CEILING_DB: f32 = 3.0;
/// The scale's labels, dBFS.
pub const SCALE_LABELS: [f32; 10] = [
    -60.0, -40.0, -30.0, -20.0, -12.0, -9.0, -6.0, -3.0, 0.0, 3.0,
];
/// Where the scale bends: dB value and the share of the width up to it. The last 15 dB (where
/// stems are judged) take 60 % of the bar; the 30 dB below -30 dBFS take 15 %.
const SCALE_BENDS: [(f32, f32); 4] = [
    (FLOOR_DB, 0.0),
    (-30.0, 0.15),
    (-12.0, 0.40),
    (CEILING_DB, 1.0),
];
const BAR_HEIGHT: f32 = 18.0;
const LIGHT_SPACE: f32 = 22.0;

pub const RED: Color32 = Color32::from_rgb(230, 40, 40);
pub const ORANGE: Color32 = Color32::from_rgb(240, 140, 20);
const YELLOW: Color32 = Color32::from_rgb(220, 200, 40);
const GREEN: Color32 = Color32::from_rgb(60, 190, 90);

/// Colour for a level against the thresholds.
pub fn level_colour(level_db: f32, target_dbfs: f32, warning_dbfs: f32) -> Color32 {
    if level_db >= 0.0 {
        RED
    } else if level_db > warning_dbfs {
        ORANGE
    } else if level_db > target_dbfs {
        YELLOW
    } else {
        GREEN
    }
}

/// Where `db` sits across the scale, 0 (floor) to 1 (ceiling).
pub fn scale_position(db: f32) -> f32 {
    let db = db.clamp(FLOOR_DB, CEILING_DB);
    SCALE_BENDS
        .windows(2)
        .find(|pair| db <= pair[1].0)
        .map_or(1.0, |pair| {
            let ((db0, x0), (db1, x1)) = (pair[0], pair[1]);
            x0 + (db - db0) / (db1 - db0) * (x1 - x0)
        })
}

fn x_of(rect: Rect, db: f32) -> f32 {
    rect.left() + scale_position(db) * rect.width()
}

/// The thresholds as zones behind the bars: target to warning (acceptable), warning to full
/// scale (too hot), above full scale (over).
fn zones(target_dbfs: f32, warning_dbfs: f32) -> [(f32, f32, Color32); 3] {
    [
        (target_dbfs, warning_dbfs, YELLOW),
        (warning_dbfs, 0.0, ORANGE),
        (0.0, CEILING_DB, RED),
    ]
}

/// One channel's bar: the sample peak filled, the true peak as a thin bar below it, the hold
/// line, the zones and threshold lines; and right of it the channel's clip light, lit while
/// `clipped`. Returns the light's response.
pub fn draw(
    ui: &mut Ui,
    sample: &PeakDisplay,
    true_peak: &PeakDisplay,
    (target_dbfs, warning_dbfs): (f32, f32),
    clipped: bool,
) -> Response {
    let width = (ui.available_width() - LIGHT_SPACE).max(60.0);
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, BAR_HEIGHT), Sense::hover());
    let painter = ui.painter_at(rect.expand(1.0));
    painter.rect_filled(rect, 2.0, Color32::from_gray(28));
    for (from, to, colour) in zones(target_dbfs, warning_dbfs) {
        let band = Rect::from_x_y_ranges(x_of(rect, from)..=x_of(rect, to), rect.y_range());
        painter.rect_filled(band, 0.0, colour.gamma_multiply(0.22));
    }

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
        painter.vline(x, rect.y_range(), Stroke::new(2.0, Color32::WHITE));
    }
    for (db, colour) in [(target_dbfs, YELLOW), (warning_dbfs, ORANGE), (0.0, RED)] {
        painter.vline(x_of(rect, db), rect.y_range(), Stroke::new(1.0, colour));
    }
    painter.rect_stroke(
        rect,
        2.0,
        Stroke::new(1.0, Color32::from_gray(80)),
        StrokeKind::Inside,
    );

    let (spot, response) = ui.allocate_exact_size(Vec2::splat(BAR_HEIGHT), Sense::hover());
    let light = if clipped { RED } else { Color32::from_gray(55) };
    ui.painter().circle_filled(spot.center(), 7.0, light);
    ui.painter().circle_stroke(
        spot.center(),
        7.0,
        Stroke::new(1.0, Color32::from_gray(110)),
    );
    response
}

/// The dB scale under the bars: a tick and a label at each of [`SCALE_LABELS`].
pub fn draw_scale(ui: &mut Ui) {
    let width = (ui.available_width() - LIGHT_SPACE).max(60.0);
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, 20.0), Sense::hover());
    let painter = ui.painter_at(rect.expand2(Vec2::new(12.0, 0.0)));
    let colour = Color32::from_gray(215);
    for db in SCALE_LABELS {
        let x = x_of(rect, db);
        painter.vline(x, rect.top()..=rect.top() + 4.0, Stroke::new(1.0, colour));
        let align = if db == FLOOR_DB {
            Align2::LEFT_TOP
        } else if db == CEILING_DB {
            Align2::RIGHT_TOP
        } else {
            Align2::CENTER_TOP
        };
        painter.text(
            Pos2::new(x, rect.top() + 4.0),
            align,
            scale_label(db),
            FontId::proportional(14.0),
            colour,
        );
    }
}

/// "-12", "0", "+3".
pub fn scale_label(db: f32) -> String {
    if db > 0.0 {
        format!("+{db:.0}")
    } else {
        format!("{db:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_gives_the_top_fifteen_db_most_of_the_width() {
        assert_eq!(scale_position(FLOOR_DB), 0.0);
        assert_eq!(scale_position(-100.0), 0.0);
        assert_eq!(scale_position(-30.0), 0.15);
        assert_eq!(scale_position(-12.0), 0.40);
        assert_eq!(scale_position(CEILING_DB), 1.0);
        assert_eq!(scale_position(10.0), 1.0);
        // -6 dBFS sits 6/15 of the way from -12 to +3.
        assert!((scale_position(-6.0) - 0.64).abs() < 1e-6);
        let mut last = -1.0;
        for tenth in -600..=30 {
            let x = scale_position(tenth as f32 / 10.0);
            assert!(x > last, "the scale rises everywhere");
            last = x;
        }
    }
}
