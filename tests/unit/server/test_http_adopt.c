/* osap__http_server_adopt(): a connected socket served as an accepted connection
 * (what the HTTP fuzz targets drive the server through): keep-alive requests and
 * their answers, the end of the connection, and the refusals (a socket libuv
 * cannot take stays the caller's; nothing once the server is closing). */
#include "testutil.h"

#include "http_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int handled;

static void handler(struct osap_http_request *req, void *ud)
{
    (void)ud;
    handled++;
    osap_http_respond(req, 200, "text/plain", req->path, strlen(req->path));
}

static uint32_t open_conns(osap_http_server_t *srv)
{
    struct osap_http_stats st;
    osap_http_server_stats(srv, &st);
    return st.connections;
}

/* Run the loop until @p fd has @p want bytes or more (or the peer closed). */
static size_t read_answer(uv_loop_t *loop, int fd, char *buf, size_t cap, size_t want)
{
    size_t got = 0;
    for (int i = 0; i < 1000 && got < want; i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n == 0) break;
        if (n > 0) got += (size_t)n;
        if (n < 0) assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    }
    buf[got] = '\0';
    return got;
}

static void closed(void *ud)
{
    *(bool *)ud = true;
}

static void test_adopted_connection(void **state)
{
    uv_loop_t loop;
    struct osap_http_config cfg;
    osap_http_server_t *srv;
    char buf[4096];
    int sv[2];
    bool done = false;
    (void)state;

    assert_int_equal(uv_loop_init(&loop), 0);
    osap_http_config_init(&cfg);
    cfg.port = 0;
    assert_int_equal(osap_http_server_new(&loop, &cfg, handler, NULL, &srv), OSAP_OK);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
    assert_int_equal(osap__http_server_adopt(srv, sv[0]), OSAP_OK);
    assert_int_equal(open_conns(srv), 1);

    /* two requests on the connection, answered in order, kept alive */
    static const char reqs[] = "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /two HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(write(sv[1], reqs, sizeof(reqs) - 1), (ssize_t)(sizeof(reqs) - 1));
    read_answer(&loop, sv[1], buf, sizeof(buf), 200);
    assert_int_equal(handled, 2);
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
    assert_true(strstr(buf, "/one") && strstr(buf, "/two") &&
                strstr(buf, "/one") < strstr(buf, "/two"));
    assert_null(strstr(buf, "Connection: close"));

    /* the client goes: the server lets go of the connection (and of the socket) */
    close(sv[1]);
    for (int i = 0; i < 100 && open_conns(srv) > 0; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(open_conns(srv), 0);
    assert_int_equal(fcntl(sv[0], F_GETFD), -1); /* closed with the connection */

    /* a socket libuv cannot take (not open) stays the caller's */
    assert_int_equal(osap__http_server_adopt(srv, -1), OSAP_EIO);
    for (int i = 0; i < 10; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(open_conns(srv), 0);

    osap_http_server_close(srv, closed, &done);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(done);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_refused_while_closing(void **state)
{
    uv_loop_t loop;
    struct osap_http_config cfg;
    osap_http_server_t *srv;
    int sv[2];
    bool done = false;
    (void)state;

    assert_int_equal(uv_loop_init(&loop), 0);
    osap_http_config_init(&cfg);
    cfg.port = 0;
    assert_int_equal(osap_http_server_new(&loop, &cfg, handler, NULL, &srv), OSAP_OK);
    osap_http_server_close(srv, closed, &done);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(osap__http_server_adopt(srv, sv[0]), OSAP_ESTATE);
    assert_int_equal(fcntl(sv[0], F_GETFD), 0); /* still the caller's */
    close(sv[0]);
    close(sv[1]);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(done);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adopted_connection),
        cmocka_unit_test(test_refused_while_closing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
