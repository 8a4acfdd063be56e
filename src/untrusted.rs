//! Text that came from outside, made inert for each human-facing format — in one place.
//!
//! Repository, ruleset, policy and member names, server error messages and every string in a
//! snapshot can be shaped by someone other than the person running trustcheck. Shown as-is they
//! could move a terminal's cursor or hide rows (ESC sequences), start a GitHub Actions workflow
//! command (`::add-mask::`, `::stop-commands::`, `::error::` at the start of a line), reverse the
//! text's direction (bidi controls), or close a Markdown code span and emit HTML or a mention in a
//! job summary. Every renderer that writes for people passes such values through this module:
//!
//! - [`terminal`] for tables, drift text, explanations, logs and annotations: control and
//!   invisible direction characters are shown escaped (`\n`, `\x1b`, `\u{202e}`), so a value is
//!   always one visible line, and a value that would begin with `::` has that colon escaped;
//! - [`markdown_code`] for Markdown: the value in a code span that nothing inside can close;
//! - [`html`] for HTML (and Markdown's raw-HTML blocks): `&`, `<`, `>`, `"`, `'` as entities.
//!
//! Machine formats (JSON, SARIF, OCSF) escape through their serialisers and keep values exact.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters never shown raw: every Unicode control (C0, DEL, C1), line and paragraph
/// separators, zero-width characters and bidirectional overrides and isolates.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// `s` as one visible, inert line for a terminal or a log: unsafe characters escaped, and a
/// leading `::` (a GitHub Actions workflow command) broken. Borrowed when nothing changes.
pub fn terminal(s: &str) -> Cow<'_, str> {
    let command_like = s.trim_start().starts_with("::");
    if !command_like && !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut broke_command = !command_like;
    for c in s.chars() {
        match c {
            ':' if !broke_command => {
                out.push_str("\\x3a");
                broke_command = true;
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Several lines of text for a terminal: each line as [`terminal`] makes it, line breaks kept.
/// For messages that are multi-line by design (diagnostics) but may quote untrusted values.
pub fn terminal_lines(s: &str) -> Cow<'_, str> {
    if !s.split('\n').any(|l| matches!(terminal(l), Cow::Owned(_))) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.split('\n').map(terminal).collect::<Vec<_>>().join("\n"))
}

/// `s` with every unsafe character but line breaks and tabs replaced by as many `?` as it has
/// bytes: for source text shown in snippets, where byte offsets must stay where they were.
pub fn same_length(s: &str) -> Cow<'_, str> {
    let bad = |c: char| is_unsafe(c) && !matches!(c, '\n' | '\t');
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if bad(c) {
                    "?".repeat(c.len_utf8())
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// `s` as a Markdown code span that is safe inside a table cell: one line ([`terminal`]), `|`
/// escaped, delimited by more backticks than it holds in a row, padded when it starts or ends
/// with a backtick. Links, mentions, emphasis and HTML inside stay literal text.
pub fn markdown_code(s: &str) -> String {
    let s = terminal(s).replace('|', "\\|");
    let fence = "`".repeat(longest_run(&s, '`') + 1);
    if s.starts_with('`') || s.ends_with('`') || s.starts_with(' ') && s.ends_with(' ') {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// A fence for a fenced code block holding `content`: backticks, longer than any run inside
/// and at least three, so nothing in `content` can end the block.
pub fn markdown_fence(content: &str) -> String {
    "`".repeat((longest_run(content, '`') + 1).max(3))
}

/// `s` for HTML text or a quoted attribute value, also unsafe characters escaped.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in terminal(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole XML document with every character XML 1.0 forbids (controls other than tab, LF and
/// CR; U+FFFE, U+FFFF) and every other unsafe character shown escaped as in [`terminal`]. Line
/// breaks stay: they are the document's own. Markup is the serialiser's job.
pub fn xml(doc: &str) -> Cow<'_, str> {
    let bad = |c: char| {
        matches!(c, '\u{FFFE}' | '\u{FFFF}') || is_unsafe(c) && !matches!(c, '\t' | '\n' | '\r')
    };
    if !doc.chars().any(bad) {
        return Cow::Borrowed(doc);
    }
    let mut out = String::with_capacity(doc.len() + 8);
    for c in doc.chars() {
        if matches!(c, '\u{FFFE}' | '\u{FFFF}') {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        } else if bad(c) {
            out.push_str(&terminal(c.encode_utf8(&mut [0; 4])));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `value` as pretty JSON in which every unsafe character inside a string is written as a
/// `\uXXXX` escape: the value read back is exact, and the document shown in a terminal is inert
/// (serde_json escapes only C0 controls, not C1 controls or direction overrides).
pub fn write_json<W: std::io::Write, T: serde::Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    write_json_nested(writer, value, 0)
}

/// [`write_json`] of a value `depth` levels deep in a pretty document: every line after the
/// first is indented as the pretty printer lays out a value that deep, so a document can be
/// written a piece at a time (the JSON report's findings) with the bytes of one pass.
pub fn write_json_nested<W: std::io::Write, T: serde::Serialize + ?Sized>(
    writer: W,
    value: &T,
    depth: usize,
) -> serde_json::Result<()> {
    let mut pretty = PrettyFormatter::new();
    // The printer's depth is private: it is raised by opening as many objects, on a sink.
    for _ in 0..depth {
        pretty
            .begin_object(&mut std::io::sink())
            .map_err(serde_json::Error::io)?;
    }
    let mut ser = serde_json::Serializer::with_formatter(writer, InertJson(pretty));
    value.serialize(&mut ser)
}

/// [`write_json`] into a `String` with a final newline.
pub fn json_string<T: serde::Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail; plain data with string keys always serialises.
    let _ = write_json(&mut out, value);
    out.push(b'\n');
    String::from_utf8(out).unwrap_or_default()
}

use serde_json::ser::{Formatter, PrettyFormatter};

struct InertJson<'a>(PrettyFormatter<'a>);

impl Formatter for InertJson<'_> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // Printable ASCII is never unsafe: most of a report, written without a per-char scan.
        // Checked without stopping early, which the compiler makes a vector loop.
        let printable = fragment
            .bytes()
            .fold(true, |all, b| all & (b.wrapping_sub(0x20) < 0x5f));
        if printable {
            return writer.write_all(fragment.as_bytes());
        }
        let mut rest = fragment;
        while let Some((at, c)) = rest.char_indices().find(|&(_, c)| is_unsafe(c)) {
            let (clean, tail) = rest.split_at(at);
            writer.write_all(clean.as_bytes())?;
            write!(writer, "\\u{:04x}", c as u32)?;
            rest = tail.get(c.len_utf8()..).unwrap_or_default();
        }
        writer.write_all(rest.as_bytes())
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

fn longest_run(s: &str, of: char) -> usize {
    s.split(|c| c != of)
        .map(|run| run.chars().count())
        .max()
        .unwrap_or_default()
}

/// Hostile values every renderer is tested with (unit tests here and in `report`, and the CLI
/// corpus in `tests/cli/hostile.rs`): workflow commands, line breaks, escape sequences, C1 and
/// bidi controls, backticks, pipes, HTML, mentions and links.
#[doc(hidden)]
pub const HOSTILE: &[&str] = &[
    "::add-mask::secret",
    "  ::stop-commands::token",
    "a\n::error::injected",
    "x\r\n::warning file=a::b",
    "\u{1b}[2J\u{1b}[Hcleared",
    "\u{1b}]8;;https://evil.example\u{7}link\u{1b}]8;;\u{7}",
    "csi\u{9b}31m",
    "rtl\u{202e}gnp.exe",
    "zero\u{200b}width",
    "`` ` code ` ``",
    "a | b | c",
    "<img src=x onerror=alert(1)>",
    "@octocat please review",
    "[link](https://evil.example)",
    "</details><script>x</script>",
    "````\n```",
    "`",
    " spaced ",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_are_borrowed_unchanged() {
        assert!(matches!(
            terminal("Github::Repository::\"acme/api\""),
            Cow::Borrowed(_)
        ));
        assert_eq!(markdown_code("acme/api"), "`acme/api`");
        assert_eq!(html("a&b"), "a&amp;b");
    }

    #[test]
    fn terminal_output_is_one_inert_line() {
        for s in HOSTILE {
            let t = terminal(s);
            assert!(!t.chars().any(is_unsafe), "{t:?}");
            assert!(!t.trim_start().starts_with("::"), "{t:?}");
        }
        assert_eq!(terminal("a\n::error::x"), "a\\n::error::x");
        assert_eq!(terminal("::add-mask::s"), "\\x3a:add-mask::s");
        assert_eq!(terminal("\u{1b}[2J"), "\\x1b[2J");
        assert_eq!(terminal("\u{202e}"), "\\u{202e}");
    }

    #[test]
    fn code_spans_cannot_be_closed_from_inside() {
        assert_eq!(markdown_code("a|b"), "`a\\|b`");
        assert_eq!(markdown_code("x`y"), "``x`y``");
        assert_eq!(markdown_code("`x"), "`` `x ``");
        assert_eq!(markdown_code("l1\nl2"), "`l1\\nl2`");
        assert_eq!(markdown_fence("a ```` b"), "`````");
        assert_eq!(markdown_fence("plain"), "```");
    }

    #[test]
    fn xml_keeps_line_breaks_and_drops_what_xml_forbids() {
        assert_eq!(xml("a\nb\tc"), "a\nb\tc");
        assert_eq!(xml("esc\u{1b}[31m"), "esc\\x1b[31m");
        assert_eq!(xml("\u{FFFF}"), "\\u{ffff}");
    }

    #[test]
    fn json_escapes_unsafe_characters_and_reads_back_exact() {
        let value = serde_json::json!({"k\u{202e}": ["csi\u{9b}31m", "plain", "\u{1b}"]});
        let text = json_string(&value);
        assert!(!text.chars().any(|c| is_unsafe(c) && c != '\n'), "{text}");
        assert!(text.contains("csi\\u009b31m"), "{text}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
        assert_eq!(
            text,
            serde_json::to_string_pretty(
                &serde_json::json!({"k\u{202e}": ["csi\u{9b}31m", "plain", "\u{1b}"]})
            )
            .unwrap()
            .replace('\u{202e}', "\\u202e")
            .replace('\u{9b}', "\\u009b")
                + "\n"
        );
    }

    #[test]
    fn html_escapes_markup_and_quotes() {
        assert_eq!(
            html("<img src=\"x\" onerror='y'>"),
            "&lt;img src=&quot;x&quot; onerror=&#39;y&#39;&gt;"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_comes_out_inert(s in "\\PC*|[\\x00-\\x1f\\x7f-\\x9f\u{202a}-\u{202e}:`|<>]*") {
            let t = terminal(&s);
            proptest::prop_assert!(!t.chars().any(is_unsafe));
            proptest::prop_assert!(!t.trim_start().starts_with("::"));
            let code = markdown_code(&s);
            proptest::prop_assert!(!code.contains('\n'));
            let h = html(&s);
            proptest::prop_assert!(!h.contains('<') && !h.contains('>'));
        }
    }
}
