//! Cuts and reconnections in memory, for stream management (XEP-0198) and any other test of
//! a connection that breaks: the link dies without a close either way, and the next
//! connection is a new [`Pair`] on the same server profile (its SM sessions, FAST tokens,
//! roster, clock), with a client the test configures.
//!
//! ```no_run
//! # use herald_testkit::{Pair, ServerProfile, config_for};
//! let profile = ServerProfile::stream_management();
//! let mut pair = Pair::with_profile(profile.clone());
//! pair.connect();
//! pair.cut().drive();
//! // bob writes while alice is away: the resume must deliver it.
//! pair.server.send_stanza("<message from='bob@localhost/x'><body>hi</body></message>");
//! let config = config_for(&profile); // plus the resumption state, once the core has it
//! let mut next = pair.reconnect_with(config);
//! next.connect();
//! ```

use std::time::Duration;

use herald_core::{Client, Config, SeededEntropy};

use super::Pair;

impl Pair {
    /// The connection breaks, as a reset would: the server loses it (what it had not
    /// delivered is gone, and a resumable SM session is cut, to wait in the profile's
    /// store; see [`ScriptedServer::connection_lost`](crate::ScriptedServer::connection_lost)),
    /// nothing more crosses either way, and the client is told by `handle_eof` (the
    /// adapter's view of a reset). No `</stream:stream>` either way. Without driving.
    pub fn cut(&mut self) -> &mut Self {
        self.cut_silently();
        self.eof()
    }

    /// The link goes dead and nobody is told: the server loses the connection as with
    /// [`cut`](Self::cut), and whatever the client writes from now on goes nowhere, while
    /// the client waits (a dead link it has to find out by itself, with its timers; the test
    /// may still call [`eof`](Self::eof) later).
    pub fn cut_silently(&mut self) -> &mut Self {
        self.server.connection_lost();
        self.severed = true;
        self
    }

    /// Whether the connection was cut ([`cut`](Self::cut), [`cut_silently`](Self::cut_silently),
    /// or a reconnection from this pair).
    pub fn is_cut(&self) -> bool {
        self.severed
    }

    /// The next connection: a new pair whose server plays this one's profile as it is now
    /// (its SM sessions, with this connection's cut first if it was not; FAST tokens;
    /// roster; clock), with a new client made from `config`, not yet connected. The virtual
    /// clock, the chunking and the channel binding carry over.
    pub fn reconnect_with(&mut self, config: Config) -> Pair {
        let client = Client::new(config, SeededEntropy::new(42)).expect("valid config");
        self.reconnect_with_client(client)
    }

    /// [`reconnect_with`](Self::reconnect_with) around a client built elsewhere.
    pub fn reconnect_with_client(&mut self, client: Client) -> Pair {
        self.cut_silently();
        let mut next = Pair::with_client(self.server.profile.clone(), client);
        next.now = self.now;
        next.chunking = self.chunking;
        next.channel_binding = self.channel_binding.clone();
        next
    }

    /// [`reconnect_with`](Self::reconnect_with) after `gap` without a connection: the next
    /// pair's virtual clock and its server's wall clock
    /// ([`ServerProfile::clock`](crate::ServerProfile::clock), whole seconds, which the
    /// SM window is counted on) are `gap` later.
    pub fn reconnect_after(&mut self, gap: Duration, config: Config) -> Pair {
        let mut next = self.reconnect_with(config);
        next.now += gap;
        next.server.profile.clock += gap.as_secs();
        next
    }

    /// The server sends a stanza, counted by stream management (unlike
    /// [`server_says`](Self::server_says)), then the pair drives.
    pub fn server_sends(&mut self, stanza: &str) -> &mut Self {
        self.server.send_stanza(stanza);
        self.drive()
    }
}
