//! The report's charts, drawn by `plotters` into inline SVG: columns (per hour, per day), bars
//! (top-N lists) and a world map of callers. Text is SVG `<text>` the browser draws (no font is
//! embedded or fetched); plotters escapes it. Every mark carries a `<title>` with its label and
//! number, for screen readers and as a tooltip.

use anyhow::{anyhow, Result};
use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::{Ranged, SegmentValue};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The bars (8.3:1 against white, as is all ink here: well above WCAG AA 4.5:1).
const MARK: RGBColor = RGBColor(0x1F, 0x4E, 0x8C);
/// The map's points (6.2:1 against white; drawn half transparent over the land).
const POINT: RGBColor = RGBColor(0xC0, 0x1A, 0x1A);
/// Axis text and lines (15.9:1 against white).
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// The map's land and sea.
const LAND: RGBColor = RGBColor(0xD9, 0xD9, 0xD2);
const SEA: RGBColor = RGBColor(0xEE, 0xF3, 0xF8);

/// Chart width in pixels (the page's column).
pub(crate) const WIDTH: u32 = 960;

/// One bar: its label and number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) value: u64,
}

impl Bar {
    pub(crate) fn new(label: impl Into<String>, value: u64) -> Self {
        Self { label: label.into(), value }
    }
}

/// One point of the map: where, how many calls, and what its title says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Point {
    pub(crate) lat: f64,
    pub(crate) lon: f64,
    pub(crate) calls: u64,
}

/// The land of the world, from Natural Earth 1:110m (public domain) through world-atlas (ISC):
/// see `crates/cli/assets/PROVENANCE.md`.
const WORLD: &str = include_str!("../../assets/world-110m.json");

#[derive(serde::Deserialize)]
struct World {
    polygons: Vec<Land>,
}

#[derive(serde::Deserialize)]
struct Land {
    outer: Vec<[f64; 2]>,
    holes: Vec<Vec<[f64; 2]>>,
}

fn text_style(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&INK)
}

#[allow(clippy::needless_pass_by_value)] // `map_err` hands the error over
fn draw_error<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> anyhow::Error {
    anyhow!("drawing a chart: {e}")
}

/// Vertical columns, one per bar, in order, each labelled with its number: events per hour of
/// the day, per day.
pub(crate) fn columns(bars: &[Bar], x_desc: &str, y_desc: &str) -> Result<String> {
    let n = u32::try_from(bars.len()).unwrap_or(u32::MAX);
    let svg = svg(320, WHITE, |root| {
        let mut chart =
            axes(root, 44, 64).build_cartesian_2d((0..n).into_segmented(), 0..headroom(bars)).map_err(draw_error)?;
        let label = |v: &SegmentValue<u32>| match v {
            SegmentValue::CenterOf(i) => bars.get(*i as usize).map(|b| b.label.clone()).unwrap_or_default(),
            _ => String::new(),
        };
        let mut mesh = chart.configure_mesh();
        house_style(&mut mesh)
            .disable_x_mesh()
            // Every label while they fit (24 hours); beyond, plotters spaces out 10 of them.
            .x_labels(if bars.len() <= 24 { bars.len() } else { 10 })
            .x_label_formatter(&label)
            .y_labels(6)
            .y_label_formatter(&|v| v.to_string())
            .x_desc(x_desc)
            .y_desc(y_desc)
            .draw()
            .map_err(draw_error)?;
        chart
            .draw_series(bars.iter().zip(0..).map(|(b, i)| {
                let mut bar =
                    Rectangle::new([(SegmentValue::Exact(i), 0), (SegmentValue::Exact(i + 1), b.value)], MARK.filled());
                bar.set_margin(0, 0, 2, 2);
                bar
            }))
            .map_err(draw_error)?;
        chart
            // Numbers above the columns while they fit; beyond, each column's title carries it.
            .draw_series(bars.iter().zip(0..).filter(|(b, _)| b.value > 0 && bars.len() <= 31).map(|(b, i)| {
                Text::new(
                    b.value.to_string(),
                    (SegmentValue::CenterOf(i), b.value),
                    text_style(11).pos(Pos::new(HPos::Center, VPos::Bottom)),
                )
            }))
            .map_err(draw_error)?;
        Ok(())
    })?;
    Ok(titled(&svg, MARK, bars.iter().map(|b| format!("{}: {}", b.label, b.value))))
}

