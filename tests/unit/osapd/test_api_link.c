/* The api's link: items posted from many threads all run on the loop thread,
 * in posting order per thread; the bounded queue refuses past its ceiling; after
 * the close, waiting and later items run with live = false and nothing leaks. */
#include "testutil.h"

#include "api/api_internal.h"
#include "osap/alloc.h"

#include <pthread.h>
#include <string.h>

#define THREADS 4
#define PER     2000

struct item {
    struct api_link_item li;
    int thread, n;
};

static int last_seen[THREADS];
static int ran_live, ran_dead;
static pthread_t loop_thread;
static bool order_ok = true, thread_ok = true;

static void run(struct api_link_item *li, bool live)
{
    struct item *it = API_CONTAINER_OF(li, struct item, li);

    if (live) {
        if (!pthread_equal(pthread_self(), loop_thread)) thread_ok = false;
        if (it->n != last_seen[it->thread] + 1) order_ok = false;
        last_seen[it->thread] = it->n;
        ran_live++;
    } else {
        ran_dead++;
    }
    osap_free(it);
}

struct poster {
    struct api_link *link;
    int index;
};

static void *post_many(void *arg)
{
    struct poster *p = arg;
    for (int i = 1; i <= PER; i++) {
        struct item *it = osap_calloc(1, sizeof(*it));
        it->thread = p->index;
        it->n = i;
        api_link_post(p->link, &it->li, run);
    }
    return NULL;
}

static void test_many_threads(void **state)
{
    uv_loop_t loop;
    struct api_link *link = NULL;
    pthread_t t[THREADS];
    struct poster p[THREADS];
    (void)state;

    memset(last_seen, 0, sizeof(last_seen));
    ran_live = ran_dead = 0;
    loop_thread = pthread_self();
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(api_link_new(&loop, &link), OSAP_OK);
    for (int i = 0; i < THREADS; i++) {
        p[i].link = link;
        p[i].index = i;
        assert_int_equal(pthread_create(&t[i], NULL, post_many, &p[i]), 0);
    }
    while (ran_live < THREADS * PER)
        uv_run(&loop, UV_RUN_ONCE);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_true(order_ok);
    assert_true(thread_ok);

    /* Bounded posts stop at the ceiling until the loop drains them. */
    struct item *b[4];
    for (int i = 0; i < 4; i++) {
        b[i] = osap_calloc(1, sizeof(*b[i]));
        b[i]->thread = 0;
        b[i]->n = last_seen[0] + 1 + i;
    }
    assert_true(api_link_post_bounded(link, &b[0]->li, run, 2));
    assert_true(api_link_post_bounded(link, &b[1]->li, run, 2));
    assert_false(api_link_post_bounded(link, &b[2]->li, run, 2));
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(ran_live, THREADS * PER + 2);
    b[2]->n = last_seen[0] + 1;
    assert_true(api_link_post_bounded(link, &b[2]->li, run, 2));

    /* Close: the waiting item runs dead; later posts too, at once. A reference
     * keeps the link for them. */
    api_link_ref(link);
    api_link_close(link);
    assert_int_equal(ran_dead, 1);
    b[3]->n = 0;
    api_link_post(link, &b[3]->li, run);
    assert_int_equal(ran_dead, 2);
    api_link_unref(link);
    api_link_unref(link);
    uv_run(&loop, UV_RUN_DEFAULT); /* the async handle's close, then the last unref */
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
