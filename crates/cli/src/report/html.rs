//! The report's page: one HTML document with inline CSS and SVG, nothing fetched, no script.

use std::fmt::Write as _;

use anyhow::Result;
use chrono::SecondsFormat;
use html_escape::encode_text as esc;

use super::charts::{self, Bar, Point};
use super::Report;
use crate::questions::SignIn;

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;background:#fff;margin:0 auto;max-width:1000px;padding:16px 20px 48px}\
h1{font-size:26px;margin:8px 0}h2{font-size:20px;margin:0 0 8px;padding-top:8px;border-top:2px solid #9db3d1}\
h3{font-size:16px;margin:16px 0 6px}section{margin:28px 0}figure{margin:0}figcaption{color:#444;font-size:13px}\
table{border-collapse:collapse;font-size:13px;margin:6px 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}\
th{background:#eef2f7}td.n{text-align:right;font-variant-numeric:tabular-nums}p.nodata{color:#555;font-style:italic}\
.meta{color:#333}svg{display:block;max-width:100%;height:auto}";

/// The page of `report`.
///
/// # Errors
/// When a chart cannot be drawn.
pub fn render(report: &Report) -> Result<String> {
    let mut page = Page::default();
    let period = period(report);
    page.raw(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Security report: {}</title><style>{STYLE}</style></head><body>\n",
        esc(&period)
    ));
    header(&mut page, report, &period);
    cloudtrail(&mut page, report)?;
    sign_ins(&mut page, report)?;
    callers(&mut page, report)?;
    waf(&mut page, report)?;
    vpc(&mut page, report)?;
    dns(&mut page, report)?;
    findings(&mut page, report)?;
    alerts(&mut page, report)?;
    page.raw("</body></html>\n");
    Ok(page.0)
}

fn period(report: &Report) -> String {
    let at = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    match (report.scope.since, report.scope.until) {
        (None, None) => "all documents".to_owned(),
        (Some(s), None) => format!("from {} to now", at(s)),
        (None, Some(u)) => format!("until {}", at(u)),
        (Some(s), Some(u)) => format!("from {} to {}", at(s), at(u)),
    }
}

fn header(page: &mut Page, report: &Report, period: &str) {
    page.raw("<header><h1>Security report</h1>");
    page.tag("p", "meta", &format!("Period: {period}"));
    page.tag("p", "meta", &format!("Cluster: {}", report.cluster));
    let rows = report.counts.iter().map(|(family, n)| vec![Cell::text(family), Cell::number(*n)]);
    page.table("Documents per index family", &["Index pattern", "Documents"], rows);
    page.raw("</header>\n");
}

fn cloudtrail(page: &mut Page, report: &Report) -> Result<()> {
    page.section("busiest", "When is our cloud busiest?", |page| {
        let hours: Vec<Bar> = report.hours.iter().zip(0..).map(|(n, h)| Bar::new(format!("{h:02}"), *n)).collect();
        if hours.iter().all(|b| b.value == 0) {
            page.no_data();
            return Ok(());
        }
        page.figure(
            &charts::columns(&hours, "hour of day (UTC)", "CloudTrail events")?,
            "CloudTrail events per hour of day (UTC)",
        );
        let days: Vec<Bar> = report.days.iter().map(|(d, n)| Bar::new(d.clone(), *n)).collect();
        page.figure(
            &charts::columns(&days, "day (UTC)", "CloudTrail events")?,
            "CloudTrail events per day (UTC; days without events are left out)",
        );
        Ok(())
    })?;
    page.section("event-names", "Top event names", |page| {
        let bars = report.event_names.iter().map(|(name, n)| (name.as_str(), *n));
        page.bars(bars, "CloudTrail events", "The most frequent CloudTrail event names")
    })
}

fn sign_ins(page: &mut Page, report: &Report) -> Result<()> {
    page.section("sign-ins", "Console sign-ins to look at", |page| {
        page.h3("Failed console sign-ins");
        sign_in_table(page, &report.failed_sign_ins);
        if report.allowed.is_empty() {
            page.h3("Console sign-ins from outside the allowed addresses");
            page.tag("p", "nodata", "No allowed addresses given (--allowed): not checked.");
        } else {
            page.h3(&format!("Console sign-ins from outside the allowed addresses ({})", report.allowed.join(", ")));
            sign_in_table(page, report.outside_sign_ins.as_deref().unwrap_or_default());
        }
        Ok(())
    })
}

fn sign_in_table(page: &mut Page, list: &[SignIn]) {
    if list.is_empty() {
        return page.no_data();
    }
    let rows = list
        .iter()
        .map(|s| vec![Cell::text(&s.time), Cell::text(&s.user), Cell::text(&s.source), Cell::text(&s.outcome)]);
    page.table("", &["When", "Who", "From", "Outcome"], rows);
}

fn callers(page: &mut Page, report: &Report) -> Result<()> {
    page.section("callers", "Where do the calls come from?", |page| {
        if report.callers.is_empty() {
            page.no_data();
        } else {
            let points: Vec<Point> =
                report.callers.iter().map(|(_, calls, lat, lon)| Point { lat: *lat, lon: *lon, calls: *calls }).collect();
            page.figure(
                &charts::world(&points)?,
                "CloudTrail callers by GeoIP location of sourceIPAddress (a point's area grows with its calls; AWS services and private addresses have no location)",
            );
        }
        page.h3("Calls and console sign-ins per country");
        let rows = report
            .call_countries
            .iter()
            .map(|(c, calls, logins)| vec![Cell::text(c), Cell::number(*calls), Cell::number(*logins)]);
        page.table_or_none(&["Country", "Calls", "Console sign-ins"], rows);
        Ok(())
    })
}

fn waf(page: &mut Page, report: &Report) -> Result<()> {
    page.section("waf", "WAF: what is blocked, and where requests come from", |page| {
        page.h3("The rules that block the most requests");
        let rules = report.waf_rules.iter().map(|(rule, n)| (rule.as_str(), *n));
        page.bars(rules, "blocked requests", "Blocked requests per terminating rule")?;
        page.h3("Requests per client country");
        let countries = report.waf_countries.iter().map(|(c, n, _)| (c.as_str(), *n));
        page.bars(countries, "requests", "Requests per client country (GeoIP)")?;
        let rows = report.waf_countries.iter().map(|(c, n, b)| vec![Cell::text(c), Cell::number(*n), Cell::number(*b)]);
        page.table_or_none(&["Country", "Requests", "Blocked"], rows);
        Ok(())
    })
}

fn vpc(page: &mut Page, report: &Report) -> Result<()> {
    page.section("vpc", "VPC: top talkers and rejected flows", |page| {
        let talkers = report.talkers.iter().map(|(ip, bytes, _)| (ip.as_str(), *bytes));
        page.bars(talkers, "bytes sent", "The source addresses that sent the most bytes")?;
        let (total, sources) = &report.rejected;
        page.h3(&format!("Rejected flows: {total} in all"));
        let rows =
            sources.iter().map(|(ip, n, ports)| vec![Cell::text(ip), Cell::number(*n), Cell::text(&ports.join(", "))]);
        page.table_or_none(&["Source", "Rejected flows", "Ports tried"], rows);
        Ok(())
    })
}

fn dns(page: &mut Page, report: &Report) -> Result<()> {
    page.section("dns", "Route 53: what is queried", |page| {
        let domains = report.domains.iter().map(|(domain, n)| (domain.as_str(), *n));
        page.bars(domains, "queries", "The most queried registered domains")?;
        page.h3("NXDOMAIN rate by source");
        let rows = report.nxdomain.iter().map(|(source, n, nx)| {
            #[allow(clippy::cast_precision_loss)]
            let rate = if *n == 0 { 0.0 } else { *nx as f64 * 100.0 / *n as f64 };
            vec![Cell::text(source), Cell::number(*n), Cell::number(*nx), Cell::Number(format!("{rate:.0}%"))]
        });
        page.table_or_none(&["Source", "Queries", "NXDOMAIN", "Rate"], rows);
        page.h3("Highest-entropy names (DNS tunnels, generated domains)");
        let rows = report.entropy.iter().map(|(name, entropy, length, source)| {
            vec![Cell::text(name), Cell::Number(format!("{entropy:.3}")), Cell::number(*length), Cell::text(source)]
        });
        page.table_or_none(&["Name", "Entropy (bits/byte)", "Label length", "Source"], rows);
        Ok(())
    })
}

fn findings(page: &mut Page, report: &Report) -> Result<()> {
    page.section("findings", "Security Hub: findings by product and severity", |page| {
        page.bars(report.findings.iter().map(|(p, n, _)| (p.as_str(), *n)), "findings", "Findings per product")?;
        let rows = report.findings.iter().map(|(product, n, severities)| {
            let detail: Vec<String> = severities.iter().map(|(s, n)| format!("{s} {n}")).collect();
            vec![Cell::text(product), Cell::number(*n), Cell::text(&detail.join(", "))]
        });
        page.table_or_none(&["Product", "Findings", "By severity"], rows);
        Ok(())
    })
}

fn alerts(page: &mut Page, report: &Report) -> Result<()> {
    page.section("alerts", "Alerts of the period, by rule and level", |page| {
        page.bars(report.alerts.iter().map(|(rule, _, n)| (rule.as_str(), *n)), "alerts", "Alerts per rule")?;
        let rows =
            report.alerts.iter().map(|(rule, level, n)| vec![Cell::text(rule), Cell::text(level), Cell::number(*n)]);
        page.table_or_none(&["Rule", "Level", "Alerts"], rows);
        Ok(())
    })
}

/// A table cell: text (escaped) or a number (right-aligned).
enum Cell {
    Text(String),
    Number(String),
}

impl Cell {
    fn text(s: &str) -> Self {
        Self::Text(s.to_owned())
    }

    fn number(n: u64) -> Self {
        Self::Number(n.to_string())
    }
}

/// The page being written: every text goes through [`esc`]; only markup of our own is raw.
#[derive(Default)]
struct Page(String);

impl Page {
    fn raw(&mut self, markup: &str) {
        self.0.push_str(markup);
    }

    fn tag(&mut self, tag: &str, class: &str, text: &str) {
        let _ = writeln!(self.0, "<{tag} class=\"{class}\">{}</{tag}>", esc(text));
    }

    fn h3(&mut self, text: &str) {
        let _ = writeln!(self.0, "<h3>{}</h3>", esc(text));
    }

    /// A section: its heading, what `body` writes, and its end.
    fn section(&mut self, id: &str, title: &str, body: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        let _ = writeln!(
            self.0,
            "<section id=\"{id}\" aria-labelledby=\"{id}-title\"><h2 id=\"{id}-title\">{}</h2>",
            esc(title)
        );
        body(self)?;
        self.0.push_str("</section>\n");
        Ok(())
    }

    fn no_data(&mut self) {
        self.tag("p", "nodata", "No data in this period.");
    }

    /// A chart (SVG from [`charts`], its text already escaped) with its caption, which is also
    /// its accessible name.
    fn figure(&mut self, svg: &str, caption: &str) {
        let label = html_escape::encode_double_quoted_attribute(caption);
        let svg = svg.replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"{label}\" "), 1);
        let _ = writeln!(self.0, "<figure>{svg}<figcaption>{}</figcaption></figure>", esc(caption));
    }

    /// Horizontal bars of `(label, number)`, or "no data".
    fn bars<'a>(&mut self, rows: impl Iterator<Item = (&'a str, u64)>, x_desc: &str, caption: &str) -> Result<()> {
        let bars: Vec<Bar> = rows.map(|(label, n)| Bar::new(label, n)).collect();
        if bars.is_empty() {
            self.no_data();
            return Ok(());
        }
        self.figure(&charts::bars(&bars, x_desc)?, caption);
        Ok(())
    }

    fn table(&mut self, caption: &str, head: &[&str], rows: impl Iterator<Item = Vec<Cell>>) {
        self.0.push_str("<table>");
        if !caption.is_empty() {
            let _ = write!(self.0, "<caption>{}</caption>", esc(caption));
        }
        self.0.push_str("<thead><tr>");
        for h in head {
            let _ = write!(self.0, "<th scope=\"col\">{}</th>", esc(h));
        }
        self.0.push_str("</tr></thead><tbody>\n");
        for row in rows {
            self.0.push_str("<tr>");
            for cell in row {
                let _ = match cell {
                    Cell::Text(t) => write!(self.0, "<td>{}</td>", esc(&t)),
                    Cell::Number(n) => write!(self.0, "<td class=\"n\">{}</td>", esc(&n)),
                };
            }
            self.0.push_str("</tr>\n");
        }
        self.0.push_str("</tbody></table>\n");
    }

    fn table_or_none(&mut self, head: &[&str], rows: impl Iterator<Item = Vec<Cell>>) {
        let mut rows = rows.peekable();
        if rows.peek().is_none() {
            return self.no_data();
        }
        self.table("", head, rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questions::Scope;

    const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&</td></table>";

    #[test]
    fn a_hostile_value_in_every_string_is_shown_as_text_and_breaks_nothing() {
        let page = render(&Report::every_string(HOSTILE)).unwrap();
        assert!(!page.contains("<script"), "no script element");
        assert!(!page.contains("<img"), "no image element");
        assert!(!page.contains("</td></table>\""), "the value closes no element of the page");
        // Every string the page shows: 4 × 2 sign-ins, 3 × 12 other strings, the axis labels and
        // marks' titles of the charts; all escaped.
        let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;";
        assert!(page.matches(escaped).count() >= 30, "{}", page.matches(escaped).count());
        assert_eq!(page.matches("<section ").count(), 9);
        assert_eq!(page.matches("</section>").count(), 9);
        assert_eq!(page.matches("<table>").count(), page.matches("</table>").count());
        assert!(page.ends_with("</body></html>\n"));
    }

    #[test]
    fn an_empty_period_says_no_data_in_every_section() {
        let report = Report { hours: vec![0; 24], rejected: (0, Vec::new()), ..Report::default() };
        let page = render(&report).unwrap();
        assert!(!page.contains("<svg"), "no chart without data");
        // Per section: 1 (hours and days) + 1 + 2 (sign-ins; no allowed list) + 2 + 3 + 2 + 3 + 2 + 2.
        assert_eq!(page.matches("<p class=\"nodata\">").count(), 18);
        assert_eq!(page.matches("<section ").count(), 9);
        assert!(page.contains("<title>Security report: all documents</title>"));
    }

    #[test]
    fn the_period_is_named_in_the_title() {
        let at = |s| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let scope = Scope { since: Some(at("2026-11-01T00:00:00Z")), until: Some(at("2026-12-01T00:00:00Z")) };
        let page = render(&Report { scope, ..Report::default() }).unwrap();
        assert!(page.contains("<title>Security report: from 2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z</title>"));
    }
}
