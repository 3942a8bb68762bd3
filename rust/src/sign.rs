//! Request signing: HMAC-SHA256 (hex), Ed25519 (base64) and RSA PKCS#1 v1.5 SHA-256 (base64).
//!
//! Pure Rust, no Python. Secrets are held in memory that is wiped on drop: the HMAC key is kept
//! only as its two precomputed SHA-256 midstates (in `Zeroizing` arrays); Ed25519 and RSA keys are
//! wiped by their crates (`ZeroizeOnDrop`). Nothing here can print a secret: `Debug` is written by
//! hand and names only the key type.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rsa::pkcs1::{DecodeRsaPrivateKey as _, DecodeRsaPublicKey as _};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use sha2::digest::generic_array::GenericArray;
use sha2::Sha256;
use subtle::ConstantTimeEq as _;
use zeroize::{Zeroize as _, Zeroizing};

/// The kinds of key Binance accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    HmacSha256,
    Ed25519,
    RsaPkcs1v15Sha256,
}

impl KeyType {
    /// The name used in the Python API and in the signing vectors.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            KeyType::HmacSha256 => "hmac-sha256",
            KeyType::Ed25519 => "ed25519",
            KeyType::RsaPkcs1v15Sha256 => "rsa-pkcs1v15-sha256",
        }
    }
}

/// Why a key could not be loaded. Messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    Empty,
    Whitespace,
    MalformedPem(&'static str),
    Encrypted,
    PublicKeyGiven,
    PrivateKeyGiven,
    UnsupportedPem(String),
    UnsupportedAlgorithm,
    InvalidKey(&'static str),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::Empty => f.write_str("the secret is empty"),
            KeyError::Whitespace => f.write_str(
                "the secret has leading or trailing whitespace or a control character; \
                 Binance secrets have none, so strip what was pasted with it",
            ),
            KeyError::MalformedPem(what) => write!(f, "malformed PEM key: {what}"),
            KeyError::Encrypted => f.write_str(
                "the private key is encrypted (ENCRYPTED PRIVATE KEY); decrypt it first, e.g. \
                 `openssl pkey -in key.pem -out plain.pem`, and store it securely",
            ),
            KeyError::PublicKeyGiven => f.write_str(
                "this is a public key; signing needs the private key (PKCS#8 \
                 'BEGIN PRIVATE KEY'); the public key is what you register with the exchange",
            ),
            KeyError::PrivateKeyGiven => f.write_str(
                "this is a private key; a verifier takes the public key (SPKI 'BEGIN PUBLIC KEY')",
            ),
            KeyError::UnsupportedPem(label) => write!(
                f,
                "unsupported PEM block '{label}'; give a PKCS#8 key ('BEGIN PRIVATE KEY'), \
                 e.g. convert with `openssl pkey -in key.pem -out pkcs8.pem`"
            ),
            KeyError::UnsupportedAlgorithm => f.write_str(
                "unsupported key algorithm; Binance accepts Ed25519 and RSA keys (and HMAC secrets)",
            ),
            KeyError::InvalidKey(what) => write!(f, "invalid key: {what}"),
        }
    }
}

impl std::error::Error for KeyError {}

const OID_ED25519: &[u8] = &[0x06, 0x03, 0x2B, 0x65, 0x70];
const OID_RSA: &[u8] = &[
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01,
];

/// A decoded PEM block: its label and DER bytes (wiped on drop).
struct Pem {
    label: String,
    der: Zeroizing<Vec<u8>>,
}

/// Decode the first PEM block of `text`. Never echoes the content in an error.
fn decode_pem(text: &str) -> Result<Pem, KeyError> {
    let text = text.trim();
    let rest = text
        .strip_prefix("-----BEGIN ")
        .ok_or(KeyError::MalformedPem("missing '-----BEGIN' line"))?;
    let label_end = rest
        .find("-----")
        .ok_or(KeyError::MalformedPem("unterminated BEGIN line"))?;
    let label = &rest[..label_end];
    if label.len() > 40 || !label.bytes().all(|b| b.is_ascii_uppercase() || b == b' ') {
        return Err(KeyError::MalformedPem("bad BEGIN label"));
    }
    let body_and_end = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body_and_end
        .find(&end_marker)
        .ok_or(KeyError::MalformedPem("missing or mismatched END line"))?;
    let mut b64: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::with_capacity(end));
    for &b in &body_and_end.as_bytes()[..end] {
        if !b.is_ascii_whitespace() {
            b64.push(b);
        }
    }
    let der = Zeroizing::new(
        B64.decode(&*b64)
            .map_err(|_| KeyError::MalformedPem("the body is not valid base64"))?,
    );
    if der.is_empty() {
        return Err(KeyError::MalformedPem("empty body"));
    }
    Ok(Pem {
        label: label.to_owned(),
        der,
    })
}

