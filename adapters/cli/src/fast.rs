//! `--fast-token-file FILE`: this installation's user agent id and its FAST token (XEP-0484)
//! between runs, so that the next login takes one round trip and no PBKDF2. The file holds
//! a credential: it is written with mode 0600, through a temporary file renamed over it.
//!
//! Format, one `key=value` per line: `user-agent-id`, and when a token is held `mechanism`,
//! `token` and `expiry`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use herald_core::{Entropy, FastToken, OsEntropy, UserAgent};

/// What the file holds.
#[derive(Debug)]
pub(crate) struct Stored {
    pub(crate) user_agent: UserAgent,
    pub(crate) token: Option<FastToken>,
}

/// Reads `path`, or starts a new installation id when it does not exist (and writes it
/// at once, so that the id stays the same from run to run).
pub(crate) fn load(path: &Path) -> Result<Stored, String> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let stored = Stored {
                user_agent: UserAgent::new(new_id()),
                token: None,
            };
            save(path, &stored.user_agent, None)?;
            return Ok(stored);
        }
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let value = |key: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().to_string())
    };
    let id = value("user-agent-id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| format!("{}: no user-agent-id line", path.display()))?;
    let token = match (value("mechanism"), value("token")) {
        (Some(mechanism), Some(token)) if !token.is_empty() => {
            Some(FastToken::new(mechanism, token, value("expiry")))
        }
        _ => None,
    };
    Ok(Stored {
        user_agent: UserAgent::new(id),
        token,
    })
}

/// Writes the id and the token (none: the id alone) to `path`, mode 0600.
pub(crate) fn save(
    path: &Path,
    agent: &UserAgent,
    token: Option<&FastToken>,
) -> Result<(), String> {
    let mut text = format!(
        "# herald: this installation's FAST token (XEP-0484), a credential\nuser-agent-id={}\n",
        agent.id
    );
    if let Some(token) = token {
        text.push_str(&format!(
            "mechanism={}\ntoken={}\n",
            token.mechanism,
            token.token.expose()
        ));
        if let Some(expiry) = &token.expiry {
            text.push_str(&format!("expiry={expiry}\n"));
        }
    }
    let temp = temp_path(path);
    let written = write_private(&temp, text.as_bytes()).and_then(|()| fs::rename(&temp, path));
    written.map_err(|e| {
        let _ = fs::remove_file(&temp);
        format!("cannot write {}: {e}", path.display())
    })
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// A random installation id: 16 bytes of the OS's randomness, in hex.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    OsEntropy.fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_keeps_its_id_and_the_token_round_trips_privately() {
        let dir = std::env::temp_dir().join(format!("herald-fast-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fast");
        let _ = fs::remove_file(&path);
        let first = load(&path).unwrap();
        assert_eq!(first.user_agent.id.len(), 32);
        assert!(first.token.is_none());
        assert_eq!(load(&path).unwrap().user_agent.id, first.user_agent.id);

        let token = FastToken::new(
            "HT-SHA-256-NONE",
            "secret-token:1",
            Some("2030-01-01T00:00:00Z".into()),
        );
        save(&path, &first.user_agent, Some(&token)).unwrap();
        let again = load(&path).unwrap();
        assert_eq!(again.token, Some(token));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        save(&path, &first.user_agent, None).unwrap();
        assert!(load(&path).unwrap().token.is_none());
        fs::remove_dir_all(&dir).unwrap();
    }
}
