//! Service-account authentication with domain-wide delegation: the key file, the signed JWT
//! assertion (RS256) that impersonates an administrator, and its exchange at the key file's
//! `token_uri` for an access token (RFC 7523, as Google's own client libraries do).
//!
//! Signing is `trustcheck-jws` (RS256 on `ring`, shared with the GitHub App sign-in). Nothing
//! here ever prints or stores the private key or the access token.

use std::fmt;

use ring::signature::RsaKeyPair;
use serde::Deserialize;
use trustcheck_snapshot::CollectError;

/// The read-only scopes the collector asks for: users, the customer, roles and role assignments.
pub const SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.customer.readonly",
    "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
];

/// Google's token endpoint, when a key file does not name one.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// The fields of a service account key file (`type: service_account`) the collector uses.
#[derive(Clone, Deserialize)]
pub struct ServiceAccountKey {
    /// `service_account`.
    #[serde(rename = "type")]
    pub key_type: Option<String>,
    /// The service account's email: the JWT's issuer.
    pub client_email: String,
    /// PKCS #8 private key, PEM.
    pub private_key: String,
    /// The key's id, sent as the JWT's `kid`.
    pub private_key_id: Option<String>,
    /// Where to exchange the assertion (a test server, a private endpoint).
    pub token_uri: Option<String>,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key", &"***")
            .field("token_uri", &self.token_uri)
            .finish()
    }
}

impl ServiceAccountKey {
    /// Parses a key file's text; `path` is only for messages.
    pub fn parse(text: &str, path: &str) -> Result<Self, CollectError> {
        let key: Self = serde_json::from_str(text).map_err(|e| {
            CollectError::new(format!(
                "`{path}` is not a service account key file: {e}"
            ))
            .with_help("create a JSON key for the service account (IAM & Admin → Service accounts → Keys) and point GOOGLE_APPLICATION_CREDENTIALS or --google-credentials at it")
        })?;
        if let Some(t) = key.key_type.as_deref().filter(|t| *t != "service_account") {
            return Err(CollectError::new(format!(
                "`{path}` holds credentials of type `{t}`, not a service account key"
            ))
            .with_help("domain-wide delegation needs a service account key file (`\"type\": \"service_account\"`)"));
        }
        Ok(key)
    }

    /// The token endpoint: the key file's `token_uri`, else Google's.
    pub fn token_uri(&self) -> &str {
        self.token_uri.as_deref().unwrap_or(DEFAULT_TOKEN_URI)
    }

    /// The RSA key pair of `private_key`.
    pub fn key_pair(&self) -> Result<RsaKeyPair, CollectError> {
        trustcheck_jws::key_pair(self.private_key.as_bytes()).map_err(|e| {
            CollectError::new(format!(
                "the service account key of `{}` is not usable: {e}",
                self.client_email
            ))
            .with_help("download a new JSON key for the service account; its `private_key` starts with `-----BEGIN PRIVATE KEY-----`")
        })
    }
}

/// The claims of the assertion (RFC 7523 §3 with Google's `scope`).
#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    scope: String,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

/// A JWT signed with RS256 that asks, as the service account, for a token impersonating
/// `subject`, valid for one hour from `now` (Unix seconds).
pub fn assertion(key: &ServiceAccountKey, subject: &str, now: i64) -> Result<String, CollectError> {
    let pair = key.key_pair()?;
    let header = match &key.private_key_id {
        Some(kid) => serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        None => serde_json::json!({"alg": "RS256", "typ": "JWT"}),
    };
    let claims = Claims {
        iss: &key.client_email,
        sub: subject,
        scope: SCOPES.join(" "),
        aud: key.token_uri(),
        iat: now,
        exp: now + 3600,
    };
    trustcheck_jws::sign_rs256(&pair, &header, &claims)
        .map_err(|e| CollectError::new(format!("cannot sign the service account assertion: {e}")))
}

/// An access token. Its `Debug` never shows it.
#[derive(Clone)]
pub struct AccessToken(pub(crate) String);

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(***)")
    }
}

/// Exchanges the assertion at the key file's `token_uri`. A refusal stops the run: without a
/// token nothing can be read, and the reason (delegation not granted, a scope missing, a disabled
/// key) is for the person running it.
pub async fn exchange(
    http: &reqwest::Client,
    key: &ServiceAccountKey,
    subject: &str,
    now: i64,
) -> Result<AccessToken, CollectError> {
    let jwt = assertion(key, subject, now)?;
    trustcheck_snapshot::secrets::register(&key.private_key);
    trustcheck_snapshot::secrets::register(&jwt);
    let uri = key.token_uri();
    let (status, reply) = trustcheck_http::request_token(
        http,
        uri,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", jwt.as_str()),
        ],
    )
    .await
    .map_err(CollectError::new)?;
    match reply {
        trustcheck_http::TokenReply::Token(token) => {
            // A server that echoes the request must not put the token in any output.
            trustcheck_snapshot::secrets::register(&token);
            Ok(AccessToken(token))
        }
        trustcheck_http::TokenReply::Refused { error, description } => {
            let detail = description.map(|d| format!(": {d}")).unwrap_or_default();
            Err(CollectError::new(format!(
                "Google refused a token for `{}` impersonating `{subject}` ({status} {error}{detail})",
                key.client_email
            ))
            .with_help(format!(
                "in the Admin console (Security → API controls → Domain-wide delegation) allow the service account's client id these scopes: {}; and check that --admin-email names an administrator",
                SCOPES.join(",")
            )))
        }
        trustcheck_http::TokenReply::Unexpected => Err(CollectError::new(format!(
            "the token endpoint `{uri}` answered {status} without an access token"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use ring::signature::KeyPair as _;
    use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

    use super::*;

    fn key() -> ServiceAccountKey {
        ServiceAccountKey {
            key_type: Some("service_account".into()),
            client_email: "trustcheck@acme.iam.gserviceaccount.com".into(),
            private_key: include_str!("../fixtures/test-key.pem").into(),
            private_key_id: Some("k1".into()),
            token_uri: Some("http://127.0.0.1:1/token".into()),
        }
    }

    #[test]
    fn the_assertion_is_a_verifiable_rs256_jwt_for_the_subject() {
        let k = key();
        let jwt = assertion(&k, "admin@acme.example", 1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], "k1");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "trustcheck@acme.iam.gserviceaccount.com");
        assert_eq!(claims["sub"], "admin@acme.example");
        assert_eq!(claims["aud"], "http://127.0.0.1:1/token");
        assert_eq!(claims["exp"], 1_700_003_600);
        assert!(claims["scope"]
            .as_str()
            .unwrap()
            .contains("admin.directory.user.readonly"));
        let public = k.key_pair().unwrap().public_key().as_ref().to_vec();
        let signed = format!("{}.{}", parts[0], parts[1]);
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public)
            .verify(
                signed.as_bytes(),
                &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
            )
            .unwrap();
    }

    #[test]
    fn bad_keys_are_named_never_shown() {
        let mut k = key();
        k.private_key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into();
        let e = k.key_pair().unwrap_err();
        assert!(e.message.contains("not an RSA private key"), "{e:?}");
        assert!(!e.message.contains("AAAA"), "{e:?}");
        assert!(!format!("{:?}", key()).contains("BEGIN"));
        let e = ServiceAccountKey::parse(r#"{"type": "authorized_user"}"#, "k.json").unwrap_err();
        assert!(e.message.contains("k.json"), "{e:?}");
    }
}
