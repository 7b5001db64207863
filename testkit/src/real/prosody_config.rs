//! The throwaway `prosody.cfg.lua` of a test Prosody, and the local module that lets
//! Debian's prosody-modules SASL2 run on Prosody 0.12.

use std::path::{Path, PathBuf};

use super::{DOMAIN, TestCerts, write_file};

/// Where Debian's `prosody-modules` puts `mod_sasl2`, `mod_sasl2_bind2`... (each in a folder
/// of its name, which Prosody 0.12's loader searches; the default plugin path already
/// covers it).
pub const DEBIAN_MODULES: &str = "/usr/lib/prosody/modules";

/// `mod_herald_ssl_info`: gives 0.12's c2s connections the `ssl_info()` and
/// `ssl_peerfinished()` the 2023 `mod_sasl2` calls (see the file's header).
const SSL_INFO_MODULE: &str = include_str!("../../prosody/mod_herald_ssl_info.lua");

/// What the test Prosody listens on and loads.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) root: PathBuf,
    pub(crate) port: u16,
    pub(crate) direct_tls_port: u16,
    /// SASL2 (XEP-0388) and Bind2 (XEP-0386) from `prosody-modules`, with the local module
    /// that makes them work on 0.12.
    pub(crate) sasl2: bool,
    /// Stream management (`mod_smacks`) with this resumption window in seconds, and debug
    /// logging.
    pub(crate) smacks: Option<u64>,
    /// Accounts in `internal_plain` storage (written by the test, for scale runs).
    pub(crate) plain: bool,
    /// XMPP over WebSocket (`mod_websocket`, RFC 7395) on these HTTP and HTTPS ports, path
    /// `/xmpp-websocket`; a `ws:` connection counts as secure (loopback only).
    pub(crate) websocket: Option<(u16, u16)>,
}

impl Layout {
    fn modules_dir(&self) -> PathBuf {
        self.root.join("modules")
    }
}

/// Checks that `prosody-modules` is there, and writes the local module next to the config.
pub(crate) fn install_sasl2_modules(layout: &Layout) -> Result<(), String> {
    for module in ["mod_sasl2", "mod_sasl2_bind2"] {
        let file = Path::new(DEBIAN_MODULES)
            .join(module)
            .join(format!("{module}.lua"));
        if !file.is_file() {
            return Err(format!(
                "{} not found: install the Debian package `prosody-modules` \
                 (bash scripts/install-deps); real-server tests never skip",
                file.display()
            ));
        }
    }
    let dir = layout.modules_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    super::set_mode(&dir, 0o755)?;
    write_file(&dir.join("mod_herald_ssl_info.lua"), SSL_INFO_MODULE, 0o644)
}

fn lua_str(p: &Path) -> String {
    format!("{:?}", p.display().to_string())
}

pub(crate) fn config_text(layout: &Layout, certs: &TestCerts) -> String {
    let root = &layout.root;
    let (plugin_paths, extra_modules) = if layout.sasl2 {
        (
            format!("plugin_paths = {{ {} }}\n", lua_str(&layout.modules_dir())),
            r#", "herald_ssl_info", "sasl2", "sasl2_bind2""#,
        )
    } else {
        (String::new(), "")
    };
    let (smacks_modules, smacks_options, level) = match layout.smacks {
        Some(secs) => (
            r#", "smacks""#,
            format!("smacks_hibernation_time = {secs}\n"),
            "debug",
        ),
        None => ("", String::new(), "info"),
    };
    let (websocket_module, websocket_options) = match layout.websocket {
        Some((http, https)) => (
            r#", "websocket""#,
            format!(
                "http_ports = {{ {http} }}\nhttp_interfaces = {{ \"127.0.0.1\" }}\n\
                 https_ports = {{ {https} }}\nhttps_interfaces = {{ \"127.0.0.1\" }}\n\
                 https_ssl = {{ certificate = {cert}, key = {key} }}\n\
                 http_default_host = \"{DOMAIN}\"\n\
                 -- ws:// on loopback is as good as wss:// (tests and the demo only).\n\
                 consider_websocket_secure = true\ncross_domain_websocket = true\n",
                cert = lua_str(&certs.cert_pem),
                key = lua_str(&certs.key_pem),
            ),
        ),
        None => ("", String::new()),
    };
    format!(
        r#"-- Throwaway Prosody config written by herald-testkit.
-- As root, stay root: every file lives in this temporary directory.
run_as_root = true
daemonize = false
pidfile = {pid}
data_path = {data}
certificates = {root_dir}
log = {{ {{ levels = {{ min = "{level}" }}, to = "file", filename = {log} }} }}
{plugin_paths}{smacks_options}{websocket_options}
interfaces = {{ "127.0.0.1" }}
local_interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
-- XEP-0368: TLS from the first byte, with the same certificate.
c2s_direct_tls_ports = {{ {direct} }}
c2s_direct_tls_ssl = {{ certificate = {cert}, key = {key} }}
legacy_ssl_ports = {{}}
s2s_ports = {{}}

-- No s2s, nothing that needs the network; HTTP only for WebSocket, on loopback.
modules_enabled = {{ "roster", "saslauth", "tls", "disco", "ping", "carbons", "blocklist", "csi_simple"{extra_modules}{smacks_modules}{websocket_module} }}
modules_disabled = {{ "s2s", "s2s_auth_certs", "offline" }}

authentication = "{authentication}"
storage = "internal"
c2s_require_encryption = true
allow_registration = false

VirtualHost "{DOMAIN}"
    ssl = {{ certificate = {cert}, key = {key} }}
"#,
        pid = lua_str(&root.join("prosody.pid")),
        data = lua_str(&root.join("data")),
        root_dir = lua_str(root),
        log = lua_str(&root.join("prosody.log")),
        authentication = if layout.plain {
            "internal_plain"
        } else {
            "internal_hashed"
        },
        port = layout.port,
        direct = layout.direct_tls_port,
        cert = lua_str(&certs.cert_pem),
        key = lua_str(&certs.key_pem),
    )
}
