/* presence.c: an XMPP presence client in plain C over Herald's C ABI (herald.h).
 *
 * The library is sans-IO: it owns no socket, no thread and no clock. This program owns
 * them: a POSIX socket (non-blocking) watched with poll(), OpenSSL for STARTTLS, standard
 * input for commands, and CLOCK_MONOTONIC for the time. It drives the client with the
 * run-loop rule: after every input or command, drain
 *   1. herald_poll_transmit: bytes to write (through SSL_write once TLS is up);
 *   2. herald_poll_action:   START_TLS (do the handshake) or CLOSE_TRANSPORT (close);
 *   3. herald_poll_event:    print each event's JSON line;
 *   4. herald_poll_timeout:  the deadline for poll(), then herald_handle_timeout.
 *
 * It takes the `herald` CLI's basic contract:
 *   HERALD_PASSWORD=secret ./presence --jid alice@example.org --server HOST:PORT \
 *       [--ca-file PEM] [--presence chat|away|xa|dnd|offline|0-4] [--status TEXT]
 *       [--priority N]
 * Standard input, one command per line:
 *   presence VALUE [STATUS TEXT...]   availability (and status, when given) in one stanza
 *   status [TEXT...]                  the status text (no text clears it)
 *   quit                              close the session and exit (so does end of input)
 * Standard output: one JSON object per line per event (as the CLI prints them).
 * Exit status: 0 clean quit, 1 authentication failed, 2 bad usage, 3 TLS or certificate
 * failure, 4 any other failure.
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "herald.h"

enum {
    EXIT_CLEAN = HERALD_END_LOCAL_CLOSE, /* 0 */
    EXIT_AUTH = HERALD_END_AUTH,         /* 1 */
    EXIT_USAGE = 2,
    EXIT_TLS = HERALD_END_TLS,     /* 3 */
    EXIT_OTHER = HERALD_END_OTHER, /* 4 */
};

/* How long connecting (per address) and the last flush before closing may take. */
#define CONNECT_TIMEOUT_MS 10000
#define FLUSH_TIMEOUT_MS 2000

/* ---------------------------------------------------------------- small helpers */

