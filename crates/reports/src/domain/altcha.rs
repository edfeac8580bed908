//! Self-hosted ALTCHA proof of work, server side (no third party involved).
//!
//! The report form embeds the `<altcha-widget>` web component (vendored from npm `altcha`
//! 3.2.2, see `crates/web/assets/vendor/README.md`). The widget fetches a [`Challenge`] as JSON
//! from the URL in its `challenge` attribute, searches the secret number in a web worker, and
//! puts the solution, base64-encoded JSON, into a hidden form field named `altcha`, which the
//! form handler passes to [`verify_payload`].
//!
//! Protocol: ALTCHA's "PoW v1" (the one altcha-lib's `createChallenge`/`verifySolution`
//! implement; widget 3.x still accepts it and converts it internally, `createChallengeFromV1`
//! in the widget's source, searching with the counter appended as a decimal string):
//!
//! - `salt` = 12 random bytes as hex, then `?expires=UNIX&`. The expiry lives in the salt, so
//!   it is covered by the hash and thus by the signature; the widget reads it too and shows
//!   "expired" in time. The trailing `&` stops digits of the number being moved into the
//!   salt to forge a later expiry.
//! - `challenge` = hex(SHA-256(salt + decimal(number))), with `number` secret and uniform in
//!   `0..=maxnumber`.
//! - `signature` = hex(HMAC-SHA-256(secret, challenge)), over the hex string.
//! - Payload (base64 of JSON): `{"algorithm","challenge","number","salt","signature","took"}`.
//!   Valid when the algorithm is SHA-256, the signature is ours, SHA-256(salt + number) is the
//!   challenge and the expiry has not passed. The server keeps no state for that.
//!
//! **Replay**: a valid payload stays valid until it expires. The caller must store
//! [`VerifiedPow::replay_key`] (e.g. a table with a unique key, rows deleted after
//! [`VerifiedPow::expires`]) and refuse a payload whose key is already stored. Every way to
//! rewrite a solved payload (moving characters between salt and number) hashes to the same
//! challenge, so the challenge is the right key.
//!
//! **Cost**: the widget needs on average `maxnumber / 2` SHA-256 computations. With
//! [`DEFAULT_MAX_NUMBER`] (50,000) that is 25,000, well under a second on a phone (Web Crypto
//! in several workers), and at most 50,000; the server verifies with two hashes and one HMAC.
//! The point is not to stop a determined attacker but to make mass submission cost CPU time.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The only algorithm issued and accepted.
pub const ALGORITHM: &str = "SHA-256";
/// Highest secret number: a phone finds it in well under a second (see the module docs).
pub const DEFAULT_MAX_NUMBER: u64 = 50_000;
/// How long a challenge stays valid. The widget fetches it when verification starts (on
/// focus of the form or on submit, depending on its `auto` setting), so this is time for
/// the rest of the form, photos included.
pub const DEFAULT_TTL_SECONDS: i64 = 30 * 60;
/// Longest payload looked at; real ones are about 300 bytes.
pub const MAX_PAYLOAD_LEN: usize = 2_048;
/// Name of the hidden form field the widget fills (its default `name`).
pub const FORM_FIELD: &str = "altcha";

type HmacSha256 = Hmac<Sha256>;

/// A challenge, serialised exactly as the widget expects it from its `challenge` URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub algorithm: String,
    pub challenge: String,
    pub maxnumber: u64,
    pub salt: String,
    pub signature: String,
}

/// What a valid payload proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPow {
    /// The challenge (64 hex digits). Store it until `expires` and refuse it a second time:
    /// this module keeps no state, so replays are the caller's job.
    pub replay_key: String,
    /// When the challenge expires; a stored replay key can be deleted after that.
    pub expires: DateTime<Utc>,
    /// The number the client found.
    pub number: u64,
}

