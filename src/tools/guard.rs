//! Where a tool may connect. Tools fetch addresses the model or a user names, so every HTTP request they make goes
//! through a [`Guard`]: only addresses of the public internet, unless staff listed an internal host or network for
//! MCP servers (`MCP_ALLOWED_HOSTS`). The decision is made on the address that is actually used: a literal address
//! in any spelling is normalised by the URL parser and checked; a name is resolved by the guard's own resolver, which
//! hands the HTTP client only the addresses it checked (so a name cannot resolve to one address for the check and
//! another for the connection); every redirect is checked again, and there are few of them. The client uses no
//! proxy (a proxy would resolve names itself) and carries no cookies or credentials of ThiCode's.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Redirects a tool's request may follow.
pub const MAX_REDIRECTS: usize = 3;

/// Why a tool may not connect somewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not a URL.
    Invalid,
    /// Not `http` or `https`.
    Scheme(String),
    /// No host in the address.
    NoHost,
    /// The host is, or resolves only to, an address outside the public internet.
    Private { host: String, address: Option<IpAddr> },
    /// The name does not resolve.
    Unresolved(String),
    /// More than [`MAX_REDIRECTS`] redirects.
    TooManyRedirects,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid => write!(f, "not a web address"),
            Self::Scheme(scheme) => write!(f, "only http and https addresses can be fetched, not {scheme}:"),
            Self::NoHost => write!(f, "the address has no host"),
            Self::Private {
                host,
                address: Some(address),
            } if host != &address.to_string() => {
                write!(f, "{host} is a private address ({address}), which tools may not reach")
            }
            Self::Private { host, .. } => write!(f, "{host} is a private address, which tools may not reach"),
            Self::Unresolved(host) => write!(f, "{host} does not resolve"),
            Self::TooManyRedirects => write!(f, "more than {MAX_REDIRECTS} redirects"),
        }
    }
}

impl std::error::Error for Refused {}

/// Whether `ip` belongs to the public internet: not loopback, private, shared (CGNAT), link-local (cloud metadata
/// lives at 169.254.169.254 and fd00:ec2::254), unspecified, multicast, broadcast, documentation, benchmarking or
/// reserved — and, for IPv6, not an IPv4 address in disguise (mapped, compatible, NAT64, 6to4) unless that IPv4
/// address is public, and not a tunnel (Teredo) whose end cannot be checked.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network", 0.0.0.0
        || a == 10
        || a == 127
        || a >= 224 // multicast 224/4, reserved 240/4, broadcast
        || (a == 100 && (64..128).contains(&b)) // shared address space 100.64/10
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && (c == 0 || c == 2)) // IETF assignments, TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113); // TEST-NET-3
    !refused
}

fn public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
        [0, 0, 0, 0, 0, 0, _, _] => false,
        // NAT64 64:ff9b::/96 reaches the IPv4 address it carries
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => public_v4(embedded(hi, lo)),
        // local-use NAT64 64:ff9b:1::/48
        [0x64, 0xff9b, 1, ..] => false,
        // 6to4 2002::/16 carries an IPv4 address in its next 32 bits
        [0x2002, hi, lo, ..] => public_v4(embedded(hi, lo)),
        // Teredo 2001::/32 (a tunnel) and documentation 2001:db8::/32
        [0x2001, 0, ..] | [0x2001, 0xdb8, ..] => false,
        // discard-only 100::/64
        [0x100, 0, 0, 0, ..] => false,
        // only global unicast 2000::/3 is public; this excludes unique-local fc00::/7, link-local fe80::/10,
        // site-local fec0::/10 and multicast ff00::/8
        [first, ..] => first & 0xe000 == 0x2000,
    }
}

/// The decision for one kind of tool: public addresses only, or also the internal hosts and networks staff listed.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    networks: Arc<Vec<IpNet>>,
    hosts: Arc<Vec<String>>,
}

impl Guard {
    /// Public addresses only: the web search backends and the page reader.
    pub fn public() -> Self {
        Self::default()
    }

