#!/usr/bin/env python3
"""Herald from Python: its C ABI (adapters/ffi/include/herald.h) through ctypes, stdlib only.

Logs in over TCP + STARTTLS with an initial presence, prints each event as a JSON line,
optionally changes the presence once online, then closes. The core does no I/O: this
script owns the socket, the TLS handshake and the clock, and feeds the core with them.

    cargo build -p herald-ffi
    HERALD_PASSWORD=alice-pw python3 examples/python/presence.py --jid alice@localhost/py \\
        --server 127.0.0.1:5222 --ca-file ca.pem --presence away --status "from Python" \\
        --then-presence dnd --then-status "still Python"

Exit status: 0 after the local close, else how the session ended (1 authentication,
3 TLS, 4 anything else, and 4 for a refused call or no connection).
"""
import argparse, ctypes, os, pathlib, socket, ssl, sys, time
from ctypes import POINTER, byref, c_bool, c_char_p, c_int32, c_size_t, c_uint8, c_uint64, c_void_p

READY = 1  # a poll handed something out (HERALD_OK, 0: nothing); errors are negative
PRESENCES = {"offline": 0, "chat": 1, "away": 2, "xa": 3, "dnd": 4}  # HERALD_PRESENCE_*
TRANSPORT_TCP, ACTION_START_TLS, ACTION_CLOSE_TRANSPORT = 0, 1, 2
EVENT_ONLINE, EVENT_DISCONNECTED = 2, 20
IO_TIMEOUT = 20  # seconds, for connecting, sending and the TLS handshake


class herald_str(ctypes.Structure):  # UTF-8 and its length (the library's: NUL-terminated too)
    _fields_ = [("ptr", c_void_p), ("len", c_size_t)]

    def text(self):
        return ctypes.string_at(self.ptr, self.len).decode() if self.len else ""


def herald_arg(data: bytes):  # a herald_str over `data`, which must outlive its use
    return herald_str(ctypes.cast(c_char_p(data), c_void_p), len(data))


class herald_bytes(ctypes.Structure):
    _fields_ = [("ptr", POINTER(c_uint8)), ("len", c_size_t)]


class herald_channel_binding(ctypes.Structure):
    _fields_ = [("tls_exporter", herald_bytes), ("tls_server_end_point", herald_bytes),
                ("tls_unique", herald_bytes)]


class herald_config(ctypes.Structure):
    _fields_ = [("jid", herald_str), ("password", herald_str), ("presence", c_int32),
                ("status", herald_str), ("priority", c_int32), ("tls", c_int32),
                ("subscriptions", c_int32), ("subscription_window_ms", c_uint64),
                ("entropy_source", c_int32),
                ("entropy", ctypes.CFUNCTYPE(c_int32, c_void_p, POINTER(c_uint8), c_size_t)),
                ("entropy_ctx", c_void_p), ("seed", c_uint64)]


class herald_action(ctypes.Structure):  # server_name: valid until the next poll_action
    _fields_ = [("kind", c_int32), ("server_name", herald_str)]


class herald_event(ctypes.Structure):  # strings: valid until the next poll_event
    _fields_ = [("kind", c_int32), ("json", herald_str), ("jid", herald_str),
                ("state", c_int32), ("presence", c_int32), ("status", herald_str),
                ("priority", c_int32), ("code", herald_str), ("text", herald_str),
                ("end", c_int32), ("flag", c_bool), ("count", c_uint64)]


class HeraldError(Exception):
    pass


def load_library():
    root = pathlib.Path(__file__).resolve().parents[2]
    path = os.environ.get("HERALD_FFI_LIB", str(root / "target/debug/libherald_ffi.so"))
    lib = ctypes.CDLL(path)
    lib.herald_last_error.argtypes, lib.herald_last_error.restype = [], herald_str
    lib.herald_client_free.argtypes, lib.herald_client_free.restype = [c_void_p], None

    def check(code, fn, _args):  # every call returns a code: raise on a negative one
        if code < 0:
            raise HeraldError(f"{fn.__name__}: {code}: {lib.herald_last_error().text()}")
        return code

    client, now, text, binding = c_void_p, c_uint64, c_char_p, POINTER(herald_channel_binding)
    for name, argtypes in {
        "herald_config_init": [POINTER(herald_config)],
        "herald_client_new": [POINTER(herald_config), POINTER(c_void_p)],
        "herald_connect": [client, now, c_int32, binding],
        "herald_tls_established": [client, now, binding],
        "herald_tls_failed": [client, now, text, c_size_t],
        "herald_handle_input": [client, now, text, c_size_t],  # uint8_t *: bytes as they are
        "herald_handle_eof": [client, now],
        "herald_handle_timeout": [client, now],
        "herald_change_presence": [client, now, c_int32, text, c_size_t],
        "herald_close": [client, now],
        "herald_poll_transmit": [client, POINTER(c_uint8), c_size_t, POINTER(c_size_t)],
        "herald_poll_action": [client, POINTER(herald_action)],
        "herald_poll_event": [client, POINTER(herald_event)],
        "herald_poll_timeout": [client, POINTER(c_uint64)],
    }.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype, fn.errcheck = argtypes, c_int32, check
    return lib


