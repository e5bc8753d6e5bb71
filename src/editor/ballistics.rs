//! How the meter bars move: instant rise, steady fall, and a peak-hold line.

/// Bar floor, dBFS.
pub const FLOOR_DB: f32 = -60.0;
/// How fast a bar falls after a peak, dB per second (a common PPM-like fall rate).
const FALL_DB_PER_S: f32 = 20.0;
/// How long the hold line stays before it falls.
const HOLD_S: f32 = 1.5;

/// One bar's displayed level and hold line.
#[derive(Debug, Clone, Copy)]
pub struct PeakDisplay {
    /// Displayed level, dBFS.
    pub level_db: f32,
    /// Hold line, dBFS.
    pub hold_db: f32,
    hold_age_s: f32,
}

impl Default for PeakDisplay {
    fn default() -> Self {
        Self {
            level_db: FLOOR_DB,
            hold_db: FLOOR_DB,
            hold_age_s: 0.0,
        }
    }
}

impl PeakDisplay {
    /// Advances by `dt_s` with `peak_db`, the largest peak read since the last frame.
    pub fn update(&mut self, peak_db: f32, dt_s: f32) {
        let fallen = self.level_db - FALL_DB_PER_S * dt_s;
        self.level_db = peak_db.max(fallen).max(FLOOR_DB);
        if peak_db >= self.hold_db {
            self.hold_db = peak_db.max(FLOOR_DB);
            self.hold_age_s = 0.0;
        } else {
            self.hold_age_s += dt_s;
            if self.hold_age_s > HOLD_S {
                self.hold_db = (self.hold_db - FALL_DB_PER_S * dt_s).max(self.level_db);
            }
        }
    }

    /// Whether the bar is still moving without new signal (the editor must keep repainting).
    pub fn is_moving(&self) -> bool {
        self.level_db > FLOOR_DB || self.hold_db > FLOOR_DB
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rises_at_once_falls_steadily_and_holds() {
        let mut display = PeakDisplay::default();
        display.update(-6.0, 0.016);
        assert_eq!(display.level_db, -6.0);
        assert_eq!(display.hold_db, -6.0);
        // One second of silence: the bar falls 20 dB, the hold line stays.
        for _ in 0..10 {
            display.update(FLOOR_DB, 0.1);
        }
        assert!((display.level_db + 26.0).abs() < 1e-3);
        assert_eq!(display.hold_db, -6.0);
        // After the hold time the line falls too, never below the bar.
        for _ in 0..100 {
            display.update(FLOOR_DB, 0.1);
        }
        assert!(!display.is_moving());
    }
}
