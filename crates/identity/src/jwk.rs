//! JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037 §2) and their parsed,
//! ready-to-verify form.
//!
//! [`Jwk`] and [`JwkSet`] mirror the wire format. [`KeySet::from_json`]
//! turns a JWKS document into [`PublicKey`]s once, decoding and checking
//! every member up front so that verification only hands bytes to ring.
//! Keys this crate cannot or must not use (symmetric keys, encryption keys,
//! unsupported curves, weak RSA moduli) are skipped with a reason instead of
//! failing the whole set; the set is an error only if nothing usable is left.

use ring::digest;
use ring::signature::{self, RsaParameters, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

use crate::alg::{Algorithm, KeyType};
use crate::b64;
use crate::error::JwksError;

/// Smallest and largest RSA modulus accepted, in bits (ring's limits).
const RSA_MODULUS_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

/// One JSON Web Key as it appears on the wire, limited to the public members
/// this crate reads. Unknown members (`x5c`, private members, ...) are
/// ignored when deserializing and never serialized.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `RSA`, `EC` or `OKP` are usable.
    #[serde(default)]
    pub kty: String,
    /// Key id, matched against the token header's `kid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Algorithm the key is restricted to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use: `sig` or absent keys are usable, `enc` keys are not.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Permitted operations; if present it must include `verify`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    /// Curve name for `EC` and `OKP` keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// RSA modulus, base64url big-endian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent, base64url big-endian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// EC x coordinate, or the Ed25519 public key, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y coordinate, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

impl Jwk {
    /// The RFC 7638 JWK thumbprint: base64url of the SHA-256 of the required
    /// members in canonical JSON. `None` if the key type is not RSA, EC or
    /// OKP or a required member is missing.
    pub fn thumbprint(&self) -> Option<String> {
        let quoted =
            |member: &Option<String>| member.as_deref().map(|s| Value::from(s).to_string());
        let canonical = match self.kty.as_str() {
            "RSA" => format!(
                r#"{{"e":{},"kty":"RSA","n":{}}}"#,
                quoted(&self.e)?,
                quoted(&self.n)?
            ),
            "EC" => format!(
                r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
                quoted(&self.crv)?,
                quoted(&self.x)?,
                quoted(&self.y)?
            ),
            "OKP" => format!(
                r#"{{"crv":{},"kty":"OKP","x":{}}}"#,
                quoted(&self.crv)?,
                quoted(&self.x)?
            ),
            _ => return None,
        };
        Some(b64::encode(
            digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref(),
        ))
    }
}

/// A JWK Set document: `{"keys": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys, in document order.
    pub keys: Vec<Jwk>,
}

/// A key that was left out of a [`KeySet`], and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedKey {
    /// The key's `kid`, if it had one.
    pub kid: Option<String>,
    /// Why the key cannot be used.
    pub reason: String,
}

impl fmt::Display for SkippedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kid {
            Some(kid) => write!(f, "key {kid:?}: {}", self.reason),
            None => write!(f, "key without kid: {}", self.reason),
        }
    }
}

/// A public key decoded from a JWK and checked, ready to verify signatures.
#[derive(Debug, Clone)]
pub struct PublicKey {
    kid: Option<String>,
    alg: Option<Algorithm>,
    key_type: KeyType,
    material: Material,
}

/// The verification input ring needs, prepared once.
#[derive(Debug, Clone)]
enum Material {
    /// RSA: the algorithm (PKCS#1 or PSS, digest) comes from the token.
    Rsa(RsaPublicKeyComponents<Vec<u8>>),
    /// EC and Ed25519: the curve fixes the algorithm, so ring's key carries it.
    Fixed(UnparsedPublicKey<Vec<u8>>),
}

