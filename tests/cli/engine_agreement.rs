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
        .map(|f| (f.rule.to_string(), f.resource.clone()))
        .collect();
    fast.sort();
    let reference = engine::authorizer_failures(&rules, &store).unwrap();
    assert!(!fast.is_empty());
    assert_eq!(fast, reference);
    assert!(findings.iter().all(|f| f.status != Status::Error));
}
