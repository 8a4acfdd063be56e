//! Text shown to people, cut to a size without splitting a character.

/// `s` if it fits in `max` bytes, else its longest prefix that ends on a character boundary and
/// leaves room for `…`, followed by `…`. Never panics, whatever `s` holds.
pub fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8()).min(s.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", s.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_character_boundaries() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("abcdefghij", 6), "abc…");
        // Multi-byte characters straddling the cut are dropped whole.
        let s = "ééééé"; // 10 bytes
        let cut = shorten(s, 6);
        assert!(cut.len() <= 6, "{cut}");
        assert_eq!(cut, "é…");
        assert_eq!(shorten("日本語テキスト", 0), "…");
    }
}