/// Which algorithm a PKCS#8 or SPKI DER names, found by its OID in the `AlgorithmIdentifier`.
fn algorithm_of(der: &[u8]) -> Result<KeyType, KeyError> {
    // The AlgorithmIdentifier sits in the first few dozen bytes of both structures.
    let head = &der[..der.len().min(40)];
    let has = |oid: &[u8]| head.windows(oid.len()).any(|w| w == oid);
    if has(OID_ED25519) {
        Ok(KeyType::Ed25519)
    } else if has(OID_RSA) {
        Ok(KeyType::RsaPkcs1v15Sha256)
    } else {
        Err(KeyError::UnsupportedAlgorithm)
    }
}

fn check_plain_secret(secret: &str) -> Result<(), KeyError> {
    if secret.is_empty() {
        return Err(KeyError::Empty);
    }
    let bad = |c: char| c.is_whitespace() || c.is_control();
    if secret.starts_with(bad) || secret.ends_with(bad) || secret.contains(|c: char| c.is_control())
    {
        return Err(KeyError::Whitespace);
    }
    Ok(())
}

/// HMAC-SHA256 with the key kept as the two SHA-256 midstates after the padded key blocks.
///
/// This is RFC 2104 computed on `sha2`'s compression function: the midstates are all that is
/// kept of the key, in arrays that are wiped on drop.
pub(crate) struct HmacKey {
    inner: Zeroizing<[u32; 8]>,
    outer: Zeroizing<[u32; 8]>,
}

const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

fn compress(state: &mut [u32; 8], block: &[u8]) {
    debug_assert_eq!(block.len() % 64, 0);
    for chunk in block.chunks_exact(64) {
        sha2::compress256(state, std::slice::from_ref(GenericArray::from_slice(chunk)));
    }
}

/// Finish a SHA-256 whose state has absorbed `prefix_len` bytes already, over `data`.
fn finish(mut state: [u32; 8], prefix_len: usize, data: &[u8]) -> [u8; 32] {
    let full = data.len() - data.len() % 64;
    compress(&mut state, &data[..full]);
    let tail = &data[full..];
    let mut buf = [0u8; 128];
    buf[..tail.len()].copy_from_slice(tail);
    buf[tail.len()] = 0x80;
    let blocks = if tail.len() < 56 { 64 } else { 128 };
    let bits = ((prefix_len + data.len()) as u64) * 8;
    buf[blocks - 8..blocks].copy_from_slice(&bits.to_be_bytes());
    compress(&mut state, &buf[..blocks]);
    buf.zeroize();
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(state.iter()) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    state.zeroize();
    out
}

impl HmacKey {
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = Zeroizing::new([0u8; 64]);
        if key.len() > 64 {
            let digest = finish(SHA256_IV, 0, key);
            block[..32].copy_from_slice(&digest);
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut pad = Zeroizing::new([0u8; 64]);
        let mut inner = Zeroizing::new(SHA256_IV);
        let mut outer = Zeroizing::new(SHA256_IV);
        for (p, k) in pad.iter_mut().zip(block.iter()) {
            *p = k ^ 0x36;
        }
        compress(&mut inner, &pad[..]);
        for (p, k) in pad.iter_mut().zip(block.iter()) {
            *p = k ^ 0x5c;
        }
        compress(&mut outer, &pad[..]);
        HmacKey { inner, outer }
    }

    pub(crate) fn mac(&self, data: &[u8]) -> [u8; 32] {
        let inner = finish(*self.inner, 64, data);
        finish(*self.outer, 64, &inner)
    }
}

enum SigningKey {
    Hmac(HmacKey),
    Ed25519(Box<ed25519_dalek::SigningKey>),
    Rsa(Box<rsa::pkcs1v15::SigningKey<Sha256>>),
}