impl PublicKey {
    /// Decodes and checks a JWK. The error says why the key is unusable.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, SkippedKey> {
        Self::parse(jwk).map_err(|reason| SkippedKey {
            kid: jwk.kid.clone(),
            reason,
        })
    }

    fn parse(jwk: &Jwk) -> Result<Self, String> {
        if let Some(usage) = jwk.use_.as_deref()
            && usage != "sig"
        {
            return Err(format!("\"use\" is {usage:?}, not \"sig\""));
        }
        if let Some(ops) = &jwk.key_ops
            && !ops.iter().any(|op| op == "verify")
        {
            return Err("\"key_ops\" does not include \"verify\"".to_owned());
        }
        let alg = match jwk.alg.as_deref() {
            None => None,
            Some(name) => Some(
                Algorithm::from_name(name)
                    .ok_or_else(|| format!("unsupported \"alg\" {name:?}"))?,
            ),
        };
        let (key_type, material) = match jwk.kty.as_str() {
            "RSA" => (KeyType::Rsa, rsa_material(jwk)?),
            "EC" => ec_material(jwk)?,
            "OKP" => okp_material(jwk)?,
            "oct" => return Err("symmetric keys (kty \"oct\") are never accepted".to_owned()),
            "" => return Err("missing \"kty\"".to_owned()),
            other => return Err(format!("unsupported \"kty\" {other:?}")),
        };
        if let Some(alg) = alg
            && alg.key_type() != key_type
        {
            return Err(format!("\"alg\" {alg} does not fit a {key_type} key"));
        }
        Ok(Self {
            kid: jwk.kid.clone(),
            alg,
            key_type,
            material,
        })
    }

    /// The key id, if the JWK had one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithm the JWK pinned the key to, if any.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.alg
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// Whether this key may verify signatures made with `alg`: the key type
    /// must fit, and a JWK that names an `alg` only accepts that one.
    pub fn accepts(&self, alg: Algorithm) -> bool {
        alg.key_type() == self.key_type && self.alg.is_none_or(|pinned| pinned == alg)
    }

    /// Verifies `signature` over `message` with `alg`. False if the key does
    /// not accept `alg` or the signature is invalid.
    pub fn verify_signature(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        if !self.accepts(alg) {
            return false;
        }
        match &self.material {
            Material::Rsa(components) => rsa_parameters(alg)
                .is_some_and(|params| components.verify(params, message, signature).is_ok()),
            Material::Fixed(key) => key.verify(message, signature).is_ok(),
        }
    }

    /// The key as a public JWK with `use: sig`.
    pub fn to_jwk(&self) -> Jwk {
        let mut jwk = Jwk {
            kid: self.kid.clone(),
            alg: self.alg.map(|alg| alg.name().to_owned()),
            use_: Some("sig".to_owned()),
            ..Jwk::default()
        };
        match &self.material {
            Material::Rsa(components) => {
                jwk.kty = "RSA".to_owned();
                jwk.n = Some(b64::encode(&components.n));
                jwk.e = Some(b64::encode(&components.e));
            }
            Material::Fixed(key) if self.key_type == KeyType::Ed25519 => {
                jwk.kty = "OKP".to_owned();
                jwk.crv = Some("Ed25519".to_owned());
                jwk.x = Some(b64::encode(key.as_ref()));
            }
            Material::Fixed(key) => {
                // Uncompressed SEC1 point: 0x04 || x || y.
                let coordinates = &key.as_ref()[1..];
                let (x, y) = coordinates.split_at(coordinates.len() / 2);
                jwk.kty = "EC".to_owned();
                jwk.crv = Some(
                    if self.key_type == KeyType::EcP256 {
                        "P-256"
                    } else {
                        "P-384"
                    }
                    .to_owned(),
                );
                jwk.x = Some(b64::encode(x));
                jwk.y = Some(b64::encode(y));
            }
        }
        jwk
    }
}

/// ring's verification parameters for an RSA algorithm.
fn rsa_parameters(alg: Algorithm) -> Option<&'static RsaParameters> {
    Some(match alg {
        Algorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::Ps512 => &signature::RSA_PSS_2048_8192_SHA512,
        Algorithm::Es256 | Algorithm::Es384 | Algorithm::EdDsa => return None,
    })
}

/// Decodes a required base64url member.
fn decode_member(value: &Option<String>, name: &str) -> Result<Vec<u8>, String> {
    let text = value
        .as_deref()
        .ok_or_else(|| format!("missing \"{name}\""))?;
    b64::decode(text).ok_or_else(|| format!("\"{name}\" is not base64url"))
}

