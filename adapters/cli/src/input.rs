//! Standard input: one command per line, applied through the session's handle.

use std::io::BufRead;
use std::sync::mpsc::Sender;

use herald_core::jid::{BareJid, Jid};
use herald_core::{MessageType, Presence};
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
    /// `roster`: print the roster.
    Roster,
    /// `add JID [NAME] [GROUP,...]`: a roster item and a subscription request.
    Add {
        /// The contact.
        jid: BareJid,
        /// Its name, if given.
        name: Option<String>,
        /// Its groups.
        groups: Vec<String>,
    },
    /// `remove JID`.
    Remove(BareJid),
    /// `subscribe JID`.
    Subscribe(BareJid),
    /// `unsubscribe JID`.
    Unsubscribe(BareJid),
    /// `approve JID`.
    Approve(BareJid),
    /// `deny JID`.
    Deny(BareJid),
    /// `message JID TEXT...`: a chat message.
    Message {
        /// The addressee (a bare or full JID).
        to: Jid,
        /// The text.
        body: String,
    },
    /// `active` / `inactive`: the client state (XEP-0352).
    ClientActive(bool),
    /// `blocklist`: print the block list.
    Blocklist,
    /// `block JID`.
    Block(Jid),
    /// `unblock [JID]`: one, or everyone without a JID.
    Unblock(Option<Jid>),
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
        "roster" if rest.is_empty() => Ok(Command::Roster),
        "add" => parse_add(rest),
        "remove" => Ok(Command::Remove(one_jid(word, rest)?)),
        "subscribe" => Ok(Command::Subscribe(one_jid(word, rest)?)),
        "unsubscribe" => Ok(Command::Unsubscribe(one_jid(word, rest)?)),
        "approve" => Ok(Command::Approve(one_jid(word, rest)?)),
        "deny" => Ok(Command::Deny(one_jid(word, rest)?)),
        "message" => parse_message(rest),
        "active" if rest.is_empty() => Ok(Command::ClientActive(true)),
        "inactive" if rest.is_empty() => Ok(Command::ClientActive(false)),
        "blocklist" if rest.is_empty() => Ok(Command::Blocklist),
        "block" => Ok(Command::Block(any_jid(word, rest)?)),
        "unblock" if rest.is_empty() => Ok(Command::Unblock(None)),
        "unblock" => Ok(Command::Unblock(Some(any_jid(word, rest)?))),
        _ => Err(format!(
            "unknown command: {line:?} (expected presence, status, roster, add, remove, \
             subscribe, unsubscribe, approve, deny, message, active, inactive, blocklist, \
             block, unblock or quit)"
        )),
    }
}

/// `message JID TEXT...`.
fn parse_message(rest: &str) -> Result<Command, String> {
    const USAGE: &str = "usage: message JID TEXT...";
    let (to, body) = rest
        .split_once(char::is_whitespace)
        .map(|(t, b)| (t, b.trim()))
        .filter(|(_, b)| !b.is_empty())
        .ok_or(USAGE)?;
    let to = Jid::new(to).map_err(|e| format!("not a JID: {to:?} ({e})"))?;
    Ok(Command::Message {
        to,
        body: body.to_string(),
    })
}

const ADD_USAGE: &str = "usage: add JID [NAME] [GROUP,...] (quote a NAME or GROUP with spaces)";

/// `add JID [NAME] [GROUP,...]`.
fn parse_add(rest: &str) -> Result<Command, String> {
    let words = split_words(rest).ok_or_else(|| format!("unbalanced quotes; {ADD_USAGE}"))?;
    let mut words = words.into_iter();
    let jid = match words.next() {
        Some(jid) => bare_jid(&jid)?,
        None => return Err(ADD_USAGE.into()),
    };
    let name = words.next().filter(|n| !n.is_empty());
    let groups = match words.next() {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect(),
        None => Vec::new(),
    };
    if words.next().is_some() {
        return Err(format!("too many words; {ADD_USAGE}"));
    }
    Ok(Command::Add { jid, name, groups })
}

/// The single JID argument of `command`.
fn one_jid(command: &str, rest: &str) -> Result<BareJid, String> {
    let mut words = rest.split_whitespace();
    match (words.next(), words.next()) {
        (Some(jid), None) => bare_jid(jid),
        _ => Err(format!("usage: {command} JID")),
    }
}

/// The single JID argument (bare or full) of `command`.
fn any_jid(command: &str, rest: &str) -> Result<Jid, String> {
    let mut words = rest.split_whitespace();
    match (words.next(), words.next()) {
        (Some(jid), None) => Jid::new(jid).map_err(|e| format!("not a JID: {jid:?} ({e})")),
        _ => Err(format!("usage: {command} JID")),
    }
}

/// A contact's address: a bare JID (`user@domain`).
fn bare_jid(text: &str) -> Result<BareJid, String> {
    BareJid::new(text).map_err(|e| format!("not a bare JID: {text:?} ({e})"))
}

