/* libFuzzer target: osapctl's side of a response (src/osapctl): the HTTP/1.1
 * response reader (llhttp, head and body ceilings, chunked and close-delimited
 * bodies), the text/event-stream parser of `osapctl events tail`, and the
 * printing of JSON bodies (fields and tables, with control characters cleaned).
 *
 * Input: a flags byte, a split seed, then the bytes the server sends. Flags:
 *   bit 0  the body goes to a sink that feeds the event-stream parser (tail);
 *          otherwise it is kept in the response and printed as osapctl would;
 *   bit 1  the event-stream parser is reset after the first message;
 *   bit 2  the message callback stops the stream at the second message.
 * The bytes are fed in pieces cut at data-derived points, then the end of the
 * stream. Checks: the reader's verdict is final and consistent with the
 * response (complete, status, bounded content type and body); every message
 * has an event name and an id within their bounds; the messages do not depend
 * on where the stream was cut (the whole 2xx body parsed at once gives the
 * same ones). Seeds: the responses of tests/integration/test_osapctl_stream.py. */
#include "ctl.h"
#include "fuzz_split.h"
#include "osap/alloc.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Messages, reduced to a count and a hash of their fields. */
struct seen {
    size_t n;
    uint64_t hash;
    int stop_at; /* stop (return 1) at this message; 0 = never */
    bool reset_after_first;
    struct ctl_sse *parser;
};

struct tail {
    struct ctl_sse sse;
    struct seen seen;
    struct ctl_buf raw; /* the 2xx body as it came */
    int feed_rc;
};

static uint64_t mix(uint64_t h, const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return (h ^ 0xff) * 0x100000001b3ull; /* field separator */
}

static int on_message(void *userdata, const struct ctl_sse_event *ev)
{
    struct seen *s = userdata;

    CHECK(ev->id && ev->event && ev->data);
    CHECK(strlen(ev->id) < 64);
    CHECK(ev->event[0] != '\0' && strlen(ev->event) < 64);
    s->hash = mix(mix(mix(s->hash, ev->id), ev->event), ev->data);
    s->n++;
    if (s->reset_after_first && s->n == 1) ctl_sse_reset(s->parser);
    if (s->stop_at && (int)s->n == s->stop_at) return 1;
    return 0;
}

static int tail_sink(void *userdata, const char *data, size_t len)
{
    struct tail *t = userdata;
    int rc;

    if (ctl_buf_add(&t->raw, data, len)) return 2;
    rc = ctl_sse_feed(&t->sse, data, len);
    t->feed_rc = rc;
    return rc;
}

/* The JSON body printed the ways osapctl prints bodies (standard output is
 * /dev/null here). */
static void print_body(const struct ctl_response *resp)
{
    static const char *const heads[] = {"SERIAL", "NAME", "VALUE", NULL};
    struct ctl_table t;
    cJSON *doc, *items, *item;

    ctl_print_body(resp);
    doc = resp->body.data ? cJSON_ParseWithLength(resp->body.data, resp->body.len) : NULL;
    if (!doc) return;
    ctl_print_fields(doc);
    ctl_print_fields(cJSON_GetObjectItemCaseSensitive(doc, "error"));
    ctl_table_init(&t, heads);
    t.max_width[1] = 8;
    t.max_width[2] = 5;
    items = cJSON_GetObjectItemCaseSensitive(doc, "items");
    cJSON_ArrayForEach(item, items)
    {
        char *value = ctl_json_text(cJSON_GetObjectItemCaseSensitive(item, "value"));
        const char *cells[3] = {ctl_json_str(item, "serial", NULL), ctl_json_str(item, "name", "-"),
                                value};
        if (ctl_table_row(&t, cells)) {
            osap_free(value);
            break;
        }
        osap_free(value);
    }
    ctl_table_print(&t, false);
    ctl_table_release(&t);
    cJSON_Delete(doc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* osapctl prints bodies and tables on standard output; libFuzzer reports on
     * standard error */
    if (!freopen("/dev/null", "w", stdout)) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ctl_request rq;
    struct ctl_response resp;
    struct ctl_http_reader reader;
    struct fz_split split;
    struct tail t;
    enum ctl_http_read st = CTL_READ_MORE;
    uint8_t flags;
    size_t off = 0;

    if (size < 2) return 0;
    flags = data[0];
    fz_split_init(&split, data[1]);
    data += 2;
    size -= 2;

    memset(&t, 0, sizeof(t));
    ctl_sse_init(&t.sse, on_message, &t.seen);
    t.seen.parser = &t.sse;
    t.seen.reset_after_first = (flags & 2) != 0;
    t.seen.stop_at = (flags & 4) ? 2 : 0;
    t.raw.max = CTL_SSE_MAX * 2;
    memset(&rq, 0, sizeof(rq));
    rq.method = "GET";
    rq.target = "/api/v1/events/stream";
    if (flags & 1) {
        rq.sink = tail_sink;
        rq.sink_userdata = &t;
    }

    ctl_http_reader_init(&reader, &rq, &resp);
    while (off < size && st == CTL_READ_MORE) {
        size_t n = fz_split_next(&split, size - off);
        st = ctl_http_reader_feed(&reader, (const char *)data + off, n);
        off += n;
    }
    if (st == CTL_READ_MORE) st = ctl_http_reader_feed(&reader, NULL, 0);
    CHECK(st != CTL_READ_MORE);

    CHECK(strlen(resp.content_type) < sizeof(resp.content_type));
    CHECK(resp.body.len <= CTL_BODY_MAX);
    if (st == CTL_READ_DONE) {
        CHECK(resp.complete);
        CHECK(resp.status >= 0 && resp.status <= 999);
    } else {
        CHECK(!resp.complete);
    }
    if (st == CTL_READ_SINK) CHECK(reader.sink_rc != 0 && (flags & 1));

    if (flags & 1) {
        /* Whatever the cuts, the same body gives the same messages. */
        if (!(flags & 6) && t.feed_rc == 0 && !reader.too_large && t.raw.len) {
            struct seen again = {0};
            struct ctl_sse p2;

            ctl_sse_init(&p2, on_message, &again);
            again.parser = &p2;
            CHECK(ctl_sse_feed(&p2, t.raw.data, t.raw.len) == 0);
            CHECK(again.n == t.seen.n && again.hash == t.seen.hash);
            ctl_sse_release(&p2);
        }
    } else if (st == CTL_READ_DONE || st == CTL_READ_CLOSED) {
        print_body(&resp);
    }
    ctl_sse_release(&t.sse);
    ctl_buf_release(&t.raw);
    ctl_response_release(&resp);
    return 0;
}
