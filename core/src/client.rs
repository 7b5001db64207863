//! The [`Client`]: the whole public API of a session in one place, each method a few lines
//! that hand over to the state machine in `session/`.

use crate::Instant;
use std::collections::BTreeSet;
use std::fmt;

use jid::{BareJid, FullJid, Jid};
use minidom::Element;

use crate::config::Config;
use crate::entropy::Entropy;
use crate::error::{ConfigError, UsageError};
use crate::event::{Action, Event, SessionState};
use crate::outbox::Outbox;
use crate::sasl::{ChannelBinding, FastToken, ScramCache};
use crate::session::{Context, Link, Session};
use crate::stanza::caps::Caps;
use crate::stanza::caps_cache::CapsCache;
use crate::stanza::features::FeatureCache;
use crate::stanza::message::MessageType;
use crate::stanza::presence::{IncomingPresence, Presence};
use crate::stanza::roster::Roster;
use crate::stanza::sm::Resumption;

/// How the adapter connected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// A plain TCP connection: STARTTLS follows (unless the config says
    /// [`TlsPolicy::InsecurePlaintext`](crate::TlsPolicy::InsecurePlaintext)).
    Plain,
    /// TLS from the first byte (XEP-0368), with the channel-binding data the handshake gave.
    DirectTls(Option<ChannelBinding>),
    /// A WebSocket (RFC 7395): `wss:` when `secure` (its TLS is the stream's; no channel
    /// binding), `ws:` otherwise (no STARTTLS exists there, so only with
    /// [`TlsPolicy::InsecurePlaintext`](crate::TlsPolicy::InsecurePlaintext), as on
    /// loopback). Input goes in one message per
    /// [`handle_message`](Client::handle_message), output comes out one message per
    /// [`poll_message`](Client::poll_message).
    WebSocket {
        /// Whether the WebSocket runs over TLS (`wss:`).
        secure: bool,
    },
}

/// A sans-IO XMPP client session. See the [crate docs](crate) for the contract.
///
/// # Methods
///
/// - **(A) getters**: [`state`](Self::state), [`is_closed`](Self::is_closed),
///   [`is_websocket`](Self::is_websocket),
///   [`presence`](Self::presence), [`status`](Self::status),
///   [`client_active`](Self::client_active),
///   [`bound_jid`](Self::bound_jid), [`config`](Self::config),
///   [`scram_cache`](Self::scram_cache), [`feature_cache`](Self::feature_cache),
///   [`fast_token`](Self::fast_token), [`resumption`](Self::resumption),
///   [`roster`](Self::roster), [`blocklist`](Self::blocklist),
///   [`contact_presences`](Self::contact_presences),
///   [`best_presence`](Self::best_presence).
/// - **(B) inputs**, each taking `now`: [`handle_input`](Self::handle_input) (or
///   [`handle_message`](Self::handle_message) on a WebSocket), [`handle_eof`](Self::handle_eof), [`handle_timeout`](Self::handle_timeout),
///   [`tls_established`](Self::tls_established), [`tls_failed`](Self::tls_failed).
/// - **(C) commands**, each taking `now`; misuse returns a [`UsageError`] and changes
///   nothing:
///   - the session: [`connect`](Self::connect), [`close`](Self::close);
///   - the account's presence: [`set_presence`](Self::set_presence),
///     [`set_status`](Self::set_status), [`change_presence`](Self::change_presence),
///     [`send_directed_presence`](Self::send_directed_presence);
///   - the client state (XEP-0352): [`set_client_active`](Self::set_client_active);
///   - stanzas: [`send`](Self::send);
///   - the roster: [`add_contact`](Self::add_contact),
///     [`update_contact`](Self::update_contact), [`remove_contact`](Self::remove_contact);
///   - subscriptions: [`subscribe`](Self::subscribe), [`unsubscribe`](Self::unsubscribe),
///     [`approve`](Self::approve), [`deny`](Self::deny), [`cancel`](Self::cancel),
///     [`probe`](Self::probe);
///   - blocking (XEP-0191): [`request_blocklist`](Self::request_blocklist),
///     [`block`](Self::block), [`unblock`](Self::unblock).
/// - **(D) outputs**: [`poll_transmit`](Self::poll_transmit) (or
///   [`poll_message`](Self::poll_message) on a WebSocket),
///   [`poll_action`](Self::poll_action), [`poll_event`](Self::poll_event),
///   [`poll_timeout`](Self::poll_timeout).
///
/// After every (B) or (C) call, drain transmit, then actions, then events, then read the
/// timeout.
pub struct Client {
    session: Session,
    cx: Context,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("jid", &self.cx.config.jid)
            .field("state", &self.state())
            .field("presence", &self.cx.presence)
            .field("status", &self.cx.status)
            .field("bound", &self.bound_jid())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `config`, drawing SCRAM nonces and stanza ids from `entropy`.
    ///
    /// Fails when SASLprep refuses the credentials, the status text cannot be carried by
    /// XML, the stanza size limit is above
    /// [`Limits::MAX_STANZA_BYTES`](crate::Limits::MAX_STANZA_BYTES), or a timeout is above
    /// [`Timeouts::MAX`](crate::Timeouts::MAX).
    pub fn new(config: Config, entropy: impl Entropy + 'static) -> Result<Client, ConfigError> {
        let mut entropy: Box<dyn Entropy> = Box::new(entropy);
        config.validate()?;
        let credentials = config.credentials()?;
        let mut prefix = [0u8; 4];
        entropy.fill(&mut prefix);
        let id_prefix = prefix.iter().map(|b| format!("{b:02x}")).collect();
        let max_unacked = config.limits.max_unacked_stanzas;
        Ok(Client {
            session: Session::new(config.limits),
            cx: Context {
                presence: config.presence,
                status: config.status.clone(),
                client_active: config.client_active,
                scram_cache: config.scram_cache.clone(),
                feature_cache: config.feature_cache.clone(),
                fast_token: config.fast_token.clone(),
                resumption: config
                    .resumption
                    .clone()
                    .filter(|_| config.stream_management)
                    .map(Box::new),
                credentials,
                own_caps: config.caps(),
                // Our own capabilities are known (an echo of our presence, or another
                // resource running the same client, needs no query).
                caps_cache: {
                    let mut cache = config.caps_cache.clone();
                    cache.insert(config.caps().ver, config.disco_info().features);
                    cache
                },
                config,
                entropy,
                out: Outbox::new(id_prefix, max_unacked),
            },
        })
    }