fn rsa_material(jwk: &Jwk) -> Result<Material, String> {
    let n = decode_member(&jwk.n, "n")?;
    let e = decode_member(&jwk.e, "e")?;
    // RFC 7518 asks for minimal encodings; tolerate leading zeros anyway.
    let n = strip_leading_zeros(&n);
    let e = strip_leading_zeros(&e);
    let bits = n.first().map_or(0, |top| {
        (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
    });
    if !RSA_MODULUS_BITS.contains(&bits) {
        return Err(format!(
            "RSA modulus has {bits} bits; {} to {} are accepted",
            RSA_MODULUS_BITS.start(),
            RSA_MODULUS_BITS.end()
        ));
    }
    // ring accepts odd exponents from 3 to 2^33 - 1.
    let exponent = (e.len() <= 5).then(|| e.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b)));
    if !exponent.is_some_and(|value| value >= 3 && value % 2 == 1 && value < 1 << 33) {
        return Err("RSA public exponent is not acceptable".to_owned());
    }
    Ok(Material::Rsa(RsaPublicKeyComponents {
        n: n.to_vec(),
        e: e.to_vec(),
    }))
}

fn ec_material(jwk: &Jwk) -> Result<(KeyType, Material), String> {
    let (key_type, coordinate_len, algorithm): (
        _,
        _,
        &'static dyn signature::VerificationAlgorithm,
    ) = match jwk.crv.as_deref() {
        Some("P-256") => (KeyType::EcP256, 32, &signature::ECDSA_P256_SHA256_FIXED),
        Some("P-384") => (KeyType::EcP384, 48, &signature::ECDSA_P384_SHA384_FIXED),
        Some(other) => return Err(format!("unsupported EC curve {other:?}")),
        None => return Err("missing \"crv\"".to_owned()),
    };
    let x = decode_member(&jwk.x, "x")?;
    let y = decode_member(&jwk.y, "y")?;
    if x.len() != coordinate_len || y.len() != coordinate_len {
        return Err(format!(
            "EC coordinates must be {coordinate_len} bytes each"
        ));
    }
    let mut point = Vec::with_capacity(1 + 2 * coordinate_len);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    Ok((
        key_type,
        Material::Fixed(UnparsedPublicKey::new(algorithm, point)),
    ))
}

fn okp_material(jwk: &Jwk) -> Result<(KeyType, Material), String> {
    match jwk.crv.as_deref() {
        Some("Ed25519") => {}
        Some(other) => return Err(format!("unsupported OKP curve {other:?}")),
        None => return Err("missing \"crv\"".to_owned()),
    }
    let x = decode_member(&jwk.x, "x")?;
    if x.len() != signature::ED25519_PUBLIC_KEY_LEN {
        return Err("Ed25519 public key must be 32 bytes".to_owned());
    }
    Ok((
        KeyType::Ed25519,
        Material::Fixed(UnparsedPublicKey::new(&signature::ED25519, x)),
    ))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The usable keys of a JWKS, plus the reasons the others were skipped.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<PublicKey>,
    skipped: Vec<SkippedKey>,
}

impl KeySet {
    /// Parses a JWKS document. Unusable keys are skipped (see
    /// [`KeySet::skipped`]); an error if the document is not a JWKS or no
    /// usable key remains.
    pub fn from_json(json: &[u8]) -> Result<Self, JwksError> {
        /// Keys stay raw JSON so one malformed key only skips that key.
        #[derive(Deserialize)]
        struct Document {
            keys: Vec<Value>,
        }
        let document: Document =
            serde_json::from_slice(json).map_err(|error| JwksError::Invalid(error.to_string()))?;
        let mut set = KeySet::default();
        for value in document.keys {
            let kid = value.get("kid").and_then(Value::as_str).map(str::to_owned);
            match serde_json::from_value::<Jwk>(value) {
                Ok(jwk) => set.add(&jwk),
                Err(error) => set.skipped.push(SkippedKey {
                    kid,
                    reason: format!("not a valid JWK: {error}"),
                }),
            }
        }
        set.require_usable()
    }

    /// Builds a key set from already deserialized JWKs, with the same
    /// skipping rules as [`KeySet::from_json`].
    pub fn from_jwk_set(jwks: &JwkSet) -> Result<Self, JwksError> {
        let mut set = KeySet::default();
        for jwk in &jwks.keys {
            set.add(jwk);
        }
        set.require_usable()
    }

