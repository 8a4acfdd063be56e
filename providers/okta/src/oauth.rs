//! An Okta API service app's access token: OAuth 2.0 client credentials with a `private_key_jwt`
//! client assertion (RFC 7523) signed RS256 with the app's private key, exchanged at the org's
//! `/oauth2/v1/token` for a Bearer token with read-only management scopes. The key, the
//! assertion and the token are registered as secrets and never printed or stored.

use std::fmt;

use serde::Serialize;
use trustcheck_http::TokenReply;
use trustcheck_snapshot::CollectError;

use crate::client::ApiToken;

/// The management API scopes asked for: read-only, one per kind of fact collected.
pub const SCOPES: &[&str] = &[
    "okta.users.read",
    "okta.roles.read",
    "okta.factors.read",
    "okta.policies.read",
];

/// An API service app: its client id and private key (PEM, PKCS #8 or PKCS #1). `Debug` never
/// shows the key.
#[derive(Clone)]
pub struct ServiceApp {
    /// The app's client id (`0oa…`).
    pub client_id: String,
    /// The private key, PEM.
    pub private_key: String,
    /// The key's id (`kid`) as registered with the app, when it has several.
    pub key_id: Option<String>,
}

impl fmt::Debug for ServiceApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceApp")
            .field("client_id", &self.client_id)
            .field("private_key", &"***")
            .field("key_id", &self.key_id)
            .finish()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
}

/// The signed client assertion for the token endpoint `aud`, valid five minutes from `now`.
pub fn assertion(app: &ServiceApp, aud: &str, now: i64) -> Result<String, CollectError> {
    let pair = trustcheck_jws::key_pair(app.private_key.as_bytes()).map_err(|e| {
        CollectError::new(format!("the Okta service app's private key: {e}")).with_help(
            "OKTA_PRIVATE_KEY_FILE names the PEM private key whose public key is registered with the API service app",
        )
    })?;
    let header = match &app.key_id {
        Some(kid) => serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        None => serde_json::json!({"alg": "RS256", "typ": "JWT"}),
    };
    // Okta refuses a `jti` it has seen: the time to the nanosecond and the process make it unique.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let claims = Claims {
        iss: &app.client_id,
        sub: &app.client_id,
        aud,
        iat: now,
        exp: now + 300,
        jti: format!("trustcheck-{nanos}-{}", std::process::id()),
    };
    trustcheck_jws::sign_rs256(&pair, &header, &claims)
        .map_err(|e| CollectError::new(format!("cannot sign the Okta client assertion: {e}")))
}

/// Exchanges the app's assertion at `{origin}/oauth2/v1/token` for a Bearer token. A refusal
/// stops the run: without a token nothing can be read.
pub async fn exchange(
    http: &reqwest::Client,
    origin: &str,
    app: &ServiceApp,
    now: i64,
) -> Result<ApiToken, CollectError> {
    let uri = format!("{origin}/oauth2/v1/token");
    trustcheck_snapshot::secrets::register(&app.private_key);
    let jwt = assertion(app, &uri, now)?;
    trustcheck_snapshot::secrets::register(&jwt);
    let scope = SCOPES.join(" ");
    let (status, reply) = trustcheck_http::request_token(
        http,
        &uri,
        &[
            ("grant_type", "client_credentials"),
            ("scope", scope.as_str()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", jwt.as_str()),
        ],
    )
    .await
    .map_err(CollectError::new)?;
    match reply {
        TokenReply::Token(token) => {
            trustcheck_snapshot::secrets::register(&token);
            Ok(ApiToken::bearer(token))
        }
        TokenReply::Refused { error, description } => {
            let detail = description.map(|d| format!(": {d}")).unwrap_or_default();
            Err(CollectError::new(format!(
                "Okta refused a token for the service app `{}` ({status} {error}{detail})",
                app.client_id
            ))
            .with_help(if error.to_ascii_lowercase().contains("dpop") {
                // Okta answers `invalid_dpop_proof` when the app requires DPoP-bound tokens
                // (the default for service apps created since 2024), which trustcheck does not
                // send: say which setting to change instead of listing scopes.
                "the service app requires DPoP-bound tokens, which trustcheck does not use: untick \"Require Demonstrating Proof of Possession (DPoP) header in token requests\" in the app's General settings".to_string()
            } else {
                format!(
                    "grant the API service app these Okta API scopes: {}; register the public key of OKTA_PRIVATE_KEY_FILE with it (Public key / Private key client authentication) and assign it a read-only administrator role",
                    SCOPES.join(", ")
                )
            }))
        }
        TokenReply::Unexpected => Err(CollectError::new(format!(
            "the token endpoint `{uri}` answered {status} without an access token"
        ))),
    }
}
