//! Golden files: compare exactly, or rewrite with `UPDATE_GOLDEN=1`.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

/// The clock of the golden tests: `event.ingested` of the documents a function writes itself and
/// the time of its dead letters, so that the goldens do not change with the day they run.
pub fn clock() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").unwrap().to_utc()
}

/// A recorded event (`fixtures/<source>/<case>.input.json`), read as `T`.
pub fn load<T: DeserializeOwned>(input: &Path) -> T {
    serde_json::from_slice(&std::fs::read(input).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", input.display()))
}

/// Compares `actual` with the file at `path` byte for byte. With `UPDATE_GOLDEN=1` the file is
/// written instead. On a mismatch the first differing line is shown.
pub fn assert_golden(path: &Path, actual: &[u8]) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1 to create it)", path.display()));
    if expected == actual {
        return;
    }
    let exp = String::from_utf8_lossy(&expected);
    let act = String::from_utf8_lossy(actual);
    let (exp, act): (Vec<&str>, Vec<&str>) = (exp.lines().collect(), act.lines().collect());
    let n = (0..exp.len().max(act.len())).find(|&i| exp.get(i) != act.get(i)).unwrap_or(0);
    let (e, a) = (exp.get(n).copied().unwrap_or("<end>"), act.get(n).copied().unwrap_or("<end>"));
    panic!(
        "{} differs at line {}:\n  expected: {e}\n  actual:   {a}\n(run with UPDATE_GOLDEN=1 after checking the change)",
        path.display(),
        n + 1
    );
}
