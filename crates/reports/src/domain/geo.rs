//! Geometry of the Mängelmelder: validated WGS84 points, the tenant's boundary (a GeoJSON
//! Polygon or MultiPolygon, so a report outside the municipality can be refused), great-circle
//! distances and the lat/lon box that an index range query uses before the exact distance filter
//! (the nearby-duplicate hint, issue 3 item 4).
//!
//! Pure functions, no I/O. All errors are [`GeoError`] values carrying a message key
//! (`reports.err.*`) for the page/API layer plus a German text for logs and the CLI.
//!
//! Coordinates are treated as planar lon/lat for point-in-polygon tests. That is exact enough for
//! a municipality (edges are a few hundred metres long) but means a boundary must not cross the
//! antimeridian; no German municipality does.

use std::fmt;

use serde_json::Value;

/// Mean Earth radius of WGS84 (IUGG R1), in metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Upper bound on the positions of one boundary; guards memory and the O(n) point test.
pub const MAX_BOUNDARY_VERTICES: usize = 100_000;

/// The fictional demo municipality "Gemeinde Beispielstadt" (about 8 km × 6 km, near 51.40 N,
/// 7.20 E in NRW) as a GeoJSON Feature.
pub const DEMO_BOUNDARY: &str = include_str!("../../data/beispielstadt.geojson");

/// Distance (in degrees) within which a point counts as lying on a boundary edge: about 0.1 mm,
/// far below GPS precision, but it absorbs rounding when a point was computed from the edge.
const EDGE_EPS_DEG: f64 = 1e-9;

/// Why a coordinate or boundary was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeoError {
    /// Latitude or longitude is NaN or infinite.
    NotFinite,
    /// |latitude| > 90.
    LatitudeOutOfRange,
    /// |longitude| > 180.
    LongitudeOutOfRange,
    /// A valid point outside the tenant's boundary.
    OutsideBoundary,
    /// The boundary text is not JSON; the detail is the parser's position message.
    BoundaryJson(String),
    /// Valid JSON, but not a GeoJSON Feature/FeatureCollection/Polygon/MultiPolygon of one area.
    BoundaryUnsupported(String),
    /// A GeoJSON area whose coordinates break the format (short or open ring, bad position).
    BoundaryMalformed(String),
    /// More than [`MAX_BOUNDARY_VERTICES`] positions.
    BoundaryTooManyVertices,
}

impl GeoError {
    /// Message key for the translation layer.
    pub fn key(&self) -> &'static str {
        match self {
            GeoError::NotFinite => "reports.err.coordinate_invalid",
            GeoError::LatitudeOutOfRange => "reports.err.latitude_range",
            GeoError::LongitudeOutOfRange => "reports.err.longitude_range",
            GeoError::OutsideBoundary => "reports.err.outside_boundary",
            GeoError::BoundaryJson(_) => "reports.err.boundary_json",
            GeoError::BoundaryUnsupported(_) => "reports.err.boundary_unsupported",
            GeoError::BoundaryMalformed(_) => "reports.err.boundary_malformed",
            GeoError::BoundaryTooManyVertices => "reports.err.boundary_too_many_vertices",
        }
    }
}

impl fmt::Display for GeoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GeoError::NotFinite => f.write_str("The coordinate is not a valid number."),
            GeoError::LatitudeOutOfRange => {
                f.write_str("The latitude must be between -90 and 90 degrees.")
            }
            GeoError::LongitudeOutOfRange => {
                f.write_str("The longitude must be between -180 and 180 degrees.")
            }
            GeoError::OutsideBoundary => {
                f.write_str("The place is outside the municipal boundary.")
            }
            GeoError::BoundaryJson(d) => {
                write!(f, "The boundary is not valid JSON: {d}")
            }
            GeoError::BoundaryUnsupported(d) => write!(
                f,
                "The boundary must be a GeoJSON Polygon or MultiPolygon: {d}"
            ),
            GeoError::BoundaryMalformed(d) => {
                write!(f, "The boundary's coordinates are malformed: {d}")
            }
            GeoError::BoundaryTooManyVertices => write!(
                f,
                "The boundary has more than {MAX_BOUNDARY_VERTICES} vertices."
            ),
        }
    }
}

impl std::error::Error for GeoError {}

/// A WGS84 position. Fields are private so every `Point` has passed [`Point::new`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    lat: f64,
    lon: f64,
}

