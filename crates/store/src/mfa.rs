//! TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s, one step of clock skew).

use totp_rs::{Algorithm, Secret, TOTP};

pub fn generate_secret() -> String {
    match Secret::generate_secret().to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => unreachable!("to_encoded always returns the encoded form"),
    }
}

fn totp(secret_b32: &str, issuer: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_string()).to_bytes().ok()?;
    // The otpauth label may not contain ':'.
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some(issuer.replace(':', " ")),
        account.replace(':', " "),
    )
    .ok()
}

pub fn verify(secret_b32: &str, code: &str) -> bool {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    totp(secret_b32, "Rathaus", "user")
        .and_then(|t| t.check_current(&code).ok())
        .unwrap_or(false)
}

/// The 30-second time step the code belongs to (current, one before or one after), so the
/// caller can refuse a code that was already used.
pub fn matching_step(secret_b32: &str, code: &str) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32, "Rathaus", "user")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let step = now / 30;
    [step.saturating_sub(1), step, step + 1]
        .into_iter()
        .find(|s| {
            let expected = t.generate(s * 30);
            expected.len() == code.len()
                && expected
                    .bytes()
                    .zip(code.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        })
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_url(secret_b32: &str, issuer: &str, account: &str) -> Option<String> {
    totp(secret_b32, issuer, account).map(|t| t.get_url())
}

/// The code of the time step `offset` steps from now (-1, 0 or 1 are accepted), for tests.
pub fn code_at_offset(secret_b32: &str, offset: i64) -> Option<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs() as i64;
    totp(secret_b32, "Rathaus", "user").map(|t| t.generate((now + offset * 30).max(0) as u64))
}

/// The current code, for tests.
pub fn current_code(secret_b32: &str) -> Option<String> {
    totp(secret_b32, "Rathaus", "user").and_then(|t| t.generate_current().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn roundtrip() {
        let s = super::generate_secret();
        let code = super::current_code(&s).expect("code");
        assert!(super::verify(&s, &code));
        assert!(!super::verify(&s, "12345"));
        assert!(!super::verify(&s, "abcdef"));
        let url = super::otpauth_url(&s, "Gemeinde Beispielstadt", "a@b.example").expect("url");
        assert!(url.starts_with("otpauth://totp/"));
    }
}
