//! Rule ids and the criteria they map to are public API (baselines, SARIF and suppressions key on
//! them). This snapshot makes any rename, removal or re-mapping visible in review.

use trustcheck::rules::{builtin_sources, RuleSet};
use trustcheck::schema::SchemaSet;

#[test]
fn shipped_rule_ids_and_criteria_are_pinned() {
    let schema = SchemaSet::builtin().unwrap();
    let rules = RuleSet::load(builtin_sources(), &schema).unwrap();
    let listing: String = rules
        .rules()
        .iter()
        .map(|r| {
            format!(
                "{:<40} {:<9} {:<18} {}\n",
                r.id,
                r.severity,
                r.soc2.join(","),
                r.resource_types.join(",")
            )
        })
        .collect();
    assert!(rules.rules().len() >= 8);
    insta::assert_snapshot!("shipped_rules", listing);
}