impl Point {
    /// Validates latitude and longitude in degrees (note the order: lat first, unlike GeoJSON).
    pub fn new(lat: f64, lon: f64) -> Result<Point, GeoError> {
        if !lat.is_finite() || !lon.is_finite() {
            return Err(GeoError::NotFinite);
        }
        if lat.abs() > 90.0 {
            return Err(GeoError::LatitudeOutOfRange);
        }
        if lon.abs() > 180.0 {
            return Err(GeoError::LongitudeOutOfRange);
        }
        Ok(Point { lat, lon })
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn lon(&self) -> f64 {
        self.lon
    }
}

/// Edge of a map cell in degrees: about 220 m north–south and 140 m east–west in Germany.
/// A report's cell is stored with it (`reports_reports.cell`, indexed), so a map viewport
/// reads only the reports of the cells it covers instead of a whole latitude band.
pub const CELL_DEG: f64 = 0.002;
/// Cells per row of latitude (360° of longitude).
const CELLS_PER_ROW: i64 = 180_000;

/// The cell of a position: row (from the south pole) × [`CELLS_PER_ROW`] + column (from the
/// antimeridian). Migration m0005 computes the same in SQL for existing reports.
pub fn cell_of(p: Point) -> i64 {
    let row = ((p.lat + 90.0) / CELL_DEG).floor() as i64;
    let col = ((p.lon + 180.0) / CELL_DEG).floor() as i64;
    row * CELLS_PER_ROW + col
}

/// The cells a box `(min_lat, min_lon, max_lat, max_lon)` touches, or None when they are more
/// than `max` (the caller then reads by position alone) or the box is not a valid one. The box
/// is widened by a hair so that a report on a cell border is never left out by rounding.
pub fn cells_covering(
    (min_lat, min_lon, max_lat, max_lon): (f64, f64, f64, f64),
    max: usize,
) -> Option<Vec<i64>> {
    const HAIR: f64 = 1e-9;
    let lo = Point::new((min_lat - HAIR).max(-90.0), (min_lon - HAIR).max(-180.0)).ok()?;
    let hi = Point::new((max_lat + HAIR).min(90.0), (max_lon + HAIR).min(180.0)).ok()?;
    if lo.lat > hi.lat || lo.lon > hi.lon {
        return None;
    }
    let (a, b) = (cell_of(lo), cell_of(hi));
    let (row0, col0) = (a.div_euclid(CELLS_PER_ROW), a.rem_euclid(CELLS_PER_ROW));
    let (row1, col1) = (b.div_euclid(CELLS_PER_ROW), b.rem_euclid(CELLS_PER_ROW));
    let n = usize::try_from((row1 - row0 + 1) * (col1 - col0 + 1)).ok()?;
    if n > max {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    for row in row0..=row1 {
        out.extend((col0..=col1).map(|col| row * CELLS_PER_ROW + col));
    }
    Some(out)
}

/// Great-circle distance in metres on the WGS84 mean sphere (haversine). The error against the
/// ellipsoid is below 0.5 %, irrelevant for "within 50 m".
pub fn distance_m(a: Point, b: Point) -> f64 {
    let (phi1, phi2) = (a.lat.to_radians(), b.lat.to_radians());
    let dphi = phi2 - phi1;
    let dlambda = (b.lon - a.lon).to_radians();
    let h = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
    // Rounding can push h a hair above 1 for antipodal points; asin would then be NaN.
    2.0 * EARTH_RADIUS_M * h.clamp(0.0, 1.0).sqrt().asin()
}

/// A box `(min_lat, min_lon, max_lat, max_lon)` in degrees that contains every point within
/// `radius_m` of `center` (by [`distance_m`]). Meant for an index range query followed by the exact
/// distance filter, so it may be larger than needed but never smaller.
///
/// When the circle reaches a pole or crosses the antimeridian the longitude range widens to
/// -180..180 (one box cannot wrap). A negative or NaN radius counts as 0.
pub fn search_box(center: Point, radius_m: f64) -> (f64, f64, f64, f64) {
    let radius = if radius_m.is_nan() || radius_m < 0.0 {
        0.0
    } else {
        radius_m
    };
    // Angular radius, widened by a relative and an absolute margin so float rounding here and in
    // distance_m can never leave a point just on the circle outside the box.
    let delta = radius / EARTH_RADIUS_M * (1.0 + 1e-9) + 1e-12;
    let delta_deg = delta.to_degrees();
    let min_lat = center.lat - delta_deg;
    let max_lat = center.lat + delta_deg;
    if min_lat <= -90.0 || max_lat >= 90.0 || delta >= std::f64::consts::FRAC_PI_2 {
        // The circle contains a pole: every longitude occurs.
        return (min_lat.max(-90.0), -180.0, max_lat.min(90.0), 180.0);
    }
    // Largest longitude offset of a point on the circle (the tangent point of a meridian); the
    // pole is not inside, so cos(lat) > sin(delta) and the ratio is below 1.
    let ratio = delta.sin() / center.lat.to_radians().cos();
    if ratio >= 1.0 {
        return (min_lat, -180.0, max_lat, 180.0);
    }
    let dlon = ratio.asin().to_degrees();
    let (min_lon, max_lon) = (center.lon - dlon, center.lon + dlon);
    if min_lon < -180.0 || max_lon > 180.0 {
        return (min_lat, -180.0, max_lat, 180.0);
    }
    (min_lat, min_lon, max_lat, max_lon)
}

/// One polygon: an outer ring and its holes, each closed (first position == last).
#[derive(Debug, Clone)]
struct Polygon {
    outer: Vec<Point>,
    holes: Vec<Vec<Point>>,
    bbox: (f64, f64, f64, f64),
}

/// Where a point lies relative to one ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RingSide {
    Inside,
    Outside,
    OnEdge,
}

impl Polygon {
    fn contains(&self, p: &Point) -> bool {
        let (min_lat, min_lon, max_lat, max_lon) = self.bbox;
        if p.lat < min_lat - EDGE_EPS_DEG
            || p.lat > max_lat + EDGE_EPS_DEG
            || p.lon < min_lon - EDGE_EPS_DEG
            || p.lon > max_lon + EDGE_EPS_DEG
        {
            return false;
        }
        match ring_side(&self.outer, p) {
            RingSide::Outside => false,
            RingSide::OnEdge => true,
            RingSide::Inside => {
                for hole in &self.holes {
                    match ring_side(hole, p) {
                        // A hole's edge is still part of the boundary, and boundaries count as
                        // inside.
                        RingSide::OnEdge => return true,
                        RingSide::Inside => return false,
                        RingSide::Outside => {}
                    }
                }
                true
            }
        }
    }
}

/// Even-odd ray casting towards +longitude, with an explicit on-edge test first so that the
/// half-open crossing rule cannot misclassify points lying exactly on the ring.
fn ring_side(ring: &[Point], p: &Point) -> RingSide {
    let mut inside = false;
    for edge in ring.windows(2) {
        let (a, b) = (edge[0], edge[1]);
        if on_segment(p, &a, &b) {
            return RingSide::OnEdge;
        }
        // Half-open in latitude: a vertex exactly at p.lat counts for one of its two edges only.
        if (a.lat > p.lat) != (b.lat > p.lat) {
            let lon_at = a.lon + (p.lat - a.lat) / (b.lat - a.lat) * (b.lon - a.lon);
            if p.lon < lon_at {
                inside = !inside;
            }
        }
    }
    if inside {
        RingSide::Inside
    } else {
        RingSide::Outside
    }
}

/// Whether p is within EDGE_EPS_DEG of the segment a–b (planar lon/lat).
fn on_segment(p: &Point, a: &Point, b: &Point) -> bool {
    // Cheap rejection first: most edges are nowhere near p.
    if p.lat < a.lat.min(b.lat) - EDGE_EPS_DEG
        || p.lat > a.lat.max(b.lat) + EDGE_EPS_DEG
        || p.lon < a.lon.min(b.lon) - EDGE_EPS_DEG
        || p.lon > a.lon.max(b.lon) + EDGE_EPS_DEG
    {
        return false;
    }
    let (dx, dy) = (b.lon - a.lon, b.lat - a.lat);
    let (px, py) = (p.lon - a.lon, p.lat - a.lat);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        ((px * dx + py * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (px - t * dx, py - t * dy);
    ex * ex + ey * ey <= EDGE_EPS_DEG * EDGE_EPS_DEG
}

/// A tenant's area: one or more polygons with holes, parsed from GeoJSON.
#[derive(Debug, Clone)]
pub struct Boundary {
    polygons: Vec<Polygon>,
    bbox: (f64, f64, f64, f64),
}

impl Boundary {
    /// Parses a GeoJSON Feature, a FeatureCollection with exactly one Feature, or a bare Polygon or
    /// MultiPolygon geometry. Positions are `[lon, lat]` (extra members such as altitude are
    /// ignored); rings must be closed and have at least 4 positions (RFC 7946 3.1.6). Ring
    /// orientation is not checked: even-odd does not need it.
    pub fn parse(geojson: &str) -> Result<Boundary, GeoError> {
        let value: Value =
            serde_json::from_str(geojson).map_err(|e| GeoError::BoundaryJson(e.to_string()))?;
        Boundary::from_value(&value)
    }

    /// Like [`Boundary::parse`], for JSON already parsed (e.g. from a config document).
    pub fn from_value(value: &Value) -> Result<Boundary, GeoError> {
        let mut vertices = 0usize;
        let polygons = parse_object(value, &mut vertices)?;
        let mut bbox = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        for poly in &polygons {
            bbox.0 = bbox.0.min(poly.bbox.0);
            bbox.1 = bbox.1.min(poly.bbox.1);
            bbox.2 = bbox.2.max(poly.bbox.2);
            bbox.3 = bbox.3.max(poly.bbox.3);
        }
        Ok(Boundary { polygons, bbox })
    }

    /// True when p lies inside the area or exactly on its border (including a hole's border).
    pub fn contains(&self, p: &Point) -> bool {
        self.polygons.iter().any(|poly| poly.contains(p))
    }

    /// Like [`Boundary::contains`], as the error the report form and Open311 show.
    pub fn require_inside(&self, p: &Point) -> Result<(), GeoError> {
        if self.contains(p) {
            Ok(())
        } else {
            Err(GeoError::OutsideBoundary)
        }
    }

    /// `(min_lat, min_lon, max_lat, max_lon)` of all outer rings, e.g. to fit the map's view.
    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        self.bbox
    }

    /// Number of polygons (1 for a Polygon).
    pub fn polygon_count(&self) -> usize {
        self.polygons.len()
    }
}

fn type_of(value: &Value) -> Result<&str, GeoError> {
    match value.get("type") {
        Some(Value::String(t)) => Ok(t),
        Some(_) => Err(GeoError::BoundaryUnsupported(
            "\"type\" is not a string".to_owned(),
        )),
        None if value.is_object() => Err(GeoError::BoundaryUnsupported(
            "the object has no \"type\"".to_owned(),
        )),
        None => Err(GeoError::BoundaryUnsupported(
            "a JSON object is expected".to_owned(),
        )),
    }
}

fn parse_object(value: &Value, vertices: &mut usize) -> Result<Vec<Polygon>, GeoError> {
    match type_of(value)? {
        "FeatureCollection" => {
            let features = value
                .get("features")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    GeoError::BoundaryUnsupported(
                        "the FeatureCollection has no \"features\" array".to_owned(),
                    )
                })?;
            match features.as_slice() {
                [single] if type_of(single)? == "Feature" => parse_object(single, vertices),
                [_] => Err(GeoError::BoundaryUnsupported(
                    "the element of \"features\" is not a Feature".to_owned(),
                )),
                _ => Err(GeoError::BoundaryUnsupported(format!(
                    "the FeatureCollection must hold exactly one Feature, not {}",
                    features.len()
                ))),
            }
        }
        "Feature" => match value.get("geometry") {
            Some(geometry) if geometry.is_object() => parse_geometry(geometry, vertices),
            _ => Err(GeoError::BoundaryUnsupported(
                "the Feature has no geometry".to_owned(),
            )),
        },
        _ => parse_geometry(value, vertices),
    }
}

