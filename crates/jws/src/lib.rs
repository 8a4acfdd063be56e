//! RS256 JSON Web Signatures in compact form (JWTs), signed with `ring`.
//!
//! Two providers sign assertions with an RSA key: Google (a service account's JWT exchanged for
//! an access token, RFC 7523) and GitHub (a GitHub App's JWT exchanged for an installation
//! token). The JWT crates' RSA backends are the `rsa` crate, which has an open timing side
//! channel (RUSTSEC-2023-0071), or aws-lc, a second crypto library with a C build; `ring` is
//! already in the build for TLS, and an RS256 signature is a few lines on top of it. Nothing here
//! prints or stores a key.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;

/// Why a JWT could not be signed. Never quotes the key.
#[derive(Debug, thiserror::Error)]
pub enum JwsError {
    /// The PEM holds no private key, or one that is not RSA in PKCS #8 or PKCS #1 form.
    #[error("not an RSA private key in PEM (PKCS #8 `BEGIN PRIVATE KEY` or PKCS #1 `BEGIN RSA PRIVATE KEY`): {0}")]
    Key(String),
    /// ring refused to sign (no randomness, or a key it cannot use).
    #[error("cannot sign with the RSA key")]
    Sign,
}

/// The RSA key pair of a PEM private key, PKCS #8 (Google's key files) or PKCS #1 (GitHub App
/// keys).
pub fn key_pair(pem: &[u8]) -> Result<RsaKeyPair, JwsError> {
    let der = PrivateKeyDer::from_pem_slice(pem).map_err(|e| JwsError::Key(e.to_string()))?;
    match der {
        PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
        _ => return Err(JwsError::Key("an elliptic-curve (SEC1) key".into())),
    }
    .map_err(|e| JwsError::Key(e.to_string()))
}

/// `header.claims.signature`, base64url without padding, signed with RS256 (RSASSA-PKCS1-v1_5
/// with SHA-256). `header` should say `"alg": "RS256"`.
pub fn sign_rs256(
    key: &RsaKeyPair,
    header: &serde_json::Value,
    claims: &impl serde::Serialize,
) -> Result<String, JwsError> {
    // Serialising a JSON value and plain claims cannot fail.
    let header = serde_json::to_vec(header).unwrap_or_default();
    let claims = serde_json::to_vec(claims).unwrap_or_default();
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| JwsError::Sign)?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_jwt_verifies_with_the_public_key() {
        let pem = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../providers/google/fixtures/test-key.pem"
        ))
        .unwrap();
        let key = key_pair(&pem).unwrap();
        let jwt = sign_rs256(
            &key,
            &serde_json::json!({"alg": "RS256", "typ": "JWT"}),
            &serde_json::json!({"iss": "123", "iat": 1, "exp": 2}),
        )
        .unwrap();
        let (input, signature) = jwt.rsplit_once('.').unwrap();
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            key.public().as_ref(),
        );
        public
            .verify(
                input.as_bytes(),
                &URL_SAFE_NO_PAD.decode(signature).unwrap(),
            )
            .unwrap();
        let claims = URL_SAFE_NO_PAD
            .decode(input.split('.').nth(1).unwrap())
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&claims).unwrap()["iss"],
            "123"
        );
    }

    #[test]
    fn garbage_is_a_key_error_that_does_not_quote_it() {
        let err = key_pair(b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n")
            .err()
            .unwrap()
            .to_string();
        assert!(!err.contains("c2VjcmV0"), "{err}");
        assert!(key_pair(b"not pem at all").is_err());
    }
}