    /// Public addresses, and the hosts (by name) and networks listed in `MCP_ALLOWED_HOSTS`: MCP servers.
    pub fn allowing(allowed: &[String]) -> Self {
        let mut networks = Vec::new();
        let mut hosts = Vec::new();
        for item in allowed.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            let bare = item.trim_start_matches('[').trim_end_matches(']');
            if let Ok(net) = bare.parse::<IpNet>() {
                networks.push(net);
            } else if let Ok(ip) = bare.parse::<IpAddr>() {
                networks.push(IpNet::from(ip));
            } else {
                hosts.push(item.trim_end_matches('.').to_ascii_lowercase());
            }
        }
        Self {
            networks: Arc::new(networks),
            hosts: Arc::new(hosts),
        }
    }

    /// Whether the host `host` may be reached at `ip`.
    pub fn permits(&self, host: &str, ip: IpAddr) -> bool {
        let ip = match ip {
            // An IPv4 address written as IPv6 is judged as the IPv4 address, allowed networks included.
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        is_public(ip) || self.networks.iter().any(|net| net.contains(&ip)) || self.host_listed(host)
    }

    fn host_listed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Checks what can be checked of `url` before any connection: the scheme, and a literal address in any spelling
    /// (`http://2130706433/`, `http://0x7f.1/`, `http://[::ffff:127.0.0.1]/` are all 127.0.0.1 once parsed). A name
    /// is checked when it is resolved ([`Guard::client`]).
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(Refused::Scheme(url.scheme().to_string()));
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err(Refused::NoHost);
        };
        // The URL parser writes every IPv4 spelling as dotted decimal, and IPv6 in brackets.
        let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() else {
            // `localhost` and its subdomains are loopback by definition (RFC 6761), whatever a resolver says.
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            if (name == "localhost" || name.ends_with(".localhost")) && !self.host_listed(&name) {
                return Err(Refused::Private {
                    host: name,
                    address: None,
                });
            }
            return Ok(());
        };
        let host = host.to_string();
        if self.permits(&host, ip) {
            Ok(())
        } else {
            Err(Refused::Private {
                host,
                address: Some(ip),
            })
        }
    }

    /// The addresses `host` resolves to that this guard permits (at port 0); refused when there is none.
    pub async fn resolve(&self, host: &str) -> Result<Vec<SocketAddr>, Refused> {
        let found: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
            .await
            .map_err(|_| Refused::Unresolved(host.to_string()))?
            .collect();
        if found.is_empty() {
            return Err(Refused::Unresolved(host.to_string()));
        }
        let permitted: Vec<SocketAddr> = found.iter().filter(|a| self.permits(host, a.ip())).copied().collect();
        if permitted.is_empty() {
            return Err(Refused::Private {
                host: host.to_string(),
                address: found.first().map(SocketAddr::ip),
            });
        }
        Ok(permitted)
    }

    /// An HTTP client for tools under this guard: literal addresses checked before each request and on every
    /// redirect ([`Guard::check_url`]), names resolved by [`Guard::resolve`], at most [`MAX_REDIRECTS`] redirects, no
    /// proxy, no cookies, and `timeout` for the whole request.
    pub fn client(&self, timeout: Duration) -> ToolClient {
        let redirects = self.clone();
        let http = self
            .builder()
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > MAX_REDIRECTS {
                    return attempt.error(Refused::TooManyRedirects);
                }
                match redirects.check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(refused) => attempt.error(refused),
                }
            }))
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .user_agent(concat!("ThiCode/", env!("CARGO_PKG_VERSION"), " (tools)"))
            .build()
            .unwrap_or_default();
        ToolClient {
            guard: self.clone(),
            http,
        }
    }

    /// The HTTP client of an MCP server's session (its URL checked by the caller first, [`Guard::check_url`]): names
    /// resolved by [`Guard::resolve`], no proxy, no cookies, and no redirects at all (a redirect elsewhere would carry
    /// the server's headers, its token among them). No time limit on the whole request, which may be a long event
    /// stream: `idle` bounds the silence instead.
    pub fn mcp_client(&self, idle: Duration) -> reqwest::Client {
        self.builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(idle.min(Duration::from_secs(10)))
            .read_timeout(idle)
            .user_agent(concat!("ThiCode/", env!("CARGO_PKG_VERSION"), " (MCP)"))
            .build()
            .unwrap_or_default()
    }

    fn builder(&self) -> reqwest::ClientBuilder {
        // TLS with ring (Cargo.toml), the process's default once, whichever client asks first.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(Arc::new(Resolver(self.clone())))
    }
}

