//! The test PKI (feature `loopback`): a CA and a leaf certificate for `localhost` it
//! signed, made with rcgen at test time. The loopback server presents the leaf through
//! rustls; the real-server launchers write it to files for Prosody and ejabberd.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The name the leaf certificate is for: the XMPP domain of every test server.
pub const DOMAIN: &str = "localhost";

/// A CA and a `localhost` leaf, as PEM and DER.
#[derive(Debug)]
pub struct Pki {
    /// The CA certificate (what a client trusts), PEM.
    pub ca_pem: String,
    /// The leaf certificate, PEM.
    pub cert_pem: String,
    /// The leaf's private key (PKCS#8), PEM.
    pub key_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

/// Where [`Pki::write`] put the PEM files.
#[derive(Debug, Clone)]
pub struct TestCerts {
    /// The CA certificate (what a client trusts).
    pub ca_pem: PathBuf,
    /// The leaf certificate for `localhost`.
    pub cert_pem: PathBuf,
    /// The leaf's private key (PKCS#8).
    pub key_pem: PathBuf,
}

impl Pki {
    /// Generates a CA and a `localhost` leaf signed by it, valid from two days ago to a
    /// year ahead (rcgen's default, 1975 to 4096, makes ejabberd's pkix call the chain
    /// expired).
    pub fn generate() -> Result<Pki, String> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        let err = |e: rcgen::Error| format!("certificate generation: {e}");
        let ((y0, m0, d0), (y1, m1, d1)) = validity();
        let ca_key = KeyPair::generate().map_err(err)?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        ca_params.not_before = rcgen::date_time_ymd(y0, m0, d0);
        ca_params.not_after = rcgen::date_time_ymd(y1, m1, d1);
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Herald test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf_key = KeyPair::generate().map_err(err)?;
        let mut leaf_params = CertificateParams::new(vec![DOMAIN.to_string()]).map_err(err)?;
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, DOMAIN);
        leaf_params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf_params.not_before = rcgen::date_time_ymd(y0, m0, d0);
        leaf_params.not_after = rcgen::date_time_ymd(y1, m1, d1);
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).map_err(err)?;
        Ok(Pki {
            ca_pem: ca_cert.pem(),
            cert_pem: leaf.pem(),
            key_pem: leaf_key.serialize_pem(),
            cert_der: leaf.der().clone(),
            key_der: leaf_key.serialize_der(),
        })
    }

    /// One PKI for the whole test process (generating keys takes a moment, and one CA lets
    /// a client trust every loopback server of a test, as after a redirect).
    pub fn shared() -> Arc<Pki> {
        static SHARED: OnceLock<Arc<Pki>> = OnceLock::new();
        SHARED
            .get_or_init(|| Arc::new(Pki::generate().expect("test PKI")))
            .clone()
    }

    /// A rustls server configuration presenting the leaf (for STARTTLS).
    pub fn server_config(&self) -> Arc<ServerConfig> {
        Arc::new(self.rustls_config())
    }

    /// The same, offering ALPN `xmpp-client` as direct TLS servers do (XEP-0368).
    pub fn direct_tls_config(&self) -> Arc<ServerConfig> {
        let mut config = self.rustls_config();
        config.alpn_protocols = vec![b"xmpp-client".to_vec()];
        Arc::new(config)
    }

    fn rustls_config(&self) -> ServerConfig {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![self.cert_der.clone()], key)
            .expect("server certificate")
    }

    /// Writes `ca.pem`, `localhost.crt` and `localhost.key` into `dir`, all world-readable
    /// (a daemon that switches user must read them).
    pub fn write(&self, dir: &Path) -> Result<TestCerts, String> {
        let certs = TestCerts {
            ca_pem: dir.join("ca.pem"),
            cert_pem: dir.join("localhost.crt"),
            key_pem: dir.join("localhost.key"),
        };
        write_file(&certs.ca_pem, &self.ca_pem, 0o644)?;
        write_file(&certs.cert_pem, &self.cert_pem, 0o644)?;
        write_file(&certs.key_pem, &self.key_pem, 0o644)?;
        Ok(certs)
    }
}

/// Writes a file and sets its mode.
pub(crate) fn write_file(path: &Path, contents: &str, mode: u32) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("write {}: {e}", path.display()))?;
    set_mode(path, mode)
}

/// Sets a file's mode.
pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", path.display()))
}

/// From two days ago to a year ahead, as (year, month, day) in UTC.
fn validity() -> ((i32, u8, u8), (i32, u8, u8)) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let from = civil_from_days(days - 2);
    let (y, m, d) = civil_from_days(days);
    (from, (y + 1, m, d.min(28)))
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        i32::try_from(y).unwrap_or(2000),
        u8::try_from(m).unwrap_or(1),
        u8::try_from(d).unwrap_or(1),
    )
}
