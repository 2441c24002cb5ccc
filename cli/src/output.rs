//! What the user reads: aligned tables, ages, frame lists and JSON output.
//!
//! Results go to stdout, progress and diagnostics to stderr; nothing here
//! decides which, the commands do.

use std::fmt::Write as _;

/// How a column's cells line up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A plain-text table: a header row, then rows, columns padded to the widest
/// cell and separated by two spaces. The last column is never padded, so no
/// line ends in spaces.
pub struct Table {
    headers: Vec<&'static str>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[(&'static str, Align)]) -> Self {
        Self {
            headers: columns.iter().map(|c| c.0).collect(),
            align: columns.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let headers: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        for row in std::iter::once(&headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = widths[i].saturating_sub(cell.chars().count());
                let last = i + 1 == columns;
                match self.align[i] {
                    Align::Right => {
                        line.extend(std::iter::repeat_n(' ', pad));
                        line.push_str(cell);
                    }
                    Align::Left => {
                        line.push_str(cell);
                        if !last {
                            line.extend(std::iter::repeat_n(' ', pad));
                        }
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// A duration in seconds, as `45s`, `3m12s`, `2h05m` or `3d04h`: two units
/// at most, enough to tell jobs apart at a glance.
pub fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d{h:02}h")
    } else if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

/// Now, in Unix seconds (what the API's timestamps are in).
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Ascending frame numbers as a spec a user could type back: `1-3,7,9-12`.
pub fn frame_ranges(frames: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < frames.len() {
        let start = frames[i];
        let mut end = start;
        while i + 1 < frames.len() && frames[i + 1] == end + 1 {
            i += 1;
            end = frames[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end == start {
            let _ = write!(out, "{start}");
        } else {
            let _ = write!(out, "{start}-{end}");
        }
        i += 1;
    }
    out
}

/// A libp2p peer id shortened for tables: its tail, since every ed25519
/// peer id starts with the same `12D3KooW`.
pub fn short_peer(peer: &str) -> String {
    let chars: Vec<char> = peer.chars().collect();
    if chars.len() <= 10 {
        return peer.to_owned();
    }
    let tail: String = chars[chars.len() - 8..].iter().collect();
    format!("…{tail}")
}

/// Prints one JSON value on stdout, the whole of a `--json` command's output.
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_without_trailing_spaces() {
        let mut table =
            Table::new(&[("ID", Align::Right), ("STATE", Align::Left), ("NAME", Align::Left)]);
        table.row(vec!["7".into(), "running".into(), "box.glb".into()]);
        table.row(vec!["12".into(), "queued".into(), "a much longer name".into()]);
        let text = table.render();
        assert_eq!(
            text,
            "ID  STATE    NAME\n 7  running  box.glb\n12  queued   a much longer name\n"
        );
        assert!(text.lines().all(|l| !l.ends_with(' ')));
    }

    #[test]
    fn tables_count_characters_not_bytes() {
        let mut table = Table::new(&[("PEER", Align::Left), ("N", Align::Right)]);
        table.row(vec!["…abcdefgh".into(), "1".into()]);
        table.row(vec!["x".into(), "10".into()]);
        assert_eq!(table.render(), "PEER        N\n…abcdefgh   1\nx          10\n");
    }

    #[test]
    fn ages_use_two_units_at_most() {
        assert_eq!(age(0), "0s");
        assert_eq!(age(45), "45s");
        assert_eq!(age(192), "3m12s");
        assert_eq!(age(2 * 3600 + 5 * 60 + 9), "2h05m");
        assert_eq!(age(3 * 86_400 + 4 * 3600), "3d04h");
        assert_eq!(age(-5), "0s");
    }

    #[test]
    fn frame_ranges_collapse_runs() {
        assert_eq!(frame_ranges(&[]), "");
        assert_eq!(frame_ranges(&[4]), "4");
        assert_eq!(frame_ranges(&[1, 2, 3, 7, 9, 10, 11, 12]), "1-3,7,9-12");
        assert_eq!(frame_ranges(&[1, 3, 5]), "1,3,5");
    }

    #[test]
    fn peer_ids_keep_their_tail() {
        assert_eq!(short_peer("12D3KooWAbCdEfGhIjKlMnOp"), "…IjKlMnOp");
        assert_eq!(short_peer("short"), "short");
    }
}
