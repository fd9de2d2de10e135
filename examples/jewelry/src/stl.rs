//! Pricing input: binary STL meshes, their volume and surface, and a ring model
//! generated in code so the demo needs no files.
//!
//! Volume is the sum of the signed volumes of the tetrahedra each triangle forms with
//! the origin (divergence theorem); it is exact for a closed, consistently oriented
//! mesh and independent of where the origin is. Units are millimetres, as jewelry CAD
//! exports them.

use std::f64::consts::PI;

/// A triangle: three vertices, counter-clockwise seen from outside.
pub type Triangle = [[f32; 3]; 3];

/// A triangle mesh.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mesh {
    /// The triangles.
    pub triangles: Vec<Triangle>,
}

/// Why bytes are not a binary STL.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum StlError {
    /// Shorter than the 84-byte header + count.
    #[error("STL too short: {0} bytes")]
    TooShort(usize),
    /// The triangle count does not match the length.
    #[error("STL declares {declared} triangles but holds {actual} bytes of them")]
    LengthMismatch {
        /// Triangles declared in the header.
        declared: u64,
        /// Bytes after the header.
        actual: usize,
    },
    /// A coordinate is NaN or infinite.
    #[error("STL has a non-finite coordinate")]
    NonFinite,
}

const HEADER: usize = 80;
const RECORD: usize = 50;

impl Mesh {
    /// Parse a binary STL (80-byte header, u32 count, 50-byte records).
    pub fn from_binary_stl(bytes: &[u8]) -> Result<Mesh, StlError> {
        if bytes.len() < HEADER + 4 {
            return Err(StlError::TooShort(bytes.len()));
        }
        let mut count = [0u8; 4];
        count.copy_from_slice(&bytes[HEADER..HEADER + 4]);
        let declared = u64::from(u32::from_le_bytes(count));
        let body = &bytes[HEADER + 4..];
        if declared.checked_mul(RECORD as u64) != Some(body.len() as u64) {
            return Err(StlError::LengthMismatch {
                declared,
                actual: body.len(),
            });
        }
        let mut triangles = Vec::with_capacity(body.len() / RECORD);
        for record in body.chunks_exact(RECORD) {
            // 12 bytes of normal (ignored: recomputed from the winding), 3 vertices.
            let mut triangle = [[0f32; 3]; 3];
            for (v, vertex) in triangle.iter_mut().enumerate() {
                for (c, coordinate) in vertex.iter_mut().enumerate() {
                    let at = 12 + v * 12 + c * 4;
                    let mut raw = [0u8; 4];
                    raw.copy_from_slice(&record[at..at + 4]);
                    let value = f32::from_le_bytes(raw);
                    if !value.is_finite() {
                        return Err(StlError::NonFinite);
                    }
                    *coordinate = value;
                }
            }
            triangles.push(triangle);
        }
        Ok(Mesh { triangles })
    }

    /// Write the mesh as a binary STL.
    pub fn to_binary_stl(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + 4 + self.triangles.len() * RECORD);
        let mut header = [b' '; HEADER];
        let title = b"ordertrace jewelry demo model";
        header[..title.len()].copy_from_slice(title);
        out.extend_from_slice(&header);
        out.extend_from_slice(&(self.triangles.len() as u32).to_le_bytes());
        for triangle in &self.triangles {
            let n = normal(triangle);
            for c in n {
                out.extend_from_slice(&(c as f32).to_le_bytes());
            }
            for vertex in triangle {
                for c in vertex {
                    out.extend_from_slice(&c.to_le_bytes());
                }
            }
            out.extend_from_slice(&0u16.to_le_bytes());
        }
        out
    }

    /// Enclosed volume, mm³ (signed tetrahedra; positive for outward winding).
    pub fn volume(&self) -> f64 {
        self.triangles
            .iter()
            .map(|[a, b, c]| {
                let [a, b, c] = [v64(a), v64(b), v64(c)];
                dot(a, cross(b, c)) / 6.0
            })
            .sum::<f64>()
            .abs()
    }

    /// Surface area, mm².
    pub fn surface(&self) -> f64 {
        self.triangles
            .iter()
            .map(|t| {
                let n = normal(t);
                dot(n, n).sqrt() / 2.0
            })
            .sum()
    }

    /// A flat ring (a band): outer radius `outer`, inner radius `inner`, width
    /// `width` along the finger, `segments` facets around.
    pub fn ring(outer: f32, inner: f32, width: f32, segments: usize) -> Mesh {
        let segments = segments.max(3);
        let point = |r: f32, i: usize, z: f32| {
            let a = 2.0 * PI * (i % segments) as f64 / segments as f64;
            [r * a.cos() as f32, r * a.sin() as f32, z]
        };
        let mut triangles = Vec::with_capacity(segments * 8);
        for i in 0..segments {
            let (ob0, ob1) = (point(outer, i, 0.0), point(outer, i + 1, 0.0));
            let (ot0, ot1) = (point(outer, i, width), point(outer, i + 1, width));
            let (ib0, ib1) = (point(inner, i, 0.0), point(inner, i + 1, 0.0));
            let (it0, it1) = (point(inner, i, width), point(inner, i + 1, width));
            // Outer wall faces out, inner wall faces the finger, top up, bottom down.
            triangles.extend([
                [ob0, ob1, ot1],
                [ob0, ot1, ot0],
                [ib0, it1, ib1],
                [ib0, it0, it1],
                [ot0, ot1, it1],
                [ot0, it1, it0],
                [ob0, ib1, ob1],
                [ob0, ib0, ib1],
            ]);
        }
        Mesh { triangles }
    }
}