/* Milliseconds on the monotonic clock: the library's time base. */
static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trims whitespace at both ends in place; returns the new start. */
static char *trim(char *s) {
    while (is_space(*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

/* Splits off the first word of `s` (already trimmed): NUL-terminates it and returns the
 * trimmed rest ("" when none). */
static char *split_word(char *s) {
    while (*s != '\0' && !is_space(*s)) {
        s++;
    }
    if (*s == '\0') {
        return s;
    }
    *s = '\0';
    return trim(s + 1);
}

/* The presence values of the interface: chat, away, xa, dnd, offline (any case) or 0-4;
 * -1 for anything else. */
static int parse_presence(const char *value) {
    static const char *const names[] = {"offline", "chat", "away", "xa", "dnd"};
    static const int numbers[] = {HERALD_PRESENCE_OFFLINE, HERALD_PRESENCE_CHAT,
                                  HERALD_PRESENCE_AWAY, HERALD_PRESENCE_XA,
                                  HERALD_PRESENCE_DND};
    char lower[16];
    size_t n = strlen(value);
    if (n == 0 || n >= sizeof lower) {
        return -1;
    }
    for (size_t i = 0; i <= n; i++) {
        char c = value[i];
        lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    for (size_t i = 0; i < 5; i++) {
        if (strcmp(lower, names[i]) == 0) {
            return numbers[i];
        }
    }
    if (n == 1 && lower[0] >= '0' && lower[0] <= '4') {
        return lower[0] - '0';
    }
    return -1;
}

/* Writes `s` as a JSON string (with quotes): `"` and `\` and control characters escaped,
 * invalid UTF-8 replaced by U+FFFD, so the line stays valid JSON. */
static void put_json_string(FILE *f, const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            i++;
        } else if (c == '\n') {
            fputs("\\n", f);
            i++;
        } else if (c == '\r') {
            fputs("\\r", f);
            i++;
        } else if (c == '\t') {
            fputs("\\t", f);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            fputc(c, f);
            i++;
        } else {
            /* A UTF-8 sequence: its length from the lead byte, then continuation bytes
             * (overlong forms and surrogates are refused too). */
            size_t need = 0;
            if (c >= 0xc2 && c <= 0xdf) {
                need = 2;
            } else if (c >= 0xe0 && c <= 0xef) {
                need = 3;
            } else if (c >= 0xf0 && c <= 0xf4) {
                need = 4;
            }
            bool ok = need > 0 && i + need <= len;
            for (size_t k = 1; ok && k < need; k++) {
                ok = (p[i + k] & 0xc0) == 0x80;
            }
            if (ok && need >= 3) {
                unsigned char c1 = p[i + 1];
                ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0) &&
                     !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
            }
            if (ok) {
                fwrite(p + i, 1, need, f);
                i += need;
            } else {
                fputs("\\ufffd", f);
                i++;
            }
        }
    }
    fputc('"', f);
}

/* An `error` event line, as the CLI prints one: {"event":"error","message":"..."}. */
static void print_error(const char *message, size_t len) {
    fputs("{\"event\":\"error\",\"message\":", stdout);
    put_json_string(stdout, message, len);
    fputs("}\n", stdout);
    fflush(stdout);
}

static void print_error_text(const char *message) {
    print_error(message, strlen(message));
}

/* The library's message for the error it just returned. */
static void print_last_error(void) {
    herald_str e = herald_last_error();
    print_error(e.ptr, e.len);
}

/* ---------------------------------------------------------------- options */

struct options {
    const char *jid;
    const char *server;
    const char *ca_file;
    const char *status;
    int presence;
    int priority;
};

static void usage_text(FILE *f) {
    fputs("usage: HERALD_PASSWORD=... presence --jid JID --server HOST[:PORT] [--ca-file PEM]\n"
          "         [--presence chat|away|xa|dnd|offline|0-4] [--status TEXT] [--priority N]\n"
          "standard input: presence VALUE [STATUS TEXT...] | status [TEXT...] | quit\n",
          f);
}

/* Prints a usage error on standard error; returns the exit status for it. */
static int usage_error(const char *what, const char *detail) {
    fprintf(stderr, "presence: %s%s\n", what, detail);
    usage_text(stderr);
    return EXIT_USAGE;
}

/* Parses the command line into `o`; returns -1 when it is fine, else the exit status
 * (0 for --help). Accepts `--name VALUE` and `--name=VALUE`. */
static int parse_options(int argc, char **argv, struct options *o) {
    static const char *const names[] = {"--jid",    "--server",   "--ca-file",
                                        "--status", "--presence", "--priority"};
    const char *presence = NULL, *priority = NULL;
    const char **slots[] = {&o->jid, &o->server, &o->ca_file, &o->status, &presence, &priority};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage_text(stdout);
            return 0;
        }
        size_t which = sizeof names / sizeof names[0];
        const char *value = NULL;
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            size_t n = strlen(names[k]);
            if (strncmp(arg, names[k], n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
                which = k;
                value = arg[n] == '=' ? arg + n + 1 : NULL;
                break;
            }
        }
        if (which == sizeof names / sizeof names[0]) {
            return usage_error("unknown argument: ", arg);
        }
        if (value == NULL) {
            if (i + 1 >= argc) {
                return usage_error("a value is missing after ", arg);
            }
            value = argv[++i];
        }
        *slots[which] = value;
    }
    if (o->jid == NULL) {
        return usage_error("--jid JID is required", "");
    }
    if (o->server == NULL) {
        return usage_error("--server HOST[:PORT] is required", "");
    }
    if (presence != NULL && (o->presence = parse_presence(presence)) < 0) {
        return usage_error("not a presence value (expected chat, away, xa, dnd, offline or 0-4): ",
                           presence);
    }
    if (priority != NULL) {
        char *end;
        errno = 0;
        long n = strtol(priority, &end, 10);
        if (errno != 0 || end == priority || *end != '\0' || n < -128 || n > 127) {
            return usage_error("--priority is not a number from -128 to 127: ", priority);
        }
        o->priority = (int)n;
    }
    return -1;
}