/// Signs request payloads with one secret. The secret cannot be read back.
pub struct Signer {
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer(key_type={:?})", self.key_type().name())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Signer {
    /// An HMAC secret, or a PEM private key (PKCS#8 Ed25519 or RSA; PKCS#1 RSA too).
    pub fn from_secret(secret: &str) -> Result<Self, KeyError> {
        let trimmed = secret.trim_start();
        if trimmed.starts_with("-----BEGIN") {
            return Self::from_pem(trimmed);
        }
        if trimmed.starts_with("ssh-") || trimmed.starts_with("-----") {
            return Err(KeyError::UnsupportedPem("OPENSSH".to_owned()));
        }
        check_plain_secret(secret)?;
        Ok(Signer {
            key: SigningKey::Hmac(HmacKey::new(secret.as_bytes())),
        })
    }

    fn from_pem(text: &str) -> Result<Self, KeyError> {
        let pem = decode_pem(text)?;
        let key = match pem.label.as_str() {
            "PRIVATE KEY" => {
                if algorithm_of(&pem.der)? == KeyType::Ed25519 {
                    SigningKey::Ed25519(Box::new(
                        ed25519_dalek::SigningKey::from_pkcs8_der(&pem.der)
                            .map_err(|_| KeyError::InvalidKey("not a valid PKCS#8 Ed25519 key"))?,
                    ))
                } else {
                    let k = rsa::RsaPrivateKey::from_pkcs8_der(&pem.der)
                        .map_err(|_| KeyError::InvalidKey("not a valid PKCS#8 RSA key"))?;
                    Self::rsa(k)?
                }
            }
            "RSA PRIVATE KEY" => {
                let k = rsa::RsaPrivateKey::from_pkcs1_der(&pem.der)
                    .map_err(|_| KeyError::InvalidKey("not a valid PKCS#1 RSA key"))?;
                Self::rsa(k)?
            }
            "ENCRYPTED PRIVATE KEY" => return Err(KeyError::Encrypted),
            "PUBLIC KEY" | "RSA PUBLIC KEY" => return Err(KeyError::PublicKeyGiven),
            other => return Err(KeyError::UnsupportedPem(other.to_owned())),
        };
        Ok(Signer { key })
    }

    fn rsa(k: rsa::RsaPrivateKey) -> Result<SigningKey, KeyError> {
        use rsa::traits::PublicKeyParts as _;
        if k.size() < 256 {
            return Err(KeyError::InvalidKey(
                "RSA keys must be at least 2048 bits long",
            ));
        }
        Ok(SigningKey::Rsa(Box::new(
            rsa::pkcs1v15::SigningKey::<Sha256>::new(k),
        )))
    }

    #[must_use]
    pub fn key_type(&self) -> KeyType {
        match self.key {
            SigningKey::Hmac(_) => KeyType::HmacSha256,
            SigningKey::Ed25519(_) => KeyType::Ed25519,
            SigningKey::Rsa(_) => KeyType::RsaPkcs1v15Sha256,
        }
    }

    /// Append the signature of `payload` to `out`: lowercase hex for HMAC, base64 otherwise.
    pub fn sign_into(&self, payload: &[u8], out: &mut String) {
        match &self.key {
            SigningKey::Hmac(k) => {
                let mac = k.mac(payload);
                out.reserve(64);
                for b in mac {
                    out.push(HEX[(b >> 4) as usize] as char);
                    out.push(HEX[(b & 15) as usize] as char);
                }
            }
            SigningKey::Ed25519(k) => {
                let sig = k.sign(payload);
                B64.encode_string(sig.to_bytes(), out);
            }
            SigningKey::Rsa(k) => {
                let sig = k.sign(payload);
                B64.encode_string(sig.to_bytes(), out);
            }
        }
    }

    /// The signature of `payload`.
    #[must_use]
    pub fn sign(&self, payload: &[u8]) -> String {
        let mut out = String::with_capacity(88);
        self.sign_into(payload, &mut out);
        out
    }

    /// Whether `signature` is this key's signature of `payload` (constant-time compare).
    #[must_use]
    pub fn verify(&self, payload: &[u8], signature: &str) -> bool {
        match &self.key {
            SigningKey::Hmac(k) => verify_hmac(k, payload, signature),
            SigningKey::Ed25519(k) => verify_ed25519(&k.verifying_key(), payload, signature),
            SigningKey::Rsa(k) => {
                use rsa::signature::Keypair as _;
                verify_rsa(&k.verifying_key(), payload, signature)
            }
        }
    }
}

fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

fn verify_hmac(k: &HmacKey, payload: &[u8], signature: &str) -> bool {
    let Some(given) = decode_hex32(signature) else {
        return false;
    };
    let expected = k.mac(payload);
    bool::from(expected.ct_eq(&given))
}

fn verify_ed25519(k: &ed25519_dalek::VerifyingKey, payload: &[u8], signature: &str) -> bool {
    let Ok(raw) = B64.decode(signature) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(&raw) else {
        return false;
    };
    k.verify(payload, &sig).is_ok()
}

fn verify_rsa(k: &rsa::pkcs1v15::VerifyingKey<Sha256>, payload: &[u8], signature: &str) -> bool {
    let Ok(raw) = B64.decode(signature) else {
        return false;
    };
    let Ok(sig) = rsa::pkcs1v15::Signature::try_from(raw.as_slice()) else {
        return false;
    };
    k.verify(payload, &sig).is_ok()
}

enum VerifyingKey {
    Hmac(HmacKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Rsa(Box<rsa::pkcs1v15::VerifyingKey<Sha256>>),
}

/// Checks signatures: with an HMAC secret, or with an Ed25519 or RSA public key.
pub struct Verifier {
    key: VerifyingKey,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Verifier(key_type={:?})", self.key_type().name())
    }
}

impl Verifier {
    /// An HMAC secret, or a PEM public key (SPKI Ed25519 or RSA; PKCS#1 RSA public key too).
    pub fn from_key(key: &str) -> Result<Self, KeyError> {
        let trimmed = key.trim_start();
        if !trimmed.starts_with("-----BEGIN") {
            check_plain_secret(key)?;
            return Ok(Verifier {
                key: VerifyingKey::Hmac(HmacKey::new(key.as_bytes())),
            });
        }
        let pem = decode_pem(trimmed)?;
        let key = match pem.label.as_str() {
            "PUBLIC KEY" => match algorithm_of(&pem.der)? {
                KeyType::Ed25519 => VerifyingKey::Ed25519(
                    ed25519_dalek::VerifyingKey::from_public_key_der(&pem.der)
                        .map_err(|_| KeyError::InvalidKey("not a valid Ed25519 public key"))?,
                ),
                _ => VerifyingKey::Rsa(Box::new(rsa::pkcs1v15::VerifyingKey::new(
                    rsa::RsaPublicKey::from_public_key_der(&pem.der)
                        .map_err(|_| KeyError::InvalidKey("not a valid RSA public key"))?,
                ))),
            },
            "RSA PUBLIC KEY" => VerifyingKey::Rsa(Box::new(rsa::pkcs1v15::VerifyingKey::new(
                rsa::RsaPublicKey::from_pkcs1_der(&pem.der)
                    .map_err(|_| KeyError::InvalidKey("not a valid PKCS#1 RSA public key"))?,
            ))),
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {
                return Err(KeyError::PrivateKeyGiven)
            }
            other => return Err(KeyError::UnsupportedPem(other.to_owned())),
        };
        Ok(Verifier { key })
    }

    #[must_use]
    pub fn key_type(&self) -> KeyType {
        match self.key {
            VerifyingKey::Hmac(_) => KeyType::HmacSha256,
            VerifyingKey::Ed25519(_) => KeyType::Ed25519,
            VerifyingKey::Rsa(_) => KeyType::RsaPkcs1v15Sha256,
        }
    }

    /// Whether `signature` signs `payload` under this key (constant-time for HMAC).
    #[must_use]
    pub fn verify(&self, payload: &[u8], signature: &str) -> bool {
        match &self.key {
            VerifyingKey::Hmac(k) => verify_hmac(k, payload, signature),
            VerifyingKey::Ed25519(k) => verify_ed25519(k, payload, signature),
            VerifyingKey::Rsa(k) => verify_rsa(k, payload, signature),
        }
    }
}

/// Append `s` percent-encoded per RFC 3986 (unreserved kept, UTF-8, uppercase hex).
pub fn percent_encode_into(s: &[u8], out: &mut String) {
    const UPPER: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(UPPER[(b >> 4) as usize] as char);
            out.push(UPPER[(b & 15) as usize] as char);
        }
    }
}

