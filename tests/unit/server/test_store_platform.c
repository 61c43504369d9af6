/* Store (SQLite backend): what the platform API adds — device edits, text search
 * and counts, event level filter and oldest-first walks, pictures, requests. */
#include "testutil.h"

#include "store_fixture.h"

#include "store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int setup(void **state)
{
    return store_fixture_setup(state, "storep", true, NULL);
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

static void add_device(struct osap_store *st, const char *serial, const char *name,
                       const char *model)
{
    struct osap_device d;
    memset(&d, 0, sizeof(d));
    snprintf(d.serial, sizeof(d.serial), "%s", serial);
    d.auth_mode = strchr(serial, ':') ? OSAP_AUTH_LICENCE : OSAP_AUTH_SAP;
    snprintf(d.secret, sizeof(d.secret), "ABCDEF");
    snprintf(d.name, sizeof(d.name), "%s", name);
    snprintf(d.model, sizeof(d.model), "%s", model);
    assert_int_equal(osap_store_device_add(st, &d), OSAP_OK);
}

struct serials {
    char v[16][80];
    size_t n;
};

static osap_err collect_serial(const struct osap_device *dev, void *ud)
{
    struct serials *s = ud;
    if (s->n < 16) snprintf(s->v[s->n++], sizeof(s->v[0]), "%s", dev->serial);
    return OSAP_OK;
}

static void test_device_update_search_count(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_device dev;
    struct osap_device_counts c;
    struct osap_device_filter f;
    struct serials s;

    add_device(fx->st, "Q100", "Front door", "ip_camera");
    add_device(fx->st, "Q200", "Garage", "nvr");
    add_device(fx->st, "pk:door-7", "Back DOOR", "access_control");

    /* Search: serial or name, ASCII case-insensitive, combined with paging. */
    memset(&f, 0, sizeof(f));
    f.search = "door";
    memset(&s, 0, sizeof(s));
    assert_int_equal(osap_store_device_list(fx->st, &f, collect_serial, &s), OSAP_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.v[0], "Q100");
    assert_string_equal(s.v[1], "pk:door-7");
    f.after = "Q100";
    memset(&s, 0, sizeof(s));
    assert_int_equal(osap_store_device_list(fx->st, &f, collect_serial, &s), OSAP_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.v[0], "pk:door-7");
    memset(&f, 0, sizeof(f));
    f.search = "Q2";
    memset(&s, 0, sizeof(s));
    assert_int_equal(osap_store_device_list(fx->st, &f, collect_serial, &s), OSAP_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.v[0], "Q200");
    f.search = "nothing";
    memset(&s, 0, sizeof(s));
    assert_int_equal(osap_store_device_list(fx->st, &f, collect_serial, &s), OSAP_OK);
    assert_int_equal(s.n, 0);

    /* Update: NULL members stay, others change; limits are checked. */
    struct osap_device_update u = {.name = "Main entrance"};
    assert_int_equal(osap_store_device_update(fx->st, "Q100", &u), OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "Q100", &dev), OSAP_OK);
    assert_string_equal(dev.name, "Main entrance");
    assert_string_equal(dev.model, "ip_camera");
    assert_string_equal(dev.secret, "ABCDEF");
    u = (struct osap_device_update){.model = "nvr", .secret = "XYZ123"};
    assert_int_equal(osap_store_device_update(fx->st, "Q100", &u), OSAP_OK);
    assert_int_equal(osap_store_device_get(fx->st, "Q100", &dev), OSAP_OK);
    assert_string_equal(dev.name, "Main entrance");
    assert_string_equal(dev.model, "nvr");
    assert_string_equal(dev.secret, "XYZ123");
    u = (struct osap_device_update){.secret = "has space"};
    assert_int_equal(osap_store_device_update(fx->st, "Q100", &u), OSAP_EINVAL);
    u = (struct osap_device_update){.name = "bad\nname"};
    assert_int_equal(osap_store_device_update(fx->st, "Q100", &u), OSAP_EINVAL);
    u = (struct osap_device_update){.name = "x"};
    assert_int_equal(osap_store_device_update(fx->st, "Q999", &u), OSAP_ENOTFOUND);

    /* Counts. */
    assert_int_equal(osap_store_device_count(fx->st, &c), OSAP_OK);
    assert_int_equal(c.total, 3);
    assert_int_equal(c.online, 0);
    assert_int_equal(c.blocked, 0);
    assert_int_equal(osap_store_device_set_online(fx->st, "Q200", true, "n1", "1.2.3.4:5", 1000),
                     OSAP_OK);
    assert_int_equal(osap_store_device_set_blocked(fx->st, "Q100", true), OSAP_OK);
    assert_int_equal(osap_store_device_count(fx->st, &c), OSAP_OK);
    assert_int_equal(c.total, 3);
    assert_int_equal(c.online, 1);
    assert_int_equal(c.blocked, 1);
}

