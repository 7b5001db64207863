//! DNS SRV lookup (feature `srv`): `_xmpps-client._tcp` (direct TLS) and `_xmpp-client._tcp`
//! (STARTTLS), ordered by `herald-io` exactly as `herald-tokio` orders them.

use herald_io::target::{SrvRecord, Target, order_srv};
use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;

/// The SRV targets for `domain`, best first; empty when there are none or DNS fails.
pub(crate) fn lookup(domain: &str) -> Vec<Target> {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    let records = runtime.block_on(async {
        let mut records = Vec::new();
        let Ok(Ok(resolver)) = TokioResolver::builder_tokio().map(|b| b.build()) else {
            return records;
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
        records
    });
    order_srv(records)
}