/// Horizontal bars, the first on top, each labelled with its number: the top-N lists.
pub(crate) fn bars(bars: &[Bar], x_desc: &str) -> Result<String> {
    let height = 60 + 26 * u32::try_from(bars.len()).unwrap_or(40).min(40);
    let n = u32::try_from(bars.len()).unwrap_or(u32::MAX);
    let svg = svg(height, WHITE, |root| {
        let mut chart =
            axes(root, 40, 330).build_cartesian_2d(0..headroom(bars), (0..n).into_segmented()).map_err(draw_error)?;
        // Row 0 is drawn at the bottom: the first bar takes the last row.
        let row = |i: u32| n - 1 - i;
        let label = |v: &SegmentValue<u32>| match v {
            SegmentValue::CenterOf(r) if *r < n => shorten(&bars[(n - 1 - r) as usize].label, 48),
            _ => String::new(),
        };
        let mut mesh = chart.configure_mesh();
        house_style(&mut mesh)
            .disable_y_mesh()
            .y_labels(bars.len())
            .y_label_formatter(&label)
            .x_labels(6)
            .x_label_formatter(&|v| v.to_string())
            .x_desc(x_desc)
            .draw()
            .map_err(draw_error)?;
        chart
            .draw_series(bars.iter().zip(0..).map(|(b, i)| {
                let r = row(i);
                let mut bar =
                    Rectangle::new([(0, SegmentValue::Exact(r)), (b.value, SegmentValue::Exact(r + 1))], MARK.filled());
                bar.set_margin(3, 3, 0, 0);
                bar
            }))
            .map_err(draw_error)?;
        chart
            .draw_series(bars.iter().zip(0..).map(|(b, i)| {
                let style = text_style(11).pos(Pos::new(HPos::Left, VPos::Center));
                Text::new(format!(" {}", b.value), (b.value, SegmentValue::CenterOf(row(i))), style)
            }))
            .map_err(draw_error)?;
        Ok(())
    })?;
    Ok(titled(&svg, MARK, bars.iter().map(|b| format!("{}: {}", b.label, b.value))))
}

/// The world (equirectangular, 60°S to 85°N) with a point per place calls came from, its area
/// proportional to the calls.
pub(crate) fn world(points: &[Point]) -> Result<String> {
    let world: World = serde_json::from_str(WORLD)?;
    let svg = svg(420, SEA, |root| {
        let mut chart =
            ChartBuilder::on(root).margin(4).build_cartesian_2d(-180.0..180.0, -60.0..85.0).map_err(draw_error)?;
        let ring = |r: &[[f64; 2]]| r.iter().map(|&[lon, lat]| (lon, lat)).collect::<Vec<_>>();
        chart
            .draw_series(world.polygons.iter().map(|p| Polygon::new(ring(&p.outer), LAND.filled())))
            .map_err(draw_error)?;
        chart
            .draw_series(world.polygons.iter().flat_map(|p| &p.holes).map(|h| Polygon::new(ring(h), SEA.filled())))
            .map_err(draw_error)?;
        let most = points.iter().map(|p| p.calls).max().unwrap_or(1).max(1);
        chart
            .draw_series(points.iter().map(|p| {
                #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let radius = (4.0 + 22.0 * (p.calls as f64 / most as f64).sqrt()).round() as u32;
                Circle::new((p.lon, p.lat), radius, POINT.mix(0.55).filled())
            }))
            .map_err(draw_error)?;
        Ok(())
    })?;
    let titles = points.iter().map(|p| format!("{} calls near {:.1}, {:.1}", p.calls, p.lat, p.lon));
    Ok(titled(&svg, POINT, titles))
}

