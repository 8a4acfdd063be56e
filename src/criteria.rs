//! The SOC 2 Trust Services Criteria catalogue: every criterion id a rule may cite, with a
//! short title in our own words. Rules reference ids only; the text lives here, once.
//!
//! This module must never hold verdicts or rule logic: it is reference data.

/// One Trust Services criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Criterion {
    /// The criterion id as the AICPA numbers it, e.g. `CC6.1`.
    pub id: &'static str,
    /// The category it belongs to (Security's common criteria, Availability, …).
    pub category: Category,
    /// A one-line summary in our own words.
    pub title: &'static str,
}

/// The Trust Services categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// Security: the common criteria CC1–CC9, required in every SOC 2 examination.
    Security,
    /// Availability (A1).
    Availability,
    /// Confidentiality (C1).
    Confidentiality,
    /// Processing integrity (PI1).
    ProcessingIntegrity,
    /// Privacy (P1–P8).
    Privacy,
}

impl Category {
    /// Display name of the category.
    pub fn name(self) -> &'static str {
        match self {
            Category::Security => "Security (common criteria)",
            Category::Availability => "Availability",
            Category::Confidentiality => "Confidentiality",
            Category::ProcessingIntegrity => "Processing integrity",
            Category::Privacy => "Privacy",
        }
    }
}

macro_rules! catalogue {
    ($($cat:ident $id:literal $title:literal;)*) => {
        /// Every criterion, in the AICPA's order.
        pub const CRITERIA: &[Criterion] = &[
            $(Criterion { id: $id, category: Category::$cat, title: $title },)*
        ];
    };
}

