/*
 * The offline event queue: a bounded, crash-safe, append-only file of records.
 *
 * Record (little-endian):
 *   u8 magic 0xA5 | u8 type (1 DATA, 2 HEAD) | u16 0 | u32 payload length |
 *   u64 id | payload | u32 CRC-32 of everything before it
 *
 * DATA records carry an event; ids grow by one per record. A HEAD record says
 * "every id below mine is removed" and carries the count of dropped events (u64),
 * so acknowledgements and drops are appends too. On open the file is read from
 * the start; the first record that is short, has a bad header or a bad CRC marks
 * a torn or corrupt tail, which is cut off. When removed records take more room
 * than live ones (and at least COMPACT_MIN bytes), the live records are copied
 * to a new file that atomically replaces the old one.
 *
 * Records are written with one append each (header, payload and CRC together);
 * the fsync policy decides when they become durable against power loss.
 */
#include "device_internal.h"

#include <string.h>

#define REC_MAGIC        0xA5
#define REC_DATA         1
#define REC_HEAD         2
#define REC_OVERHEAD     (DEV_QUEUE_HDR + DEV_QUEUE_CRC)
#define HEAD_PAYLOAD     8
#define COMPACT_MIN      (64u * 1024u)
#define COPY_CHUNK       512
#define DEFAULT_EVENTS   1000
#define DEFAULT_BYTES    (1024u * 1024u)
#define DEFAULT_FSYNC_MS 1000

/* ------------------------------------------------------------------------ */
/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320)                    */
/* ------------------------------------------------------------------------ */