struct ids {
    int64_t v[32];
    size_t n;
};

static osap_err collect_event(const struct osap_event *ev, void *ud)
{
    struct ids *s = ud;
    if (s->n < 32) s->v[s->n++] = ev->id;
    return OSAP_OK;
}

static void test_event_level_and_order(void **state)
{
    struct store_fixture *fx = *state;
    int64_t id[6];
    struct osap_event_filter f;
    struct ids s;

    add_device(fx->st, "Q1", "", "");
    for (int i = 0; i < 6; i++) {
        char uuid[16];
        bool dup = true;
        struct osap_event ev = {
            .serial = "Q1",
            .child = "global",
            .resource = "0-global",
            .domain = "Alarm",
            .identifier = "Motion",
            .seq = i + 1,
            .uuid = uuid,
            .level = i % 3,
            .payload = "{}",
            .received_at = 1000 + i,
        };
        snprintf(uuid, sizeof(uuid), "u%d", i);
        assert_int_equal(osap_store_event_add(fx->st, &ev, 0, &id[i], &dup), OSAP_OK);
        assert_false(dup);
    }
    memset(&f, 0, sizeof(f));
    f.by_level = true;
    f.level = 0; /* level 0 is a value, not "no filter" */
    memset(&s, 0, sizeof(s));
    assert_int_equal(osap_store_event_list(fx->st, &f, collect_event, &s), OSAP_OK);
    assert_int_equal(s.n, 2);
    assert_true(s.v[0] == id[3] && s.v[1] == id[0]);
    f.level = 2;
    memset(&s, 0, sizeof(s));
    assert_int_equal(osap_store_event_list(fx->st, &f, collect_event, &s), OSAP_OK);
    assert_int_equal(s.n, 2);
    assert_true(s.v[0] == id[5] && s.v[1] == id[2]);

    /* Oldest first after an id, with a limit: the catch-up walk. */
    memset(&f, 0, sizeof(f));
    f.oldest_first = true;
    f.after_id = id[1];
    f.limit = 3;
    memset(&s, 0, sizeof(s));
    assert_int_equal(osap_store_event_list(fx->st, &f, collect_event, &s), OSAP_OK);
    assert_int_equal(s.n, 3);
    assert_true(s.v[0] == id[2] && s.v[1] == id[3] && s.v[2] == id[4]);
    /* Newest first is unchanged. */
    f.oldest_first = false;
    memset(&s, 0, sizeof(s));
    assert_int_equal(osap_store_event_list(fx->st, &f, collect_event, &s), OSAP_OK);
    assert_true(s.n == 3 && s.v[0] == id[5] && s.v[2] == id[3]);
}

static const char SHA_A[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char SHA_B[] = "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct pics {
    char sha[8][65];
    int64_t seqno[8];
    size_t n;
};

static osap_err collect_pic(const struct osap_picture *p, void *ud)
{
    struct pics *s = ud;
    if (s->n < 8) {
        snprintf(s->sha[s->n], 65, "%s", p->sha256);
        s->seqno[s->n++] = p->seqno;
    }
    return OSAP_OK;
}