/// What a piece costs, from its model and metal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quote {
    /// Volume, mm³.
    pub volume_mm3: f64,
    /// Surface, mm².
    pub surface_mm2: f64,
    /// Price in roubles (metal by weight + polishing by surface + a fixed setup).
    pub price_rub: f64,
}

/// Metal density (g/mm³) and price (₽/g); `None` for a metal the workshop does not cast.
pub fn metal(name: &str) -> Option<(f64, f64)> {
    match name {
        "gold-585" => Some((0.013_6, 5_200.0)),
        "silver-925" => Some((0.010_4, 95.0)),
        "platinum-950" => Some((0.020_1, 3_100.0)),
        _ => None,
    }
}

/// Price `mesh` cast in `metal_name`; `None` for an unknown metal.
pub fn quote(mesh: &Mesh, metal_name: &str) -> Option<Quote> {
    let (density, per_gram) = metal(metal_name)?;
    let volume_mm3 = mesh.volume();
    let surface_mm2 = mesh.surface();
    let grams = volume_mm3 * density;
    let price_rub = (grams * per_gram + surface_mm2 * 1.5 + 2_500.0).round();
    Some(Quote {
        volume_mm3,
        surface_mm2,
        price_rub,
    })
}

fn v64(v: &[f32; 3]) -> [f64; 3] {
    [f64::from(v[0]), f64::from(v[1]), f64::from(v[2])]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// Unnormalised normal (length = twice the area).
fn normal([a, b, c]: &Triangle) -> [f64; 3] {
    let a = v64(a);
    cross(sub(v64(b), a), sub(v64(c), a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_volume_and_surface_match_the_prism_formulas() {
        let n = 64;
        let ring = Mesh::ring(10.0, 8.5, 4.0, n);
        // A regular n-gon of circumradius r has area n r² sin(2π/n) / 2.
        let polygon = |r: f64| n as f64 * r * r * (2.0 * PI / n as f64).sin() / 2.0;
        let expected = (polygon(10.0) - polygon(8.5)) * 4.0;
        assert!(
            (ring.volume() - expected).abs() < 1e-3 * expected,
            "{}",
            ring.volume()
        );
        let side = |r: f64| n as f64 * 2.0 * r * (PI / n as f64).sin() * 4.0;
        let caps = 2.0 * (polygon(10.0) - polygon(8.5));
        let expected = side(10.0) + side(8.5) + caps;
        assert!((ring.surface() - expected).abs() < 1e-3 * expected);
    }

    #[test]
    fn binary_stl_round_trips() {
        let ring = Mesh::ring(9.0, 8.0, 3.0, 24);
        let parsed = Mesh::from_binary_stl(&ring.to_binary_stl()).unwrap();
        assert_eq!(parsed, ring);
    }

    #[test]
    fn truncated_stl_is_rejected() {
        let bytes = Mesh::ring(9.0, 8.0, 3.0, 24).to_binary_stl();
        assert!(matches!(
            Mesh::from_binary_stl(&bytes[..bytes.len() - 7]),
            Err(StlError::LengthMismatch { .. })
        ));
        assert_eq!(Mesh::from_binary_stl(b"solid"), Err(StlError::TooShort(5)));
    }

    #[test]
    fn unknown_metal_has_no_price() {
        assert!(quote(&Mesh::ring(9.0, 8.0, 3.0, 24), "unobtainium").is_none());
        let q = quote(&Mesh::ring(9.0, 8.0, 3.0, 24), "gold-585").unwrap();
        assert!(q.price_rub > 2_500.0);
    }
}