/// Why a payload was refused. The form shows one message for all of them (the details are
/// for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AltchaError {
    /// Empty, too long, not base64, not the expected JSON, or a salt without our expiry.
    Malformed,
    /// An algorithm other than SHA-256.
    UnsupportedAlgorithm,
    /// The signature is not ours: the challenge was not issued by this server (or another
    /// secret was used).
    BadSignature,
    /// SHA-256(salt + number) is not the challenge.
    WrongSolution,
    /// The challenge's expiry has passed.
    Expired,
}

impl std::fmt::Display for AltchaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Malformed => "ALTCHA payload malformed",
            Self::UnsupportedAlgorithm => "ALTCHA algorithm not supported",
            Self::BadSignature => "ALTCHA signature invalid",
            Self::WrongSolution => "ALTCHA solution wrong",
            Self::Expired => "ALTCHA challenge expired",
        })
    }
}

impl std::error::Error for AltchaError {}

/// The payload the widget submits (base64 of this JSON). `took` and anything else is ignored.
#[derive(Debug, Deserialize)]
struct Payload {
    algorithm: String,
    challenge: String,
    number: u64,
    salt: String,
    signature: String,
}

fn sha256_hex(salt: &str, number: u64) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(number.to_string().as_bytes());
    hex::encode(h.finalize())
}

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    <HmacSha256 as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!())
}

/// A new challenge with a random salt and a random secret number in `0..=max_number`, valid
/// until `expires`. `secret` is the server's HMAC key: at least 32 random bytes, kept in the
/// configuration, the same on every instance. `rng` should be a CSPRNG
/// (`rand::rngs::OsRng` or `rand::thread_rng()`).
pub fn create_challenge<R: RngCore + ?Sized>(
    secret: &[u8],
    max_number: u64,
    expires: DateTime<Utc>,
    rng: &mut R,
) -> Challenge {
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let number = rng.gen_range(0..=max_number);
    create_challenge_with(secret, max_number, expires, &nonce, number)
}

/// [`create_challenge`] with the random parts given (tests, reproducible benchmarks).
/// `number` above `max_number` is clamped to it.
pub fn create_challenge_with(
    secret: &[u8],
    max_number: u64,
    expires: DateTime<Utc>,
    nonce: &[u8],
    number: u64,
) -> Challenge {
    let salt = format!("{}?expires={}&", hex::encode(nonce), expires.timestamp());
    let challenge = sha256_hex(&salt, number.min(max_number));
    let mut m = mac(secret);
    m.update(challenge.as_bytes());
    Challenge {
        algorithm: ALGORITHM.to_string(),
        signature: hex::encode(m.finalize().into_bytes()),
        challenge,
        maxnumber: max_number,
        salt,
    }
}

/// The expiry encoded in a salt (`…?expires=UNIX&…`): exactly one `expires`, decimal digits.
fn salt_expiry(salt: &str) -> Option<DateTime<Utc>> {
    let (_, query) = salt.split_once('?')?;
    let mut found = None;
    for pair in query.split('&') {
        if let Some(v) = pair.strip_prefix("expires=") {
            if found.is_some() || v.is_empty() || v.len() > 12 {
                return None;
            }
            if !v.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            found = Some(v.parse::<i64>().ok()?);
        }
    }
    DateTime::from_timestamp(found?, 0)
}

