/* Service framework: start order, reverse stop, unknown services, start failures,
 * finding other services, stop requests from other threads, signals. */
#include "testutil.h"

#include "config_core.h"
#include "log.h"
#include "service.h"
#include "store.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static char journal[512];
static osap_err fail_start_of_b;
static void *found_by_c;

static void note(const char *what)
{
    strcat(journal, what);
    strcat(journal, " ");
}

static osap_err start_a(struct osapd_context *ctx, void **state)
{
    (void)ctx;
    note("start:a");
    *state = "state-a";
    return OSAP_OK;
}

static osap_err start_b(struct osapd_context *ctx, void **state)
{
    (void)ctx;
    note("start:b");
    if (fail_start_of_b) return fail_start_of_b;
    *state = "state-b";
    return OSAP_OK;
}

static osap_err start_c(struct osapd_context *ctx, void **state)
{
    note("start:c");
    found_by_c = osapd_service_find(ctx, "a");
    *state = "state-c";
    return OSAP_OK;
}

static void stop_any(void *state)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "stop:%s", (const char *)state + 6);
    note(buf);
}

static const struct osapd_service svc_a = {"a", "first", start_a, stop_any};
static const struct osapd_service svc_b = {"b", "second", start_b, stop_any};
static const struct osapd_service svc_c = {"c", "third", start_c, stop_any};
static const struct osapd_service *const builtin[] = {&svc_a, &svc_b, &svc_c};

static struct osap_config *config_with(const char *services)
{
    struct osap_config *cfg = NULL;
    assert_int_equal(osap_config_new(&cfg), OSAP_OK);
    assert_int_equal(osap_config_register(cfg, &osap_core_settings), OSAP_OK);
    assert_int_equal(osap_config_register(cfg, &osap_store_settings), OSAP_OK);
    assert_int_equal(osap_config_set(cfg, "osapd", "services", services, "test"), OSAP_OK);
    assert_int_equal(osap_config_set(cfg, "osapd", "worker_threads", "3", "test"), OSAP_OK);
    return cfg;
}

static int setup(void **state)
{
    struct osap_log_options opt = {OSAP_LOG_ERROR, NULL, false};
    (void)state;
    journal[0] = '\0';
    fail_start_of_b = OSAP_OK;
    found_by_c = NULL;
    osap_log_open(&opt);
    return 0;
}

static void test_order_and_find(void **state)
{
    struct osap_config *cfg = config_with("c, a");
    struct osapd_context *ctx = NULL;
    (void)state;

    assert_int_equal(osapd_context_new(cfg, &ctx), OSAP_OK);
    assert_int_equal(osapd_worker_threads(ctx), 3);
    assert_ptr_equal(osapd_config(ctx), cfg);
    assert_non_null(osapd_core_config(ctx));
    assert_true(osapd_data_dir(ctx)[0] == '/');
    assert_false(osapd_stopping(ctx));
    /* Built-in order, whatever the order of the list; b is not selected. */
    assert_int_equal(osapd_context_start(ctx, builtin, 3), OSAP_OK);
    assert_string_equal(journal, "start:a start:c ");
    assert_string_equal(found_by_c, "state-a"); /* a ran before c */
    assert_string_equal(osapd_service_find(ctx, "c"), "state-c");
    assert_null(osapd_service_find(ctx, "b"));
    assert_string_equal(osapd_service_state(ctx, &svc_a), "state-a");
    assert_null(osapd_service_state(ctx, &svc_b));
    osapd_context_stop(ctx);
    assert_string_equal(journal, "start:a start:c stop:c stop:a ");
    assert_true(osapd_stopping(ctx));
    assert_null(osapd_service_find(ctx, "a"));
    osapd_context_free(ctx);
    osap_config_free(cfg);
}