/* Splits HOST[:PORT] (or [V6]:PORT, or a bare IPv6 address) as the CLI does; the port
 * defaults to 5222. `host` gets a copy the caller frees. Returns false when malformed. */
static bool parse_host_port(const char *s, char **host, char port[6]) {
    const char *h = s, *p = NULL;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
            return false;
        }
        h = s + 1;
        hlen = (size_t)(close - h);
        p = close[1] == ':' ? close + 2 : NULL;
    } else {
        const char *colon = strrchr(s, ':');
        if (colon != NULL && memchr(s, ':', (size_t)(colon - s)) == NULL) {
            hlen = (size_t)(colon - s);
            p = colon + 1;
        } else {
            hlen = strlen(s); /* no colon, or a bare IPv6 address */
        }
    }
    if (hlen == 0) {
        return false;
    }
    if (p == NULL) {
        strcpy(port, "5222");
    } else {
        size_t n = strlen(p);
        if (n == 0 || n > 5 || strspn(p, "0123456789") != n || atol(p) > 65535) {
            return false;
        }
        memcpy(port, p, n + 1);
    }
    *host = malloc(hlen + 1);
    if (*host == NULL) {
        return false;
    }
    memcpy(*host, h, hlen);
    (*host)[hlen] = '\0';
    return true;
}

/* ---------------------------------------------------------------- the connection */

struct app {
    herald_client *client;
    int fd;        /* the socket; -1 once closed */
    SSL_CTX *ctx;  /* what certificates to trust */
    SSL *ssl;      /* the TLS connection, from START_TLS on */
    bool tls_up;   /* the handshake is done: bytes go through `ssl` */
    bool handshaking;
    short hs_wait;  /* what SSL_connect waits for: POLLIN or POLLOUT */
    char *tls_name; /* a START_TLS waiting for the plaintext output to drain */
    /* Bytes the library gave that the socket has not taken yet. */
    unsigned char *out;
    size_t out_len, out_cap;
    bool stdin_open;
    char *line; /* standard input read so far, not yet a whole line */
    size_t line_len, line_cap;
    bool ended; /* HERALD_EVENT_DISCONNECTED was seen */
    int status; /* the exit status */
};

/* Opens a non-blocking TCP connection to one of `host`'s addresses; -1 with a message on
 * failure. */
static int tcp_connect(const char *host, const char *port, char *err, size_t errlen) {
    struct addrinfo hints, *list = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    snprintf(err, errlen, "cannot connect to %s port %s", host, port);
    for (struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
            close(fd);
            fd = -1;
            continue;
        }
        int error = 0;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            error = errno;
            if (error == EINPROGRESS) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                int n;
                do {
                    n = poll(&p, 1, CONNECT_TIMEOUT_MS);
                } while (n < 0 && errno == EINTR);
                socklen_t len = sizeof error;
                if (n == 0) {
                    error = ETIMEDOUT;
                } else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0) {
                    error = errno;
                }
            }
        }
        if (error != 0) {
            snprintf(err, errlen, "cannot connect to %s port %s: %s", host, port,
                     strerror(error));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    return fd;
}

/* Closes the transport (a close_notify first when TLS is up). */
static void close_transport(struct app *a) {
    if (a->ssl != NULL) {
        if (a->tls_up) {
            (void)SSL_shutdown(a->ssl); /* best effort: non-blocking, no wait for the peer */
        }
        SSL_free(a->ssl);
        a->ssl = NULL;
    }
    if (a->fd >= 0) {
        close(a->fd);
        a->fd = -1;
    }
    a->tls_up = false;
    a->handshaking = false;
    free(a->tls_name);
    a->tls_name = NULL;
    a->out_len = 0;
}