    // ----- (A) getters -----

    /// Where the session is.
    pub fn state(&self) -> SessionState {
        self.session.public()
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.session.is_closed()
    }

    /// Whether the connection is a WebSocket ([`Transport::WebSocket`]): input and output
    /// go message by message ([`handle_message`](Self::handle_message),
    /// [`poll_message`](Self::poll_message)).
    pub fn is_websocket(&self) -> bool {
        self.cx.out.is_websocket()
    }

    /// The account's current availability (what was last set, sent or not).
    pub fn presence(&self) -> Presence {
        self.cx.presence
    }

    /// The account's current status text.
    pub fn status(&self) -> &str {
        &self.cx.status
    }

    /// The client state (XEP-0352) as last set: `true` active, `false` inactive (sent or
    /// not: only a server that offers CSI is told).
    pub fn client_active(&self) -> bool {
        self.cx.client_active
    }

    /// The full JID the server bound, from binding until the session ends.
    pub fn bound_jid(&self) -> Option<&FullJid> {
        self.session.bound_jid()
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &Config {
        &self.cx.config
    }

    /// The SCRAM keys this client's logins verified (and those it was given in
    /// [`Config::scram_cache`]): carry them to the next client's config so that its login
    /// skips PBKDF2.
    pub fn scram_cache(&self) -> &ScramCache {
        &self.cx.scram_cache
    }

    /// What the server offered for authentication (the config's cache until this session's
    /// features arrive): carry it to the next client's [`Config::feature_cache`] so that its
    /// login sends the SASL initial response without waiting for the features.
    pub fn feature_cache(&self) -> Option<&FeatureCache> {
        self.cx.feature_cache.as_ref()
    }

    /// The FAST token (XEP-0484) to log in with next time: the config's, or the one the
    /// server issued or rotated in this session ([`Event::FastTokenUpdated`]); `None` once
    /// the server refused it (a server that no longer offers FAST has not: the token is
    /// kept). A credential: persist it as such.
    pub fn fast_token(&self) -> Option<&FastToken> {
        self.cx.fast_token.as_ref()
    }

    /// What the next connection needs to resume this session (XEP-0198 stream management):
    /// set once the session ended by losing its connection (end of file, a dead link) while
    /// the server allowed resumption, or when this client's own resumption was not tried
    /// yet. Give it to the next client's [`Config::resumption`]; the adapters do. `None`
    /// after a clean close: nothing is left to resume.
    pub fn resumption(&self) -> Option<&Resumption> {
        self.session.resumption()
    }

    /// The roster as last fetched and pushed (after the end: as the session last knew it,
    /// for the next session's [`Config::roster_cache`]).
    pub fn roster(&self) -> &Roster {
        self.session.roster()
    }

    /// The block list (XEP-0191) as the server last said it, kept up to date by its pushes:
    /// `None` until [`request_blocklist`](Self::request_blocklist) was answered (the server
    /// pushes changes only to resources that asked for the list), and once the session
    /// ended. At most [`Config::max_blocklist`](crate::Config::max_blocklist) JIDs.
    pub fn blocklist(&self) -> Option<&BTreeSet<Jid>> {
        self.session.data()?.blocklist.as_ref()
    }

    /// Whether `jid` supports `feature` (a disco feature such as `urn:xmpp:receipts`), from
    /// the verified capabilities its presence announced: a full JID asks that resource, a
    /// bare JID any of its online resources. `None` when nothing is known yet.
    pub fn supports(&self, jid: &Jid, feature: &str) -> Option<bool> {
        self.session.data()?.supports(jid, feature, &self.cx)
    }

    /// The capabilities this client verified (and those of the config): persist it and
    /// pass it in [`Config::caps_cache`](crate::Config::caps_cache) next time.
    pub fn caps_cache(&self) -> &CapsCache {
        &self.cx.caps_cache
    }

    /// The latest available presence of each resource of `contact` (cleared when a
    /// resource goes unavailable and when the session ends).
    pub fn contact_presences(&self, contact: &BareJid) -> Vec<&IncomingPresence> {
        self.session.contact_presences(contact)
    }

    /// The resource of `contact` to prefer: highest priority, then most available
    /// (chat, away, extended away, do not disturb).
    pub fn best_presence(&self, contact: &BareJid) -> Option<&IncomingPresence> {
        self.contact_presences(contact)
            .into_iter()
            .max_by_key(|p| (p.priority, availability_rank(p.availability)))
    }

    /// Bytes the client holds because of the peer: the unfinished element the stream
    /// reader is building, plus output not yet drained. For tests that check memory stays
    /// within [`Limits`](crate::Limits); not a stable API.
    #[doc(hidden)]
    pub fn buffered_bytes(&self) -> usize {
        self.session.buffered_bytes() + self.cx.out.pending_bytes()
    }

    // ----- (B) inputs -----

    /// Feeds bytes read from the transport (any chunk of the stream). On a WebSocket
    /// transport each call is one whole message, as [`handle_message`](Self::handle_message).
    ///
    /// Input before [`connect`](Self::connect) or after the session ended is ignored.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        if self.cx.out.is_websocket() {
            self.session.handle_message(now, data, &mut self.cx);
            self.session.settle(now, &mut self.cx);
            return;
        }
        self.session.handle_input(now, data, &mut self.cx);
        self.session.settle(now, &mut self.cx);
    }

    /// One WebSocket message from the server (RFC 7395), whole: the transport says where
    /// messages begin and end, the core never guesses. A message that is not exactly one
    /// complete element ends the session with a `bad-format` stream error. Refused with
    /// [`UsageError::NotWebSocket`] on a TCP transport (use
    /// [`handle_input`](Self::handle_input) there); on a WebSocket, `handle_input` takes
    /// one message per call too.
    pub fn handle_message(&mut self, now: Instant, message: &[u8]) -> Result<(), UsageError> {
        if !self.cx.out.is_websocket() {
            return Err(UsageError::NotWebSocket);
        }
        self.session.handle_message(now, message, &mut self.cx);
        self.session.settle(now, &mut self.cx);
        Ok(())
    }

    /// The transport reached end of file.
    pub fn handle_eof(&mut self, now: Instant) {
        self.session.handle_eof(now, &mut self.cx);
        self.session.settle(now, &mut self.cx);
    }

    /// Fires the timers due at `now`. Harmless when called early.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.session.handle_timeout(now, &mut self.cx);
        self.session.settle(now, &mut self.cx);
    }

    /// The adapter finished the TLS handshake that [`Action::StartTls`] asked for.
    ///
    /// `channel_binding` carries the data SCRAM `-PLUS` needs (`tls-exporter` on TLS 1.3,
    /// `tls-server-end-point` from the certificate); `None` disables `-PLUS`.
    pub fn tls_established(
        &mut self,
        now: Instant,
        channel_binding: Option<ChannelBinding>,
    ) -> Result<(), UsageError> {
        self.command(now, |s, cx| s.tls_established(now, channel_binding, cx))
    }

    /// The adapter's TLS handshake failed (for example, the certificate did not verify).
    /// Ends the session; reconnecting will not help.
    pub fn tls_failed(
        &mut self,
        now: Instant,
        message: impl Into<String>,
    ) -> Result<(), UsageError> {
        let message = message.into();
        self.command(now, |s, cx| s.tls_failed(now, message, cx))
    }

    // ----- (C) commands: the session -----

    /// Opens the stream. Call once, right after the transport is connected.
    pub fn connect(&mut self, now: Instant, transport: Transport) -> Result<(), UsageError> {
        let link = match transport {
            Transport::Plain => Link::default(),
            Transport::DirectTls(binding) => Link { tls: true, binding },
            Transport::WebSocket { secure } => {
                if self.session.public() == SessionState::Disconnected {
                    self.cx.out.use_websocket_framing();
                }
                Link {
                    tls: secure,
                    binding: None,
                }
            }
        };
        self.command(now, |s, cx| s.connect(now, link, cx))
    }

    /// Closes the session: the policy answers open subscription requests, then unavailable
    /// presence (when online), `</stream:stream>`, and a bounded wait for the server's close
    /// (see [`Timeouts::close`](crate::Timeouts::close)).
    pub fn close(&mut self, now: Instant) -> Result<(), UsageError> {
        self.command(now, |s, cx| s.close(now, cx))
    }

    // ----- (C) commands: the account's presence -----

    /// Sets the availability. Online, one presence stanza goes out at once with the current
    /// status; before or during login the value only changes what the initial presence will
    /// carry. Setting the current value sends nothing.
    pub fn set_presence(&mut self, now: Instant, presence: Presence) -> Result<(), UsageError> {
        let status = self.cx.status.clone();
        self.change_presence(now, presence, &status)
    }

    /// Sets the status text (any text, `""` clears it). Same rules as
    /// [`set_presence`](Self::set_presence); text XML cannot carry is a
    /// [`UsageError::InvalidText`].
    pub fn set_status(&mut self, now: Instant, status: &str) -> Result<(), UsageError> {
        let presence = self.cx.presence;
        self.change_presence(now, presence, status)
    }

    /// Sets availability and status together; online, exactly one stanza goes out (none when
    /// both equal the current values).
    pub fn change_presence(
        &mut self,
        now: Instant,
        presence: Presence,
        status: &str,
    ) -> Result<(), UsageError> {
        self.command(now, |s, cx| s.change_presence(presence, status, cx))
    }

    /// Sends the account's current presence to one JID (directed presence, RFC 6121
    /// section 4.6), for example to join a room or to show a non-contact we are here.
    pub fn send_directed_presence(&mut self, now: Instant, to: &Jid) -> Result<(), UsageError> {
        self.command(now, |s, cx| s.send_directed_presence(to, cx))
    }

    /// Replaces the features the application handles itself
    /// ([`Config::extra_features`](crate::Config::extra_features)): the capabilities'
    /// `ver` is recomputed and, online and available, announced at once with the current
    /// presence (one stanza), so contacts learn the change. Features that cannot be
    /// announced (a duplicate of the same text is fine; a `<` or a character XML cannot
    /// carry is not) are refused and nothing changes.
    pub fn set_extra_features(
        &mut self,
        now: Instant,
        features: Vec<String>,
    ) -> Result<(), UsageError> {
        self.command(now, |s, cx| s.set_extra_features(features, cx))
    }

    /// Sets the client state (XEP-0352 client state indication): `false` when the user is
    /// not looking (the application went to the background), `true` when they are again.
    /// Like [`set_presence`](Self::set_presence) it may be called before `connect` or
    /// during login: the value applies once online. Online, a server that offers CSI is
    /// told at once with a nonza that stream management does not count; setting the
    /// current value sends nothing. A new session starts active at the server, so the
    /// state goes out on entering it only when inactive; a resumed session keeps the state
    /// the server was told (only a change made since goes out). A server that does not
    /// offer CSI is told nothing, and that is no error.
    pub fn set_client_active(&mut self, now: Instant, active: bool) -> Result<(), UsageError> {
        self.command(now, |s, cx| s.set_client_active(active, cx))
    }

    // ----- (C) commands: stanzas -----

    /// Sends a stanza the application built (message, IQ, directed presence).
    ///
    /// Needs an online session. Broadcast presence (a `<presence/>` without `to`) is refused
    /// with [`UsageError::UsePresenceApi`] so that [`presence`](Self::presence) stays true;
    /// an element XML cannot carry is refused with [`UsageError::InvalidElement`].
    pub fn send(&mut self, now: Instant, stanza: &Element) -> Result<(), UsageError> {
        self.command(now, |s, cx| s.send(stanza, cx))
    }

    // ----- (C) commands: messages (online) -----

    /// Sends `body` to `to` as a message of type `kind`; returns the message's id (which a
    /// [`Event::Receipt`] or [`Event::MessageError`] names later). A receipt (XEP-0184) is
    /// requested when [`Config::receipts`](crate::Config::receipts) is on and the contact's
    /// capabilities say it answers.
    pub fn send_message(
        &mut self,
        now: Instant,
        to: &Jid,
        body: &str,
        kind: MessageType,
    ) -> Result<String, UsageError> {
        self.command(now, |s, cx| {
            s.online()?.send_message(to, body, kind, None, cx)
        })
    }

    /// [`send_message`](Self::send_message) with the application's own `id` (non-empty),
    /// for an adapter or application that names its messages itself.
    pub fn send_message_with_id(
        &mut self,
        now: Instant,
        to: &Jid,
        body: &str,
        kind: MessageType,
        id: &str,
    ) -> Result<(), UsageError> {
        self.command(now, |s, cx| {
            s.online()?
                .send_message(to, body, kind, Some(id), cx)
                .map(drop)
        })
    }

    /// Asks `jid` what the capabilities its presence announced stand for (XEP-0115), for
    /// [`CapsPolicy::OnDemand`](crate::CapsPolicy::OnDemand). Nothing is sent when they are
    /// cached or already asked, or when `jid` announced none.
    pub fn query_caps(&mut self, now: Instant, jid: &Jid) -> Result<(), UsageError> {
        self.command(now, |s, cx| {
            let data = s.online()?;
            let announced: Vec<(Jid, Caps)> = data
                .contact_presences(&jid.to_bare())
                .into_iter()
                .filter(|p| jid.resource().is_none() || p.from == *jid)
                .filter_map(|p| Some((p.from.clone(), p.caps.clone()?)))
                .collect();
            for (from, caps) in announced {
                data.query_caps(&from, &caps, cx);
            }
            Ok(())
        })
    }

    // ----- (C) commands: the roster (online) -----

    /// Adds `jid` to the roster (or updates it) with `name` and `groups`, and asks for a
    /// subscription to its presence, as IPWorks `Add` does.
    pub fn add_contact(
        &mut self,
        now: Instant,
        jid: &BareJid,
        name: Option<&str>,
        groups: &[String],
    ) -> Result<(), UsageError> {
        self.command(now, |s, cx| s.online()?.add_contact(jid, name, groups, cx))
    }

    /// Adds or updates a roster item without touching subscriptions.
    pub fn update_contact(
        &mut self,
        now: Instant,
        jid: &BareJid,
        name: Option<&str>,
        groups: &[String],
    ) -> Result<(), UsageError> {
        self.command(now, |s, cx| {
            s.online()?.update_contact(jid, name, groups, cx)
        })
    }

    /// Removes `jid` from the roster (the server also cancels subscriptions both ways).
    pub fn remove_contact(&mut self, now: Instant, jid: &BareJid) -> Result<(), UsageError> {
        self.command(now, |s, cx| {
            s.online()?.remove_contact(jid, cx);
            Ok(())
        })
    }

    // ----- (C) commands: blocking (online) -----

    /// Asks the server for the block list (XEP-0191, which advises it right after login):
    /// [`Event::Blocklist`] answers, or [`Event::BlockingFailed`]. From then on the server
    /// pushes every change ([`Event::Blocked`], [`Event::Unblocked`]) and
    /// [`blocklist`](Self::blocklist) follows them.
    pub fn request_blocklist(&mut self, now: Instant) -> Result<(), UsageError> {
        self.command(now, |s, cx| {
            s.online()?.request_blocklist(cx);
            Ok(())
        })
    }

    /// Blocks `jids` (bare, full or domain JIDs): the server drops what they send and
    /// hides our presence from them. Success is reported by the server's push,
    /// [`Event::Blocked`] (sent to resources that requested the list), a refusal by
    /// [`Event::BlockingFailed`]. No JID at all is refused with
    /// [`UsageError::NothingToBlock`].
    pub fn block(&mut self, now: Instant, jids: &[Jid]) -> Result<(), UsageError> {
        self.command(now, |s, cx| s.online()?.change_blocking(true, jids, cx))
    }

    /// Unblocks `jids`; with none, every blocked JID (XEP-0191 section 3.5). Reported like
    /// [`block`](Self::block), by [`Event::Unblocked`] or [`Event::BlockingFailed`].
    pub fn unblock(&mut self, now: Instant, jids: &[Jid]) -> Result<(), UsageError> {
        self.command(now, |s, cx| s.online()?.change_blocking(false, jids, cx))
    }

    // ----- (C) commands: subscriptions (online) -----

    /// Asks to see `jid`'s presence (`subscribe`).
    pub fn subscribe(&mut self, now: Instant, jid: &BareJid) -> Result<(), UsageError> {
        self.presence_to(now, "subscribe", jid.as_str())
    }

    /// Stops seeing `jid`'s presence (`unsubscribe`).
    pub fn unsubscribe(&mut self, now: Instant, jid: &BareJid) -> Result<(), UsageError> {
        self.presence_to(now, "unsubscribe", jid.as_str())
    }

    /// Lets `jid` see our presence (`subscribed`): answers its request, or pre-approves it
    /// when the server supports pre-approval (RFC 6121 section 3.4).
    pub fn approve(&mut self, now: Instant, jid: &BareJid) -> Result<(), UsageError> {
        self.command(now, |s, cx| s.online()?.approve(jid, cx))
    }

    /// Refuses `jid`'s subscription request (`unsubscribed`).
    pub fn deny(&mut self, now: Instant, jid: &BareJid) -> Result<(), UsageError> {
        self.command(now, |s, cx| {
            s.online()?.deny(jid, cx);
            Ok(())
        })
    }

    /// Takes back `jid`'s permission to see our presence (`unsubscribed`).
    pub fn cancel(&mut self, now: Instant, jid: &BareJid) -> Result<(), UsageError> {
        self.deny(now, jid)
    }

    /// Asks the server for `jid`'s current presence (`probe`). RFC 6121 advises clients not
    /// to probe; the core never does on its own.
    pub fn probe(&mut self, now: Instant, jid: &Jid) -> Result<(), UsageError> {
        self.presence_to(now, "probe", jid.as_str())
    }

    // ----- (D) outputs -----

    /// Appends the bytes to write to `buf`; returns how many were appended. On a WebSocket
    /// transport, one message per call (see [`poll_message`](Self::poll_message)).
    #[must_use]
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        self.cx.out.poll_transmit(buf)
    }

    /// The next WebSocket message to send, appended to `buf`; returns its length, 0 when
    /// none waits. Call it until it returns 0, sending each as one message (`buf` cleared
    /// in between). On TCP it gives all the bytes, as [`poll_transmit`](Self::poll_transmit)
    /// does, which on a WebSocket gives one message per call.
    pub fn poll_message(&mut self, buf: &mut Vec<u8>) -> usize {
        self.cx.out.poll_message(buf)
    }

    /// The next action for the transport.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.cx.out.poll_action()
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.cx.out.poll_event()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.cx.out.timers.next()
    }

    // ----- plumbing -----

    /// Runs a command on the state machine, then lets it settle (new stream, keepalive).
    fn command<T>(
        &mut self,
        now: Instant,
        run: impl FnOnce(&mut Session, &mut Context) -> Result<T, UsageError>,
    ) -> Result<T, UsageError> {
        let result = run(&mut self.session, &mut self.cx);
        self.session.settle(now, &mut self.cx);
        result
    }

    fn presence_to(&mut self, now: Instant, kind: &str, to: &str) -> Result<(), UsageError> {
        self.command(now, |s, cx| {
            s.online()?.send_subscription(kind, to, cx);
            Ok(())
        })
    }
}

/// Higher is more available.
fn availability_rank(p: Presence) -> u8 {
    match p {
        Presence::Chat => 4,
        Presence::Away => 3,
        Presence::ExtendedAway => 2,
        Presence::DoNotDisturb => 1,
        Presence::Offline => 0,
    }
}
