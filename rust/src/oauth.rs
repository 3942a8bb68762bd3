//! OAuth 1.0a per-request signing for Interactive Brokers' Web API (HMAC-SHA256).
//!
//! Pure Rust, no Python. Once a live session token (LST) is known, every request carries
//! `Authorization: OAuth realm="...", oauth_consumer_key="...", oauth_nonce="...",
//! oauth_signature="...", oauth_signature_method="HMAC-SHA256", oauth_timestamp="...",
//! oauth_token="..."`, where the signature is base64(HMAC-SHA256(key = base64-decoded LST,
//! msg = base string)), then form-encoded (`quote_plus`). The base string is
//! `METHOD & quote_plus(url) & quote_plus(k=v&... sorted by name)` over the `oauth_*` pairs and
//! the request's parameters, as ibind 0.2.2 builds it. The LST is kept only as HMAC midstates
//! (wiped on drop); `Debug` never shows it.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::sign::HmacKey;

/// Why an OAuth input was refused. Messages never contain the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthError {
    /// The live session token is empty or not standard base64.
    BadToken,
    /// A value that goes into the header between quotes holds a quote, backslash, control or
    /// non-ASCII character, or is empty; the field is named.
    BadHeaderValue(&'static str),
    /// The HTTP method is not upper-case ASCII letters.
    BadMethod,
    /// The URL is empty or holds whitespace or control characters.
    BadUrl,
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OAuthError::BadToken => f.write_str(
                "the live session token is empty or not base64; request a new one \
                 (POST /oauth/live_session_token)",
            ),
            OAuthError::BadHeaderValue(field) => write!(
                f,
                "{field} must be non-empty printable ASCII without '\"' or '\\' \
                 (it is written between quotes in the Authorization header)"
            ),
            OAuthError::BadMethod => {
                f.write_str("the HTTP method must be upper-case letters, e.g. GET or POST")
            }
            OAuthError::BadUrl => {
                f.write_str("the URL must be non-empty, without whitespace or control characters")
            }
        }
    }
}

impl std::error::Error for OAuthError {}

/// Append `s` form-encoded as Python's `urllib.parse.quote_plus` does: RFC 3986 unreserved
/// characters kept, space as `+`, every other byte as `%XX` (upper-case hex).
pub fn quote_plus_into(s: &[u8], out: &mut String) {
    const UPPER: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(UPPER[(b >> 4) as usize] as char);
            out.push(UPPER[(b & 15) as usize] as char);
        }
    }
}

/// base64(HMAC-SHA256(key, msg)) with a raw-bytes key.
#[must_use]
pub fn hmac_sha256_base64(key: &[u8], msg: &[u8]) -> String {
    B64.encode(HmacKey::new(key).mac(msg))
}

fn check_header_value(field: &'static str, v: &str) -> Result<(), OAuthError> {
    if v.is_empty()
        || !v
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        return Err(OAuthError::BadHeaderValue(field));
    }
    Ok(())
}

/// Signs IB Web API requests with a live session token (HMAC-SHA256, OAuth 1.0a header).
pub struct OAuthRequestSigner {
    key: HmacKey,
    consumer_key: String,
    token: String,
    realm: String,
}

impl std::fmt::Debug for OAuthRequestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OAuthRequestSigner(consumer_key={:?}, realm={:?})",
            self.consumer_key, self.realm
        )
    }
}

const SIGNATURE_METHOD: &str = "HMAC-SHA256";

impl OAuthRequestSigner {
    /// A signer for the base64 `live_session_token`, the consumer key, access token and realm.
    pub fn new(
        live_session_token: &str,
        consumer_key: &str,
        access_token: &str,
        realm: &str,
    ) -> Result<Self, OAuthError> {
        let raw = Zeroizing::new(
            B64.decode(live_session_token.as_bytes())
                .map_err(|_| OAuthError::BadToken)?,
        );
        if raw.is_empty() {
            return Err(OAuthError::BadToken);
        }
        check_header_value("consumer_key", consumer_key)?;
        check_header_value("access_token", access_token)?;
        check_header_value("realm", realm)?;
        Ok(OAuthRequestSigner {
            key: HmacKey::new(&raw),
            consumer_key: consumer_key.to_owned(),
            token: access_token.to_owned(),
            realm: realm.to_owned(),
        })
    }

