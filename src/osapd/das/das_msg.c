/* DAS messages: immutable, reference-counted, shared by every subscriber. */
#include "das/das_internal.h"

#include "osap/alloc.h"

#include <string.h>

osap_err das_msg_new(const char *topic, size_t topic_len, const uint8_t *payload, size_t len,
                     int qos, int retain, struct das_msg **out)
{
    struct das_msg *m;

    if (topic_len == 0 || topic_len > OSAP_MQTT_STRING_MAX || len > OSAP_MQTT_REMLEN_MAX)
        return OSAP_EINVAL;
    m = osap_malloc(sizeof(*m) + topic_len + 1 + len);
    if (!m) return OSAP_ENOMEM;
    atomic_init(&m->refs, 1);
    m->payload_len = (uint32_t)len;
    m->topic_len = (uint16_t)topic_len;
    m->qos = (uint8_t)qos;
    m->retain = retain ? 1 : 0;
    m->hint = das_hint_of(topic, topic_len);
    m->origin = (struct das_conn_ref){0, 0, 0}; /* generation 0: no publisher to hold */
    memcpy(m->topic, topic, topic_len);
    m->topic[topic_len] = '\0';
    if (len) memcpy(m->topic + topic_len + 1, payload, len);
    *out = m;
    return OSAP_OK;
}

void das_msg_unref(struct das_msg *m)
{
    if (!m) return;
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) osap_free(m);
}
