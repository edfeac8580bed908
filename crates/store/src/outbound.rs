//! Requests the server itself makes to addresses a tenant administrator configured (map tiles,
//! geocoder). Such an address must not reach the server's own network (SSRF): only `https`
//! (plain `http` only when the operator allows it), and no loopback, link-local, private,
//! CGNAT, unique-local or otherwise special address. The address check runs in the DNS
//! resolver of the one HTTP client, that is at connection time for the address actually
//! connected to, so a name that resolves elsewhere later (DNS rebinding) is refused too.
//! Hosts the operator lists in `outbound_allow_hosts` are exempt (an internal tile server).
//! Timeouts are short, redirects are not followed and answers are read up to a size limit.
//!
//! The policy is operator configuration, set once at start (`configure`); tenants never
//! change it.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

/// What the operator allows beyond public `https` addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Plain `http://` addresses (e.g. a tile server inside the provider's network).
    pub allow_http: bool,
    /// Host names or IP addresses exempt from the address check (lower case, no port).
    pub allow_hosts: Vec<String>,
}

impl Policy {
    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.allow_hosts
            .iter()
            .any(|h| h.trim_end_matches('.').eq_ignore_ascii_case(host))
    }
}

fn policy_cell() -> &'static RwLock<Policy> {
    static P: OnceLock<RwLock<Policy>> = OnceLock::new();
    P.get_or_init(|| RwLock::new(Policy::default()))
}

/// Sets the operator's policy (at start, from the configuration).
pub fn configure(p: Policy) {
    if let Ok(mut g) = policy_cell().write() {
        *g = p;
    }
}

pub fn policy() -> Policy {
    policy_cell().read().map(|p| p.clone()).unwrap_or_default()
}

/// Why an address is refused; each has a translation key for the settings form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not `https` (or `http` where allowed), or not a URL at all.
    Scheme,
    /// The host is, or resolves to, an address of an internal network.
    Host,
}

impl Refusal {
    pub fn key(self) -> &'static str {
        match self {
            Refusal::Scheme => "err.url_scheme",
            Refusal::Host => "err.url_host",
        }
    }
}

/// Whether an address is one the public internet routes to this server's peers: everything
/// but loopback, unspecified, private, CGNAT, link-local, unique-local, multicast,
/// documentation, benchmarking and reserved ranges (and IPv4 inside IPv6 by the same rules).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || s[0..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated)
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || s[0] == 0x2002 // 6to4 may embed any IPv4 address
                || (s[0] == 0x2001 && s[1] < 0x0200)) // Teredo, ORCHID and other IETF ranges
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224) // multicast, reserved, broadcast
}

/// The check of an address as typed into a settings form: scheme, and a host that is not
/// an internal address by its literal form. Names are checked again when connecting.
pub fn check_url(raw: &str) -> Result<url::Url, Refusal> {
    check_url_with(&policy(), raw)
}

fn check_url_with(p: &Policy, raw: &str) -> Result<url::Url, Refusal> {
    // Placeholders such as {z} are not valid in every URL position; they are checked as text.
    let probe = raw.trim().replace(['{', '}'], "");
    let u = url::Url::parse(&probe).map_err(|_| Refusal::Scheme)?;
    match u.scheme() {
        "https" => {}
        "http" if p.allow_http => {}
        _ => return Err(Refusal::Scheme),
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Refusal::Scheme);
    }
    let host = match u.host() {
        Some(h) => h.to_string(),
        None => return Err(Refusal::Scheme),
    };
    if p.host_allowed(&host) {
        return Ok(u);
    }
    let ip = match u.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    };
    if let Some(ip) = ip
        && !is_public(ip)
    {
        return Err(Refusal::Host);
    }
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") || (!name.contains('.') && ip.is_none())
    {
        return Err(Refusal::Host);
    }
    Ok(u)
}

/// Resolves names and keeps only the addresses the policy allows.
struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let allowed = policy().host_allowed(&host);
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allowed || is_public(a.ip()))
                .collect();
            if found.is_empty() {
                tracing::warn!(%host, "outbound request to an internal address refused");
                return Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "host resolves to an internal address",
                ))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