/* Writes what the socket takes of `out`, keeping the rest. Returns false when the
 * connection failed (the caller reports the end of the stream). */
static bool flush_out(struct app *a) {
    size_t done = 0;
    while (done < a->out_len && a->fd >= 0) {
        size_t left = a->out_len - done;
        if (a->tls_up) {
            int chunk = left > INT_MAX ? INT_MAX : (int)left;
            int n = SSL_write(a->ssl, a->out + done, chunk);
            if (n > 0) {
                done += (size_t)n;
                continue;
            }
            int e = SSL_get_error(a->ssl, n);
            ERR_clear_error();
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                break;
            }
            return false;
        } else {
            ssize_t n = send(a->fd, a->out + done, left, MSG_NOSIGNAL);
            if (n >= 0) {
                done += (size_t)n;
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            } else if (errno != EINTR) {
                return false;
            }
        }
    }
    memmove(a->out, a->out + done, a->out_len - done);
    a->out_len -= done;
    return true;
}

/* Flushes, waiting up to FLUSH_TIMEOUT_MS: the last bytes before closing (the closing
 * `</stream:stream>` or an unavailable presence). */
static void flush_before_close(struct app *a) {
    uint64_t until = now_ms() + FLUSH_TIMEOUT_MS;
    while (a->out_len > 0 && a->fd >= 0 && !a->handshaking && a->tls_name == NULL) {
        if (!flush_out(a) || a->out_len == 0) {
            return;
        }
        uint64_t now = now_ms();
        if (now >= until) {
            return;
        }
        struct pollfd p = {.fd = a->fd, .events = POLLOUT};
        if (poll(&p, 1, (int)(until - now)) < 0 && errno != EINTR) {
            return;
        }
    }
}

/* ---------------------------------------------------------------- the run loop */

static void drain(struct app *a);
static void read_tls(struct app *a);

/* The connection failed under us: what the library calls the end of the stream. */
static void lost(struct app *a) {
    close_transport(a);
    herald_handle_eof(a->client, now_ms());
    drain(a);
}

/* Why the handshake failed, as text: the certificate check's verdict, else OpenSSL's
 * error queue. */
static void tls_error_text(SSL *ssl, int ret, char *buf, size_t len) {
    long verify = SSL_get_verify_result(ssl);
    unsigned long e = ERR_peek_last_error();
    if (verify != X509_V_OK) {
        snprintf(buf, len, "certificate verify failed: %s",
                 X509_verify_cert_error_string(verify));
    } else if (e != 0) {
        char reason[256];
        ERR_error_string_n(e, reason, sizeof reason);
        snprintf(buf, len, "TLS handshake failed: %s", reason);
    } else if (ret == 0) {
        snprintf(buf, len, "TLS handshake failed: the server closed the connection");
    } else {
        snprintf(buf, len, "TLS handshake failed: %s", strerror(errno));
    }
    ERR_clear_error();
}

/* Takes the handshake one step further (it is non-blocking); on success hands the
 * channel binding to the library, on failure the reason. */
