//! Secret values the process holds, kept out of every text that leaves it.
//!
//! A server can echo a request back (an error page quoting the `Authorization` header, a proxy
//! that dumps what it received): its text then holds the token that made the request. Every text
//! that came back from a server passes through [`redact`] before it is logged, recorded in a
//! snapshot or shown in a report, and is cut to [`MAX_QUOTED_BYTES`]. Providers [`register`] each
//! secret they read (tokens, keys); the command line registers the environment's secret-looking
//! variables at start.

use std::sync::RwLock;

/// How much of a server's text is quoted, at most: enough for a message, never a whole page.
pub const MAX_QUOTED_BYTES: usize = 300;

/// Shorter values are not treated as secrets: replacing them would garble ordinary text.
const MIN_SECRET_LEN: usize = 8;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers `value` as a secret for the rest of the process (trimmed; short values ignored).
/// A multi-line value (a PEM key) is also remembered line by line.
pub fn register(value: &str) {
    let add = |v: &str| {
        let v = v.trim();
        if v.len() >= MIN_SECRET_LEN {
            if let Ok(mut secrets) = SECRETS.write() {
                if !secrets.iter().any(|s| s == v) {
                    secrets.push(v.to_string());
                    // Longest first, so that a secret containing another is replaced whole.
                    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
                }
            }
        }
    };
    add(value);
    if value.contains('\n') {
        value.lines().for_each(add);
    }
}

/// Registers the values of environment variables whose names say they hold a secret
/// (`*TOKEN*`, `*SECRET*`, `*PASSWORD*`, `*PRIVATE_KEY*`, `*API_KEY*`, `*ACCESS_KEY*`).
pub fn register_from_env() {
    const MARKS: &[&str] = &[
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PRIVATE_KEY",
        "API_KEY",
        "ACCESS_KEY",
    ];
    for (name, value) in std::env::vars_os() {
        let name = name.to_string_lossy().to_ascii_uppercase();
        if MARKS.iter().any(|m| name.contains(m)) {
            if let Some(value) = value.to_str() {
                register(value);
            }
        }
    }
}

/// `text` with every registered secret replaced by `***`.
pub fn redact(text: &str) -> String {
    let Ok(secrets) = SECRETS.read() else {
        return text.to_string();
    };
    let mut out = text.to_string();
    for s in secrets.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "***");
        }
    }
    out
}

/// Text that came back from a server, fit to quote: secrets redacted, then cut to
/// [`MAX_QUOTED_BYTES`] on a character boundary with `…` when cut.
pub fn quote(text: &str) -> String {
    let clean = redact(text);
    if clean.len() <= MAX_QUOTED_BYTES {
        return clean;
    }
    let mut end = MAX_QUOTED_BYTES;
    while end > 0 && !clean.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", clean.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_never_survive_and_quotes_are_bounded() {
        register("ghp_registeredTOKEN0123456789");
        register("short");
        let echoed = "401: Authorization: token ghp_registeredTOKEN0123456789 was rejected";
        assert_eq!(redact(echoed), "401: Authorization: token *** was rejected");
        assert_eq!(redact("short stays"), "short stays");
        let page = format!("ghp_registeredTOKEN0123456789{}", "é".repeat(1_000_000));
        let q = quote(&page);
        assert!(q.len() <= MAX_QUOTED_BYTES + '…'.len_utf8(), "{}", q.len());
        assert!(q.starts_with("***"));
    }

    #[test]
    fn pem_keys_are_redacted_line_by_line() {
        register("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n");
        assert_eq!(
            redact("echo: MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
            "echo: ***"
        );
    }
}