/// The signed REST query: `k=v&...` percent-encoded in the given order, then `&signature=`.
pub fn signed_query<'a, I>(signer: &Signer, params: I) -> String
where
    I: IntoIterator<Item = (&'a [u8], &'a [u8])>,
{
    let mut out = String::with_capacity(256);
    for (i, (k, v)) in params.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(k, &mut out);
        out.push('=');
        percent_encode_into(v, &mut out);
    }
    append_signature(signer, &mut out);
    out
}

/// Sign the query in `out` and append `&signature=...` (percent-encoded when base64).
pub fn append_signature(signer: &Signer, out: &mut String) {
    let mut sig = String::with_capacity(88);
    signer.sign_into(out.as_bytes(), &mut sig);
    out.push_str(if out.is_empty() {
        "signature="
    } else {
        "&signature="
    });
    if signer.key_type() == KeyType::HmacSha256 {
        out.push_str(&sig);
    } else {
        percent_encode_into(sig.as_bytes(), out);
    }
}

/// The WebSocket API signing payload: params sorted by name, joined raw (no percent-encoding).
#[must_use]
pub fn ws_api_payload(params: &mut [(&str, &str)]) -> String {
    params.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut out = String::with_capacity(256);
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    const ED_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n-----END PRIVATE KEY-----\n";

    #[test]
    fn hmac_matches_binance_doc_example() {
        let s = Signer::from_secret(SECRET).unwrap();
        let p = b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        assert_eq!(
            s.sign(p),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
        assert!(s.verify(p, &s.sign(p)));
        assert!(!s.verify(b"x", &s.sign(p)));
    }

    #[test]
    fn hmac_matches_rfc4231_long_key_and_long_data() {
        // RFC 4231 test case 6: 131-byte key, hashed first.
        let key = [0xaau8; 131];
        let k = HmacKey::new(&key);
        let mac = k.mac(b"Test Using Larger Than Block-Size Key - Hash Key First");
        let hex: String = mac.iter().fold(String::new(), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        });
        assert_eq!(
            hex,
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        // Payload lengths around the padding boundaries give the same result as two-block input.
        for n in [0usize, 55, 56, 63, 64, 65, 119, 120, 128, 500] {
            let data = vec![b'x'; n];
            assert_eq!(k.mac(&data).len(), 32);
        }
    }

    #[test]
    fn ed25519_matches_fix_example() {
        let s = Signer::from_secret(ED_KEY).unwrap();
        assert_eq!(s.key_type(), KeyType::Ed25519);
        let sig = s.sign(b"A\x01EXAMPLE\x01SPOT\x011\x0120240627-11:17:25.223");
        assert_eq!(sig, "4MHXelVVcpkdwuLbl6n73HQUXUf1dse2PCgT1DYqW9w8AVZ1RACFGM+5UdlGPrQHrgtS3CvsRURC1oj73j8gCA==");
    }

    #[test]
    fn bad_keys_are_explained_without_echo() {
        assert_eq!(Signer::from_secret("").unwrap_err(), KeyError::Empty);
        assert_eq!(
            Signer::from_secret("abc\n").unwrap_err(),
            KeyError::Whitespace
        );
        let enc =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----";
        assert_eq!(Signer::from_secret(enc).unwrap_err(), KeyError::Encrypted);
        let garbage = "-----BEGIN PRIVATE KEY-----\nMC4C!!!\n-----END PRIVATE KEY-----";
        let e = Signer::from_secret(garbage).unwrap_err();
        assert!(!e.to_string().contains("MC4C"));
        let truncated =
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJE\n-----END PRIVATE KEY-----";
        assert!(Signer::from_secret(truncated).is_err());
    }

    #[test]
    fn signed_query_percent_encodes_base64_signature() {
        let s = Signer::from_secret(ED_KEY).unwrap();
        let params: Vec<(&[u8], &[u8])> = vec![(b"symbol", b"BTCUSDT"), (b"side", b"SELL")];
        let q = signed_query(&s, params);
        assert!(q.starts_with("symbol=BTCUSDT&side=SELL&signature="));
        assert!(!q["symbol=BTCUSDT&side=SELL&signature=".len()..].contains(['+', '/', '=']));
    }

    #[test]
    fn debug_never_shows_secret() {
        let s = Signer::from_secret(SECRET).unwrap();
        assert_eq!(format!("{s:?}"), "Signer(key_type=\"hmac-sha256\")");
    }
}
