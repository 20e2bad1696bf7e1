//! Who gets in: agent and supervisor tokens (random, 256 bits, stored as
//! their SHA-256: a leaked database does not leak a usable token),
//! supervisor passwords (argon2id PHC strings) and session cookies.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Name of the supervisors' session cookie.
pub const SESSION_COOKIE: &str = "callcoach_session";
/// How long a sign-in lasts.
pub const SESSION_HOURS: i64 = 12;

/// Errors of the random source or the password hasher.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(pub String);

/// What every new token starts with: it names the token's kind, and a
/// token never starts with `-`, which a command line would read as an
/// option (`--token -iX…` failed one time in 64 with the bare base64).
pub const TOKEN_PREFIX: &str = "cc_";

/// A new random token: [`TOKEN_PREFIX`] and 43 URL-safe characters (256 bits).
pub fn new_token() -> Result<String, AuthError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AuthError(format!("no randomness from the system: {e}")))?;
    Ok(format!("{TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
}

/// The stored form of a token.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// An argon2id hash of a password.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AuthError(format!("no randomness from the system: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AuthError(e.to_string()))?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| AuthError(e.to_string()))
}

/// Checks a password against its stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: &str) -> Option<&str> {
    header.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty())
}

/// The session token in a `Cookie` header.
pub fn session_cookie(header: &str) -> Option<&str> {
    header.split(';').filter_map(|kv| kv.trim().split_once('=')).find(|(k, _)| *k == SESSION_COOKIE).map(|(_, v)| v).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        // Never read as a command-line option.
        for _ in 0..2000 {
            let t = new_token().unwrap();
            assert!(t.starts_with(TOKEN_PREFIX) && !t.starts_with('-'), "{t}");
        }
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("正确的密码").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("正确的密码", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn headers_are_read() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(session_cookie("a=1; callcoach_session=xyz; b=2"), Some("xyz"));
        assert_eq!(session_cookie("a=1"), None);
    }
}