    /// The OAuth base string of one request: `METHOD&quote_plus(url)&quote_plus(sorted pairs)`.
    pub fn base_string(
        &self,
        method: &str,
        url: &str,
        params: &[(&str, &str)],
        nonce: &str,
        timestamp: &str,
    ) -> Result<String, OAuthError> {
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(OAuthError::BadMethod);
        }
        if url.is_empty() || url.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(OAuthError::BadUrl);
        }
        check_header_value("nonce", nonce)?;
        check_header_value("timestamp", timestamp)?;
        let oauth: [(&str, &str); 5] = [
            ("oauth_consumer_key", &self.consumer_key),
            ("oauth_nonce", nonce),
            ("oauth_signature_method", SIGNATURE_METHOD),
            ("oauth_timestamp", timestamp),
            ("oauth_token", &self.token),
        ];
        let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(oauth.len() + params.len());
        pairs.extend_from_slice(&oauth);
        pairs.extend_from_slice(params);
        pairs.sort_unstable();
        let mut joined = String::with_capacity(256);
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                joined.push('&');
            }
            joined.push_str(k);
            joined.push('=');
            joined.push_str(v);
        }
        let mut out = String::with_capacity(method.len() + url.len() * 3 / 2 + joined.len() * 2);
        out.push_str(method);
        out.push('&');
        quote_plus_into(url.as_bytes(), &mut out);
        out.push('&');
        quote_plus_into(joined.as_bytes(), &mut out);
        Ok(out)
    }

    /// The form-encoded base64 HMAC-SHA256 signature of `base_string`.
    #[must_use]
    pub fn signature(&self, base_string: &[u8]) -> String {
        let sig = B64.encode(self.key.mac(base_string));
        let mut out = String::with_capacity(sig.len() * 3 / 2);
        quote_plus_into(sig.as_bytes(), &mut out);
        out
    }

    /// The `Authorization` header value of one request, pairs sorted by name after the realm.
    pub fn authorization(
        &self,
        method: &str,
        url: &str,
        params: &[(&str, &str)],
        nonce: &str,
        timestamp: &str,
    ) -> Result<String, OAuthError> {
        let base = self.base_string(method, url, params, nonce, timestamp)?;
        let sig = self.signature(base.as_bytes());
        let mut out = String::with_capacity(256);
        for (i, (k, v)) in [
            ("realm", self.realm.as_str()),
            ("oauth_consumer_key", &self.consumer_key),
            ("oauth_nonce", nonce),
            ("oauth_signature", &sig),
            ("oauth_signature_method", SIGNATURE_METHOD),
            ("oauth_timestamp", timestamp),
            ("oauth_token", &self.token),
        ]
        .iter()
        .enumerate()
        {
            out.push_str(if i == 0 { "OAuth " } else { ", " });
            out.push_str(k);
            out.push_str("=\"");
            out.push_str(v);
            out.push('"');
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_base64_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe"; the hex digest 5bdcc146...ec3843 in base64.
        assert_eq!(
            hmac_sha256_base64(b"Jefe", b"what do ya want for nothing?"),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
        );
    }

    #[test]
    fn quote_plus_matches_python() {
        let mut s = String::new();
        quote_plus_into(b"https://api.ibkr.com/v1/api?a=b c&d=~e+f/", &mut s);
        // urllib.parse.quote_plus of the same string.
        assert_eq!(
            s,
            "https%3A%2F%2Fapi.ibkr.com%2Fv1%2Fapi%3Fa%3Db+c%26d%3D~e%2Bf%2F"
        );
    }

    fn signer() -> OAuthRequestSigner {
        OAuthRequestSigner::new(
            "dGVzdC1sc3Qta2V5LTIwYnl0ZXM=",
            "TESTCONS",
            "tok",
            "test_realm",
        )
        .unwrap()
    }

    #[test]
    fn base_string_sorts_oauth_pairs_and_params() {
        let base = signer()
            .base_string(
                "GET",
                "https://h/v1/api/x",
                &[("z", "1"), ("a", "2")],
                "n0",
                "1700000000",
            )
            .unwrap();
        assert_eq!(
            base,
            "GET&https%3A%2F%2Fh%2Fv1%2Fapi%2Fx&a%3D2%26oauth_consumer_key%3DTESTCONS%26\
             oauth_nonce%3Dn0%26oauth_signature_method%3DHMAC-SHA256%26\
             oauth_timestamp%3D1700000000%26oauth_token%3Dtok%26z%3D1"
        );
    }

    #[test]
    fn authorization_has_every_pair_in_order_and_an_encoded_signature() {
        let s = signer();
        let h = s
            .authorization("POST", "https://h/v1/api/tickle", &[], "abc", "17")
            .unwrap();
        let base = s
            .base_string("POST", "https://h/v1/api/tickle", &[], "abc", "17")
            .unwrap();
        let sig = s.signature(base.as_bytes());
        assert!(!sig.contains(['+', '/', '=']));
        assert_eq!(
            h,
            format!(
                "OAuth realm=\"test_realm\", oauth_consumer_key=\"TESTCONS\", \
                 oauth_nonce=\"abc\", oauth_signature=\"{sig}\", \
                 oauth_signature_method=\"HMAC-SHA256\", oauth_timestamp=\"17\", \
                 oauth_token=\"tok\""
            )
        );
        // Another nonce, another signature.
        let h2 = s
            .authorization("POST", "https://h/v1/api/tickle", &[], "abd", "17")
            .unwrap();
        assert_ne!(h, h2);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert_eq!(
            OAuthRequestSigner::new("not base64!", "c", "t", "r").unwrap_err(),
            OAuthError::BadToken
        );
        assert_eq!(
            OAuthRequestSigner::new("", "c", "t", "r").unwrap_err(),
            OAuthError::BadToken
        );
        assert_eq!(
            OAuthRequestSigner::new("AAAA", "c\"", "t", "r").unwrap_err(),
            OAuthError::BadHeaderValue("consumer_key")
        );
        let s = signer();
        assert_eq!(
            s.authorization("get", "https://h", &[], "n", "1")
                .unwrap_err(),
            OAuthError::BadMethod
        );
        assert_eq!(
            s.authorization("GET", "https://h/a b", &[], "n", "1")
                .unwrap_err(),
            OAuthError::BadUrl
        );
        assert_eq!(
            s.authorization("GET", "https://h", &[], "n\n", "1")
                .unwrap_err(),
            OAuthError::BadHeaderValue("nonce")
        );
        assert_eq!(
            s.authorization("GET", "https://h", &[], "n", "")
                .unwrap_err(),
            OAuthError::BadHeaderValue("timestamp")
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let d = format!("{:?}", signer());
        assert!(!d.contains("dGVzdC"));
        assert!(d.contains("TESTCONS"));
    }
}