/// The only way tools make HTTP requests: each request's address is checked before it is made.
#[derive(Debug, Clone)]
pub struct ToolClient {
    guard: Guard,
    http: reqwest::Client,
}

impl ToolClient {
    /// A request to `url`, refused before any connection when the guard says so.
    pub fn request(&self, method: reqwest::Method, url: &str) -> Result<reqwest::RequestBuilder, Refused> {
        let url = Url::parse(url).map_err(|_| Refused::Invalid)?;
        self.guard.check_url(&url)?;
        Ok(self.http.request(method, url))
    }
}

/// The HTTP client's resolver: only the addresses the guard permits reach the connection.
struct Resolver(Guard);

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs = guard.resolve(&host).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The refusal behind a failed request, if the guard refused it (possibly deep in reqwest's error chain).
pub fn refusal_of(error: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a00:1::",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:db8::1",
            "100::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(!is_public(ip(private)), "{private} must not be public");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "169.253.1.1",
            "192.0.1.1",
            "198.20.0.1",
            "223.255.255.254",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2606:4700:4700::1111",
            "2a00:1450:4007:80e::200e",
        ] {
            assert!(is_public(ip(public)), "{public} is public");
        }
    }

    #[test]
    fn every_spelling_of_a_loopback_address_is_refused() {
        let guard = Guard::public();
        for url in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0x7f.0.0.1/",
            "http://0177.0.0.1/",
            "http://017700000001/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:ffff:127.0.0.1]/",
            "http://[64:ff9b::127.0.0.1]/",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://api.localhost/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00:ec2::254]/",
            "http://0/",
            "http://0.0.0.0:8080/",
        ] {
            let parsed = Url::parse(url).unwrap();
            assert!(
                matches!(guard.check_url(&parsed), Err(Refused::Private { .. })),
                "{url} must be refused, got {:?}",
                guard.check_url(&parsed)
            );
        }
        assert!(guard.check_url(&Url::parse("https://example.org/a").unwrap()).is_ok());
        assert!(guard.check_url(&Url::parse("http://8.8.8.8/").unwrap()).is_ok());
        assert_eq!(
            guard.check_url(&Url::parse("file:///etc/passwd").unwrap()),
            Err(Refused::Scheme("file".to_string()))
        );
        assert!(matches!(
            guard.check_url(&Url::parse("ftp://example.org/").unwrap()),
            Err(Refused::Scheme(_))
        ));
    }

    #[test]
    fn listed_hosts_and_networks_are_allowed_and_nothing_else() {
        let guard = Guard::allowing(&[
            "10.1.0.0/16".to_string(),
            "127.0.0.1".to_string(),
            "[::1]".to_string(),
            "mcp.internal".to_string(),
            " ".to_string(),
        ]);
        assert!(guard.permits("x", ip("10.1.2.3")));
        assert!(!guard.permits("x", ip("10.2.0.1")));
        assert!(guard.permits("x", ip("127.0.0.1")));
        assert!(
            guard.permits("x", ip("::ffff:127.0.0.1")),
            "an IPv4 address written as IPv6"
        );
        assert!(!guard.permits("x", ip("127.0.0.2")));
        assert!(guard.permits("x", ip("::1")));
        assert!(guard.permits("MCP.internal.", ip("192.168.1.1")));
        assert!(!guard.permits("other.internal", ip("192.168.1.1")));
        assert!(guard.check_url(&Url::parse("http://127.0.0.1:9/mcp").unwrap()).is_ok());
        assert!(guard.check_url(&Url::parse("http://localhost/").unwrap()).is_err());
        // The public guard allows none of them.
        let public = Guard::public();
        assert!(!public.permits("mcp.internal", ip("192.168.1.1")));
        assert!(!public.permits("x", ip("10.1.2.3")));
    }

    #[test]
    fn refusals_say_what_was_refused() {
        let refused = Refused::Private {
            host: "evil.example".to_string(),
            address: Some(ip("10.0.0.1")),
        };
        assert_eq!(
            refused.to_string(),
            "evil.example is a private address (10.0.0.1), which tools may not reach"
        );
        let wrapped: Box<dyn std::error::Error + Send + Sync> = Box::new(refused.clone());
        assert_eq!(refusal_of(wrapped.as_ref()), Some(refused));
    }
}