static void continue_handshake(struct app *a) {
    int r = SSL_connect(a->ssl);
    if (r == 1) {
        a->handshaking = false;
        a->tls_up = true;
        /* Channel binding for SCRAM -PLUS: with TLS 1.3, tls-exporter (RFC 9266). */
        unsigned char exporter[32];
        herald_channel_binding cb;
        memset(&cb, 0, sizeof cb);
        if (SSL_version(a->ssl) == TLS1_3_VERSION &&
            SSL_export_keying_material(a->ssl, exporter, sizeof exporter,
                                       "EXPORTER-Channel-Binding", 24, NULL, 0, 0) == 1) {
            cb.tls_exporter.ptr = exporter;
            cb.tls_exporter.len = sizeof exporter;
        }
        ERR_clear_error();
        if (herald_tls_established(a->client, now_ms(), &cb) < 0) {
            print_last_error();
        }
        drain(a);
        /* The records that came with the handshake's last flight sit in OpenSSL's buffer,
         * where poll() cannot see them. */
        read_tls(a);
        return;
    }
    int e = SSL_get_error(a->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        a->hs_wait = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        ERR_clear_error();
        return;
    }
    char message[512];
    tls_error_text(a->ssl, r, message, sizeof message);
    close_transport(a);
    if (herald_tls_failed(a->client, now_ms(), message, strlen(message)) < 0) {
        print_last_error();
    }
    drain(a);
}

/* START_TLS: a TLS client on the same socket, checking the certificate against the CA
 * file and `name` (also sent as SNI). */
static void start_tls(struct app *a, const char *name) {
    a->ssl = SSL_new(a->ctx);
    if (a->ssl == NULL || SSL_set_fd(a->ssl, a->fd) != 1 ||
        SSL_set_tlsext_host_name(a->ssl, name) != 1 || SSL_set1_host(a->ssl, name) != 1) {
        char message[512];
        unsigned long e = ERR_get_error();
        snprintf(message, sizeof message, "TLS setup failed: %s",
                 e != 0 ? ERR_error_string(e, NULL) : "out of memory");
        ERR_clear_error();
        close_transport(a);
        if (herald_tls_failed(a->client, now_ms(), message, strlen(message)) < 0) {
            print_last_error();
        }
        drain(a);
        return;
    }
    SSL_set_hostflags(a->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set_connect_state(a->ssl);
    a->handshaking = true;
    continue_handshake(a);
}

/* A START_TLS begins once every plaintext byte before it (the `<starttls/>`) is out. */
static void maybe_start_tls(struct app *a) {
    if (a->tls_name != NULL && a->out_len == 0 && a->fd >= 0) {
        char *name = a->tls_name;
        a->tls_name = NULL;
        start_tls(a, name);
        free(name);
    }
}

/* The run-loop rule: after every input or command, (1) transmit, (2) actions, (3) events,
 * then (4) the timeout, read by the loop itself before it waits. */
static void drain(struct app *a) {
    /* 1. Bytes to write, appended to the output buffer, then written as far as the socket
     * takes them (the rest waits for POLLOUT). */
    for (;;) {
        if (a->out_cap - a->out_len < 4096) {
            size_t cap = a->out_cap * 2 + 4096;
            unsigned char *bigger = realloc(a->out, cap);
            if (bigger == NULL) {
                fputs("presence: out of memory\n", stderr);
                exit(EXIT_OTHER);
            }
            a->out = bigger;
            a->out_cap = cap;
        }
        size_t written = 0;
        int rc = herald_poll_transmit(a->client, a->out + a->out_len, a->out_cap - a->out_len,
                                      &written);
        if (rc != HERALD_READY) {
            break;
        }
        a->out_len += written;
    }
    if (a->fd < 0) {
        a->out_len = 0; /* nowhere to write (the session has ended) */
    } else if (a->out_len > 0 && !a->handshaking && a->tls_name == NULL && !flush_out(a)) {
        lost(a);
        return;
    }

    /* 2. Actions. */
    herald_action action;
    while (herald_poll_action(a->client, &action) == HERALD_READY) {
        if (action.kind == HERALD_ACTION_START_TLS) {
            free(a->tls_name);
            a->tls_name = strdup(action.server_name.ptr);
            if (a->tls_name == NULL) {
                fputs("presence: out of memory\n", stderr);
                exit(EXIT_OTHER);
            }
        } else if (action.kind == HERALD_ACTION_CLOSE_TRANSPORT) {
            flush_before_close(a);
            close_transport(a);
        }
    }

    /* 3. Events: each one's JSON line, as the CLI prints it. */
    herald_event event;
    while (herald_poll_event(a->client, &event) == HERALD_READY) {
        if (event.json.len > 0) {
            fwrite(event.json.ptr, 1, event.json.len, stdout);
            fputc('\n', stdout);
            fflush(stdout);
        }
        if (event.kind == HERALD_EVENT_DISCONNECTED) {
            a->ended = true;
            a->status = event.end;
        }
    }

    /* A handshake asked for in step 2 starts now that the events are out. */
    maybe_start_tls(a);
}

/* Reads what the socket has in plaintext (before STARTTLS): one chunk, then drain, since
 * the chunk may hold the `<proceed/>` after which no plaintext may be fed. */
static void read_plain(struct app *a) {
    unsigned char buf[4096];
    ssize_t n = recv(a->fd, buf, sizeof buf, 0);
    if (n > 0) {
        herald_handle_input(a->client, now_ms(), buf, (size_t)n);
        drain(a);
    } else if (n == 0) {
        close_transport(a);
        herald_handle_eof(a->client, now_ms());
        drain(a);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        lost(a);
    }
}

/* Reads every decrypted byte there is, down to SSL_ERROR_WANT_READ: OpenSSL may hold
 * records poll() does not see (SSL_pending). */
static void read_tls(struct app *a) {
    unsigned char buf[16384];
    while (a->tls_up && a->fd >= 0 && !a->ended) {
        int n = SSL_read(a->ssl, buf, sizeof buf);
        if (n > 0) {
            herald_handle_input(a->client, now_ms(), buf, (size_t)n);
            drain(a);
            continue;
        }
        int e = SSL_get_error(a->ssl, n);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            return;
        }
        if (e == SSL_ERROR_ZERO_RETURN) {
            close_transport(a);
            herald_handle_eof(a->client, now_ms());
            drain(a);
            return;
        }
        lost(a); /* SSL_ERROR_SYSCALL (a reset, an EOF without close_notify) or a TLS error */
        return;
    }
}