fn parse_geometry(value: &Value, vertices: &mut usize) -> Result<Vec<Polygon>, GeoError> {
    let kind = type_of(value)?;
    if kind != "Polygon" && kind != "MultiPolygon" {
        return Err(GeoError::BoundaryUnsupported(format!("found \"{kind}\"")));
    }
    let coords = value
        .get("coordinates")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            GeoError::BoundaryMalformed(format!("{kind} without a \"coordinates\" array"))
        })?;
    if kind == "Polygon" {
        return Ok(vec![parse_polygon(coords, vertices)?]);
    }
    if coords.is_empty() {
        return Err(GeoError::BoundaryMalformed(
            "the MultiPolygon holds no Polygon".to_owned(),
        ));
    }
    coords
        .iter()
        .map(|poly| {
            let rings = poly.as_array().ok_or_else(|| {
                GeoError::BoundaryMalformed("a Polygon is not an array of rings".to_owned())
            })?;
            parse_polygon(rings, vertices)
        })
        .collect()
}

fn parse_polygon(rings: &[Value], vertices: &mut usize) -> Result<Polygon, GeoError> {
    let Some((outer, holes)) = rings.split_first() else {
        return Err(GeoError::BoundaryMalformed(
            "a Polygon has no ring".to_owned(),
        ));
    };
    let outer = parse_ring(outer, vertices)?;
    let holes = holes
        .iter()
        .map(|ring| parse_ring(ring, vertices))
        .collect::<Result<Vec<_>, _>>()?;
    let mut bbox = (
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    );
    for p in &outer {
        bbox.0 = bbox.0.min(p.lat);
        bbox.1 = bbox.1.min(p.lon);
        bbox.2 = bbox.2.max(p.lat);
        bbox.3 = bbox.3.max(p.lon);
    }
    Ok(Polygon { outer, holes, bbox })
}