    /// Builds a key set from parsed keys (possibly empty).
    pub fn from_keys(keys: impl IntoIterator<Item = PublicKey>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
            skipped: Vec::new(),
        }
    }

    fn add(&mut self, jwk: &Jwk) {
        match PublicKey::from_jwk(jwk) {
            Ok(key) => self.keys.push(key),
            Err(skipped) => self.skipped.push(skipped),
        }
    }

    fn require_usable(self) -> Result<Self, JwksError> {
        if self.keys.is_empty() {
            Err(JwksError::NoUsableKeys(self.skipped))
        } else {
            Ok(self)
        }
    }

    /// The usable keys, in document order.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// The keys that were left out, with reasons.
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }

    /// Whether a usable key has this `kid`.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid() == Some(kid))
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The usable keys as a public JWK Set.
    pub fn to_jwk_set(&self) -> JwkSet {
        JwkSet {
            keys: self.keys.iter().map(PublicKey::to_jwk).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RSA key of RFC 7638 §3.1.
    const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    fn rsa_jwk() -> Jwk {
        Jwk {
            kty: "RSA".into(),
            kid: Some("2011-04-29".into()),
            alg: Some("RS256".into()),
            n: Some(RFC7638_N.into()),
            e: Some("AQAB".into()),
            ..Jwk::default()
        }
    }

    #[test]
    fn rfc7638_thumbprint() {
        assert_eq!(
            rsa_jwk().thumbprint().as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
    }

    #[test]
    fn parses_rsa_key() {
        let key = PublicKey::from_jwk(&rsa_jwk()).unwrap();
        assert_eq!(key.kid(), Some("2011-04-29"));
        assert_eq!(key.key_type(), KeyType::Rsa);
        assert!(key.accepts(Algorithm::Rs256));
        assert!(!key.accepts(Algorithm::Ps256), "JWK alg pins RS256");
        assert!(!key.accepts(Algorithm::Es256));
        let round_trip = PublicKey::from_jwk(&key.to_jwk()).unwrap();
        assert_eq!(round_trip.to_jwk(), key.to_jwk());
    }

    #[test]
    fn skips_unusable_keys_with_reasons() {
        let json = serde_json::json!({"keys": [
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": RFC7638_N, "e": "AQAB"},
            {"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"},
            {"kty": "OKP", "kid": "x25519", "crv": "X25519", "x": "AA"},
            {"kty": "RSA", "kid": "small", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": 7},
            {"kty": "RSA", "kid": "wrong-alg", "alg": "ES256", "n": RFC7638_N, "e": "AQAB"},
            {"kty": "RSA", "kid": "ok", "n": RFC7638_N, "e": "AQAB"},
        ]});
        let set = KeySet::from_json(json.to_string().as_bytes()).unwrap();
        assert_eq!(set.len(), 1);
        assert!(set.contains_kid("ok"));
        assert_eq!(set.skipped().len(), 7);
        let reasons: Vec<String> = set.skipped().iter().map(ToString::to_string).collect();
        assert!(reasons[0].contains("symmetric"), "{reasons:?}");
        assert!(reasons[1].contains("\"enc\""), "{reasons:?}");
        assert!(reasons[2].contains("P-521"), "{reasons:?}");
        assert!(reasons[3].contains("X25519"), "{reasons:?}");
        assert!(reasons[4].contains("bits"), "{reasons:?}");
        assert!(reasons[5].contains("not a valid JWK"), "{reasons:?}");
        assert!(reasons[6].contains("does not fit"), "{reasons:?}");
    }

    #[test]
    fn no_usable_key_is_an_error() {
        let json = br#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#;
        let error = KeySet::from_json(json).unwrap_err();
        assert!(matches!(&error, JwksError::NoUsableKeys(skipped) if skipped.len() == 1));
        assert!(error.to_string().contains("symmetric"), "{error}");
        assert!(matches!(
            KeySet::from_json(br#"{"keys": []}"#),
            Err(JwksError::NoUsableKeys(_))
        ));
        assert!(matches!(
            KeySet::from_json(b"[]"),
            Err(JwksError::Invalid(_))
        ));
    }

    #[test]
    fn ec_coordinates_must_have_curve_length() {
        let jwk = Jwk {
            kty: "EC".into(),
            crv: Some("P-256".into()),
            x: Some(b64::encode(&[1; 31])),
            y: Some(b64::encode(&[1; 32])),
            ..Jwk::default()
        };
        let skipped = PublicKey::from_jwk(&jwk).unwrap_err();
        assert!(skipped.reason.contains("32 bytes"), "{skipped}");
    }
}