/// An SVG of the page's width and `height`, filled with `background`, then drawn by `draw`.
fn svg(
    height: u32,
    background: RGBColor,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>,
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&background).map_err(draw_error)?;
        draw(&root)?;
        root.present().map_err(draw_error)?;
    }
    Ok(svg)
}

/// A chart on `root` with room for the axes' labels: `x_area` pixels below, `y_area` on the left.
fn axes<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    x_area: u32,
    y_area: u32,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(root);
    builder.margin(12).x_label_area_size(x_area).y_label_area_size(y_area);
    builder
}

/// Axes, grid and text as every chart of the report draws them.
fn house_style<'m, 'a, 'b, X, Y, DB>(mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged,
    Y: Ranged,
    DB: DrawingBackend,
{
    mesh.label_style(text_style(12))
        .axis_desc_style(text_style(13))
        .light_line_style(RGBColor(0xE4, 0xE4, 0xE4))
        .bold_line_style(RGBColor(0xC8, 0xC8, 0xC8))
        .axis_style(INK)
}

/// The top of the value axis: a tenth above the largest bar, so its number fits.
fn headroom(bars: &[Bar]) -> u64 {
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0);
    max.saturating_add(max / 10).saturating_add(1)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// `svg` with a `<title>` inside each mark drawn in `colour`, in drawing order.
fn titled(svg: &str, colour: RGBColor, titles: impl IntoIterator<Item = String>) -> String {
    let marker = format!("fill=\"#{:02X}{:02X}{:02X}\"", colour.0, colour.1, colour.2);
    let mut out = String::with_capacity(svg.len() * 2);
    let mut rest = svg;
    let mut titles = titles.into_iter();
    while let Some(at) = rest.find(&marker) {
        let Some(close) = rest[at..].find("/>").map(|c| at + c) else { break };
        let open = rest[..at].rfind('<').unwrap_or(0);
        let tag: String = rest[open + 1..].chars().take_while(char::is_ascii_alphabetic).collect();
        out.push_str(&rest[..close]);
        match titles.next() {
            Some(title) => {
                out.push_str("><title>");
                out.push_str(&html_escape::encode_text(&title));
                out.push_str("</title></");
                out.push_str(&tag);
                out.push('>');
            }
            None => out.push_str("/>"),
        }
        rest = &rest[close + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bar_has_a_title_with_its_label_and_number_escaped() {
        let svg = bars(&[Bar::new("<script>alert(1)</script>", 7), Bar::new("ConsoleLogin", 3)], "events").unwrap();
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("<title>&lt;script&gt;alert(1)&lt;/script&gt;: 7</title></rect>"), "{svg}");
        assert!(svg.contains("<title>ConsoleLogin: 3</title></rect>"));
        assert_eq!(svg.matches("<title>").count(), 2);
    }

    #[test]
    fn the_largest_number_a_cluster_can_answer_is_drawn() {
        // A sum of bytes is a u64: the axis's headroom must not overflow.
        let svg = bars(&[Bar::new("10.0.0.1", u64::MAX)], "bytes sent").unwrap();
        assert!(svg.contains(&format!("<title>10.0.0.1: {}</title>", u64::MAX)));
    }

    #[test]
    fn columns_and_the_map_title_each_mark() {
        let hours: Vec<Bar> = (0..24).map(|h| Bar::new(format!("{h:02}"), h)).collect();
        let svg = columns(&hours, "hour of day (UTC)", "events").unwrap();
        assert_eq!(svg.matches("<title>").count(), 24);
        assert!(svg.contains("<title>23: 23</title>"));
        let map =
            world(&[Point { lat: 48.9, lon: 2.3, calls: 12 }, Point { lat: -33.9, lon: 151.2, calls: 1 }]).unwrap();
        assert_eq!(map.matches("<title>").count(), 2, "land is drawn without titles");
        assert!(map.contains("<title>12 calls near 48.9, 2.3</title></circle>"));
        assert!(map.matches("<polygon").count() > 100, "the world outline is drawn");
    }
}
