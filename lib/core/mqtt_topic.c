/* MQTT topic names and filters: validation, levels and matching. */
#include "osap/mqtt.h"

#include <string.h>

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Whether any of the eight bytes at @p p is '+' or '#'. */
static bool word_has_wildcard(const char *p)
{
    uint64_t w, a, b;
    memcpy(&w, p, sizeof(w));
    a = w ^ (ONES * '+');
    b = w ^ (ONES * '#');
    return (((a - ONES) & ~a) | ((b - ONES) & ~b)) & HIGHS;
}

osap_err osap_mqtt_topic_validate(const char *topic, size_t len)
{
    osap_err err = osap_mqtt_utf8_validate(topic, len);
    size_t i = 0;

    if (err) return err;
    if (len == 0) return OSAP_EMQTT_TOPIC;
    for (; i + 8 <= len; i += 8)
        if (word_has_wildcard(topic + i)) break;
    for (; i < len; i++)
        if (topic[i] == '+' || topic[i] == '#') return OSAP_EMQTT_TOPIC;
    return OSAP_OK;
}

osap_err osap_mqtt_filter_validate(const char *filter, size_t len)
{
    osap_err err = osap_mqtt_utf8_validate(filter, len);
    struct osap_mqtt_level_iter it;
    struct osap_mqtt_str level;

    if (err) return err;
    if (len == 0) return OSAP_EMQTT_FILTER;
    osap_mqtt_level_iter_init(&it, filter, len);
    while (osap_mqtt_level_iter_next(&it, &level)) {
        bool plus = memchr(level.ptr, '+', level.len) != NULL;
        bool hash = memchr(level.ptr, '#', level.len) != NULL;
        if ((plus || hash) && level.len != 1) return OSAP_EMQTT_FILTER;
        if (hash && !it.done) return OSAP_EMQTT_FILTER;
    }
    return OSAP_OK;
}

void osap_mqtt_level_iter_init(struct osap_mqtt_level_iter *it, const char *s, size_t len)
{
    it->pos = s;
    it->end = len ? s + len : s; /* no arithmetic on a NULL empty string */
    it->done = false;
}

bool osap_mqtt_level_iter_next(struct osap_mqtt_level_iter *it, struct osap_mqtt_str *level)
{
    if (it->done) return false;
    size_t left = (size_t)(it->end - it->pos);
    const char *slash = left ? memchr(it->pos, '/', left) : NULL;
    level->ptr = it->pos;
    if (slash) {
        level->len = (size_t)(slash - it->pos);
        it->pos = slash + 1;
    } else {
        level->len = left;
        it->pos = it->end;
        it->done = true;
    }
    return true;
}

bool osap_mqtt_filter_matches(const char *filter, size_t flen, const char *topic, size_t tlen)
{
    size_t i = 0, j = 0;

    /* MQTT 3.1.1 4.7.2: wildcards at the start never reach '$' topics. */
    if (tlen > 0 && topic[0] == '$' && flen > 0 && (filter[0] == '+' || filter[0] == '#'))
        return false;
    /* One walk over both strings; the filter is valid, so a wildcard is always
     * a whole level. */
    while (i < flen) {
        char c = filter[i];
        if (c == '#') return true; /* the rest, however many levels */
        if (c == '+') {
            while (j < tlen && topic[j] != '/') /* one level, maybe empty */
                j++;
            i++;
            continue;
        }
        if (j == tlen) /* "a/#" also matches "a": the parent level */
            return flen - i == 2 && filter[i] == '/' && filter[i + 1] == '#';
        if (c != topic[j]) return false;
        i++;
        j++;
    }
    return j == tlen;
}