fn client() -> Option<&'static reqwest::Client> {
    static C: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    C.get_or_init(|| {
        reqwest::Client::builder()
            .user_agent(concat!("Rathaus/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver))
            .no_proxy()
            .connect_timeout(Duration::from_secs(2))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .ok()
    })
    .as_ref()
}

/// An answer read up to its limit.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("address refused: {0:?}")]
    Refused(Refusal),
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
    #[error("request failed: {0}")]
    Failed(#[from] reqwest::Error),
    #[error("no HTTP client")]
    NoClient,
}

/// GET `url` (with `query` appended) under the policy, within `timeout`, reading at most
/// `max_bytes` of the answer.
pub async fn get(
    url: &str,
    query: &[(&str, String)],
    timeout: Duration,
    max_bytes: usize,
) -> Result<Fetched, FetchError> {
    // Literal IP addresses never reach the resolver: `check_url_with` refuses internal ones
    // (a literal cannot rebind); names are checked by the resolver when connecting.
    check_url_with(&policy(), url).map_err(FetchError::Refused)?;
    let mut res = client()
        .ok_or(FetchError::NoClient)?
        .get(url)
        .query(query)
        .timeout(timeout)
        .send()
        .await?;
    if res.content_length().is_some_and(|n| n > max_bytes as u64) {
        return Err(FetchError::TooLarge(max_bytes));
    }
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await? {
        if body.len() + chunk.len() > max_bytes {
            return Err(FetchError::TooLarge(max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        status,
        content_type,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_ranges_are_not_public() {
        for s in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "::127.0.0.1",
            "2002:7f00:1::1",
        ] {
            assert!(!is_public(ip(s)), "{s}");
        }
        for s in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "193.99.144.80",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip(s)), "{s}");
        }
    }

    /// The check at connection time: a name that resolves to loopback (as a rebinding name
    /// would) gets no address to connect to.
    #[tokio::test]
    async fn the_resolver_hands_out_no_internal_address() {
        use std::str::FromStr;
        let r = GuardedResolver
            .resolve(Name::from_str("localhost").unwrap())
            .await;
        assert!(r.is_err());
        // A request by such a name never connects, whatever the typed-address check says.
        let e = get("https://localhost:1/", &[], Duration::from_secs(1), 10)
            .await
            .unwrap_err();
        assert!(matches!(e, FetchError::Refused(Refusal::Host)), "{e:?}");
    }

    #[test]
    fn typed_addresses_need_https_and_an_outside_host() {
        let strict = Policy::default();
        let ok = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
        assert!(check_url_with(&strict, ok).is_ok());
        for (u, why) in [
            ("http://tile.example.org/{z}/{x}/{y}.png", Refusal::Scheme),
            ("ftp://tile.example.org/", Refusal::Scheme),
            ("file:///etc/passwd", Refusal::Scheme),
            ("https://user:pw@tile.example.org/", Refusal::Scheme),
            ("https://127.0.0.1/{z}", Refusal::Host),
            ("https://[::1]/", Refusal::Host),
            ("https://169.254.169.254/latest/meta-data", Refusal::Host),
            ("https://2130706433/", Refusal::Host),
            ("https://0x7f.1/", Refusal::Host),
            ("https://localhost/", Refusal::Host),
            ("https://LOCALHOST./", Refusal::Host),
            ("https://intranet/", Refusal::Host),
            ("https://[::ffff:192.168.0.1]/", Refusal::Host),
        ] {
            assert_eq!(check_url_with(&strict, u).err(), Some(why), "{u}");
        }
        let operator = Policy {
            allow_http: true,
            allow_hosts: vec!["127.0.0.1".into(), "tiles.intern".into()],
        };
        assert!(check_url_with(&operator, "http://127.0.0.1:8081/{z}/{x}/{y}.png").is_ok());
        assert!(check_url_with(&operator, "https://tiles.intern/{z}").is_ok());
        assert_eq!(
            check_url_with(&operator, "http://10.0.0.1/").err(),
            Some(Refusal::Host)
        );
    }
}
