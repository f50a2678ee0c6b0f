//! Token verification: a real round trip per algorithm, then every way a
//! token must be rejected.

mod common;

use common::{
    AUDIENCE, ISSUER, NOW, TestKey, b64, claims, key_set, signing_input, token, validation,
};
use palisade_identity::{Algorithm, JwtError, KeySet, MAX_TOKEN_LEN, Validation, verify};
use serde_json::{Value, json};

/// Verifies a token that must be rejected, and checks the error message
/// does not leak any part of the token.
fn reject(token: &str, keys: &KeySet, validation: &Validation) -> JwtError {
    let error = verify(token, keys, validation).expect_err("token must be rejected");
    let message = error.to_string();
    for segment in token.split('.').filter(|segment| segment.len() > 8) {
        assert!(
            !message.contains(segment),
            "error message {message:?} leaks the token"
        );
    }
    error
}

#[test]
fn every_algorithm_round_trips() {
    let rsa = TestKey::rsa();
    let es256 = TestKey::es256();
    let es384 = TestKey::es384();
    let ed25519 = TestKey::ed25519();
    let keys = key_set(&[
        rsa.jwk("rsa"),
        es256.jwk("p256"),
        es384.jwk("p384"),
        ed25519.jwk("ed"),
    ]);
    let cases = [
        (&rsa, "rsa", "RS256"),
        (&rsa, "rsa", "RS384"),
        (&rsa, "rsa", "RS512"),
        (&rsa, "rsa", "PS256"),
        (&rsa, "rsa", "PS384"),
        (&rsa, "rsa", "PS512"),
        (&es256, "p256", "ES256"),
        (&es384, "p384", "ES384"),
        (&ed25519, "ed", "EdDSA"),
    ];
    for (key, kid, alg) in cases {
        let token = token(
            key,
            json!({"alg": alg, "kid": kid, "typ": "JWT"}),
            &claims(),
        );
        let verified =
            verify(&token, &keys, &validation()).unwrap_or_else(|error| panic!("{alg}: {error}"));
        assert_eq!(verified.sub(), Some("agent-7"), "{alg}");
        assert_eq!(verified.iss(), Some(ISSUER));
        assert_eq!(verified.audiences(), [AUDIENCE]);
        assert_eq!(verified.exp(), Some(NOW + 300));
        assert_eq!(verified.scopes(), ["mcp:tools", "llm:chat"]);
    }
}

#[test]
fn token_without_kid_uses_keys_of_the_fitting_type() {
    let rsa = TestKey::rsa();
    let es256 = TestKey::es256();
    let keys = key_set(&[rsa.jwk("rsa"), es256.jwk("p256")]);
    let token = token(&es256, json!({"alg": "ES256"}), &claims());
    assert!(verify(&token, &keys, &validation()).is_ok());

    let only_rsa = key_set(&[rsa.jwk("rsa")]);
    assert_eq!(
        reject(&token, &only_rsa, &validation()),
        JwtError::NoMatchingKey(Algorithm::Es256)
    );
}

#[test]
fn keys_tried_without_kid_are_bounded() {
    let signer = TestKey::es256();
    let mut jwks: Vec<Value> = (0..palisade_identity::MAX_KEY_CANDIDATES)
        .map(|index| TestKey::es256().jwk(&format!("other-{index}")))
        .collect();
    jwks.push(signer.jwk("right"));
    let keys = key_set(&jwks);
    let token = token(&signer, json!({"alg": "ES256"}), &claims());
    assert_eq!(reject(&token, &keys, &validation()), JwtError::BadSignature);
}

#[test]
fn alg_none_is_rejected() {
    let keys = key_set(&[TestKey::rsa().jwk("rsa")]);
    for alg in ["none", "None", "NONE"] {
        let token = format!(
            "{}.",
            signing_input(&json!({"alg": alg, "kid": "rsa"}), &claims())
        );
        assert_eq!(
            reject(&token, &keys, &validation()),
            JwtError::UnsupportedAlgorithm(alg.to_owned())
        );
    }
}

#[test]
fn hmac_with_the_rsa_public_key_as_secret_is_rejected() {
    let rsa = TestKey::rsa();
    let keys = key_set(&[rsa.jwk("rsa")]);
    let input = signing_input(&json!({"alg": "HS256", "kid": "rsa"}), &claims());
    let secret = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &rsa.rsa_public_der());
    let tag = ring::hmac::sign(&secret, input.as_bytes());
    let token = format!("{input}.{}", b64(tag.as_ref()));
    assert_eq!(
        reject(&token, &keys, &validation()),
        JwtError::UnsupportedAlgorithm("HS256".to_owned())
    );
}

#[test]
fn header_alg_must_fit_the_key() {
    let rsa = TestKey::rsa();
    let es256 = TestKey::es256();
    let keys = key_set(&[rsa.jwk("rsa")]);
    // An ES256 signature presented with the RSA key's kid.
    let token = token(&es256, json!({"alg": "ES256", "kid": "rsa"}), &claims());
    assert_eq!(
        reject(&token, &keys, &validation()),
        JwtError::KeyMismatch(Algorithm::Es256)
    );
}