/// Checks the widget's payload (the value of the form field `altcha`) at time `now`.
/// Never panics, whatever the input. On success the caller must still refuse a replay of
/// [`VerifiedPow::replay_key`] (see the module docs).
pub fn verify_payload(
    secret: &[u8],
    payload_b64: &str,
    now: DateTime<Utc>,
) -> Result<VerifiedPow, AltchaError> {
    let payload_b64 = payload_b64.trim();
    if payload_b64.is_empty() || payload_b64.len() > MAX_PAYLOAD_LEN {
        return Err(AltchaError::Malformed);
    }
    const B64: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let json = B64
        .decode(payload_b64)
        .map_err(|_| AltchaError::Malformed)?;
    let p: Payload = serde_json::from_slice(&json).map_err(|_| AltchaError::Malformed)?;
    if p.algorithm != ALGORITHM {
        return Err(AltchaError::UnsupportedAlgorithm);
    }
    // 1. The challenge is ours (constant-time comparison inside `verify_slice`).
    let signature = hex::decode(&p.signature).map_err(|_| AltchaError::BadSignature)?;
    let mut m = mac(secret);
    m.update(p.challenge.as_bytes());
    m.verify_slice(&signature)
        .map_err(|_| AltchaError::BadSignature)?;
    // 2. The number solves it; this also authenticates the salt and so the expiry in it.
    let expected = sha256_hex(&p.salt, p.number);
    if !bool::from(expected.as_bytes().ct_eq(p.challenge.as_bytes())) {
        return Err(AltchaError::WrongSolution);
    }
    // 3. Not expired.
    let expires = salt_expiry(&p.salt).ok_or(AltchaError::Malformed)?;
    if now >= expires {
        return Err(AltchaError::Expired);
    }
    Ok(VerifiedPow {
        replay_key: p.challenge,
        expires,
        number: p.number,
    })
}

/// Finds the secret number by brute force, as the widget does (tests, benchmarks, load
/// generators). `None` when no number up to `maxnumber` solves it.
pub fn solve(challenge: &Challenge) -> Option<u64> {
    let target = hex::decode(&challenge.challenge).ok()?;
    let mut prefix = Sha256::new();
    prefix.update(challenge.salt.as_bytes());
    (0..=challenge.maxnumber).find(|n| {
        let mut h = prefix.clone();
        h.update(n.to_string().as_bytes());
        h.finalize().as_slice() == target.as_slice()
    })
}

