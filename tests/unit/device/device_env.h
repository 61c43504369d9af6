/*
 * A device on the fake port against the scripted server (fake_server.h), with
 * the helpers the behaviour tests share. Header-only (static inline).
 */
#ifndef TEST_DEVICE_ENV_H
#define TEST_DEVICE_ENV_H

#include "fake_server.h"

#include "osap/alloc.h"

struct env {
    struct fake f;
    struct fsrv s;
    struct osap_device_config cfg;
    osap_device_t *dev;
    int states[64];
    int nstates;
    /* business callbacks */
    osap_device_handler_fn handler;
    uint64_t acked[256];
    int nacked;
};

static inline void env_on_acked(void *ud, uint64_t id)
{
    struct env *e = ud;
    if (e->nacked < 256) e->acked[e->nacked++] = id;
}

static inline int env_on_request(void *ud, const struct osap_device_request *req, char *out,
                                 size_t cap, size_t *out_len)
{
    struct env *e = ud;
    return e->handler ? e->handler(e, req, out, cap, out_len) : OSAP_DEVICE_CODE_NO_HANDLER;
}

static inline void env_on_state(void *ud, enum osap_device_state st, osap_err why)
{
    struct env *e = ud;
    (void)why;
    if (e->nstates < 64) e->states[e->nstates++] = st;
}

static inline void env_init_dir(struct env *e, const char *dir)
{
    memset(e, 0, sizeof(*e));
    fake_setup(&e->f, dir);
    fs_init(&e->s, &e->f, "ABC123");
    e->cfg.lbs_host = "127.0.0.1";
    e->cfg.lbs_port = FS_LBS_PORT;
    e->cfg.auth_mode = OSAP_LBS_AUTH_MODE_SAP;
    e->cfg.subserial = "Q12345678";
    e->cfg.vcode = "ABC123";
    e->cfg.dev_type = "CS-TEST";
    e->cfg.firmware_version = "V1.0.0 build 1";
    e->cfg.port = &e->f.port;
    e->cfg.cb.state_changed = env_on_state;
    e->cfg.cb.event_acked = env_on_acked;
    e->cfg.cb.request = env_on_request;
    e->cfg.userdata = e;
}

static inline void env_init(struct env *e)
{
    env_init_dir(e, NULL);
}

static inline void env_start(struct env *e)
{
    assert_int_equal(osap_device_new(&e->cfg, &e->dev), OSAP_OK);
    assert_int_equal(osap_device_start(e->dev), OSAP_OK);
}

/* Power cut: the handle goes, storage stays. */
static inline void env_kill(struct env *e)
{
    osap_device_free(e->dev);
    e->dev = NULL;
}

static inline void env_free(struct env *e)
{
    osap_device_free(e->dev);
    fs_free(&e->s);
    fake_free(&e->f);
}

static inline uint8_t first_byte(const struct env *e, int conn)
{
    assert_true(conn < e->f.nconns && e->f.conns[conn].out_len > 0);
    return e->f.conns[conn].out[0];
}

static inline void assert_online(struct env *e, uint64_t max_ms)
{
    if (!fs_run_until_state(&e->s, e->dev, OSAP_DEVICE_ONLINE, max_ms)) {
        struct osap_device_stats st;
        osap_device_stats(e->dev, &st);
        for (int i = 0; i < e->f.nconns; i++) {
            char *o = test_tohex(e->f.conns[i].out, e->f.conns[i].out_len);
            char *in = test_tohex(e->f.conns[i].in, e->f.conns[i].in_len);
            print_message("conn %d port %d closed %d eof %d out %s in %s\n", i, e->f.conns[i].port,
                          e->f.conns[i].closed, e->f.conns[i].eof, o, in);
            test_free_buf(o);
            test_free_buf(in);
        }
        fail_msg("not online (state %s, last error %s, %d connections)",
                 osap_device_state_name(osap_device_state(e->dev)), osap_errname(st.last_error),
                 e->f.nconns);
    }
}

#endif