#[test]
fn jwk_alg_pins_the_algorithm() {
    let rsa = TestKey::rsa();
    let mut jwk = rsa.jwk("rsa");
    jwk["alg"] = json!("RS256");
    let keys = key_set(&[jwk]);
    let rs256 = token(&rsa, json!({"alg": "RS256", "kid": "rsa"}), &claims());
    assert!(verify(&rs256, &keys, &validation()).is_ok());
    let ps256 = token(&rsa, json!({"alg": "PS256", "kid": "rsa"}), &claims());
    assert_eq!(
        reject(&ps256, &keys, &validation()),
        JwtError::KeyMismatch(Algorithm::Ps256)
    );
}

#[test]
fn validation_can_restrict_algorithms() {
    let rsa = TestKey::rsa();
    let keys = key_set(&[rsa.jwk("rsa")]);
    let token = token(&rsa, json!({"alg": "RS256", "kid": "rsa"}), &claims());
    let es256_only = validation().with_algorithms([Algorithm::Es256]);
    assert_eq!(
        reject(&token, &keys, &es256_only),
        JwtError::AlgorithmNotAllowed(Algorithm::Rs256)
    );
}

#[test]
fn tampering_breaks_the_signature() {
    let es256 = TestKey::es256();
    let keys = key_set(&[es256.jwk("k")]);
    let genuine = token(&es256, json!({"alg": "ES256", "kid": "k"}), &claims());
    let parts: Vec<&str> = genuine.split('.').collect();

    let mut forged_claims = claims();
    forged_claims["sub"] = json!("admin");
    let forged_payload = b64(forged_claims.to_string().as_bytes());
    let tampered_payload = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    assert_eq!(
        reject(&tampered_payload, &keys, &validation()),
        JwtError::BadSignature
    );

    let mut signature = common::TestKey::es256().sign("ES256", b"x");
    signature.truncate(64);
    let mut original = base64_decode(parts[2]);
    original[10] ^= 0x01;
    for bad in [original, signature, Vec::new()] {
        let tampered = format!("{}.{}.{}", parts[0], parts[1], b64(&bad));
        assert_eq!(
            reject(&tampered, &keys, &validation()),
            JwtError::BadSignature
        );
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

#[test]
fn expiry_honours_the_leeway() {
    let es256 = TestKey::es256();
    let keys = key_set(&[es256.jwk("k")]);
    let with_exp = |exp: i64| {
        let mut payload = claims();
        payload["exp"] = json!(exp);
        token(&es256, json!({"alg": "ES256", "kid": "k"}), &payload)
    };
    assert_eq!(
        reject(&with_exp(NOW - 61), &keys, &validation()),
        JwtError::Expired
    );
    assert!(verify(&with_exp(NOW - 30), &keys, &validation()).is_ok());
    assert_eq!(
        reject(&with_exp(NOW - 30), &keys, &validation().with_leeway(0)),
        JwtError::Expired
    );
}

#[test]
fn not_before_in_the_future_is_rejected() {
    let es256 = TestKey::es256();
    let keys = key_set(&[es256.jwk("k")]);
    let mut payload = claims();
    payload["nbf"] = json!(NOW + 120);
    let token = token(&es256, json!({"alg": "ES256", "kid": "k"}), &payload);
    assert_eq!(reject(&token, &keys, &validation()), JwtError::NotYetValid);
}

#[test]
fn issuer_and_audience_are_checked() {
    let es256 = TestKey::es256();
    let keys = key_set(&[es256.jwk("k")]);
    let sign = |payload: &Value| token(&es256, json!({"alg": "ES256", "kid": "k"}), payload);

    let mut payload = claims();
    payload["iss"] = json!("https://evil.example.com");
    assert_eq!(
        reject(&sign(&payload), &keys, &validation()),
        JwtError::WrongIssuer
    );

    let mut payload = claims();
    payload["aud"] = json!("someone-else");
    assert_eq!(
        reject(&sign(&payload), &keys, &validation()),
        JwtError::WrongAudience
    );

    let mut payload = claims();
    payload["aud"] = json!(["someone-else", AUDIENCE]);
    assert!(verify(&sign(&payload), &keys, &validation()).is_ok());

    let mut payload = claims();
    payload.as_object_mut().unwrap().remove("aud");
    assert_eq!(
        reject(&sign(&payload), &keys, &validation()),
        JwtError::MissingClaim("aud".to_owned())
    );
}

#[test]
fn required_claims_must_be_present() {
    let es256 = TestKey::es256();
    let keys = key_set(&[es256.jwk("k")]);
    let token = token(&es256, json!({"alg": "ES256", "kid": "k"}), &claims());
    let rules = validation().with_required_claims(["sub", "tenant"]);
    assert_eq!(
        reject(&token, &keys, &rules),
        JwtError::MissingClaim("tenant".to_owned())
    );
}

#[test]
fn unknown_kid_is_reported_for_a_refresh() {
    let es256 = TestKey::es256();
    let keys = key_set(&[es256.jwk("k")]);
    let token = token(&es256, json!({"alg": "ES256", "kid": "rotated"}), &claims());
    assert_eq!(
        reject(&token, &keys, &validation()),
        JwtError::UnknownKid("rotated".to_owned())
    );
}

#[test]
fn oversized_tokens_are_rejected_before_parsing() {
    let es256 = TestKey::es256();
    let keys = key_set(&[es256.jwk("k")]);
    let mut payload = claims();
    payload["padding"] = json!("x".repeat(MAX_TOKEN_LEN));
    let token = token(&es256, json!({"alg": "ES256", "kid": "k"}), &payload);
    assert!(matches!(
        reject(&token, &keys, &validation()),
        JwtError::TooLarge {
            max: MAX_TOKEN_LEN,
            ..
        }
    ));
    let junk = "a".repeat(MAX_TOKEN_LEN + 1);
    assert!(matches!(
        reject(&junk, &keys, &validation()),
        JwtError::TooLarge { .. }
    ));
}

#[test]
fn jwe_and_other_shapes_are_malformed() {
    let keys = key_set(&[TestKey::es256().jwk("k")]);
    let jwe_header = b64(br#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#);
    let jwe = format!("{jwe_header}.a2V5.aXY.Y2lwaGVydGV4dA.dGFn");
    assert!(matches!(
        reject(&jwe, &keys, &validation()),
        JwtError::Malformed(reason) if reason.contains("JWE")
    ));
    for shape in ["", "abc", "a.b", "a.b.c.d", "a.b.c.d.e.f"] {
        assert!(
            matches!(reject(shape, &keys, &validation()), JwtError::Malformed(_)),
            "{shape:?}"
        );
    }
}

#[test]
fn bad_base64_is_malformed() {
    let es256 = TestKey::es256();
    let keys = key_set(&[es256.jwk("k")]);
    let genuine = token(&es256, json!({"alg": "ES256", "kid": "k"}), &claims());
    let parts: Vec<&str> = genuine.split('.').collect();
    let cases = [
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!("{}+.{}.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}!", parts[0], parts[1], parts[2]),
        format!("{} .{}.{}", parts[0], parts[1], parts[2]),
    ];
    for case in cases {
        assert!(
            matches!(reject(&case, &keys, &validation()), JwtError::Malformed(_)),
            "{case}"
        );
    }
}

#[test]
fn header_and_payload_must_be_json_objects() {
    let es256 = TestKey::es256();
    let keys = key_set(&[es256.jwk("k")]);
    let not_json = format!("{}.{}.sig", b64(b"alg"), b64(b"{}"));
    assert!(matches!(
        reject(&not_json, &keys, &validation()),
        JwtError::Malformed(_)
    ));
    let no_alg = format!("{}.{}.sig", b64(br#"{"kid":"k"}"#), b64(b"{}"));
    assert!(matches!(
        reject(&no_alg, &keys, &validation()),
        JwtError::Malformed(_)
    ));
    let duplicate_alg = format!(
        "{}.{}.sig",
        b64(br#"{"alg":"ES256","alg":"none","kid":"k"}"#),
        b64(b"{}")
    );
    assert!(matches!(
        reject(&duplicate_alg, &keys, &validation()),
        JwtError::Malformed(_)
    ));
    // A correctly signed payload that is an array, not an object.
    let array_payload = {
        let header = b64(br#"{"alg":"ES256","kid":"k"}"#);
        let input = format!("{header}.{}", b64(b"[1,2]"));
        let signature = es256.sign("ES256", input.as_bytes());
        format!("{input}.{}", b64(&signature))
    };
    assert!(matches!(
        reject(&array_payload, &keys, &validation()),
        JwtError::Malformed(_)
    ));
}

#[test]
fn crit_header_is_rejected() {
    let es256 = TestKey::es256();
    let keys = key_set(&[es256.jwk("k")]);
    for crit in [json!(["exp"]), json!([]), Value::Null] {
        let token = token(
            &es256,
            json!({"alg": "ES256", "kid": "k", "crit": crit, "exp": NOW}),
            &claims(),
        );
        assert_eq!(
            reject(&token, &keys, &validation()),
            JwtError::UnsupportedCritical
        );
    }
}

#[test]
fn long_header_values_are_shortened_in_errors() {
    let keys = key_set(&[TestKey::es256().jwk("k")]);
    let alg = "X".repeat(1000);
    let token = format!("{}.sig", signing_input(&json!({"alg": alg}), &claims()));
    let JwtError::UnsupportedAlgorithm(shown) = reject(&token, &keys, &validation()) else {
        panic!("expected UnsupportedAlgorithm");
    };
    assert!(shown.len() <= 32);
}