/* One command line from standard input. */
static void command(struct app *a, char *line) {
    uint64_t now = now_ms();
    char *word = trim(line);
    char *rest = split_word(word);
    int rc = HERALD_OK;
    if (*word == '\0') {
        return;
    } else if (strcmp(word, "presence") == 0) {
        char *text = split_word(rest);
        if (*rest == '\0') {
            print_error_text("usage: presence chat|away|xa|dnd|offline|0-4 [status text]");
            return;
        }
        int presence = parse_presence(rest);
        if (presence < 0) {
            char message[256];
            snprintf(message, sizeof message,
                     "not a presence value: \"%.64s\" (expected chat, away, xa, dnd, offline or "
                     "0-4)",
                     rest);
            print_error_text(message);
            return;
        }
        /* Without text the status stays; with it, both go in one stanza. */
        rc = *text == '\0' ? herald_set_presence(a->client, now, presence)
                           : herald_change_presence(a->client, now, presence, text, strlen(text));
    } else if (strcmp(word, "status") == 0) {
        rc = herald_set_status(a->client, now, rest, strlen(rest));
    } else if (strcmp(word, "quit") == 0 && *rest == '\0') {
        a->stdin_open = false; /* nothing after `quit` is read */
        rc = herald_close(a->client, now);
        if (rc == HERALD_ERR_STATE || rc == HERALD_ERR_SESSION_ENDED) {
            rc = HERALD_OK; /* closing already, or over */
        }
    } else {
        /* As the CLI says it, with the commands this program knows. */
        const char *prefix = "unknown command: \"";
        const char *suffix = "\" (expected presence, status or quit)";
        size_t n = strlen(prefix) + strlen(word) + 1 + strlen(rest) + strlen(suffix) + 1;
        char *message = malloc(n);
        if (message != NULL) {
            snprintf(message, n, "%s%s%s%s%s", prefix, word, *rest ? " " : "", rest, suffix);
            print_error_text(message);
            free(message);
        }
        return;
    }
    if (rc < 0) {
        print_last_error();
    }
    drain(a);
}