def now_ms():  # the caller's monotonic clock, in milliseconds
    return time.monotonic_ns() // 1_000_000


def receive(sock, wait):
    """What the server sends within `wait` seconds (None: no limit): bytes; b"" for the end
    of the stream (or a broken connection); None when the time is up."""
    if wait is not None and wait <= 0:
        return None
    if not sock:
        return b""
    sock.settimeout(wait)
    try:
        return sock.recv(65536)
    except TimeoutError:
        return None
    except OSError as e:  # reset, TLS alert, ...
        print(f"transport: {e}", file=sys.stderr)
        return b""
    finally:
        sock.settimeout(IO_TIMEOUT)


def run(lib, client, args):
    """Drives the session on one blocking socket; returns how it ended (HERALD_END_*)."""
    host, port = args.server.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=IO_TIMEOUT)
    lib.herald_connect(client, now_ms(), TRANSPORT_TCP, None)
    buf, written = (c_uint8 * 16384)(), c_size_t()
    action, event, deadline = herald_action(), herald_event(), c_uint64()
    end = None
    while end is None:
        # After every input or command: send the bytes, do the actions, handle the events;
        # again while an action or event (and the commands it led to) gave more work.
        busy = True
        while busy:
            busy = False
            while lib.herald_poll_transmit(client, buf, len(buf), byref(written)) == READY:
                try:
                    if sock:
                        sock.sendall(memoryview(buf)[: written.value])
                except OSError as e:  # the next read tells the core
                    print(f"transport: {e}", file=sys.stderr)
                    sock.close()
                    sock = None
            while lib.herald_poll_action(client, byref(action)) == READY:
                busy = True
                if action.kind == ACTION_START_TLS:
                    # Python's ssl cannot export keying material (tls-exporter): no channel
                    # binding (None), so SCRAM without -PLUS.
                    context = ssl.create_default_context(cafile=args.ca_file)
                    name = action.server_name.text()
                    try:
                        sock = context.wrap_socket(sock, server_hostname=name)
                    except OSError as e:  # e.g. the certificate did not verify
                        sock, message = None, str(e).encode()
                        lib.herald_tls_failed(client, now_ms(), message, len(message))
                    else:
                        lib.herald_tls_established(client, now_ms(), None)
                elif action.kind == ACTION_CLOSE_TRANSPORT and sock:
                    sock.close()
                    sock = None
            while lib.herald_poll_event(client, byref(event)) == READY:
                busy = True
                if event.json.len:  # empty for a stanza (its XML is in event.text)
                    print(event.json.text(), flush=True)
                if event.kind == EVENT_ONLINE:
                    if args.then_presence:
                        presence = PRESENCES[args.then_presence]
                        status = args.then_status.encode()
                        lib.herald_change_presence(client, now_ms(), presence, status, len(status))
                    lib.herald_close(client, now_ms())
                elif event.kind == EVENT_DISCONNECTED:
                    end = event.end
        if end is None:
            # Wait for input, at most until the core's next deadline (none: input only).
            wait = None
            if lib.herald_poll_timeout(client, byref(deadline)) == READY:
                wait = (deadline.value - now_ms()) / 1000
            data = receive(sock, wait)
            if data is None:
                lib.herald_handle_timeout(client, now_ms())
            elif data:
                lib.herald_handle_input(client, now_ms(), data, len(data))
            else:  # a read of 0 bytes is the end of the stream
                lib.herald_handle_eof(client, now_ms())
    if sock:
        sock.close()
    return end


def main():
    p = argparse.ArgumentParser(description="Log in, set a presence, close.")
    p.add_argument("--jid", required=True)
    p.add_argument("--server", required=True, help="HOST:PORT")
    p.add_argument("--ca-file", help="PEM file of the CAs to trust (default: the system's)")
    p.add_argument("--presence", choices=PRESENCES, default="chat")
    p.add_argument("--status", default="")
    p.add_argument("--then-presence", choices=PRESENCES, help="once online, change to this")
    p.add_argument("--then-status", default="")
    args = p.parse_args()
    password = os.environ.get("HERALD_PASSWORD")
    if password is None:
        print("set HERALD_PASSWORD", file=sys.stderr)
        return 4

    try:
        lib = load_library()
    except OSError as e:
        print(f"{e} (build it: cargo build -p herald-ffi)", file=sys.stderr)
        return 4
    client = c_void_p()  # herald_client *: null until herald_client_new
    try:
        config = herald_config()
        lib.herald_config_init(byref(config))  # the defaults; then our fields
        jid, pw, status = args.jid.encode(), password.encode(), args.status.encode()
        config.jid, config.password = herald_arg(jid), herald_arg(pw)
        config.status, config.presence = herald_arg(status), PRESENCES[args.presence]
        lib.herald_client_new(byref(config), byref(client))  # copies what config points to
        return run(lib, client, args)
    except (HeraldError, OSError) as e:  # a refused call, or no connection
        print(e, file=sys.stderr)
        return 4
    finally:
        lib.herald_client_free(client)  # null does nothing


if __name__ == "__main__":
    sys.exit(main())
