//! The registry of built-in providers: one line each. A provider is a crate exporting a
//! [`Provider`] descriptor (name, namespace, options, collector, scope naming, scaffold
//! defaults); its schema fragment (`providers/NAME/*.cedarschema`) and rules (`policies/NAME/`)
//! are found by the build (`build.rs`). Nothing else in `src/` names a provider.
//!
//! `docs/adding-a-provider.md` walks through adding one.

pub use trustcheck_snapshot::Provider;

/// Every built-in provider, in the order `collect --help` lists them.
pub static PROVIDERS: &[&Provider] = &[
    &trustcheck_aws::PROVIDER,
    &trustcheck_github::PROVIDER,
    &trustcheck_google::PROVIDER,
    &trustcheck_okta::PROVIDER,
];

/// The provider named `name` (`aws`).
pub fn by_name(name: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().copied().find(|p| p.name == name)
}

/// The provider whose entity types live in `namespace` (`Aws`).
pub fn by_namespace(namespace: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().copied().find(|p| p.namespace == namespace)
}

/// The names of every provider, for `--collect` and messages.
pub fn names() -> Vec<&'static str> {
    PROVIDERS.iter().map(|p| p.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_namespaces_are_unique_and_have_their_schema_and_rules() {
        let mut names = names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PROVIDERS.len());
        for p in PROVIDERS {
            assert_eq!(by_namespace(p.namespace).map(|q| q.name), Some(p.name));
            assert!(
                crate::schema::BUILTIN_FRAGMENTS
                    .iter()
                    .any(|(path, _)| path.starts_with(&format!("providers/{}/", p.name))),
                "{} has no schema fragment",
                p.name
            );
        }
    }
}