/* Reads standard input and runs each whole line; at its end, quits. */
static void read_stdin(struct app *a) {
    if (a->line_cap - a->line_len < 4096) {
        size_t cap = a->line_cap * 2 + 4096;
        char *bigger = realloc(a->line, cap);
        if (bigger == NULL) {
            fputs("presence: out of memory\n", stderr);
            exit(EXIT_OTHER);
        }
        a->line = bigger;
        a->line_cap = cap;
    }
    ssize_t n = read(STDIN_FILENO, a->line + a->line_len, a->line_cap - a->line_len - 1);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return;
    }
    if (n <= 0) {
        /* End of input means quit; a last line without a newline still counts. */
        if (a->line_len > 0) {
            a->line[a->line_len] = '\0';
            a->line_len = 0;
            command(a, a->line);
        }
        if (a->stdin_open) {
            a->stdin_open = false;
            int rc = herald_close(a->client, now_ms());
            if (rc < 0 && rc != HERALD_ERR_STATE && rc != HERALD_ERR_SESSION_ENDED) {
                print_last_error();
            }
            drain(a);
        }
        return;
    }
    a->line_len += (size_t)n;
    size_t start = 0;
    for (size_t i = start; i < a->line_len && a->stdin_open && !a->ended; i++) {
        if (a->line[i] == '\n') {
            a->line[i] = '\0';
            command(a, a->line + start);
            start = i + 1;
        }
    }
    if (!a->stdin_open || a->ended) {
        a->line_len = 0; /* nothing after `quit`, or after the end, is run */
        return;
    }
    memmove(a->line, a->line + start, a->line_len - start);
    a->line_len -= start;
}

/* Waits for the socket, standard input or the library's deadline, and hands over what
 * happened; returns false once the session has ended and the transport is closed. */