static void test_unknown_service(void **state)
{
    struct osap_config *cfg = config_with("a, lbs");
    struct osapd_context *ctx = NULL;
    (void)state;
    assert_int_equal(osapd_context_new(cfg, &ctx), OSAP_OK);
    assert_int_equal(osapd_context_start(ctx, builtin, 3), OSAP_ESERVICE_UNKNOWN);
    assert_string_equal(journal, ""); /* nothing started */
    osapd_context_free(ctx);
    osap_config_free(cfg);
}

static void test_start_failure_stops_the_started(void **state)
{
    struct osap_config *cfg = config_with("a, b, c");
    struct osapd_context *ctx = NULL;
    (void)state;
    fail_start_of_b = OSAP_EIO;
    assert_int_equal(osapd_context_new(cfg, &ctx), OSAP_OK);
    assert_int_equal(osapd_context_start(ctx, builtin, 3), OSAP_EIO);
    assert_string_equal(journal, "start:a start:b stop:a ");
    osapd_context_free(ctx);
    osap_config_free(cfg);
}

static void test_empty_services(void **state)
{
    struct osap_config *cfg = config_with("");
    struct osapd_context *ctx = NULL;
    (void)state;
    assert_int_equal(osapd_context_new(cfg, &ctx), OSAP_OK);
    assert_int_equal(osapd_context_start(ctx, NULL, 0), OSAP_OK);
    osapd_context_stop(ctx);
    assert_string_equal(journal, "");
    osapd_context_free(ctx);
    osap_config_free(cfg);
}

static void request_stop_later(void *arg)
{
    usleep(50000);
    osapd_request_stop(arg, OSAP_EIO);
    osapd_request_stop(arg, OSAP_OK); /* the first reason wins */
}

static void test_stop_request_from_a_thread(void **state)
{
    struct osap_config *cfg = config_with("a");
    struct osapd_context *ctx = NULL;
    uv_thread_t t;
    (void)state;
    assert_int_equal(osapd_context_new(cfg, &ctx), OSAP_OK);
    assert_int_equal(osapd_context_start(ctx, builtin, 3), OSAP_OK);
    assert_int_equal(uv_thread_create(&t, request_stop_later, ctx), 0);
    assert_int_equal(osapd_context_run(ctx), OSAP_EIO);
    uv_thread_join(&t);
    assert_true(osapd_stopping(ctx));
    osapd_context_stop(ctx);
    assert_string_equal(journal, "start:a stop:a ");
    osapd_context_free(ctx);
    osap_config_free(cfg);
}

static void send_signals(void *arg)
{
    (void)arg;
    usleep(50000);
    kill(getpid(), SIGHUP); /* reopens the log, keeps running */
    usleep(50000);
    kill(getpid(), SIGTERM);
}

static void test_signals(void **state)
{
    struct osap_config *cfg = config_with("a");
    struct osapd_context *ctx = NULL;
    uv_thread_t t;
    struct sigaction sa;
    (void)state;
    assert_int_equal(osapd_context_new(cfg, &ctx), OSAP_OK);
    assert_int_equal(osapd_context_start(ctx, builtin, 3), OSAP_OK);
    assert_int_equal(uv_thread_create(&t, send_signals, NULL), 0);
    assert_int_equal(osapd_context_run(ctx), OSAP_OK);
    uv_thread_join(&t);
    assert_true(osapd_stopping(ctx));
    /* From now on a second SIGTERM would end the process at once. */
    assert_int_equal(sigaction(SIGTERM, NULL, &sa), 0);
    assert_true(sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
    osapd_context_stop(ctx);
    assert_string_equal(journal, "start:a stop:a ");
    osapd_context_free(ctx);
    osap_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_order_and_find, setup),
        cmocka_unit_test_setup(test_unknown_service, setup),
        cmocka_unit_test_setup(test_start_failure_stops_the_started, setup),
        cmocka_unit_test_setup(test_empty_services, setup),
        cmocka_unit_test_setup(test_stop_request_from_a_thread, setup),
        cmocka_unit_test_setup(test_signals, setup), /* last: it changes SIGTERM */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
