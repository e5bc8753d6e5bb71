//! Screenshots as RGB pixels (via ImageMagick's `convert`), for tests that look at what a
//! window or a browser drew.

use std::path::Path;
use std::process::Command;

/// An image as RGB bytes, row by row.
pub struct Screen {
    pub width: usize,
    pub height: usize,
    rgb: Vec<u8>,
}

impl Screen {
    /// Reads a PNG (or any image `convert` reads).
    pub fn from_png(png: &Path) -> Self {
        let ppm = Command::new("convert")
            .arg(png)
            .arg("ppm:-")
            .output()
            .expect("convert runs")
            .stdout;
        parse_ppm(&ppm)
    }

    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Pixels within 24 (per channel) of `colour` in the rectangle `(x0, y0, x1, y1)`.
    pub fn count(&self, colour: [u8; 3], (x0, y0, x1, y1): (usize, usize, usize, usize)) -> usize {
        let mut n = 0;
        for y in y0..y1.min(self.height) {
            for x in x0..x1.min(self.width) {
                let p = self.pixel(x, y);
                if p.iter().zip(colour).all(|(&a, b)| a.abs_diff(b) <= 24) {
                    n += 1;
                }
            }
        }
        n
    }

    /// Width and height of the part that is not black (a window at the top left).
    pub fn window_extent(&self) -> (usize, usize) {
        let (mut w, mut h) = (0, 0);
        for y in 0..self.height {
            for x in 0..self.width {
                if self.pixel(x, y) != [0, 0, 0] {
                    w = w.max(x + 1);
                    h = h.max(y + 1);
                }
            }
        }
        (w, h)
    }
}

pub fn parse_ppm(bytes: &[u8]) -> Screen {
    // "P6\n[# comment\n]<w> <h>\n<max>\n" then RGB bytes.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if bytes[at] == b'#' {
            // A comment runs to the end of its line.
            while bytes[at] != b'\n' {
                at += 1;
            }
            continue;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P6");
    let width: usize = fields[1].parse().unwrap();
    let height: usize = fields[2].parse().unwrap();
    let rgb = bytes[at + 1..].to_vec();
    assert_eq!(rgb.len(), width * height * 3);
    Screen { width, height, rgb }
}