static void test_pictures(void **state)
{
    struct store_fixture *fx = *state;
    struct osap_picture p, out;
    struct osap_picture_filter f;
    struct pics s;
    bool existed = true;
    int64_t ev_id = 0;
    bool dup;

    add_device(fx->st, "Q1", "", "");
    struct osap_event ev = {.serial = "Q1",
                            .child = "global",
                            .resource = "0-global",
                            .domain = "Alarm",
                            .identifier = "Motion",
                            .seq = 1,
                            .uuid = "u1",
                            .payload = "{}",
                            .received_at = 5};
    assert_int_equal(osap_store_event_add(fx->st, &ev, 0, &ev_id, &dup), OSAP_OK);

    assert_false(osap_picture_sha256_valid("0123"));
    assert_false(osap_picture_sha256_valid(
        "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_true(osap_picture_sha256_valid(SHA_A));

    memset(&p, 0, sizeof(p));
    snprintf(p.sha256, sizeof(p.sha256), "%s", SHA_A);
    snprintf(p.content_type, sizeof(p.content_type), "image/png");
    p.size = 10;
    assert_int_equal(osap_store_picture_add(fx->st, &p, &existed, &out), OSAP_OK);
    assert_false(existed);
    assert_string_equal(out.serial, "");
    assert_int_equal(out.event_id, 0);
    assert_true(out.created_at > 0);

    /* The same content again, now with links: deduplicated, links filled in. */
    snprintf(p.serial, sizeof(p.serial), "Q1");
    p.event_id = ev_id;
    assert_int_equal(osap_store_picture_add(fx->st, &p, &existed, &out), OSAP_OK);
    assert_true(existed);
    assert_string_equal(out.serial, "Q1");
    assert_int_equal(out.event_id, ev_id);
    assert_string_equal(out.content_type, "image/png");

    /* Unknown device or event: not found; malformed: invalid. */
    memset(&p, 0, sizeof(p));
    snprintf(p.sha256, sizeof(p.sha256), "%s", SHA_B);
    snprintf(p.content_type, sizeof(p.content_type), "image/gif");
    p.size = 3;
    snprintf(p.serial, sizeof(p.serial), "NOPE");
    assert_int_equal(osap_store_picture_add(fx->st, &p, &existed, NULL), OSAP_ENOTFOUND);
    p.serial[0] = '\0';
    p.event_id = ev_id + 100;
    assert_int_equal(osap_store_picture_add(fx->st, &p, &existed, NULL), OSAP_ENOTFOUND);
    p.event_id = 0;
    p.sha256[0] = 'X';
    assert_int_equal(osap_store_picture_add(fx->st, &p, &existed, NULL), OSAP_EINVAL);
    p.sha256[0] = '1';
    assert_int_equal(osap_store_picture_add(fx->st, &p, &existed, NULL), OSAP_OK);
    assert_false(existed);

    /* Lists: newest first, filters, paging by seqno. */
    memset(&f, 0, sizeof(f));
    memset(&s, 0, sizeof(s));
    assert_int_equal(osap_store_picture_list(fx->st, &f, collect_pic, &s), OSAP_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.sha[0], SHA_B);
    assert_string_equal(s.sha[1], SHA_A);
    f.before_seqno = s.seqno[0];
    memset(&s, 0, sizeof(s));
    assert_int_equal(osap_store_picture_list(fx->st, &f, collect_pic, &s), OSAP_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.sha[0], SHA_A);
    memset(&f, 0, sizeof(f));
    f.serial = "Q1";
    memset(&s, 0, sizeof(s));
    assert_int_equal(osap_store_picture_list(fx->st, &f, collect_pic, &s), OSAP_OK);
    assert_int_equal(s.n, 1);
    memset(&f, 0, sizeof(f));
    f.event_id = ev_id;
    memset(&s, 0, sizeof(s));
    assert_int_equal(osap_store_picture_list(fx->st, &f, collect_pic, &s), OSAP_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.sha[0], SHA_A);

    assert_int_equal(osap_store_picture_get(fx->st, SHA_B, &out), OSAP_OK);
    assert_int_equal(out.size, 3);
    assert_int_equal(osap_store_picture_remove(fx->st, SHA_B), OSAP_OK);
    assert_int_equal(osap_store_picture_get(fx->st, SHA_B, &out), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_picture_remove(fx->st, SHA_B), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_picture_get(fx->st, "../etc", &out), OSAP_ENOTFOUND);

    /* Removing the device keeps the picture, unlinked. */
    assert_int_equal(osap_store_device_remove(fx->st, "Q1"), OSAP_OK);
    assert_int_equal(osap_store_picture_get(fx->st, SHA_A, &out), OSAP_OK);
    assert_string_equal(out.serial, "");
    assert_int_equal(out.event_id, 0);
}

struct req_copy {
    char status[16];
    char output[64];
    char input[64];
    bool has_code;
    int64_t code, seq, completed_at;
};

static osap_err copy_req(const struct osap_request *r, void *ud)
{
    struct req_copy *c = ud;
    snprintf(c->status, sizeof(c->status), "%s", r->status);
    snprintf(c->output, sizeof(c->output), "%s", r->output ? r->output : "(null)");
    snprintf(c->input, sizeof(c->input), "%s", r->input ? r->input : "(null)");
    c->has_code = r->has_code;
    c->code = r->code;
    c->seq = r->seq;
    c->completed_at = r->completed_at;
    return OSAP_OK;
}

static void test_requests(void **state)
{
    struct store_fixture *fx = *state;
    struct req_copy c;
    int64_t id = 0, id2 = 0;
    uint64_t n = 0;
    struct osap_request r = {
        .serial = "Q1",
        .kind = OSAP_REQUEST_KIND_OPERATE,
        .child = "global",
        .resource = "0-global",
        .domain = "PTZ",
        .identifier = "Move",
        .input = "{\"x\":1}",
    };

    assert_int_equal(osap_store_request_add(fx->st, &r, &id), OSAP_ENOTFOUND);
    add_device(fx->st, "Q1", "", "");
    assert_int_equal(osap_store_request_add(fx->st, &r, &id), OSAP_OK);
    assert_true(id > 0);
    memset(&c, 0, sizeof(c));
    assert_int_equal(osap_store_request_get(fx->st, id, copy_req, &c), OSAP_OK);
    assert_string_equal(c.status, "pending");
    assert_string_equal(c.input, "{\"x\":1}");
    assert_false(c.has_code);
    assert_int_equal(c.seq, -1);
    assert_int_equal(c.completed_at, 0);

    assert_int_equal(osap_store_request_complete(fx->st, id, "pending", 1, false, 0, NULL),
                     OSAP_EINVAL);
    assert_int_equal(
        osap_store_request_complete(fx->st, id, OSAP_REQUEST_DONE, 7, true, 0, "{\"ok\":true}"),
        OSAP_OK);
    /* Only once. */
    assert_int_equal(
        osap_store_request_complete(fx->st, id, OSAP_REQUEST_TIMEOUT, 7, false, 0, NULL),
        OSAP_ENOTFOUND);
    memset(&c, 0, sizeof(c));
    assert_int_equal(osap_store_request_get(fx->st, id, copy_req, &c), OSAP_OK);
    assert_string_equal(c.status, "done");
    assert_true(c.has_code);
    assert_int_equal(c.code, 0);
    assert_int_equal(c.seq, 7);
    assert_string_equal(c.output, "{\"ok\":true}");
    assert_true(c.completed_at > 0);

    r.kind = "reboot";
    assert_int_equal(osap_store_request_add(fx->st, &r, &id2), OSAP_EINVAL);
    r.kind = OSAP_REQUEST_KIND_SET;
    r.input = NULL;
    assert_int_equal(osap_store_request_add(fx->st, &r, &id2), OSAP_OK);
    assert_int_equal(osap_store_request_interrupt(fx->st, osap_time_now_ms() + 1, &n), OSAP_OK);
    assert_int_equal(n, 1);
    memset(&c, 0, sizeof(c));
    assert_int_equal(osap_store_request_get(fx->st, id2, copy_req, &c), OSAP_OK);
    assert_string_equal(c.status, "interrupted");
    assert_string_equal(c.input, "(null)");
    assert_int_equal(osap_store_request_get(fx->st, 999999, copy_req, &c), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_request_get(fx->st, 0, copy_req, &c), OSAP_ENOTFOUND);
    assert_int_equal(osap_store_request_prune(fx->st, osap_time_now_ms() + 1, &n), OSAP_OK);
    assert_int_equal(n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_device_update_search_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_level_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pictures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
