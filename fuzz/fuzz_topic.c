/*
 * libFuzzer target for device topics (v3, v2) and the $osap application topics.
 *
 * Seeds: every PUBLISH topic and subscription filter of the golden captures and
 * the v2 topics of the vectors. A topic that parses must rebuild to exactly the
 * same bytes (or be refused by the v3 builder for the device's module-search
 * quirk), and its parts must make valid application topics.
 */
#include "osap/topic.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
    if (!cond) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *topic = (const char *)data;
    struct osap_topic_v3 t3;
    struct osap_topic_v2 t2;
    char out[1024];
    size_t n;

    if (osap_topic_v3_parse(topic, size, &t3) == OSAP_OK) {
        must(size < OSAP_TOPIC_V3_MAX);
        osap_err e = osap_topic_v3_build(&t3, out, sizeof(out), &n);
        must(e == OSAP_OK || e == OSAP_EDEVICE_TOPIC);
        if (e == OSAP_OK) must(n == size && memcmp(out, topic, size) == 0);
        struct osap_topic_span rest = {t3.child.ptr, (size_t)(topic + size - t3.child.ptr)};
        must(osap_topic_app_raw(t3.serial, rest, out, sizeof(out), &n) == OSAP_OK);
        must(osap_topic_app_status(t3.serial, out, sizeof(out), &n) == OSAP_OK);
        if (t3.domain.len) {
            must(osap_topic_app_event(t3.serial, t3.domain, t3.identifier, out, sizeof(out), &n) ==
                 OSAP_OK);
            must(osap_topic_app_reply(t3.serial, t3.domain, t3.identifier, out, sizeof(out), &n) ==
                 OSAP_OK);
        }
    }
    if (osap_topic_v2_parse(topic, size, &t2) == OSAP_OK) {
        must(size < OSAP_TOPIC_V2_MAX);
        must(osap_topic_v2_build(&t2, out, sizeof(out), &n) == OSAP_OK);
        must(n == size && memcmp(out, topic, size) == 0);
        if (t2.serial.len)
            must(osap_topic_app_v2(t2.serial, t2.domain, t2.cmd, out, sizeof(out), &n) == OSAP_OK);
    }
    return 0;
}
