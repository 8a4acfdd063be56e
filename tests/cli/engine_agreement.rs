//! The fast evaluation path (split expressions) must agree with Cedar's own authorizer on which
//! (rule, resource) pairs fail: the authorizer is the reference semantics of a `forbid` rule.

use trustcheck::engine;
use trustcheck::entities::{Input, Store};
use trustcheck::findings::Status;
use trustcheck::rules::{builtin_sources, RuleSet};
use trustcheck::schema::SchemaSet;

#[test]
fn fast_path_agrees_with_the_authorizer_on_the_demo() {
    let schema = SchemaSet::builtin().unwrap();
    let rules = RuleSet::load(builtin_sources(), &schema).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo/snapshot.json");
    let store = Store::load(vec![Input::read(&path).unwrap()], &schema).unwrap();
    let findings = engine::evaluate(&rules, &store).unwrap();
    let mut fast: Vec<(String, _)> = findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| (f.rule.to_string(), (*f.resource).clone()))
        .collect();
    fast.sort();
    let reference = engine::authorizer_failures(&rules, &store).unwrap();
    assert!(!fast.is_empty());
    assert_eq!(fast, reference);
    assert!(findings.iter().all(|f| f.status != Status::Error));
}

/// A store holding only the attributes the rules read gives the same findings as the whole store,
/// on both nights of the demo company (absent facts, `has` tests, sets, datetimes, parents).
#[test]
fn a_store_of_the_attributes_rules_read_judges_the_same() {
    let schema = SchemaSet::builtin().unwrap();
    let rules = RuleSet::load(builtin_sources(), &schema).unwrap();
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    for file in ["snapshot.json", "snapshot-previous.json"] {
        let path = demo.join(file);
        let full = Store::load(vec![Input::read(&path).unwrap()], &schema).unwrap();
        let kept = rules.names_read();
        let pruned =
            Store::load_for(vec![Input::read(&path).unwrap()], &schema, Some(&kept)).unwrap();
        let a = engine::evaluate(&rules, &full).unwrap();
        let b = engine::evaluate(&rules, &pruned).unwrap();
        assert_eq!(a.len(), b.len());
        assert!(a == b, "{file}: findings differ");
        // The rules read fewer attributes than the snapshot carries.
        assert!(
            kept.len() < schema_attribute_names(&schema),
            "{}",
            kept.len()
        );
    }
}

fn schema_attribute_names(schema: &SchemaSet) -> usize {
    let names: std::collections::BTreeSet<&String> =
        schema.entity_types().flat_map(|t| t.attrs.keys()).collect();
    names.len()
}
