//! Did-you-mean suggestions for misspelt names: attributes, entity types, rule ids, criteria,
//! annotation and configuration keys. One edit distance for every message, so suggestions are
//! consistent wherever a user mistypes something.

/// The candidate closest to `wanted` by edit distance (case-insensitive), if any is close.
pub fn nearest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let w = wanted.to_ascii_lowercase();
    candidates
        .map(|c| (edit_distance(&w, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    // Levenshtein, one row of the table at a time: `row` is the previous row, `next` the one
    // being filled (its last value is the cell to the left).
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut next = Vec::with_capacity(row.len());
        next.push(i + 1);
        for ((cb, diagonal), above) in b.iter().zip(&row).zip(row.iter().skip(1)) {
            let left = next.last().copied().unwrap_or(i + 1);
            next.push(
                (diagonal + usize::from(ca != *cb))
                    .min(left + 1)
                    .min(above + 1),
            );
        }
        row = next;
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_candidate_case_insensitively() {
        let names = ["mfaActive", "consoleAccess", "createdAt"];
        assert_eq!(
            nearest("mfaActiv", names.iter().copied()),
            Some("mfaActive")
        );
        assert_eq!(
            nearest("CONSOLEACCESS", names.iter().copied()),
            Some("consoleAccess")
        );
        assert_eq!(nearest("somethingElse", names.iter().copied()), None);
    }
}
