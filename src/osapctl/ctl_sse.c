/* An incremental text/event-stream parser, as browsers parse it (WHATWG HTML
 * "Server-sent events"): lines end with CRLF, LF or CR; "field: value" lines
 * (one space after the colon is dropped); lines starting with ':' are
 * comments; a blank line dispatches the message when it has data. */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

void ctl_sse_init(struct ctl_sse *p, ctl_sse_fn fn, void *userdata)
{
    memset(p, 0, sizeof(*p));
    p->line.max = CTL_SSE_MAX;
    p->data.max = CTL_SSE_MAX;
    p->fn = fn;
    p->userdata = userdata;
}

static void set_text(char *dst, size_t cap, const char *v, size_t n)
{
    if (n >= cap) n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static int dispatch(struct ctl_sse *p)
{
    struct ctl_sse_event ev;
    int rc;

    if (!p->have_data) {
        p->event[0] = '\0';
        p->have_id = false;
        return 0;
    }
    if (p->data.len && p->data.data[p->data.len - 1] == '\n') p->data.data[--p->data.len] = '\0';
    ev.id = p->have_id ? p->last_id : "";
    ev.event = p->event[0] ? p->event : "message";
    ev.data = p->data.data ? p->data.data : "";
    rc = p->fn(p->userdata, &ev);
    ctl_buf_reset(&p->data);
    p->have_data = false;
    p->have_id = false;
    p->event[0] = '\0';
    return rc;
}

static int line(struct ctl_sse *p, const char *s, size_t n)
{
    const char *colon, *value;
    size_t flen, vlen;

    if (n == 0) return dispatch(p);
    if (s[0] == ':') return 0;
    colon = memchr(s, ':', n);
    if (colon) {
        flen = (size_t)(colon - s);
        value = colon + 1;
        vlen = n - flen - 1;
        if (vlen && *value == ' ') {
            value++;
            vlen--;
        }
    } else {
        flen = n;
        value = "";
        vlen = 0;
    }
    if (flen == 4 && memcmp(s, "data", 4) == 0) {
        p->have_data = true;
        if (ctl_buf_add(&p->data, value, vlen) || ctl_buf_add(&p->data, "\n", 1)) return -1;
    } else if (flen == 5 && memcmp(s, "event", 5) == 0) {
        set_text(p->event, sizeof(p->event), value, vlen);
    } else if (flen == 2 && memcmp(s, "id", 2) == 0) {
        if (!memchr(value, '\0', vlen)) {
            set_text(p->last_id, sizeof(p->last_id), value, vlen);
            p->have_id = true;
        }
    }
    /* "retry" and unknown fields are ignored */
    return 0;
}

int ctl_sse_feed(struct ctl_sse *p, const char *data, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t j = i;
        int rc;

        if (p->cr) {
            p->cr = false;
            if (data[i] == '\n') { /* the LF of a CRLF */
                i++;
                continue;
            }
        }
        while (j < len && data[j] != '\r' && data[j] != '\n')
            j++;
        if (j > i && ctl_buf_add(&p->line, data + i, j - i)) return -1;
        if (j == len) break;
        p->cr = data[j] == '\r';
        rc = line(p, p->line.data ? p->line.data : "", p->line.len);
        ctl_buf_reset(&p->line);
        if (rc) return rc;
        i = j + 1;
    }
    return 0;
}

void ctl_sse_reset(struct ctl_sse *p)
{
    ctl_buf_reset(&p->line);
    ctl_buf_reset(&p->data);
    p->have_data = false;
    p->have_id = false;
    p->cr = false;
    p->event[0] = '\0';
}

void ctl_sse_release(struct ctl_sse *p)
{
    ctl_buf_release(&p->line);
    ctl_buf_release(&p->data);
}