uint32_t osap__crc32(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* ------------------------------------------------------------------------ */
/* Encoding                                                                 */
/* ------------------------------------------------------------------------ */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

struct rec_hdr {
    uint8_t type;
    uint32_t len;
    uint64_t id;
};

static void hdr_encode(uint8_t *p, uint8_t type, uint32_t len, uint64_t id)
{
    p[0] = REC_MAGIC;
    p[1] = type;
    p[2] = p[3] = 0;
    put_u32(p + 4, len);
    put_u64(p + 8, id);
}

/* Read and check the header at @p off. OSAP_ENEED_MORE past the end. */
static osap_err hdr_read(struct dev_queue *q, uint64_t off, struct rec_hdr *h, uint8_t raw[16])
{
    osap_err err;

    if (off + REC_OVERHEAD > q->file_size) return OSAP_ENEED_MORE;
    err = q->port->file_read(q->port->ctx, q->file, off, raw, DEV_QUEUE_HDR);
    if (err) return err;
    if (raw[0] != REC_MAGIC || raw[2] || raw[3]) return OSAP_ESTORE;
    h->type = raw[1];
    h->len = get_u32(raw + 4);
    h->id = get_u64(raw + 8);
    if (h->type == REC_HEAD && h->len != HEAD_PAYLOAD) return OSAP_ESTORE;
    if (h->type != REC_HEAD && (h->type != REC_DATA || h->len > q->max_bytes)) return OSAP_ESTORE;
    if (off + REC_OVERHEAD + h->len > q->file_size) return OSAP_ENEED_MORE;
    return OSAP_OK;
}

/* Check the CRC of the record at @p off (header already read into @p raw). */
static osap_err rec_verify(struct dev_queue *q, uint64_t off, const struct rec_hdr *h,
                           const uint8_t raw[16], uint8_t *payload8)
{
    uint8_t chunk[COPY_CHUNK], tail[DEV_QUEUE_CRC];
    uint32_t crc = osap__crc32(0, raw, DEV_QUEUE_HDR);
    uint64_t pos = off + DEV_QUEUE_HDR, end = pos + h->len;
    osap_err err;

    while (pos < end) {
        size_t n = end - pos > sizeof(chunk) ? sizeof(chunk) : (size_t)(end - pos);
        err = q->port->file_read(q->port->ctx, q->file, pos, chunk, n);
        if (err) return err;
        if (payload8 && pos == off + DEV_QUEUE_HDR && n >= HEAD_PAYLOAD)
            memcpy(payload8, chunk, HEAD_PAYLOAD);
        crc = osap__crc32(crc, chunk, n);
        pos += n;
    }
    err = q->port->file_read(q->port->ctx, q->file, end, tail, sizeof(tail));
    if (err) return err;
    return get_u32(tail) == crc ? OSAP_OK : OSAP_ESTORE;
}

/* ------------------------------------------------------------------------ */
/* Durability                                                               */
/* ------------------------------------------------------------------------ */

static osap_err mark_written(struct dev_queue *q, uint64_t now)
{
    if (q->fsync == OSAP_DEVICE_FSYNC_ALWAYS) return q->port->file_sync(q->port->ctx, q->file);
    if (!q->dirty) q->t_dirty = now;
    q->dirty = 1;
    return OSAP_OK;
}

uint64_t osap__queue_tick(struct dev_queue *q, uint64_t now)
{
    if (!q->file || !q->dirty || q->fsync != OSAP_DEVICE_FSYNC_INTERVAL) return OSAP_DEVICE_NEVER;
    if (now >= q->t_dirty + q->fsync_interval_ms) {
        if (q->port->file_sync(q->port->ctx, q->file) == OSAP_OK) q->dirty = 0;
        return q->dirty ? now + q->fsync_interval_ms : OSAP_DEVICE_NEVER;
    }
    return q->t_dirty + q->fsync_interval_ms;
}

/* ------------------------------------------------------------------------ */
/* Scanning                                                                 */
/* ------------------------------------------------------------------------ */

/* Point head_off at the oldest live DATA record at or after @p from. */
static osap_err find_head(struct dev_queue *q, uint64_t from)
{
    uint64_t off = from;

    for (;;) {
        struct rec_hdr h;
        uint8_t raw[DEV_QUEUE_HDR];
        osap_err err = hdr_read(q, off, &h, raw);

        if (err == OSAP_ENEED_MORE) break;
        if (err) return err;
        if (h.type == REC_DATA && h.id >= q->head_id) {
            q->head_off = off;
            q->head_size = REC_OVERHEAD + h.len;
            q->head_id = h.id;
            return OSAP_OK;
        }
        off += REC_OVERHEAD + h.len;
    }
    q->head_off = q->file_size;
    q->head_size = 0;
    return OSAP_OK;
}

/* Read the whole file: find the valid end, the head, the counts. */
static osap_err scan(struct dev_queue *q)
{
    uint64_t off = 0, head_id = 1, next_id = 1, dropped = 0;
    osap_err err;

    err = q->port->file_size(q->port->ctx, q->file, &q->file_size);
    if (err) return err;
    for (;;) {
        struct rec_hdr h;
        uint8_t raw[DEV_QUEUE_HDR], head_payload[HEAD_PAYLOAD];

        err = hdr_read(q, off, &h, raw);
        if (err == OSAP_ENEED_MORE || err == OSAP_ESTORE) break; /* the end, or a torn tail */
        if (err) return err;
        err = rec_verify(q, off, &h, raw, h.type == REC_HEAD ? head_payload : NULL);
        if (err == OSAP_ESTORE) break;
        if (err) return err;
        if (h.type == REC_DATA) {
            if (h.id < next_id) break; /* ids only grow: anything else is corrupt */
            next_id = h.id + 1;
        } else {
            if (h.id > head_id) head_id = h.id;
            if (h.id > next_id) next_id = h.id;
            dropped = get_u64(head_payload);
        }
        off += REC_OVERHEAD + h.len;
    }
    if (off < q->file_size) {
        err = q->port->file_truncate(q->port->ctx, q->file, off);
        if (err) return err;
        q->file_size = off;
        err = q->port->file_sync(q->port->ctx, q->file);
        if (err) return err;
    }
    q->head_id = head_id;
    q->next_id = next_id;
    q->dropped = dropped;
    q->count = 0;
    q->live_bytes = 0;
    /* second pass: the live records are the DATA records from head_id on */
    for (uint64_t o = 0; o < q->file_size;) {
        struct rec_hdr h;
        uint8_t raw[DEV_QUEUE_HDR];
        err = hdr_read(q, o, &h, raw);
        if (err) return err == OSAP_ENEED_MORE ? OSAP_ESTORE : err;
        if (h.type == REC_DATA && h.id >= head_id) {
            q->count++;
            q->live_bytes += REC_OVERHEAD + h.len;
        }
        o += REC_OVERHEAD + h.len;
    }
    err = find_head(q, 0);
    if (err) return err;
    q->head_id = q->count ? q->head_id : head_id;
    q->n_acked = 0;
    osap__queue_rewind(q);
    return OSAP_OK;
}

/* ------------------------------------------------------------------------ */
/* Open, close, compact                                                     */
/* ------------------------------------------------------------------------ */

osap_err osap__queue_open(struct dev_queue *q, const struct osap_device_port *port,
                          const struct osap_device_queue_config *cfg, size_t record_max)
{
    const char *name = cfg && cfg->file_name ? cfg->file_name : "events.q";
    size_t n = strlen(name);
    osap_err err;

    memset(q, 0, sizeof(*q));
    if (n == 0 || n + 5 > sizeof(q->name)) return OSAP_EINVAL;
    memcpy(q->name, name, n + 1);
    memcpy(q->tmp_name, name, n);
    memcpy(q->tmp_name + n, ".tmp", 5);
    q->port = port;
    q->max_events = cfg && cfg->max_events ? cfg->max_events : DEFAULT_EVENTS;
    q->max_bytes = cfg && cfg->max_bytes ? cfg->max_bytes : DEFAULT_BYTES;
    q->when_full = cfg ? cfg->when_full : OSAP_DEVICE_QUEUE_DROP_OLDEST;
    q->fsync = cfg ? cfg->fsync : OSAP_DEVICE_FSYNC_ALWAYS;
    q->fsync_interval_ms =
        cfg && cfg->fsync_interval_ms ? cfg->fsync_interval_ms : DEFAULT_FSYNC_MS;
    q->record_max = record_max;
    err = port->file_open(port->ctx, q->name, 0, &q->file);
    if (err) {
        q->file = NULL;
        return err;
    }
    err = scan(q);
    if (err) {
        port->file_close(port->ctx, q->file);
        q->file = NULL;
    }
    return err;
}

void osap__queue_close(struct dev_queue *q)
{
    if (!q->file) return;
    if (q->dirty && q->fsync != OSAP_DEVICE_FSYNC_NEVER) q->port->file_sync(q->port->ctx, q->file);
    q->port->file_close(q->port->ctx, q->file);
    q->file = NULL;
}

static osap_err append_head(struct dev_queue *q, void *file, uint64_t *size)
{
    uint8_t rec[REC_OVERHEAD + HEAD_PAYLOAD];
    osap_err err;

    hdr_encode(rec, REC_HEAD, HEAD_PAYLOAD, q->head_id);
    put_u64(rec + DEV_QUEUE_HDR, q->dropped);
    put_u32(rec + DEV_QUEUE_HDR + HEAD_PAYLOAD, osap__crc32(0, rec, DEV_QUEUE_HDR + HEAD_PAYLOAD));
    err = q->port->file_append(q->port->ctx, file, rec, sizeof(rec));
    if (!err) *size += sizeof(rec);
    return err;
}

static int is_acked(const struct dev_queue *q, uint64_t id)
{
    for (size_t i = 0; i < q->n_acked; i++)
        if (q->acked[i] == id) return 1;
    return 0;
}

/* Copy the live records to a new file that replaces the old one. */
static osap_err compact(struct dev_queue *q)
{
    const struct osap_device_port *p = q->port;
    void *tmp = NULL;
    uint64_t tmp_size = 0, off;
    uint8_t chunk[COPY_CHUNK];
    osap_err err;

    err = p->file_open(p->ctx, q->tmp_name, 1, &tmp);
    if (err) return err;
    err = append_head(q, tmp, &tmp_size);
    for (off = q->head_off; !err && off < q->file_size;) {
        struct rec_hdr h;
        uint8_t raw[DEV_QUEUE_HDR];
        uint64_t size;

        err = hdr_read(q, off, &h, raw);
        if (err) break;
        size = REC_OVERHEAD + h.len;
        if (h.type == REC_DATA && h.id >= q->head_id && !is_acked(q, h.id)) {
            for (uint64_t pos = 0; !err && pos < size;) {
                size_t n = size - pos > sizeof(chunk) ? sizeof(chunk) : (size_t)(size - pos);
                err = p->file_read(p->ctx, q->file, off + pos, chunk, n);
                if (!err) err = p->file_append(p->ctx, tmp, chunk, n);
                pos += n;
            }
            tmp_size += size;
        }
        off += size;
    }
    if (!err) err = p->file_sync(p->ctx, tmp);
    p->file_close(p->ctx, tmp);
    if (err) return err;
    p->file_close(p->ctx, q->file);
    q->file = NULL;
    err = p->file_rename(p->ctx, q->tmp_name, q->name);
    /* reopen whichever file now has the name; on failure it is the old one */
    if (p->file_open(p->ctx, q->name, 0, &q->file) != OSAP_OK) {
        q->file = NULL;
        return OSAP_ESTORE;
    }
    {
        uint64_t sent = q->sent_upto;
        osap_err e = scan(q);
        q->sent_upto = sent; /* records in flight are not handed out twice */
        if (e) return e;
    }
    return err;
}

static void maybe_compact(struct dev_queue *q)
{
    uint64_t dead = q->file_size - q->live_bytes;

    if (dead >= COMPACT_MIN && dead > q->live_bytes) compact(q);
}

/* ------------------------------------------------------------------------ */
/* Operations                                                               */
/* ------------------------------------------------------------------------ */

/* Remove the record at the head (acknowledged or dropped). */
static osap_err remove_head(struct dev_queue *q)
{
    uint64_t next = q->head_off + q->head_size;

    for (size_t i = 0; i < q->n_acked; i++)
        if (q->acked[i] == q->head_id) q->acked[i] = q->acked[--q->n_acked];
    q->count--;
    q->live_bytes -= q->head_size;
    q->head_id++;
    return find_head(q, next);
}

osap_err osap__queue_append(struct dev_queue *q, uint8_t *rec, size_t len, uint64_t now,
                            uint64_t *id, uint32_t *dropped)
{
    uint64_t need = REC_OVERHEAD + (uint64_t)len, was_size;
    uint32_t ndrop = 0;
    osap_err err;

    *dropped = 0;
    if (!q->file) return OSAP_ESTATE;
    if (len > q->record_max || need > q->max_bytes) return OSAP_ETOOBIG;
    while (q->count >= q->max_events || q->live_bytes + need > q->max_bytes) {
        if (q->when_full == OSAP_DEVICE_QUEUE_REFUSE_NEW || q->count == 0) return OSAP_EBUSY;
        err = remove_head(q);
        if (err) return err;
        q->dropped++;
        ndrop++;
    }
    if (ndrop) {
        err = append_head(q, q->file, &q->file_size);
        if (err) return err;
    }
    hdr_encode(rec, REC_DATA, (uint32_t)len, q->next_id);
    put_u32(rec + DEV_QUEUE_HDR + len, osap__crc32(0, rec, DEV_QUEUE_HDR + len));
    was_size = q->file_size;
    err = q->port->file_append(q->port->ctx, q->file, rec, (size_t)need);
    if (err) return err;
    q->file_size += need;
    if (q->count == 0) {
        q->head_off = was_size;
        q->head_size = need;
        q->head_id = q->next_id;
    }
    *id = q->next_id++;
    q->count++;
    q->live_bytes += need;
    *dropped = ndrop;
    return mark_written(q, now);
}

void osap__queue_rewind(struct dev_queue *q)
{
    q->send_off = q->head_off;
    q->sent_upto = 0;
    q->peek_size = 0;
}

int osap__queue_has_next(const struct dev_queue *q)
{
    return q->file && q->count > 0 && q->next_id - 1 > q->sent_upto;
}

osap_err osap__queue_peek(struct dev_queue *q, uint8_t *buf, size_t cap, size_t *len, uint64_t *id)
{
    uint64_t off = q->send_off < q->head_off ? q->head_off : q->send_off;

    if (!q->file) return OSAP_ENOTFOUND;
    for (;;) {
        struct rec_hdr h;
        uint8_t raw[DEV_QUEUE_HDR];
        osap_err err = hdr_read(q, off, &h, raw);

        if (err == OSAP_ENEED_MORE) {
            q->send_off = off;
            return OSAP_ENOTFOUND;
        }
        if (err) return err;
        if (h.type == REC_DATA && h.id >= q->head_id && h.id > q->sent_upto && !is_acked(q, h.id)) {
            q->send_off = off;
            q->peek_off = off;
            q->peek_size = REC_OVERHEAD + h.len;
            q->peek_id = h.id;
            *id = h.id;
            if (h.len > cap) return OSAP_EBUFSIZE;
            err = q->port->file_read(q->port->ctx, q->file, off + DEV_QUEUE_HDR, buf, h.len);
            if (err) return err;
            *len = h.len;
            return OSAP_OK;
        }
        off += REC_OVERHEAD + h.len;
    }
}

void osap__queue_advance(struct dev_queue *q)
{
    if (!q->peek_size) return;
    q->send_off = q->peek_off + q->peek_size;
    q->sent_upto = q->peek_id;
    q->peek_size = 0;
}

osap_err osap__queue_ack(struct dev_queue *q, uint64_t id, uint64_t now)
{
    osap_err err;

    if (!q->file || q->count == 0 || id < q->head_id || id >= q->next_id || is_acked(q, id))
        return OSAP_ENOTFOUND;
    if (id != q->head_id) {
        if (q->n_acked == OSAP_DEVICE_INFLIGHT_MAX) return OSAP_EBUSY;
        q->acked[q->n_acked++] = id;
        return OSAP_OK;
    }
    err = remove_head(q);
    while (!err && q->count > 0 && is_acked(q, q->head_id))
        err = remove_head(q);
    if (err) return err;
    err = append_head(q, q->file, &q->file_size);
    if (err) return err;
    if (q->count == 0) q->head_off = q->file_size;
    err = mark_written(q, now);
    maybe_compact(q);
    return err;
}
