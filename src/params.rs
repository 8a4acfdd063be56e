//! Parameters: thresholds an organisation sets once, in `[params]` of trustcheck.toml, and rules
//! read as `context.params.NAME` — so a rule stays one Cedar file whatever the setting.
//!
//! Each provider declares its own ([`Param`]: name, days or a count, default, one sentence); every
//! rule sees every parameter. A day count reaches Cedar as a `duration` (`45` → `45d`), so a rule
//! compares it with `context.now.durationSince(…)` directly; a count as a `Long`. The values in
//! force travel with the loaded rules ([`crate::rules::RuleSet::params`]) into every request, and
//! each finding of a rule that reads one says which value judged it.

use std::collections::BTreeMap;

use cedar_policy::RestrictedExpression;

use crate::providers::PROVIDERS;
use crate::suggest::nearest;
pub use trustcheck_snapshot::{Param, ParamKind};

/// Every built-in parameter, sorted by name.
pub fn declared() -> Vec<&'static Param> {
    let mut all: Vec<&'static Param> = PROVIDERS.iter().flat_map(|p| p.params.iter()).collect();
    all.sort_by_key(|p| p.name);
    all
}

/// The parameter values in force: every declared parameter, at its default unless set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    values: BTreeMap<&'static str, (&'static Param, i64)>,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            values: declared()
                .into_iter()
                .map(|p| (p.name, (p, p.default)))
                .collect(),
        }
    }
}

impl Params {
    /// Sets `name` to `value`. An unknown name (with the nearest known one) or a negative value
    /// is an error, never ignored.
    pub fn set(&mut self, name: &str, value: i64) -> Result<(), String> {
        let Some((param, slot)) = self.values.get_mut(name).map(|(p, v)| (*p, v)) else {
            let hint = nearest(name, declared().iter().map(|p| p.name))
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            return Err(format!(
                "no parameter `{name}`; {hint}the parameters are: {}",
                declared()
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        if value < 0 {
            return Err(format!(
                "`{name}` is {value}; give {}",
                match param.kind {
                    ParamKind::Days => "a number of days, 0 or more",
                    ParamKind::Hours => "a number of hours, 0 or more",
                    ParamKind::Count => "a count, 0 or more",
                }
            ));
        }
        *slot = value;
        Ok(())
    }

    /// The value of `name`, when it is declared.
    pub fn get(&self, name: &str) -> Option<i64> {
        self.values.get(name).map(|(_, v)| *v)
    }

    /// `name`'s value in words for reports (`45 days`, `4`), when it is declared.
    pub fn show(&self, name: &str) -> Option<String> {
        self.values.get(name).map(|(p, v)| match p.kind {
            ParamKind::Days => format!("{v} days"),
            ParamKind::Hours => format!("{v} hours"),
            ParamKind::Count => v.to_string(),
        })
    }

    /// Every parameter with its value in force, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static Param, i64)> + '_ {
        self.values.values().map(|(p, v)| (*p, *v))
    }

    /// The `params` record of every request's context.
    pub fn context(&self) -> Result<RestrictedExpression, String> {
        RestrictedExpression::new_record(self.values.iter().map(|(name, (p, v))| {
            let value = match p.kind {
                ParamKind::Days => RestrictedExpression::new_duration(format!("{v}d")),
                ParamKind::Hours => RestrictedExpression::new_duration(format!("{v}h")),
                ParamKind::Count => RestrictedExpression::new_long(*v),
            };
            (name.to_string(), value)
        }))
        .map_err(|e| e.to_string())
    }
}

/// The Cedar type of `context.params`, for the request schema: `{ awsX: duration, … }`.
pub fn cedar_type() -> String {
    let fields: Vec<String> = declared()
        .iter()
        .map(|p| {
            let t = match p.kind {
                ParamKind::Days | ParamKind::Hours => "duration",
                ParamKind::Count => "Long",
            };
            format!("{}: {t}", p.name)
        })
        .collect();
    format!("{{ {} }}", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_declared_values_and_setting_checks_names_and_values() {
        let mut p = Params::default();
        assert_eq!(p.get("awsCredentialUnusedDays"), Some(45));
        assert_eq!(
            p.show("awsCredentialUnusedDays").as_deref(),
            Some("45 days")
        );
        p.set("awsCredentialUnusedDays", 90).unwrap();
        assert_eq!(p.get("awsCredentialUnusedDays"), Some(90));
        let e = p.set("awsCredentialUnusedDay", 30).unwrap_err();
        assert!(e.contains("did you mean `awsCredentialUnusedDays`?"), "{e}");
        assert!(p.set("awsRoleUnusedDays", -1).is_err());
        assert!(p.context().is_ok());
        assert!(cedar_type().contains("awsCredentialUnusedDays: duration"));
    }

    #[test]
    fn hours_are_durations_shown_in_hours() {
        let mut p = Params::default();
        assert_eq!(p.get("awsAdminSessionMaxHours"), Some(4));
        assert_eq!(
            p.show("awsAdminSessionMaxHours").as_deref(),
            Some("4 hours")
        );
        let e = p.set("awsAdminSessionMaxHours", -1).unwrap_err();
        assert!(e.contains("a number of hours"), "{e}");
        assert!(cedar_type().contains("awsAdminSessionMaxHours: duration"));
        p.set("awsAdminSessionMaxHours", 12).unwrap();
        assert!(p.context().is_ok());
    }

    #[test]
    fn names_are_unique_across_providers() {
        let names: Vec<&str> = declared().iter().map(|p| p.name).collect();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names, unique);
    }
}
