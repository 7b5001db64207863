//! Standard input: one command per line, applied through the session's handle.

use std::io::BufRead;

use herald_core::Presence;
use herald_std::Handle;

use crate::args::parse_presence;
use crate::output;

/// One line of input, understood.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// `presence VALUE`: availability only; the status stays.
    Presence(Presence),
    /// `presence VALUE TEXT...`: both, in one stanza.
    PresenceAndStatus(Presence, String),
    /// `status [TEXT...]`: empty text clears the status.
    Status(String),
    /// `quit`.
    Quit,
    /// A blank line.
    Nothing,
}

/// Parses one line; `Err` is the message of an `error` event.
pub(crate) fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim();
    let (word, rest) = line
        .split_once(char::is_whitespace)
        .map_or((line, ""), |(w, r)| (w, r.trim()));
    match word {
        "" => Ok(Command::Nothing),
        "presence" => {
            let (value, text) = rest
                .split_once(char::is_whitespace)
                .map_or((rest, ""), |(v, t)| (v, t.trim()));
            if value.is_empty() {
                return Err("usage: presence chat|away|xa|dnd|offline|0-4 [status text]".into());
            }
            let presence = parse_presence(value)?;
            Ok(if text.is_empty() {
                Command::Presence(presence)
            } else {
                Command::PresenceAndStatus(presence, text.to_string())
            })
        }
        "status" => Ok(Command::Status(rest.to_string())),
        "quit" if rest.is_empty() => Ok(Command::Quit),
        _ => Err(format!(
            "unknown command: {line:?} (expected presence, status or quit)"
        )),
    }
}

/// Reads commands until `quit` or end of input (which also means quit).
pub(crate) fn read_commands(handle: Handle) {
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let sent = match parse(&line) {
            Ok(Command::Nothing) => Ok(()),
            Ok(Command::Presence(p)) => handle.set_presence(p),
            Ok(Command::PresenceAndStatus(p, s)) => handle.change_presence(p, &s),
            Ok(Command::Status(s)) => handle.set_status(&s),
            Ok(Command::Quit) => {
                let _ = handle.close();
                return;
            }
            Err(message) => {
                output::emit(&output::error(&message));
                Ok(())
            }
        };
        if sent.is_err() {
            return; // the session is gone
        }
    }
    let _ = handle.close();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        assert_eq!(
            parse("presence away"),
            Ok(Command::Presence(Presence::Away))
        );
        assert_eq!(
            parse("  presence 4   in a  meeting "),
            Ok(Command::PresenceAndStatus(
                Presence::DoNotDisturb,
                "in a  meeting".into()
            ))
        );
        assert_eq!(
            parse("status back soon"),
            Ok(Command::Status("back soon".into()))
        );
        assert_eq!(parse("status"), Ok(Command::Status(String::new())));
        assert_eq!(parse("quit"), Ok(Command::Quit));
        assert_eq!(parse(""), Ok(Command::Nothing));
        assert!(parse("presence").is_err());
        assert!(parse("presence busy").is_err());
        assert!(parse("frobnicate").is_err());
        assert!(parse("quit now").is_err());
    }
}