/// The payload the widget would submit for `challenge` solved by `number` (base64 JSON, the
/// widget's field order). For tests and load generators.
pub fn payload_for(challenge: &Challenge, number: u64) -> String {
    let json = serde_json::json!({
        "algorithm": challenge.algorithm,
        "challenge": challenge.challenge,
        "number": number,
        "salt": challenge.salt,
        "signature": challenge.signature,
        "took": 0,
    });
    base64::engine::general_purpose::STANDARD.encode(json.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 13, 15, 0, 0)
            .single()
            .unwrap()
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn fresh(number: u64) -> Challenge {
        create_challenge_with(
            SECRET,
            DEFAULT_MAX_NUMBER,
            now() + Duration::seconds(DEFAULT_TTL_SECONDS),
            &[7u8; 12],
            number,
        )
    }

    #[test]
    fn challenge_json_is_what_the_widget_reads() {
        let c = fresh(1234);
        let v = serde_json::to_value(&c).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            ["algorithm", "challenge", "maxnumber", "salt", "signature"]
        );
        assert_eq!(c.algorithm, "SHA-256");
        assert_eq!(c.maxnumber, 50_000);
        assert_eq!(
            c.salt,
            format!("{}?expires={}&", "07".repeat(12), now().timestamp() + 1800)
        );
        assert_eq!(c.challenge.len(), 64);
        assert_eq!(c.signature.len(), 64);
        assert!(c.challenge.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    /// Known answer, computed independently (Python hashlib/hmac):
    /// sha256("00…00?expires=1773414000&" + "42"), HMAC-SHA-256 with key "k".
    #[test]
    fn known_answer() {
        let expires = Utc.timestamp_opt(1_773_414_000, 0).single().unwrap();
        let c = create_challenge_with(b"k", 100, expires, &[0u8; 12], 42);
        assert_eq!(c.salt, "000000000000000000000000?expires=1773414000&");
        assert_eq!(
            c.challenge,
            "f2c45e6e315dd99bff10340e510a616efa62336086da6045452d88b87316aa02"
        );
        assert_eq!(
            c.signature,
            "bc021e2603b8356e929201a8c9be29a4853885b28f8c5e60ce6090585e392893"
        );
    }

    /// A payload produced by the widget's own code: the vendored worker
    /// (`vendor/altcha/altcha-worker-sha.js`) run in Node.js on this challenge, converted
    /// and wrapped by `createChallengeFromV1`/`createPayloadV1` taken from the widget 3.2.2
    /// source. Note `took` is a float there.
    #[test]
    fn payload_from_the_real_widget_verifies() {
        let c = create_challenge_with(
            SECRET,
            DEFAULT_MAX_NUMBER,
            Utc.with_ymd_and_hms(2026, 3, 13, 15, 30, 0)
                .single()
                .unwrap(),
            &[7u8; 12],
            23_456,
        );
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"algorithm":"SHA-256","challenge":"e4197d9f1d858fab26d264e638c8de415ff56b03c1f56cd4992d758f33f9634e","maxnumber":50000,"salt":"070707070707070707070707?expires=1773415800&","signature":"700c3b09f1c44c61ee7ebbe3443e90e63e309898121e990684282fc777fd3949"}"#
        );
        let from_widget = "eyJhbGdvcml0aG0iOiJTSEEtMjU2IiwiY2hhbGxlbmdlIjoiZTQxOTdkOWYxZDg1OGZhYjI2ZDI2NGU2MzhjOGRlNDE1ZmY1NmIwM2MxZjU2Y2Q0OTkyZDc1OGYzM2Y5NjM0ZSIsIm51bWJlciI6MjM0NTYsInNhbHQiOiIwNzA3MDcwNzA3MDcwNzA3MDcwNzA3MDc/ZXhwaXJlcz0xNzczNDE1ODAwJiIsInNpZ25hdHVyZSI6IjcwMGMzYjA5ZjFjNDRjNjFlZTdlYmJlMzQ0M2U5MGU2M2UzMDk4OTgxMjFlOTkwNjg0MjgyZmM3NzdmZDM5NDkiLCJ0b29rIjoxMzU2Ljl9";
        let ok = verify_payload(SECRET, from_widget, now()).unwrap();
        assert_eq!(ok.number, 23_456);
        assert_eq!(ok.replay_key, c.challenge);
        assert_eq!(
            verify_payload(SECRET, from_widget, now() + Duration::minutes(30)),
            Err(AltchaError::Expired)
        );
    }

    #[test]
    fn round_trip_create_solve_verify() {
        let mut rng = rand::thread_rng();
        let c = create_challenge(
            SECRET,
            DEFAULT_MAX_NUMBER,
            now() + Duration::minutes(30),
            &mut rng,
        );
        let n = solve(&c).expect("solvable");
        assert!(n <= DEFAULT_MAX_NUMBER);
        let ok = verify_payload(SECRET, &payload_for(&c, n), now()).unwrap();
        assert_eq!(ok.replay_key, c.challenge);
        assert_eq!(ok.number, n);
        assert_eq!(ok.expires, now() + Duration::minutes(30));
        // Two challenges differ in salt even with the same secret and expiry.
        let d = create_challenge(
            SECRET,
            DEFAULT_MAX_NUMBER,
            now() + Duration::minutes(30),
            &mut rng,
        );
        assert_ne!(c.salt, d.salt);
    }

    #[test]
    fn solve_finds_the_number_and_gives_up_past_maxnumber() {
        assert_eq!(solve(&fresh(0)), Some(0));
        assert_eq!(solve(&fresh(50_000)), Some(50_000));
        let mut c = fresh(777);
        assert_eq!(solve(&c), Some(777));
        c.maxnumber = 776;
        assert_eq!(solve(&c), None);
        c.challenge = "zz".into();
        assert_eq!(solve(&c), None);
        // Numbers above max_number are clamped when creating.
        let c = create_challenge_with(SECRET, 10, now(), &[1u8; 12], 99);
        assert_eq!(solve(&c), Some(10));
    }

    #[test]
    fn wrong_secret_or_signature_is_refused() {
        let c = fresh(4711);
        let good = payload_for(&c, 4711);
        assert_eq!(
            verify_payload(b"another secret", &good, now()),
            Err(AltchaError::BadSignature)
        );
        for sig in [
            "00".repeat(32),
            c.signature.to_uppercase().replace('A', "B"),
            String::new(),
            "not hex".into(),
            c.signature[..62].to_string(),
        ] {
            let mut bad = c.clone();
            bad.signature = sig;
            assert_eq!(
                verify_payload(SECRET, &payload_for(&bad, 4711), now()),
                Err(AltchaError::BadSignature)
            );
        }
        // A self-made challenge with a correct solution but no valid signature.
        let mut forged =
            create_challenge_with(b"attacker", 10, now() + Duration::hours(9), &[2; 12], 3);
        forged.signature = c.signature.clone();
        assert_eq!(
            verify_payload(SECRET, &payload_for(&forged, 3), now()),
            Err(AltchaError::BadSignature)
        );
    }

    #[test]
    fn expired_is_refused() {
        let c = fresh(10);
        let p = payload_for(&c, 10);
        let expires = now() + Duration::seconds(DEFAULT_TTL_SECONDS);
        assert!(verify_payload(SECRET, &p, expires - Duration::seconds(1)).is_ok());
        assert_eq!(
            verify_payload(SECRET, &p, expires),
            Err(AltchaError::Expired)
        );
        assert_eq!(
            verify_payload(SECRET, &p, expires + Duration::days(1)),
            Err(AltchaError::Expired)
        );
    }

    #[test]
    fn tampered_number_or_salt_is_refused() {
        let c = fresh(31_337);
        for n in [31_336, 31_338, 0, u64::MAX] {
            assert_eq!(
                verify_payload(SECRET, &payload_for(&c, n), now()),
                Err(AltchaError::WrongSolution)
            );
        }
        // A later expiry in the salt changes the hash.
        let mut later = c.clone();
        later.salt = later.salt.replace("?expires=", "?expires=9");
        assert_eq!(
            verify_payload(SECRET, &payload_for(&later, 31_337), now()),
            Err(AltchaError::WrongSolution)
        );
    }

    #[test]
    fn splicing_digits_between_salt_and_number_cannot_extend_the_expiry() {
        // salt + number is hashed as one string; moving the number's first digits into the
        // salt keeps the hash but lands after our `&`, never inside `expires`.
        let c = fresh(31_337);
        let mut spliced = c.clone();
        spliced.salt.push_str("31");
        let ok = verify_payload(SECRET, &payload_for(&spliced, 337), now()).unwrap();
        assert_eq!(ok.expires, now() + Duration::seconds(DEFAULT_TTL_SECONDS));
        // …and the replay key is the same as for the original payload.
        assert_eq!(ok.replay_key, c.challenge);
        // A salt without the trailing `&` (as an attacker would need) is not ours.
        let mut no_amp = c.clone();
        no_amp.salt.pop();
        assert_eq!(
            verify_payload(SECRET, &payload_for(&no_amp, 31_337), now()),
            Err(AltchaError::WrongSolution)
        );
    }

    #[test]
    fn other_algorithms_are_refused() {
        let mut c = fresh(5);
        for alg in ["SHA-1", "SHA-512", "sha-256", "PBKDF2/SHA-256", ""] {
            c.algorithm = alg.into();
            assert_eq!(
                verify_payload(SECRET, &payload_for(&c, 5), now()),
                Err(AltchaError::UnsupportedAlgorithm)
            );
        }
    }

    #[test]
    fn salt_without_our_expiry_is_malformed() {
        // Signed with our secret but missing a usable expiry (cannot happen with our own
        // challenges; guards the parser).
        for salt in [
            "abc",
            "abc?",
            "abc?foo=1&",
            "abc?expires=&",
            "abc?expires=-5&",
            "abc?expires=+5&",
            "abc?expires=1e9&",
            "abc?expires=1&expires=2&",
            "abc?expires=99999999999999999999&",
        ] {
            let challenge = sha256_hex(salt, 1);
            let mut m = mac(SECRET);
            m.update(challenge.as_bytes());
            let c = Challenge {
                algorithm: ALGORITHM.into(),
                challenge,
                maxnumber: 1,
                salt: salt.into(),
                signature: hex::encode(m.finalize().into_bytes()),
            };
            assert_eq!(
                verify_payload(SECRET, &payload_for(&c, 1), now()),
                Err(AltchaError::Malformed),
                "{salt}"
            );
        }
    }

    #[test]
    fn payload_encodings() {
        let c = fresh(99);
        let p = payload_for(&c, 99);
        // Unpadded base64, surrounding whitespace: accepted.
        assert!(verify_payload(SECRET, p.trim_end_matches('='), now()).is_ok());
        assert!(verify_payload(SECRET, &format!(" {p}\n"), now()).is_ok());
        // Extra fields (the widget's `took`, future additions) are ignored.
        let json = format!(
            r#"{{"algorithm":"SHA-256","challenge":"{}","number":99,"salt":"{}","signature":"{}","took":512,"extra":[1,2]}}"#,
            c.challenge, c.salt, c.signature
        );
        assert!(verify_payload(SECRET, &b64(&json), now()).is_ok());
    }

    #[test]
    fn garbage_is_malformed_and_never_panics() {
        let c = fresh(99);
        let mut inputs: Vec<String> = vec![
            String::new(),
            " ".into(),
            "====".into(),
            "%%%".into(),
            "ü".repeat(10),
            "A".repeat(MAX_PAYLOAD_LEN + 4),
            b64(""),
            b64("null"),
            b64("[]"),
            b64("{}"),
            b64("\"text\""),
            b64("{\"challenge\":null,\"solution\":null,\"test\":true}"),
            b64(&format!(
                r#"{{"algorithm":"SHA-256","challenge":"{}","number":-1,"salt":"{}","signature":"{}"}}"#,
                c.challenge, c.salt, c.signature
            )),
            b64(&format!(
                r#"{{"algorithm":"SHA-256","challenge":"{}","number":99.5,"salt":"{}","signature":"{}"}}"#,
                c.challenge, c.salt, c.signature
            )),
            b64(&format!(
                r#"{{"algorithm":"SHA-256","challenge":"{}","number":"99","salt":"{}","signature":"{}"}}"#,
                c.challenge, c.salt, c.signature
            )),
            b64(&format!(
                r#"{{"algorithm":"SHA-256","challenge":"{}","number":1e400,"salt":"{}","signature":"{}"}}"#,
                c.challenge, c.salt, c.signature
            )),
            b64(r#"{"algorithm":"SHA-256","challenge":"","number":0,"salt":"","signature":""#),
            base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe, 0x00, 0x80]),
        ];
        // Every truncation of a valid payload (padding aside).
        let good = payload_for(&c, 99);
        let core = good.trim_end_matches('=');
        for i in 0..core.len() {
            inputs.push(core[..i].to_string());
        }
        // Bit flips all over a valid payload without the ignored `took`.
        let bytes = serde_json::to_vec(&serde_json::json!({
            "algorithm": c.algorithm,
            "challenge": c.challenge,
            "number": 99,
            "salt": c.salt,
            "signature": c.signature,
        }))
        .unwrap();
        assert!(
            verify_payload(
                SECRET,
                &base64::engine::general_purpose::STANDARD.encode(&bytes),
                now()
            )
            .is_ok()
        );
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            inputs.push(base64::engine::general_purpose::STANDARD.encode(&b));
        }
        // Pseudo-random bytes, deterministic.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..200 {
            let mut b = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b.push(x as u8);
            }
            inputs.push(base64::engine::general_purpose::STANDARD.encode(&b));
            inputs.push(String::from_utf8_lossy(&b).into_owned());
        }
        for input in &inputs {
            let r = verify_payload(SECRET, input, now());
            assert!(r.is_err(), "accepted garbage: {input:?}");
        }
        assert_eq!(
            verify_payload(SECRET, "", now()),
            Err(AltchaError::Malformed)
        );
        assert_eq!(
            verify_payload(SECRET, &b64("{}"), now()),
            Err(AltchaError::Malformed)
        );
    }
}
