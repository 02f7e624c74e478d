//! `LATCHKEY_SMTP_URL` and per-project relay URLs.
//!
//! - `smtp://user:pass@host:587`: STARTTLS, required (the default for `smtp://`).
//! - `smtps://user:pass@host:465`: TLS from the first byte.
//! - `smtp://127.0.0.1:2525?tls=none`: plain text, for a loopback relay only.
//! - `?tls=opportunistic`: STARTTLS when offered (not safe against an active attacker).
//!
//! The password is percent-decoded, never logged ([`SmtpUrl`]'s `Display` omits it, `Debug`
//! redacts it), and for per-project relays stored sealed apart from the URL.

use std::fmt;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    StartTls,
    Opportunistic,
    Tls,
    None,
}

#[derive(Debug, Clone)]
pub struct SmtpUrl {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<SecretString>,
}

/// The URL without its password (safe for logs, listings and storage).
impl fmt::Display for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.security == SmtpSecurity::Tls { "smtps" } else { "smtp" };
        write!(f, "{scheme}://")?;
        if let Some(user) = &self.username {
            let user: String = url::form_urlencoded::byte_serialize(user.as_bytes()).collect();
            write!(f, "{user}@")?;
        }
        write!(f, "{}:{}", self.host, self.port)?;
        match self.security {
            SmtpSecurity::None => write!(f, "?tls=none"),
            SmtpSecurity::Opportunistic => write!(f, "?tls=opportunistic"),
            SmtpSecurity::StartTls | SmtpSecurity::Tls => Ok(()),
        }
    }
}

impl SmtpUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = url::Url::parse(text.trim()).map_err(|e| format!("not a URL ({e})"))?;
        let tls_param = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
        let (security, default_port) = match (url.scheme(), tls_param.as_deref()) {
            ("smtps", None) => (SmtpSecurity::Tls, 465),
            ("smtp", None | Some("required" | "starttls")) => (SmtpSecurity::StartTls, 587),
            ("smtp", Some("opportunistic")) => (SmtpSecurity::Opportunistic, 587),
            ("smtp", Some("none")) => (SmtpSecurity::None, 25),
            ("smtp" | "smtps", Some(other)) => {
                return Err(format!("unknown tls={other:?} (use required, opportunistic or none)"));
            }
            (scheme, _) => return Err(format!("scheme must be smtp or smtps, got {scheme:?}")),
        };
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or("the URL has no host")?;
        let decode = |s: &str| percent_decode(s);
        let username = Some(url.username()).filter(|u| !u.is_empty()).map(decode).transpose()?;
        let password = url.password().map(decode).transpose()?.map(SecretString::from);
        Ok(Self {
            host: host.trim_start_matches('[').trim_end_matches(']').to_owned(),
            port: url.port().unwrap_or(default_port),
            security,
            username,
            password,
        })
    }

    /// A transport for this relay. `extra_roots_pem` adds trusted CA certificates (a private
    /// relay's CA, `LATCHKEY_SMTP_CA_FILE`) to the built-in Mozilla roots.
    pub fn transport(
        &self,
        timeout: Duration,
        extra_roots_pem: Option<&[u8]>,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let tls = match self.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(self.tls_parameters(extra_roots_pem)?),
            SmtpSecurity::Opportunistic => Tls::Opportunistic(self.tls_parameters(extra_roots_pem)?),
            SmtpSecurity::Tls => Tls::Wrapper(self.tls_parameters(extra_roots_pem)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.clone())
            .port(self.port)
            .tls(tls)
            .timeout(Some(timeout));
        if let Some(user) = &self.username {
            let password = self.password.as_ref().map(|p| p.expose_secret().to_owned()).unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(builder.build())
    }

    fn tls_parameters(&self, extra_roots_pem: Option<&[u8]>) -> Result<TlsParameters, String> {
        let mut builder = TlsParameters::builder(self.host.clone());
        if let Some(pem) = extra_roots_pem {
            let cert = Certificate::from_pem(pem).map_err(|e| format!("SMTP CA certificate: {e}"))?;
            builder = builder.add_root_certificate(cert);
        }
        builder.build_rustls().map_err(|e| format!("TLS setup for {}: {e}", self.host))
    }
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes: Vec<u8> = url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8(bytes).map_err(|_| "credentials are not UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let u = SmtpUrl::parse("smtp://user%40x:p%3Ass@mail.example.com:587").unwrap();
        assert_eq!((u.security, u.port, u.username.as_deref()), (SmtpSecurity::StartTls, 587, Some("user@x")));
        assert_eq!(u.password.as_ref().map(|p| p.expose_secret()), Some("p:ss"));
        assert_eq!(SmtpUrl::parse("smtps://h").unwrap().port, 465);
        let plain = SmtpUrl::parse("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!((plain.security, plain.port), (SmtpSecurity::None, 2525));
        assert!(SmtpUrl::parse("http://h").is_err());
        assert!(SmtpUrl::parse("smtp://h?tls=maybe").is_err());
    }

    #[test]
    fn display_never_shows_the_password() {
        let u = SmtpUrl::parse("smtp://me:hunter2@h:587").unwrap();
        assert_eq!(u.to_string(), "smtp://me@h:587");
        assert!(!format!("{u:?}").contains("hunter2"));
    }
}