/// Splits on whitespace, keeping double-quoted runs together (quotes removed); `None` for
/// an unclosed quote.
fn split_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut in_word, mut quoted) = (false, false);
    for ch in text.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return None;
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// Reads commands until `quit` or end of input (which also means quit). A `roster`
/// command becomes a message on `roster_requests`: the thread that owns the session
/// prints the roster.
pub(crate) fn read_commands(handle: Handle, roster_requests: Sender<()>) {
    let stdin = std::io::stdin();
    let mut asked_blocklist = false;
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let sent = match parse(&line) {
            Ok(Command::Nothing) => Ok(()),
            Ok(Command::Presence(p)) => handle.set_presence(p),
            Ok(Command::PresenceAndStatus(p, s)) => handle.change_presence(p, &s),
            Ok(Command::Status(s)) => handle.set_status(&s),
            Ok(Command::Roster) => roster_requests
                .send(())
                .map_err(|_| herald_std::Error::Gone),
            Ok(Command::Add { jid, name, groups }) => handle.add_contact(jid, name, groups),
            Ok(Command::Remove(jid)) => handle.remove_contact(jid),
            Ok(Command::Subscribe(jid)) => handle.subscribe(jid),
            Ok(Command::Unsubscribe(jid)) => handle.unsubscribe(jid),
            Ok(Command::Approve(jid)) => handle.approve(jid),
            Ok(Command::Deny(jid)) => handle.deny(jid),
            Ok(Command::Message { to, body }) => handle
                .send_message(&to, &body, MessageType::Chat)
                .map(|id| output::emit(&output::message_sent(&to, &id))),
            Ok(Command::ClientActive(active)) => handle.set_client_active(active),
            Ok(Command::Blocklist) => {
                asked_blocklist = true;
                handle.request_blocklist()
            }
            Ok(Command::Block(jid)) => {
                with_blocklist(&handle, &mut asked_blocklist).and_then(|()| handle.block(vec![jid]))
            }
            Ok(Command::Unblock(jid)) => with_blocklist(&handle, &mut asked_blocklist)
                .and_then(|()| handle.unblock(jid.into_iter().collect())),
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

/// Asks for the block list once before the first block or unblock: servers push changes
/// (the `blocked` / `unblocked` events that confirm them) only to resources that asked.
fn with_blocklist(handle: &Handle, asked: &mut bool) -> Result<(), herald_std::Error> {
    if !std::mem::replace(asked, true) {
        handle.request_blocklist()?;
    }
    Ok(())
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
        assert_eq!(
            parse("message bob@localhost/phone  hi  there "),
            Ok(Command::Message {
                to: Jid::new("bob@localhost/phone").unwrap(),
                body: "hi  there".into()
            })
        );
        assert!(parse("message bob@localhost").is_err());
        assert!(parse("message not@a@jid hi").is_err());
        assert_eq!(parse("inactive"), Ok(Command::ClientActive(false)));
        assert_eq!(parse("active"), Ok(Command::ClientActive(true)));
        assert_eq!(
            parse("block bob@localhost"),
            Ok(Command::Block(Jid::new("bob@localhost").unwrap()))
        );
        assert_eq!(parse("unblock"), Ok(Command::Unblock(None)));
        assert!(parse("block").is_err());
    }

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    #[test]
    fn roster_commands() {
        assert_eq!(parse("roster"), Ok(Command::Roster));
        assert!(parse("roster now").is_err());
        assert_eq!(
            parse("add bob@localhost"),
            Ok(Command::Add {
                jid: jid("bob@localhost"),
                name: None,
                groups: vec![]
            })
        );
        assert_eq!(
            parse("add bob@localhost Bob Friends,Work"),
            Ok(Command::Add {
                jid: jid("bob@localhost"),
                name: Some("Bob".into()),
                groups: vec!["Friends".into(), "Work".into()]
            })
        );
        assert_eq!(
            parse(r#"add  bob@localhost  "Bob  B" "Old friends",Work"#),
            Ok(Command::Add {
                jid: jid("bob@localhost"),
                name: Some("Bob  B".into()),
                groups: vec!["Old friends".into(), "Work".into()]
            })
        );
        assert_eq!(
            parse(r#"add bob@localhost "" Friends"#),
            Ok(Command::Add {
                jid: jid("bob@localhost"),
                name: None,
                groups: vec!["Friends".into()]
            })
        );
        assert_eq!(
            parse("remove bob@localhost"),
            Ok(Command::Remove(jid("bob@localhost")))
        );
        assert_eq!(
            parse("subscribe bob@localhost"),
            Ok(Command::Subscribe(jid("bob@localhost")))
        );
        assert_eq!(
            parse("unsubscribe bob@localhost"),
            Ok(Command::Unsubscribe(jid("bob@localhost")))
        );
        assert_eq!(
            parse("approve Bob@LocalHost"),
            Ok(Command::Approve(jid("bob@localhost")))
        );
        assert_eq!(
            parse("deny bob@localhost"),
            Ok(Command::Deny(jid("bob@localhost")))
        );
        for bad in [
            "add",
            "add @@",
            "add bob@localhost/phone",
            "add bob@localhost Bob Friends extra",
            "add bob@localhost \"Bob",
            "remove",
            "remove a@b c@d",
            "subscribe not a jid",
            "approve bob@localhost/phone",
            "deny @",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
