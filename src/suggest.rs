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
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
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
