//! The one name of an entity: its Cedar type and id.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An entity uid: `{"type": "Aws::IamUser", "id": "arn:aws:iam::…:user/alice"}`.
///
/// The same value names an entity in a snapshot, the resource of a finding and the entity of an
/// uncollected fact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Uid {
    /// Cedar entity type, e.g. `Aws::IamUser`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Entity id, e.g. an ARN or `acme/api:main`.
    pub id: String,
}

impl Uid {
    /// A uid of `type_name` and `id`.
    pub fn new(type_name: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            type_name: type_name.into(),
            id: id.into(),
        }
    }

    /// The namespace of the type (`Aws` for `Aws::IamUser`), empty for an unqualified type.
    pub fn namespace(&self) -> &str {
        self.type_name
            .rsplit_once("::")
            .map_or("", |(namespace, _)| namespace)
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Same escaping as Cedar's own `EntityUid` display, so a uid can be pasted into a rule.
        write!(f, "{}::{:?}", self.type_name, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_cedar_and_names_its_namespace() {
        let uid = Uid::new("Github::Branch", "acme/\"x\":main");
        assert_eq!(uid.to_string(), r#"Github::Branch::"acme/\"x\":main""#);
        assert_eq!(uid.namespace(), "Github");
        assert_eq!(Uid::new("Laptop", "a").namespace(), "");
    }
}
