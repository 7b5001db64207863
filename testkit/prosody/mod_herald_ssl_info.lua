-- mod_herald_ssl_info: lets Debian's prosody-modules SASL2 (a 2023 snapshot) run on Prosody
-- 0.12.3, for Herald's tests only.
--
-- mod_sasl2 asks the connection for `conn:ssl_info()` (and `conn:ssl_peerfinished()` for
-- tls-unique) while it builds the stream features. Those methods came with a newer
-- net.server; 0.12's connections only reach LuaSec through `conn:socket()`. Without them the
-- features hook raises, and every client stream after TLS gets a header and never its
-- <stream:features/>. This module hands each c2s connection the two methods, read from the
-- LuaSec socket, before mod_sasl2's hook (priority 1) runs.

local function luasec(conn)
	local sock = conn.socket and conn:socket();
	if type(sock) == "userdata" or type(sock) == "table" then
		return sock;
	end
end

local function ssl_info(conn)
	local sock = luasec(conn);
	if sock and sock.info then
		return sock:info();
	end
end

local function ssl_peerfinished(conn)
	local sock = luasec(conn);
	if sock and sock.getpeerfinished then
		return sock:getpeerfinished();
	end
end

module:hook("stream-features", function(event)
	local conn = event.origin.conn;
	if conn and not conn.ssl_info then
		conn.ssl_info = ssl_info;
		conn.ssl_peerfinished = ssl_peerfinished;
	end
end, 1000);
