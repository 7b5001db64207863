//! Where to connect: an explicit host, DNS SRV records (RFC 6120 section 3.2, XEP-0368),
//! or the domain itself.

use crate::options::{ConnectOptions, TlsMode};

/// One place to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS from the first byte (XEP-0368 `_xmpps-client`), else STARTTLS.
    pub direct_tls: bool,
}

/// An SRV record as the resolver gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvRecord {
    /// Lower is tried first.
    pub priority: u16,
    /// Among equal priorities, higher weight is preferred.
    pub weight: u16,
    /// Port.
    pub port: u16,
    /// Target host (a trailing dot is removed).
    pub target: String,
    /// From `_xmpps-client._tcp`.
    pub direct_tls: bool,
}

/// Orders the `_xmpps-client` and `_xmpp-client` records together by priority, then by
/// weight (heaviest first; RFC 2782's weighted random choice would differ only in how
/// ties share load). A single record with target `.` means "no service": nothing is
/// returned for it. When equal, direct TLS is tried first (XEP-0368).
pub fn order_srv(mut records: Vec<SrvRecord>) -> Vec<Target> {
    records.retain(|r| r.target != "." && !r.target.is_empty());
    records.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then(b.weight.cmp(&a.weight))
            .then(b.direct_tls.cmp(&a.direct_tls))
    });
    records
        .into_iter()
        .map(|r| Target {
            host: r.target.trim_end_matches('.').to_string(),
            port: r.port,
            direct_tls: r.direct_tls,
        })
        .collect()
}

/// The `_xmpps-client._tcp` (direct TLS) and `_xmpp-client._tcp` (STARTTLS) records of
/// `domain`, best first ([`order_srv`]); empty when there are none or DNS fails.
#[cfg(feature = "srv")]
pub async fn lookup_srv(domain: &str) -> Vec<Target> {
    use hickory_resolver::TokioResolver;
    use hickory_resolver::proto::rr::RData;

    let mut records = Vec::new();
    let Ok(Ok(resolver)) = TokioResolver::builder_tokio().map(|b| b.build()) else {
        return Vec::new();
    };
    for (service, direct_tls) in [("_xmpps-client", true), ("_xmpp-client", false)] {
        let Ok(lookup) = resolver
            .srv_lookup(format!("{service}._tcp.{domain}."))
            .await
        else {
            continue;
        };
        for record in lookup.answers() {
            if let RData::SRV(srv) = &record.data {
                records.push(SrvRecord {
                    priority: srv.priority,
                    weight: srv.weight,
                    port: srv.port,
                    target: srv.target.to_utf8(),
                    direct_tls,
                });
            }
        }
    }
    order_srv(records)
}

/// The fallback when there are no SRV records: the domain on 5222 with STARTTLS.
pub fn fallback(domain: &str) -> Target {
    Target {
        host: domain.to_string(),
        port: 5222,
        direct_tls: false,
    }
}

/// The places to try, in order, for `domain` with `options`: [`ConnectOptions::server`]
/// alone when set (its TLS mode from [`ConnectOptions::tls`], STARTTLS unless `Direct`);
/// else the `srv` targets the [`TlsMode`] allows (the answer of `lookup_srv`, feature
/// `srv`; empty when the adapter does not look SRV up); else the domain on
/// [`TlsMode::default_port`].
pub fn choose(domain: &str, options: &ConnectOptions, mut srv: Vec<Target>) -> Vec<Target> {
    let direct = options.tls == TlsMode::Direct;
    if let Some((host, port)) = &options.server {
        return vec![Target {
            host: host.clone(),
            port: *port,
            direct_tls: direct,
        }];
    }
    match options.tls {
        TlsMode::StartTls => srv.retain(|t| !t.direct_tls),
        TlsMode::Direct => srv.retain(|t| t.direct_tls),
        _ => {}
    }
    if srv.is_empty() {
        srv.push(Target {
            port: options.tls.default_port(),
            direct_tls: direct,
            ..fallback(domain)
        });
    }
    srv
}