static bool step(struct app *a) {
    if (a->ended) {
        flush_before_close(a);
        close_transport(a);
        return false;
    }
    /* 4. The timeout: when herald_handle_timeout is next due. */
    uint64_t deadline = 0;
    bool timer = herald_poll_timeout(a->client, &deadline) == HERALD_READY;
    if (a->fd < 0 && !timer) {
        /* No transport and nothing scheduled: only the library ending the session could
         * follow, and it already would have. */
        fputs("presence: the transport closed but the session did not end\n", stderr);
        a->status = EXIT_OTHER;
        return false;
    }
    struct pollfd fds[2];
    nfds_t count = 0;
    int sock = -1, in = -1;
    if (a->fd >= 0 && a->tls_name == NULL) {
        short events;
        if (a->handshaking) {
            events = a->hs_wait;
        } else {
            events = POLLIN;
            if (a->out_len > 0) {
                events |= POLLOUT;
            }
        }
        sock = (int)count;
        fds[count++] = (struct pollfd){.fd = a->fd, .events = events};
    } else if (a->fd >= 0 && a->out_len > 0) {
        sock = (int)count; /* plaintext before a START_TLS still to write */
        fds[count++] = (struct pollfd){.fd = a->fd, .events = POLLOUT};
    }
    if (a->stdin_open) {
        in = (int)count;
        fds[count++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
    }
    int wait = -1;
    if (timer) {
        uint64_t now = now_ms();
        wait = deadline <= now ? 0 : deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
    }
    int n = poll(fds, count, wait);
    if (n < 0) {
        if (errno == EINTR) {
            return true;
        }
        perror("presence: poll");
        a->status = EXIT_OTHER;
        return false;
    }
    if (timer && now_ms() >= deadline) {
        herald_handle_timeout(a->client, now_ms());
        drain(a);
    }
    if (sock >= 0 && fds[sock].revents != 0 && a->fd == fds[sock].fd) {
        short ready = fds[sock].revents;
        if (a->handshaking) {
            continue_handshake(a);
        } else if (a->tls_name != NULL) {
            if (!flush_out(a)) {
                lost(a);
            } else {
                maybe_start_tls(a);
            }
        } else {
            if ((ready & POLLOUT) && a->out_len > 0 && !flush_out(a)) {
                lost(a);
            } else if (ready & (POLLIN | POLLHUP | POLLERR)) {
                if (a->tls_up) {
                    read_tls(a);
                } else {
                    read_plain(a);
                }
            }
        }
    }
    if (in >= 0 && fds[in].revents != 0 && a->stdin_open) {
        read_stdin(a);
    }
    return true;
}

int main(int argc, char **argv) {
    struct options o = {.presence = HERALD_PRESENCE_CHAT, .status = ""};
    int status = parse_options(argc, argv, &o);
    if (status >= 0) {
        return status;
    }
    const char *password = getenv("HERALD_PASSWORD");
    if (password == NULL) {
        return usage_error("no password: set HERALD_PASSWORD", "");
    }
    char *host = NULL, port[6];
    if (!parse_host_port(o.server, &host, port)) {
        return usage_error("--server: expected HOST or HOST:PORT, not ", o.server);
    }

    herald_config config;
    herald_config_init(&config); /* the defaults, among them the OS's randomness */
    config.jid = (herald_str){o.jid, strlen(o.jid)};
    config.password = (herald_str){password, strlen(password)};
    config.presence = o.presence;
    config.status = (herald_str){o.status, strlen(o.status)};
    config.priority = o.priority;
    struct app a = {.fd = -1, .stdin_open = true, .status = EXIT_OTHER};
    if (herald_client_new(&config, &a.client) != HERALD_OK) {
        herald_str e = herald_last_error();
        fprintf(stderr, "presence: %.*s\n", (int)e.len, e.ptr);
        free(host);
        return EXIT_USAGE;
    }

    /* A write to a closed socket must be an error, not a signal (SSL_write writes). */
    signal(SIGPIPE, SIG_IGN);

    /* Whom to trust: the CA file given, else OpenSSL's default paths; TLS 1.2 at least. */
    a.ctx = SSL_CTX_new(TLS_client_method());
    if (a.ctx == NULL) {
        print_error_text("cannot make an OpenSSL context");
        herald_client_free(a.client);
        free(host);
        return EXIT_TLS;
    }
    SSL_CTX_set_min_proto_version(a.ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(a.ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(a.ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    int loaded = o.ca_file != NULL ? SSL_CTX_load_verify_locations(a.ctx, o.ca_file, NULL)
                                   : SSL_CTX_set_default_verify_paths(a.ctx);
    if (loaded != 1) {
        char message[512];
        unsigned long e = ERR_get_error();
        snprintf(message, sizeof message, "cannot load the CA certificates %s: %s",
                 o.ca_file != NULL ? o.ca_file : "(default paths)",
                 e != 0 ? ERR_error_string(e, NULL) : "unknown error");
        ERR_clear_error();
        print_error_text(message);
        SSL_CTX_free(a.ctx);
        herald_client_free(a.client);
        free(host);
        return EXIT_TLS;
    }

    char err[512];
    a.fd = tcp_connect(host, port, err, sizeof err);
    free(host);
    if (a.fd < 0) {
        print_error_text(err);
        SSL_CTX_free(a.ctx);
        herald_client_free(a.client);
        return EXIT_OTHER;
    }

    if (herald_connect(a.client, now_ms(), HERALD_TRANSPORT_TCP, NULL) != HERALD_OK) {
        print_last_error();
    } else {
        drain(&a);
        while (step(&a)) {
        }
    }
    status = a.ended ? a.status : EXIT_OTHER;

    close_transport(&a);
    herald_client_free(a.client);
    SSL_CTX_free(a.ctx);
    free(a.out);
    free(a.line);
    return status;
}
