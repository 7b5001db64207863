//! Client state indication (XEP-0352): the application's client state, kept in the
//! [`Context`], goes to a server that offers CSI once the session is online, and again at
//! each change. A new session starts active at the server, so only an inactive state goes
//! out on entering it; a resumed session keeps what the server was told on the previous
//! connection, so only a change made since goes out. `<active/>` and `<inactive/>` are
//! nonzas: stream management does not count them.

use crate::stanza::csi::nonza;

use super::super::context::Context;
use super::SessionData;

impl SessionData {
    /// The session is online: from now on the client state may go out (a new session
    /// starts active at the server).
    pub(super) fn start_client_state(&mut self, cx: &mut Context) {
        self.csi_state.get_or_insert(true);
        self.sync_client_state(cx);
    }

    /// Tells the server the application's client state when the session is online, the
    /// server offers CSI, and it was last told otherwise.
    pub(crate) fn sync_client_state(&mut self, cx: &mut Context) {
        let Some(told) = self.csi_state else {
            return;
        };
        if !self.server.csi || told == cx.client_active {
            return;
        }
        cx.out.write_raw(nonza(cx.client_active));
        self.csi_state = Some(cx.client_active);
    }
}