/// The target a `see-other-host` names (`HOST`, `HOST:PORT`, `[v6]:PORT`), reached with the
/// same TLS mode as the connection that was redirected (the default port follows it).
pub fn redirect(host: &str, direct_tls: bool) -> Option<Target> {
    let (host, port) = parse_host_port(host.trim(), direct_tls)?;
    Some(Target {
        host,
        port,
        direct_tls,
    })
}

/// Parses `HOST[:PORT]` (`[v6]:PORT` for IPv6); the default port depends on direct TLS
/// (5223) or STARTTLS (5222).
pub fn parse_host_port(s: &str, direct_tls: bool) -> Option<(String, u16)> {
    let default = if direct_tls { 5223 } else { 5222 };
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => Some((host.to_string(), port.parse().ok()?)),
        Some(_) => Some((s.to_string(), default)),
        None if s.is_empty() => None,
        None => Some((s.to_string(), default)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(priority: u16, weight: u16, target: &str, direct_tls: bool) -> SrvRecord {
        SrvRecord {
            priority,
            weight,
            port: 5222,
            target: target.into(),
            direct_tls,
        }
    }

    #[test]
    fn srv_order_is_priority_then_weight_then_direct_tls() {
        let ordered = order_srv(vec![
            rec(20, 0, "c.example.", false),
            rec(10, 5, "b.example.", false),
            rec(10, 50, "a.example.", false),
            rec(10, 5, "tls.example.", true),
            rec(0, 0, ".", false),
        ]);
        let hosts: Vec<_> = ordered.iter().map(|t| t.host.as_str()).collect();
        assert_eq!(
            hosts,
            ["a.example", "tls.example", "b.example", "c.example"]
        );
        assert!(ordered[1].direct_tls);
    }

    #[test]
    fn an_explicit_server_wins_and_srv_follows_the_tls_mode() {
        let srv = vec![
            Target {
                host: "tls.example".into(),
                port: 5223,
                direct_tls: true,
            },
            Target {
                host: "plain.example".into(),
                port: 5222,
                direct_tls: false,
            },
        ];
        let mut options = ConnectOptions::default();
        assert_eq!(choose("example.org", &options, srv.clone()), srv);
        assert_eq!(
            choose("example.org", &options, Vec::new()),
            [fallback("example.org")]
        );
        options.tls = TlsMode::StartTls;
        assert_eq!(choose("example.org", &options, srv.clone()), srv[1..]);
        options.tls = TlsMode::Direct;
        assert_eq!(choose("example.org", &options, srv.clone()), srv[..1]);
        let only = choose("example.org", &options, Vec::new());
        assert_eq!((only[0].port, only[0].direct_tls), (5223, true));
        options.server = Some(("10.0.0.1".into(), 4000));
        let only = choose("example.org", &options, srv);
        assert_eq!(
            only,
            [Target {
                host: "10.0.0.1".into(),
                port: 4000,
                direct_tls: true
            }]
        );
    }

    #[test]
    fn a_redirect_keeps_the_tls_mode() {
        let t = redirect("other.example", true).unwrap();
        assert_eq!((t.port, t.direct_tls), (5223, true));
        let t = redirect(" other.example:6000 ", false).unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.direct_tls),
            ("other.example", 6000, false)
        );
        assert_eq!(redirect("", false), None);
    }

    #[test]
    fn host_port_parsing() {
        assert_eq!(
            parse_host_port("localhost", false),
            Some(("localhost".into(), 5222))
        );
        assert_eq!(
            parse_host_port("localhost", true),
            Some(("localhost".into(), 5223))
        );
        assert_eq!(
            parse_host_port("127.0.0.1:15222", false),
            Some(("127.0.0.1".into(), 15222))
        );
        assert_eq!(
            parse_host_port("[::1]:5000", false),
            Some(("::1".into(), 5000))
        );
        assert_eq!(parse_host_port("[::1]", false), Some(("::1".into(), 5222)));
        assert_eq!(parse_host_port("host:notaport", false), None);
        assert_eq!(parse_host_port("", false), None);
    }
}
