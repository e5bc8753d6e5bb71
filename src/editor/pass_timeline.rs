//! The pass timeline: the peak over the current or last pass on the meters' dB scale, the
//! -6/-3/0 dBFS lines, and a marker at each clip (red) or over (orange). Hovering a marker
//! says where it was.

use egui::{Align2, Color32, FontId, Pos2, Rect, RichText, Sense, Shape, Stroke, Ui, Vec2};

use super::meter_bar::{level_colour, scale_label, ORANGE, RED};
use super::StemApp;
use crate::analysis::gain_to_db;
use crate::clock::clock;
use crate::plugin::pass_strip::{StripColumn, StripPicture, STRIP_COLUMNS};

/// The strip's background: dark blue, told apart from the meters' grey.
pub const BACKGROUND: Color32 = Color32::from_rgb(18, 22, 34);
const HEIGHT: f32 = 100.0;
/// The strip's vertical range, dBFS: linear in dB, so -6, -3 and 0 are evenly spaced and far
/// enough apart to label; the strip is about the loud parts.
const BOTTOM_DB: f32 = -20.0;
const TOP_DB: f32 = 1.0;
/// Room right of the strip for the line labels.
const LABEL_SPACE: f32 = 22.0;
/// How near the pointer must be to a marker, in points.
const HOVER_REACH: f32 = 3.0;

impl StemApp {
    pub(super) fn pass_timeline(&mut self, ui: &mut Ui) {
        if let Some(picture) = self.shared.strip.read() {
            self.strip = picture;
        }
        let thresholds = self.params.thresholds();
        let strip = &self.strip;
        ui.label(RichText::new("Pass timeline: peak, clips (red), overs (orange)").weak());
        let width = (ui.available_width() - LABEL_SPACE).max(100.0);
        let (rect, response) = ui.allocate_exact_size(Vec2::new(width, HEIGHT), Sense::hover());
        let painter = ui.painter_at(rect.expand2(Vec2::new(LABEL_SPACE, 0.0)));
        painter.rect_filled(rect, 2.0, BACKGROUND);
        let y_of = |db: f32| {
            let t = ((db - BOTTOM_DB) / (TOP_DB - BOTTOM_DB)).clamp(0.0, 1.0);
            rect.bottom() - t * rect.height()
        };
        let column_width = rect.width() / STRIP_COLUMNS as f32;
        let x_of = |index: usize| rect.left() + index as f32 * column_width;

        // One bar per screen pixel, the highest of the columns it covers: columns narrower than
        // a pixel would otherwise blur into stripes.
        let pixel = 1.0 / ui.ctx().pixels_per_point();
        let pixels = (rect.width() / pixel).floor() as usize;
        for p in 0..pixels {
            let from = p * STRIP_COLUMNS / pixels;
            let to = ((p + 1) * STRIP_COLUMNS / pixels).max(from + 1);
            let Some(peak) = strip
                .columns
                .get(from..to.min(strip.columns.len()))
                .and_then(|cs| cs.iter().map(|c| c.peak).reduce(f32::max))
            else {
                break;
            };
            let db = gain_to_db(peak);
            let x = rect.left() + p as f32 * pixel;
            let bar =
                Rect::from_min_max(Pos2::new(x, y_of(db)), Pos2::new(x + pixel, rect.bottom()));
            painter.rect_filled(
                bar,
                0.0,
                level_colour(db, thresholds.target_dbfs, thresholds.warning_dbfs),
            );
        }
        for db in [-6.0, -3.0, 0.0] {
            let y = y_of(db);
            let colour = if db == 0.0 {
                RED
            } else {
                Color32::from_gray(150)
            };
            painter.hline(rect.x_range(), y, Stroke::new(1.0, colour));
            painter.text(
                Pos2::new(rect.right() + 3.0, y),
                Align2::LEFT_CENTER,
                scale_label(db),
                FontId::proportional(10.0),
                Color32::from_gray(190),
            );
        }
        for (index, column) in strip.columns.iter().enumerate() {
            if let Some(colour) = marker_colour(column) {
                let x = x_of(index) + column_width / 2.0;
                painter.vline(x, rect.y_range(), Stroke::new(2.0, colour));
                painter.add(Shape::convex_polygon(
                    vec![
                        Pos2::new(x - 5.0, rect.top()),
                        Pos2::new(x + 5.0, rect.top()),
                        Pos2::new(x, rect.top() + 7.0),
                    ],
                    colour,
                    Stroke::NONE,
                ));
            }
        }
        let hovered = response.hover_pos().and_then(|pointer| {
            strip
                .columns
                .iter()
                .enumerate()
                .find_map(|(index, column)| {
                    let x = x_of(index) + column_width / 2.0;
                    ((x - pointer.x).abs() <= HOVER_REACH.max(column_width / 2.0))
                        .then(|| column.marks_text())
                        .flatten()
                })
        });
        if let Some(text) = hovered {
            response.on_hover_text_at_pointer(text);
        }

        ui.horizontal(|ui| {
            ui.set_width(width);
            let (from, to) = span(strip);
            ui.label(RichText::new(from).small());
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(RichText::new(to).small());
            });
        });
    }
}

/// Red for a clip or a flat top, orange for an over alone, nothing for a clean column.
pub fn marker_colour(column: &StripColumn) -> Option<Color32> {
    let marks = column.marks;
    if marks.clips + marks.flat_tops > 0 {
        Some(RED)
    } else if marks.overs > 0 {
        Some(ORANGE)
    } else {
        None
    }
}

/// Where the strip begins and where its last column ends on the host's timeline.
fn span(strip: &StripPicture) -> (String, String) {
    if strip.columns.is_empty() {
        return ("No pass yet".to_owned(), String::new());
    }
    let start = strip.start.seconds;
    let end = start + STRIP_COLUMNS as f64 * strip.column_s;
    let suffix = if strip.start.from_host {
        ""
    } else {
        " after playback started"
    };
    (clock(start), format!("{}{suffix}", clock(end)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::pass_strip::Marks;

    /// A column with only marks: the colour reads nothing else.
    fn column(clips: u32, overs: u32, flat_tops: u32) -> StripColumn {
        StripColumn {
            marks: Marks {
                clips,
                overs,
                flat_tops,
            },
            ..StripColumn::default()
        }
    }

    #[test]
    fn a_marker_is_red_for_a_clip_orange_for_an_over_alone() {
        assert_eq!(marker_colour(&column(0, 1, 0)), Some(ORANGE));
        assert_eq!(marker_colour(&column(0, 1, 1)), Some(RED));
    }
}
