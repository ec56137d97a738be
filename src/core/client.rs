//! The client's address, worked out once per request: the connection's peer, or — when that peer is a trusted
//! reverse proxy (`TRUSTED_PROXIES`) — the address the proxies forwarded in `X-Forwarded-For` (or, without it,
//! `Forwarded`), read from the right: the first hop that is not itself a trusted proxy. Headers from anyone else are
//! ignored, so a client cannot choose its own address. Per-address limits and the logs use it. The proxy must write
//! `X-Forwarded-For` (nginx's `$proxy_add_x_forwarded_for`, Caddy's default): when that header is present,
//! `Forwarded` is not read.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, header};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use std::sync::Arc;

use crate::core::config::Config;

/// The client's address, in the request's extensions (`None` when the connection is unknown, as for a router called
/// directly in tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The address as text, "unknown" without one.
    pub fn text(self) -> String {
        self.0.map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
    }
}

/// The request's client address as a handler argument (never fails: without the middleware, "unknown").
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().copied().unwrap_or(Self(None)))
    }
}

/// Middleware: puts the [`ClientAddr`] of the request into its extensions.
pub async fn resolve_client(State(config): State<Arc<Config>>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let addr = client_addr(peer, req.headers(), &config.security.trusted_proxies);
    req.extensions_mut().insert(ClientAddr(addr));
    next.run(req).await
}

/// The client of a request from `peer` with these headers, trusting the proxies in `trusted`.
pub fn client_addr(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(&ip));
    // `::ffff:10.0.0.2` (an IPv4 peer on a dual-stack socket) is 10.0.0.2.
    let peer = peer?.to_canonical();
    if !is_trusted(peer) {
        return Some(peer);
    }
    let hops = forwarded_hops(headers);
    // Nearest hop first: each trusted proxy vouches for the hop before it; the first untrusted one is the client.
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) if is_trusted(ip) => nearest = ip,
            Some(ip) => return Some(ip),
            // An address a trusted proxy could not name ("unknown", an obfuscated id): the proxy is what we know.
            None => return Some(nearest),
        }
    }
    Some(nearest)
}

/// The hops of `X-Forwarded-For` (every header line, left to right), or else the `for=` of `Forwarded`.
fn forwarded_hops(headers: &HeaderMap) -> Vec<String> {
    let values = |name: HeaderName| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|hop| hop.trim().to_string())
            .filter(|hop| !hop.is_empty())
            .collect()
    };
    let forwarded_for = values(HeaderName::from_static("x-forwarded-for"));
    if !forwarded_for.is_empty() {
        return forwarded_for;
    }
    values(header::FORWARDED)
        .into_iter()
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| value.trim().trim_matches('"').to_string())
            })
        })
        .collect()
}

/// An address as proxies write it: `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1`, `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
        .map(|ip: IpAddr| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(HeaderName::from_static(name), value.parse().unwrap());
        }
        map
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn forwarded_headers_are_ignored_unless_the_peer_is_a_trusted_proxy() {
        let forged = headers(&[("x-forwarded-for", "1.2.3.4"), ("forwarded", "for=5.6.7.8")]);
        assert_eq!(client_addr(ip("198.51.100.9"), &forged, &[]), ip("198.51.100.9"));
        assert_eq!(
            client_addr(ip("198.51.100.9"), &forged, &nets(&["10.0.0.0/8"])),
            ip("198.51.100.9")
        );
        assert_eq!(client_addr(None, &forged, &nets(&["0.0.0.0/0"])), None);
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1/32"]);
        // The client put a forged address first; its real address was appended by our proxies.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.1.2.3")]);
        assert_eq!(client_addr(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.7"));
        let h = headers(&[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "203.0.113.7:5000")]);
        assert_eq!(client_addr(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.7"));
        // Only proxies: the one farthest away is what we know.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]);
        assert_eq!(client_addr(ip("127.0.0.1"), &h, &trusted), ip("10.9.9.9"));
        // No header at all: the proxy itself.
        assert_eq!(
            client_addr(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
        // A hop that is not an address stops the walk at the proxy that wrote it.
        let h = headers(&[("x-forwarded-for", "203.0.113.7, unknown")]);
        assert_eq!(client_addr(ip("127.0.0.1"), &h, &trusted), ip("127.0.0.1"));
    }

    #[test]
    fn forwarded_is_read_when_x_forwarded_for_is_absent() {
        let trusted = nets(&["::1/128"]);
        let h = headers(&[(
            "forwarded",
            "for=6.6.6.6, for=\"[2001:db8::7]:4711\";proto=https;by=unknown",
        )]);
        assert_eq!(client_addr(ip("::1"), &h, &trusted), ip("2001:db8::7"));
        let h = headers(&[("forwarded", "For=198.51.100.3")]);
        assert_eq!(client_addr(ip("::1"), &h, &trusted), ip("198.51.100.3"));
    }
}
