/* The libstrophe anchor: the same stream through libstrophe's own stream parser (expat)
 * into xmpp_stanza_t stanzas, each delivered to a stanza handler, fed CHUNK bytes at a
 * time.
 *
 * libstrophe's public API has no call that takes received bytes: a connection reads its
 * socket and hands the bytes to its internal parser (src/parser_expat.c). The shared
 * library hides that parser, the static archive (libstrophe.a, same Debian package) does
 * not, so this harness links the static archive and drives the connection's own pieces
 * the way src/conn.c does for a connected stream:
 *
 *   parser_new(ctx, _handle_stream_start, _handle_stream_end, _handle_stream_stanza, conn)
 *   ... parser_feed(parser, buf, n) for every read ...
 *   _handle_stream_stanza: xmpp_stanza_to_text (for the RECV debug line, done whether or
 *   not a logger is set), strophe_debug, handler_fire_stanza(conn, stanza)
 *
 * The handler is registered with libstrophe's internal handler_add (a "system" handler):
 * user handlers added with xmpp_handler_add fire only once the connection has
 * authenticated, and this connection never connects. The dispatch code is the same.
 *
 * The prototypes below are copied from libstrophe 0.12.2's src/parser.h and
 * src/common.h (not installed); build.rs checks the version.
 *
 * Allocations: the context is created with counting xmpp_mem_t hooks. parser_expat.c
 * routes expat's own allocations through the hooks of the first context that creates a
 * parser (a process-wide static), so one context is created once and kept for the whole
 * process: every allocation of libstrophe and expat on this path is counted. Not thread
 * safe: call from one thread at a time.
 */

#include <stdlib.h>
#include <string.h>

#include <strophe.h>

#if LIBXMPP_VERSION_MAJOR != 0 || LIBXMPP_VERSION_MINOR != 12
#error "the internal prototypes below are libstrophe 0.12's"
#endif

/* src/parser.h */
typedef struct _parser_t parser_t;
typedef void (*parser_start_callback)(char *name, char **attrs, void *userdata);
typedef void (*parser_end_callback)(char *name, void *userdata);
typedef void (*parser_stanza_callback)(xmpp_stanza_t *stanza, void *userdata);
parser_t *parser_new(xmpp_ctx_t *ctx,
                     parser_start_callback startcb,
                     parser_end_callback endcb,
                     parser_stanza_callback stanzacb,
                     void *userdata);
void parser_free(parser_t *parser);
int parser_feed(parser_t *parser, char *chunk, int len);

/* src/common.h */
void handler_fire_stanza(xmpp_conn_t *conn, xmpp_stanza_t *stanza);
void handler_add(xmpp_conn_t *conn,
                 xmpp_handler handler,
                 const char *ns,
                 const char *name,
                 const char *type,
                 void *userdata);
void strophe_debug(const xmpp_ctx_t *ctx, const char *area, const char *fmt, ...);

/* Allocation counters, read and reset by the caller. */
static size_t allocs;
static size_t alloc_bytes;

static void *count_alloc(size_t size, void *userdata)
{
    (void)userdata;
    allocs++;
    alloc_bytes += size;
    return malloc(size);
}

static void count_free(void *p, void *userdata)
{
    (void)userdata;
    free(p);
}

static void *count_realloc(void *p, size_t size, void *userdata)
{
    (void)userdata;
    allocs++;
    alloc_bytes += size;
    return realloc(p, size);
}

static const xmpp_mem_t counting_mem = {
    .alloc = count_alloc,
    .free = count_free,
    .realloc = count_realloc,
    .userdata = NULL,
};

static xmpp_ctx_t *ctx;

struct run {
    xmpp_conn_t *conn;
    int with_debug_text;
    int stream_started;
    int stream_ended;
    size_t counts[4]; /* presence, message, iq, other */
};

static void stream_start(char *name, char **attrs, void *userdata)
{
    struct run *run = userdata;
    (void)attrs;
    if (strcmp(name, "stream") == 0)
        run->stream_started = 1;
}

static void stream_end(char *name, void *userdata)
{
    struct run *run = userdata;
    (void)name;
    run->stream_ended = 1;
}

/* As conn.c's _handle_stream_stanza (stream management is off). */
static void stream_stanza(xmpp_stanza_t *stanza, void *userdata)
{
    struct run *run = userdata;
    char *buf;
    size_t len;

    if (run->with_debug_text && xmpp_stanza_to_text(stanza, &buf, &len) == 0) {
        strophe_debug(ctx, "xmpp", "RECV: %s", buf);
        xmpp_free(ctx, buf);
    }
    handler_fire_stanza(run->conn, stanza);
}

static int count_stanza(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *userdata)
{
    struct run *run = userdata;
    const char *name = xmpp_stanza_get_name(stanza);
    (void)conn;
    if (name && strcmp(name, "presence") == 0)
        run->counts[0]++;
    else if (name && strcmp(name, "message") == 0)
        run->counts[1]++;
    else if (name && strcmp(name, "iq") == 0)
        run->counts[2]++;
    else
        run->counts[3]++;
    return 1; /* keep the handler */
}

/* Feeds `len` bytes of `data` to a fresh connection's parser, `chunk` bytes at a time.
 * `counts` gets the stanzas the handler saw (presence, message, iq, other). Returns 0 on
 * success, -1 if libstrophe could not be set up, -2 on a parse error, -3 if the stream
 * did not open and close. With `with_debug_text` 0, the per-stanza serialization that
 * conn.c does for its debug line is left out. */
int herald_strophe_feed(const unsigned char *data,
                        size_t len,
                        size_t chunk,
                        int with_debug_text,
                        size_t counts[4])
{
    struct run run;
    parser_t *parser;
    char *buf;
    size_t off, n;
    int ok = 1;

    if (ctx == NULL) {
        xmpp_initialize();
        ctx = xmpp_ctx_new(&counting_mem, NULL);
        if (ctx == NULL)
            return -1;
    }
    memset(&run, 0, sizeof(run));
    run.with_debug_text = with_debug_text;
    run.conn = xmpp_conn_new(ctx);
    buf = malloc(chunk);
    if (run.conn == NULL || buf == NULL) {
        free(buf);
        return -1;
    }
    handler_add(run.conn, count_stanza, NULL, NULL, NULL, &run);
    parser = parser_new(ctx, stream_start, stream_end, stream_stanza, &run);
    if (parser == NULL) {
        free(buf);
        xmpp_conn_release(run.conn);
        return -1;
    }
    for (off = 0; off < len && ok; off += n) {
        n = len - off < chunk ? len - off : chunk;
        /* conn.c feeds its read buffer; parser_feed takes a mutable pointer. */
        memcpy(buf, data + off, n);
        ok = parser_feed(parser, buf, (int)n);
    }
    parser_free(parser);
    xmpp_conn_release(run.conn);
    free(buf);
    memcpy(counts, run.counts, sizeof(run.counts));
    if (!ok)
        return -2;
    if (!run.stream_started || !run.stream_ended)
        return -3;
    return 0;
}

/* The allocations (alloc and realloc calls) and bytes requested through the context's
 * hooks since the last call. */
void herald_strophe_take_allocs(size_t *count, size_t *bytes)
{
    *count = allocs;
    *bytes = alloc_bytes;
    allocs = 0;
    alloc_bytes = 0;
}
