//! The editor's small shared pieces: status colours, the attention box, dB figures.

use egui::{Color32, RichText};

use super::ballistics::FLOOR_DB;
use crate::plugin::instance_row::Light;

/// The colour of a status light.
pub fn light_colour(light: Light) -> Color32 {
    match light {
        Light::NoSignal => Color32::from_gray(120),
        Light::Ready => Color32::from_rgb(60, 190, 90),
        Light::Acceptable => Color32::from_rgb(220, 200, 40),
        Light::TooHot => Color32::from_rgb(240, 140, 20),
        Light::Clipped => Color32::from_rgb(230, 40, 40),
    }
}

/// A framed, tinted box with a coloured heading: the editor's way of saying "look here".
pub fn status_box(
    ui: &mut egui::Ui,
    colour: Color32,
    heading: &str,
    heading_size: f32,
    body: impl FnOnce(&mut egui::Ui),
) {
    egui::Frame::new()
        .fill(colour.gamma_multiply(0.25))
        .stroke(egui::Stroke::new(2.0, colour))
        .corner_radius(4.0)
        .inner_margin(8.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                let (spot, _) =
                    ui.allocate_exact_size(egui::Vec2::splat(heading_size), egui::Sense::hover());
                ui.painter()
                    .circle_filled(spot.center(), heading_size * 0.42, colour);
                ui.label(
                    RichText::new(heading)
                        .size(heading_size)
                        .strong()
                        .color(colour),
                );
            });
            body(ui);
        });
}

pub fn format_db(db: f32) -> String {
    if db <= FLOOR_DB {
        "  -inf".to_owned()
    } else {
        format!("{db:+6.1}")
    }
}