fn parse_ring(ring: &Value, vertices: &mut usize) -> Result<Vec<Point>, GeoError> {
    let positions = ring.as_array().ok_or_else(|| {
        GeoError::BoundaryMalformed("a ring is not an array of positions".to_owned())
    })?;
    // Counted before allocating, so an oversized document is refused without building it.
    *vertices = vertices.saturating_add(positions.len());
    if *vertices > MAX_BOUNDARY_VERTICES {
        return Err(GeoError::BoundaryTooManyVertices);
    }
    if positions.len() < 4 {
        return Err(GeoError::BoundaryMalformed(format!(
            "a ring needs at least 4 positions, but has {}",
            positions.len()
        )));
    }
    let points = positions
        .iter()
        .map(parse_position)
        .collect::<Result<Vec<_>, _>>()?;
    if points.first() != points.last() {
        return Err(GeoError::BoundaryMalformed(
            "a ring is not closed (first and last position differ)".to_owned(),
        ));
    }
    Ok(points)
}

/// A short rendering of a JSON value for an error message; a bad "position" may be a large
/// nested array, which must not blow up the message.
fn excerpt(value: &Value) -> String {
    const MAX_CHARS: usize = 60;
    let text = value.to_string();
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn parse_position(position: &Value) -> Result<Point, GeoError> {
    let bad = || {
        GeoError::BoundaryMalformed(format!(
            "{} is not a position [longitude, latitude]",
            excerpt(position)
        ))
    };
    let items = position.as_array().ok_or_else(bad)?;
    match items.as_slice() {
        [lon, lat, ..] => {
            let (lon, lat) = (lon.as_f64().ok_or_else(bad)?, lat.as_f64().ok_or_else(bad)?);
            Point::new(lat, lon)
                .map_err(|e| GeoError::BoundaryMalformed(format!("{}: {e}", excerpt(position))))
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn cells_cover_every_point_of_a_box() {
        let b = (51.3980, 7.1450, 51.4060, 7.1600);
        let cells = cells_covering(b, 1000).unwrap();
        // 51.3980..51.4060 spans 5 rows of 0.002°, 7.1450..7.1600 spans 8 or 9 columns.
        assert!((40..=54).contains(&cells.len()), "{}", cells.len());
        for i in 0..=40 {
            for j in 0..=40 {
                let lat = b.0 + (b.2 - b.0) * f64::from(i) / 40.0;
                let lon = b.1 + (b.3 - b.1) * f64::from(j) / 40.0;
                let c = cell_of(Point::new(lat, lon).unwrap());
                assert!(cells.contains(&c), "{lat},{lon}");
            }
        }
        // A point just outside is in no covered cell unless it shares one.
        let far = cell_of(Point::new(51.5, 7.3).unwrap());
        assert!(!cells.contains(&far));
        assert_eq!(cells_covering(b, 10), None, "too many cells");
        assert_eq!(
            cells_covering((51.5, 7.2, 51.4, 7.3), 1000),
            None,
            "inverted"
        );
        assert_eq!(cells_covering((f64::NAN, 7.2, 51.4, 7.3), 1000), None);
    }

    #[test]
    fn cells_differ_across_the_antimeridian_and_poles_are_valid() {
        let west = cell_of(Point::new(0.0, -180.0).unwrap());
        let east = cell_of(Point::new(0.0, 179.999).unwrap());
        assert_eq!(east - west, CELLS_PER_ROW - 1);
        assert!(
            cell_of(Point::new(90.0, 180.0).unwrap()) > cell_of(Point::new(-90.0, -180.0).unwrap())
        );
        assert!(cells_covering((89.999, -180.0, 90.0, 180.0), 1_000_000).is_some());
    }
    use super::*;

    fn pt(lat: f64, lon: f64) -> Point {
        Point::new(lat, lon).unwrap()
    }

    /// A GeoJSON Polygon from rings given as (lat, lon) pairs, closed automatically.
    fn polygon_json(rings: &[&[(f64, f64)]]) -> String {
        let rings: Vec<String> = rings
            .iter()
            .map(|ring| {
                let mut pos: Vec<String> = ring
                    .iter()
                    .map(|(lat, lon)| format!("[{lon},{lat}]"))
                    .collect();
                pos.push(pos[0].clone());
                format!("[{}]", pos.join(","))
            })
            .collect();
        format!(
            r#"{{"type":"Polygon","coordinates":[{}]}}"#,
            rings.join(",")
        )
    }

    const SQUARE: &[(f64, f64)] = &[(0.0, 0.0), (0.0, 10.0), (10.0, 10.0), (10.0, 0.0)];

    /// Destination on the sphere from `start` after `dist_m` along `bearing_deg`.
    fn destination(start: Point, bearing_deg: f64, dist_m: f64) -> Point {
        let (phi1, lambda1) = (start.lat.to_radians(), start.lon.to_radians());
        let theta = bearing_deg.to_radians();
        let d = dist_m / EARTH_RADIUS_M;
        let phi2 = (phi1.sin() * d.cos() + phi1.cos() * d.sin() * theta.cos()).asin();
        let lambda2 =
            lambda1 + (theta.sin() * d.sin() * phi1.cos()).atan2(d.cos() - phi1.sin() * phi2.sin());
        let mut lon = lambda2.to_degrees();
        while lon > 180.0 {
            lon -= 360.0;
        }
        while lon < -180.0 {
            lon += 360.0;
        }
        pt(phi2.to_degrees().clamp(-90.0, 90.0), lon)
    }

    #[test]
    fn point_validation() {
        assert!(Point::new(51.4, 7.2).is_ok());
        assert!(Point::new(90.0, 180.0).is_ok());
        assert!(Point::new(-90.0, -180.0).is_ok());
        assert_eq!(Point::new(91.0, 7.0), Err(GeoError::LatitudeOutOfRange));
        assert_eq!(Point::new(-90.0001, 7.0), Err(GeoError::LatitudeOutOfRange));
        assert_eq!(Point::new(51.0, 180.5), Err(GeoError::LongitudeOutOfRange));
        assert_eq!(Point::new(51.0, -181.0), Err(GeoError::LongitudeOutOfRange));
        assert_eq!(Point::new(f64::NAN, 7.0), Err(GeoError::NotFinite));
        assert_eq!(Point::new(51.0, f64::INFINITY), Err(GeoError::NotFinite));
        assert_eq!(Point::new(f64::NEG_INFINITY, 0.0), Err(GeoError::NotFinite));
        assert_eq!(
            Point::new(91.0, 7.0).unwrap_err().key(),
            "reports.err.latitude_range"
        );
        let p = pt(51.4, 7.2);
        assert_eq!((p.lat(), p.lon()), (51.4, 7.2));
    }

    #[test]
    fn square_inside_outside() {
        let b = Boundary::parse(&polygon_json(&[SQUARE])).unwrap();
        assert!(b.contains(&pt(5.0, 5.0)));
        assert!(b.contains(&pt(0.001, 9.999)));
        assert!(!b.contains(&pt(-0.001, 5.0)));
        assert!(!b.contains(&pt(5.0, 10.001)));
        assert!(!b.contains(&pt(50.0, 50.0)));
        assert_eq!(b.bbox(), (0.0, 0.0, 10.0, 10.0));
        assert_eq!(b.require_inside(&pt(5.0, 5.0)), Ok(()));
        let err = b.require_inside(&pt(20.0, 5.0)).unwrap_err();
        assert_eq!(err.key(), "reports.err.outside_boundary");
        assert!(err.to_string().contains("outside"));
    }

    #[test]
    fn edges_and_vertices_count_as_inside() {
        let b = Boundary::parse(&polygon_json(&[SQUARE])).unwrap();
        for (lat, lon) in [
            (0.0, 5.0),
            (10.0, 5.0),
            (5.0, 0.0),
            (5.0, 10.0),
            (0.0, 0.0),
            (0.0, 10.0),
            (10.0, 10.0),
            (10.0, 0.0),
        ] {
            assert!(b.contains(&pt(lat, lon)), "({lat}, {lon})");
        }
        // A diagonal edge: the midpoint is not exactly representable on the line in floats.
        let tri = Boundary::parse(&polygon_json(&[&[(0.0, 0.0), (3.0, 7.0), (0.0, 7.0)]])).unwrap();
        let mid = pt(1.5, 3.5);
        assert!(tri.contains(&mid));
        assert!(tri.contains(&pt(1.3, 7.0 * 1.3 / 3.0)));
        assert!(!tri.contains(&pt(1.3 + 1e-6, 7.0 * 1.3 / 3.0)));
    }

    #[test]
    fn ray_through_vertex_is_counted_once() {
        // A diamond: rays at the latitude of the left/right vertices pass exactly through them.
        let diamond = Boundary::parse(&polygon_json(&[&[
            (0.0, 5.0),
            (5.0, 10.0),
            (10.0, 5.0),
            (5.0, 0.0),
        ]]))
        .unwrap();
        assert!(diamond.contains(&pt(5.0, 5.0)));
        assert!(diamond.contains(&pt(5.0, 1.0)));
        assert!(!diamond.contains(&pt(5.0, -1.0)));
        assert!(!diamond.contains(&pt(5.0, 11.0)));
        assert!(!diamond.contains(&pt(0.0, 1.0)));
        assert!(!diamond.contains(&pt(10.0, 4.0)));
    }

    #[test]
    fn concave_shape() {
        // A "U": two legs joined at the bottom; the notch between them is outside.
        let u = Boundary::parse(&polygon_json(&[&[
            (0.0, 0.0),
            (0.0, 9.0),
            (9.0, 9.0),
            (9.0, 6.0),
            (3.0, 6.0),
            (3.0, 3.0),
            (9.0, 3.0),
            (9.0, 0.0),
        ]]))
        .unwrap();
        assert!(u.contains(&pt(1.0, 4.5)));
        assert!(u.contains(&pt(6.0, 1.5)));
        assert!(u.contains(&pt(6.0, 7.5)));
        assert!(!u.contains(&pt(6.0, 4.5)));
        assert!(!u.contains(&pt(8.9, 4.5)));
        // On the notch's inner edges.
        assert!(u.contains(&pt(3.0, 4.5)));
        assert!(u.contains(&pt(6.0, 3.0)));
        // A ray from the notch crosses the right leg's two edges plus nothing else.
        assert!(!u.contains(&pt(5.0, 4.0)));
    }

    #[test]
    fn holes_are_excluded() {
        let hole: &[(f64, f64)] = &[(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0)];
        let b = Boundary::parse(&polygon_json(&[SQUARE, hole])).unwrap();
        assert!(!b.contains(&pt(5.0, 5.0)));
        assert!(b.contains(&pt(2.0, 2.0)));
        assert!(b.contains(&pt(5.0, 8.0)));
        // The hole's border belongs to the area.
        assert!(b.contains(&pt(4.0, 5.0)));
        assert!(b.contains(&pt(6.0, 6.0)));
        // Orientation does not matter (RFC 7946 wants holes clockwise; many files ignore that).
        let reversed: Vec<(f64, f64)> = hole.iter().rev().copied().collect();
        let b2 = Boundary::parse(&polygon_json(&[SQUARE, &reversed])).unwrap();
        assert!(!b2.contains(&pt(5.0, 5.0)));
        assert!(b2.contains(&pt(2.0, 2.0)));
        // Two holes: the second one counts too.
        let hole2: &[(f64, f64)] = &[(1.0, 1.0), (2.0, 1.0), (2.0, 2.0), (1.0, 2.0)];
        let b = Boundary::parse(&polygon_json(&[SQUARE, hole, hole2])).unwrap();
        assert!(!b.contains(&pt(1.5, 1.5)));
        assert!(!b.contains(&pt(5.0, 5.0)));
        assert!(b.contains(&pt(3.0, 3.0)));
    }

    #[test]
    fn multipolygon_with_an_island_in_a_hole() {
        // An area with a hole, and a second polygon (an island) inside that hole.
        let json = r#"{"type":"MultiPolygon","coordinates":[
            [[[0,0],[10,0],[10,10],[0,10],[0,0]],[[3,3],[7,3],[7,7],[3,7],[3,3]]],
            [[[4,4],[6,4],[6,6],[4,6],[4,4]]],
            [[[20,20],[21,20],[21,21],[20,21],[20,20]]]
        ]}"#;
        let b = Boundary::parse(json).unwrap();
        assert_eq!(b.polygon_count(), 3);
        assert!(b.contains(&pt(1.0, 1.0)));
        assert!(!b.contains(&pt(3.5, 3.5)));
        assert!(b.contains(&pt(5.0, 5.0)));
        assert!(b.contains(&pt(20.5, 20.5)));
        assert!(!b.contains(&pt(15.0, 15.0)));
        assert_eq!(b.bbox(), (0.0, 0.0, 21.0, 21.0));
    }

    #[test]
    fn accepted_wrappers_and_extras() {
        let geometry = polygon_json(&[SQUARE]);
        let feature =
            format!(r#"{{"type":"Feature","properties":{{"name":"x"}},"geometry":{geometry}}}"#);
        let collection = format!(r#"{{"type":"FeatureCollection","features":[{feature}]}}"#);
        for doc in [&geometry, &feature, &collection] {
            let b = Boundary::parse(doc).unwrap();
            assert!(b.contains(&pt(5.0, 5.0)), "{doc}");
        }
        // Altitude is allowed and ignored.
        let with_alt = r#"{"type":"Polygon","coordinates":[[[0,0,100],[0,10,100],[10,10,100],[10,0,100],[0,0,100]]]}"#;
        assert!(Boundary::parse(with_alt).unwrap().contains(&pt(5.0, 5.0)));
    }

    #[test]
    fn malformed_geojson_errors() {
        let unsupported = |doc: &str| match Boundary::parse(doc) {
            Err(GeoError::BoundaryUnsupported(d)) => d,
            other => panic!("{doc}: {other:?}"),
        };
        let malformed = |doc: &str| match Boundary::parse(doc) {
            Err(GeoError::BoundaryMalformed(d)) => d,
            other => panic!("{doc}: {other:?}"),
        };
        assert!(matches!(
            Boundary::parse("{\"type\": "),
            Err(GeoError::BoundaryJson(_))
        ));
        assert!(matches!(
            Boundary::parse(""),
            Err(GeoError::BoundaryJson(_))
        ));
        assert!(unsupported(r#"{"type":"Point","coordinates":[7,51]}"#).contains("Point"));
        assert!(
            unsupported(r#"{"type":"LineString","coordinates":[[7,51],[8,52]]}"#)
                .contains("LineString")
        );
        unsupported(r#"{"type":"GeometryCollection","geometries":[]}"#);
        unsupported(r#"{"coordinates":[]}"#);
        unsupported(r#"{"type":5}"#);
        unsupported("[1,2]");
        unsupported("42");
        unsupported(r#"{"type":"Feature","geometry":null}"#);
        unsupported(r#"{"type":"Feature"}"#);
        let sq = polygon_json(&[SQUARE]);
        let f = format!(r#"{{"type":"Feature","geometry":{sq}}}"#);
        assert!(
            unsupported(&format!(
                r#"{{"type":"FeatureCollection","features":[{f},{f}]}}"#
            ))
            .contains('2')
        );
        assert!(unsupported(r#"{"type":"FeatureCollection","features":[]}"#).contains('0'));
        unsupported(r#"{"type":"FeatureCollection"}"#);
        unsupported(&format!(
            r#"{{"type":"FeatureCollection","features":[{sq}]}}"#
        ));

        malformed(r#"{"type":"Polygon"}"#);
        malformed(r#"{"type":"Polygon","coordinates":{}}"#);
        malformed(r#"{"type":"Polygon","coordinates":[]}"#);
        malformed(r#"{"type":"MultiPolygon","coordinates":[]}"#);
        malformed(r#"{"type":"MultiPolygon","coordinates":[5]}"#);
        malformed(r#"{"type":"Polygon","coordinates":[5]}"#);
        assert!(
            malformed(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#).contains('3')
        );
        assert!(
            malformed(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}"#)
                .contains("not closed")
        );
        malformed(r#"{"type":"Polygon","coordinates":[[[0,0],[1],[1,1],[0,0]]]}"#);
        malformed(r#"{"type":"Polygon","coordinates":[[[0,0],["1",0],[1,1],[0,0]]]}"#);
        malformed(r#"{"type":"Polygon","coordinates":[[[0,0],null,[1,1],[0,0]]]}"#);
        let huge = format!(
            r#"{{"type":"Polygon","coordinates":[[[0,0],[{}],[1,1],[0,0]]]}}"#,
            vec!["\"x\""; 10_000].join(",")
        );
        assert!(malformed(&huge).chars().count() < 120);
        // GeoJSON order is [lon, lat]: a latitude of 91 is out of range.
        let out = malformed(r#"{"type":"Polygon","coordinates":[[[0,0],[1,91],[1,1],[0,0]]]}"#);
        assert!(out.contains("latitude"), "{out}");
        // A malformed hole is reported too.
        malformed(r#"{"type":"Polygon","coordinates":[[[0,0],[9,0],[9,9],[0,0]],[[1,1],[2,1]]]}"#);

        let err = Boundary::parse(r#"{"type":"Point","coordinates":[7,51]}"#).unwrap_err();
        assert_eq!(err.key(), "reports.err.boundary_unsupported");
        assert!(err.to_string().starts_with("The boundary"));
    }

    #[test]
    fn vertex_limit() {
        let ring_of = |n: usize| {
            // n positions on a circle, the last closing the ring.
            let mut pos: Vec<String> = (0..n - 1)
                .map(|i| {
                    let a = i as f64 / (n - 1) as f64 * std::f64::consts::TAU;
                    format!("[{},{}]", a.cos(), a.sin())
                })
                .collect();
            pos.push(pos[0].clone());
            format!("[{}]", pos.join(","))
        };
        let at_limit = format!(
            r#"{{"type":"Polygon","coordinates":[{}]}}"#,
            ring_of(MAX_BOUNDARY_VERTICES)
        );
        let b = Boundary::parse(&at_limit).unwrap();
        assert!(b.contains(&pt(0.0, 0.0)));
        assert!(!b.contains(&pt(0.0, 1.01)));
        // The limit applies to the sum over all rings and polygons.
        let over = format!(
            r#"{{"type":"MultiPolygon","coordinates":[[{}],[{}]]}}"#,
            ring_of(MAX_BOUNDARY_VERTICES / 2),
            ring_of(MAX_BOUNDARY_VERTICES / 2 + 1)
        );
        let err = Boundary::parse(&over).unwrap_err();
        assert_eq!(err, GeoError::BoundaryTooManyVertices);
        assert_eq!(err.key(), "reports.err.boundary_too_many_vertices");
    }

    #[test]
    fn demo_boundary() {
        let b = Boundary::parse(DEMO_BOUNDARY).unwrap();
        let (min_lat, min_lon, max_lat, max_lon) = b.bbox();
        let centre = pt((min_lat + max_lat) / 2.0, (min_lon + max_lon) / 2.0);
        assert!(b.contains(&centre));
        assert!(b.contains(&pt(51.40, 7.20)));
        // Plausible size: about 8 km east-west, 6 km north-south.
        let width = distance_m(pt(centre.lat, min_lon), pt(centre.lat, max_lon));
        let height = distance_m(pt(min_lat, centre.lon), pt(max_lat, centre.lon));
        assert!((7_000.0..9_000.0).contains(&width), "{width}");
        assert!((5_000.0..7_000.0).contains(&height), "{height}");
        for bearing in [0.0, 90.0, 180.0, 270.0, 33.0] {
            let far = destination(centre, bearing, 20_000.0);
            assert!(!b.contains(&far), "{far:?}");
        }
    }

    #[test]
    fn haversine_known_distances() {
        // Kölner Dom ↔ Düsseldorfer Rheinturm: 33.72 km on the WGS84 ellipsoid (Vincenty).
        let dom = pt(50.94133, 6.95812);
        let rheinturm = pt(51.21806, 6.76167);
        let d = distance_m(dom, rheinturm);
        assert!((d / 33_724.0 - 1.0).abs() < 0.01, "{d}");
        // Brandenburger Tor ↔ Marienplatz: 503.66 km (Vincenty).
        let d = distance_m(pt(52.51627, 13.37770), pt(48.13739, 11.57549));
        assert!((d / 503_665.0 - 1.0).abs() < 0.005, "{d}");
        // Exact on the sphere: one degree of a meridian, a quarter of the equator, antipodes.
        let one_degree = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        assert!((distance_m(pt(51.0, 7.0), pt(52.0, 7.0)) - one_degree).abs() < 1e-6);
        let quarter = EARTH_RADIUS_M * std::f64::consts::FRAC_PI_2;
        assert!((distance_m(pt(0.0, 0.0), pt(0.0, 90.0)) - quarter).abs() < 1e-6);
        let half = EARTH_RADIUS_M * std::f64::consts::PI;
        assert!((distance_m(pt(90.0, 0.0), pt(-90.0, 0.0)) - half).abs() < 1e-6);
        assert!((distance_m(pt(0.0, 0.0), pt(0.0, 180.0)) - half).abs() < 1e-6);
        // Across the antimeridian the short way round.
        let d = distance_m(pt(0.0, 179.5), pt(0.0, -179.5));
        assert!((d - one_degree).abs() < 1e-6, "{d}");
        assert_eq!(distance_m(dom, dom), 0.0);
        assert_eq!(distance_m(dom, rheinturm), distance_m(rheinturm, dom));
    }

    #[test]
    fn search_box_contains_the_circle() {
        let centres = [
            (51.40, 7.20),
            (0.0, 0.0),
            (-33.9, 18.4),
            (89.9, 10.0),
            (-89.99, -45.0),
            (90.0, 0.0),
            (70.0, 179.999),
            (-60.0, -179.9),
            (51.40, 180.0),
            (80.0, 0.0),
        ];
        let radii = [
            0.0,
            1.0,
            50.0,
            500.0,
            5_000.0,
            50_000.0,
            2_000_000.0,
            15_000_000.0,
        ];
        for (lat, lon) in centres {
            let c = pt(lat, lon);
            for r in radii {
                let mut checked = 0;
                let (min_lat, min_lon, max_lat, max_lon) = search_box(c, r);
                assert!(min_lat >= -90.0 && max_lat <= 90.0);
                assert!(min_lon >= -180.0 && max_lon <= 180.0);
                assert!(min_lat <= max_lat && min_lon <= max_lon);
                for step in 0..720 {
                    let bearing = step as f64 * 0.5;
                    for fraction in [1.0, 0.999_999, 0.999, 0.5] {
                        let p = destination(c, bearing, r * fraction);
                        // The contract is about distance_m; the helper's rounding near a pole can
                        // land a hair beyond the circle, and such points are not owed.
                        if distance_m(c, p) > r {
                            continue;
                        }
                        checked += 1;
                        assert!(
                            p.lat >= min_lat
                                && p.lat <= max_lat
                                && p.lon >= min_lon
                                && p.lon <= max_lon,
                            "centre ({lat},{lon}) r {r} bearing {bearing}: {p:?} outside {:?}",
                            (min_lat, min_lon, max_lat, max_lon)
                        );
                    }
                }
                // Many sampled points are genuinely tested, not skipped.
                assert!(
                    r == 0.0 || checked >= 720,
                    "centre ({lat},{lon}) r {r}: only {checked}"
                );
            }
        }
    }

    #[test]
    fn search_box_is_tight_in_nrw() {
        let c = pt(51.40, 7.20);
        let (min_lat, min_lon, max_lat, max_lon) = search_box(c, 50.0);
        // 50 m is about 0.00045° of latitude and 0.00072° of longitude here.
        assert!((max_lat - min_lat - 2.0 * 0.000_449_7).abs() < 1e-6);
        assert!((max_lon - min_lon - 2.0 * 0.000_720_7).abs() < 1e-5);
        assert!(min_lat < c.lat && c.lat < max_lat && min_lon < c.lon && c.lon < max_lon);
        // Its corners lie farther than the radius: the box is only a prefilter.
        assert!(distance_m(c, pt(max_lat, max_lon)) > 50.0);
    }

    #[test]
    fn search_box_odd_radii_and_wrapping() {
        let c = pt(51.4, 7.2);
        let (a, b, cc, d) = search_box(c, -5.0);
        assert!(a <= 51.4 && cc >= 51.4 && b <= 7.2 && d >= 7.2);
        assert!(cc - a < 1e-9);
        assert_eq!(search_box(c, f64::NAN), search_box(c, 0.0));
        assert_eq!(search_box(c, f64::INFINITY), (-90.0, -180.0, 90.0, 180.0));
        // Crossing the antimeridian widens to the full longitude range.
        let (_, min_lon, _, max_lon) = search_box(pt(0.0, 179.9999), 1_000.0);
        assert_eq!((min_lon, max_lon), (-180.0, 180.0));
        // Reaching a pole does too, with latitude clamped.
        let (min_lat, min_lon, max_lat, max_lon) = search_box(pt(89.999, 0.0), 1_000.0);
        assert_eq!((min_lon, max_lon, max_lat), (-180.0, 180.0, 90.0));
        assert!(min_lat < 89.999);
    }

    #[test]
    fn distance_and_destination_agree() {
        // Guards the test helper that the search_box test relies on.
        let c = pt(51.4, 7.2);
        for bearing in [0.0, 45.0, 123.0, 270.0] {
            let p = destination(c, bearing, 5_000.0);
            assert!((distance_m(c, p) - 5_000.0).abs() < 1e-6);
        }
    }
}