catalogue! {
    Security "CC1.1" "leadership shows a commitment to integrity and ethical values";
    Security "CC1.2" "the board is independent and oversees internal control";
    Security "CC1.3" "management sets structures, reporting lines and responsibilities";
    Security "CC1.4" "the organization attracts, develops and keeps competent people";
    Security "CC1.5" "people are held accountable for their internal control duties";
    Security "CC2.1" "relevant, good-quality information supports internal control";
    Security "CC2.2" "internal control information is communicated inside the organization";
    Security "CC2.3" "the organization communicates with outside parties about control matters";
    Security "CC3.1" "objectives are specified clearly enough to identify their risks";
    Security "CC3.2" "risks to objectives are identified and analysed";
    Security "CC3.3" "the potential for fraud is considered when assessing risk";
    Security "CC3.4" "changes that could affect internal control are identified and assessed";
    Security "CC4.1" "controls are evaluated on an ongoing or separate basis";
    Security "CC4.2" "control deficiencies are communicated and corrected in time";
    Security "CC5.1" "control activities are chosen to bring risks down to acceptable levels";
    Security "CC5.2" "general controls over technology are chosen and developed";
    Security "CC5.3" "control activities are deployed through policies and procedures";
    Security "CC6.1" "logical access to information assets is restricted by security software, infrastructure and architecture (authentication, MFA, credentials)";
    Security "CC6.2" "users are registered, authorized and removed; unused access is withdrawn";
    Security "CC6.3" "access is granted, changed and removed by role, with least privilege and segregation of duties";
    Security "CC6.4" "physical access to facilities and assets is restricted";
    Security "CC6.5" "assets are disposed of only after their data is protected or removed";
    Security "CC6.6" "the system is protected against threats from outside its boundaries";
    Security "CC6.7" "data is protected while moving and is restricted to authorized users";
    Security "CC6.8" "unauthorized or malicious software is prevented or detected";
    Security "CC7.1" "configuration changes and new vulnerabilities are detected and monitored";
    Security "CC7.2" "system components are monitored for anomalies that indicate attacks or errors";
    Security "CC7.3" "security events are evaluated to decide whether they are incidents";
    Security "CC7.4" "security incidents are responded to with a defined programme";
    Security "CC7.5" "the organization recovers from identified security incidents";
    Security "CC8.1" "changes to infrastructure, data and software are authorized, designed, tested, approved and implemented under control";
    Security "CC9.1" "risks from business disruption are identified and mitigated";
    Security "CC9.2" "risks from vendors and business partners are assessed and managed";
    Availability "A1.1" "processing capacity is managed to meet availability commitments";
    Availability "A1.2" "environmental protections, backups and recovery infrastructure are in place";
    Availability "A1.3" "recovery plans are tested";
    Confidentiality "C1.1" "confidential information is identified and protected";
    Confidentiality "C1.2" "confidential information is disposed of when no longer needed";
    ProcessingIntegrity "PI1.1" "information about processing objectives is obtained and communicated";
    ProcessingIntegrity "PI1.2" "system inputs are complete and accurate";
    ProcessingIntegrity "PI1.3" "processing is complete, accurate and timely";
    ProcessingIntegrity "PI1.4" "outputs are complete, accurate and delivered only to intended parties";
    ProcessingIntegrity "PI1.5" "stored inputs, items in processing and outputs are complete and accurate";
    Privacy "P1.1" "privacy practices are communicated to data subjects";
    Privacy "P2.1" "choices about personal information and consent are communicated and recorded";
    Privacy "P3.1" "personal information is collected only for the stated purposes";
    Privacy "P3.2" "explicit consent is obtained where required";
    Privacy "P4.1" "personal information is used only for the stated purposes";
    Privacy "P4.2" "personal information is retained only as long as needed";
    Privacy "P4.3" "personal information is disposed of securely";
    Privacy "P5.1" "data subjects can access their personal information";
    Privacy "P5.2" "data subjects can correct their personal information";
    Privacy "P6.1" "personal information is disclosed to third parties only with consent";
    Privacy "P6.2" "authorized disclosures are recorded";
    Privacy "P6.3" "unauthorized disclosures are recorded";
    Privacy "P6.4" "third parties handling personal information meet privacy commitments";
    Privacy "P6.5" "third parties report unauthorized disclosures";
    Privacy "P6.6" "breaches are notified to affected data subjects and regulators";
    Privacy "P6.7" "data subjects can get an account of their personal information held";
    Privacy "P7.1" "personal information is kept accurate, complete and relevant";
    Privacy "P8.1" "privacy complaints and disputes are received, handled and monitored";
}

/// Looks up a criterion by id (exact, case-sensitive: `CC6.1`).
pub fn find(id: &str) -> Option<&'static Criterion> {
    CRITERIA.iter().find(|c| c.id == id)
}

/// The catalogue id closest to `id`, for a did-you-mean hint on a misspelt criterion.
pub fn nearest(id: &str) -> Option<&'static str> {
    crate::suggest::nearest(id, CRITERIA.iter().map(|c| c.id))
}

/// Position of a criterion in the catalogue, used to sort by criterion in AICPA order.
pub fn order(id: &str) -> usize {
    CRITERIA
        .iter()
        .position(|c| c.id == id)
        .unwrap_or(CRITERIA.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_cover_the_common_criteria() {
        let mut ids: Vec<_> = CRITERIA.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CRITERIA.len());
        for id in [
            "CC1.1", "CC6.1", "CC6.8", "CC8.1", "CC9.2", "A1.3", "C1.2", "PI1.5", "P8.1",
        ] {
            assert!(find(id).is_some(), "{id} missing");
        }
    }

    #[test]
    fn nearest_suggests_a_close_id() {
        assert_eq!(nearest("CC6.9"), Some("CC6.1"));
        assert_eq!(nearest("cc8.1"), Some("CC8.1"));
        assert_eq!(nearest("ZZ99"), None);
    }

    #[test]
    fn order_follows_the_catalogue() {
        assert!(order("CC6.1") < order("CC8.1"));
        assert!(order("CC8.1") < order("A1.1"));
        assert_eq!(order("nope"), CRITERIA.len());
    }
}
