/* basic/shadow/query -> basic/shadow/query_reply (spec 7.3): the desired values
 * stored for the device's resource, sent with QoS 0 and the query's Seq echoed:
 *
 *   {"code":0,"state":{"desired":[{"domain":"<d>","identifier":"<k>","value":<v>},...]}}
 *
 * An empty array when nothing is desired. The query's "windowsize" (device_msg.c)
 * bounds the reply body: values that do not fit are left out (and logged). */
#include "das/device_internal.h"

#include "log.h"
#include "osap/alloc.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

struct collect {
    cJSON *array;
    size_t budget; /* bytes of body left */
    size_t skipped;
};

static osap_err add_desired(const struct osap_desired *d, void *userdata)
{
    struct collect *col = userdata;
    cJSON *entry = cJSON_CreateObject(), *value = cJSON_Parse(d->value);
    char *text;
    size_t n;

    if (!entry || !value) {
        cJSON_Delete(entry);
        cJSON_Delete(value);
        col->skipped++;
        return OSAP_OK;
    }
    cJSON_AddStringToObject(entry, "domain", d->domain);
    cJSON_AddStringToObject(entry, "identifier", d->identifier);
    cJSON_AddItemToObject(entry, "value", value);
    text = cJSON_PrintUnformatted(entry);
    n = text ? strlen(text) + 1 : SIZE_MAX; /* with its comma */
    cJSON_free(text);
    if (n > col->budget) {
        cJSON_Delete(entry);
        col->skipped++;
        return OSAP_OK;
    }
    col->budget -= n;
    cJSON_AddItemToArray(col->array, entry);
    return OSAP_OK;
}

void device_shadow_query(struct device *dev, const struct osap_topic_v3 *t, uint32_t seq,
                         size_t window)
{
    struct osap_store *st = das_worker_store(dev->dw->w);
    char child[OSAP_TOPIC_CHILD_MAX + 1], resource[OSAP_STORE_RESOURCE_MAX + 1];
    char topic[OSAP_TOPIC_V3_MAX], common[32];
    struct osap_attribute_filter filter;
    struct osap_topic_v3 reply = *t;
    struct collect col = {NULL, 0, 0};
    size_t topic_len = 0, common_len = 0;
    cJSON *root = NULL, *state;
    char *text = NULL;
    osap_err err;

    memcpy(child, t->child.ptr, t->child.len);
    child[t->child.len] = '\0';
    snprintf(resource, sizeof(resource), "%.*s-%.*s", (int)t->rid.len, t->rid.ptr,
             (int)t->rtype.len, t->rtype.ptr);
    reply.msg_type = osap_topic_span_str("query_reply");
    err = osap_topic_v3_build(&reply, topic, sizeof(topic), &topic_len);
    if (err) goto fail;

    root = cJSON_CreateObject();
    if (!root) goto nomem;
    cJSON_AddNumberToObject(root, "code", 0);
    state = cJSON_AddObjectToObject(root, "state");
    col.array = state ? cJSON_AddArrayToObject(state, "desired") : NULL;
    if (!col.array) goto nomem;
    /* The fixed part is {"code":0,"state":{"desired":[]}}: 33 bytes. */
    col.budget = window - 33;
    memset(&filter, 0, sizeof(filter));
    filter.serial = dev->serial;
    filter.child = child;
    filter.resource = resource;
    err = osap_store_desired_list(st, &filter, add_desired, &col);
    if (err) {
        /* Answer anyway with what was read: the device stops asking on code 0, and
         * would otherwise retry three times in 90 s. */
        OSAP_LOGW(DEVICE_LOG, "device %s: desired values not read: %s", dev->serial,
                  osap_strerror(err));
    }
    if (col.skipped)
        OSAP_LOGW(DEVICE_LOG,
                  "device %s: %zu desired values left out of the query reply "
                  "(malformed or beyond the window)",
                  dev->serial, col.skipped);
    text = cJSON_PrintUnformatted(root);
    if (!text) goto nomem;
    err = osap_envelope_common_v3(seq, common, sizeof(common), &common_len);
    if (err == OSAP_OK)
        err = device_send(dev, topic, topic_len, common, common_len, (const uint8_t *)text,
                          strlen(text), 0, NULL);
    if (err) goto fail;
    OSAP_LOGD(DEVICE_LOG, "device %s: shadow query %s answered (%d desired)", dev->serial, resource,
              cJSON_GetArraySize(col.array));
    cJSON_free(text);
    cJSON_Delete(root);
    return;
nomem:
    err = OSAP_ENOMEM;
fail:
    OSAP_LOGW(DEVICE_LOG, "device %s: shadow query not answered: %s", dev->serial,
              osap_strerror(err));
    cJSON_free(text);
    cJSON_Delete(root);
}
