/* Internal helpers shared by the topic_*.c files (not installed). */
#ifndef OSAP_TOPIC_INTERNAL_H
#define OSAP_TOPIC_INTERNAL_H

#include "osap/topic.h"

/** 1 when @p s is one topic level: 1..@p max bytes, none of them '/', '+', '#',
 *  below 0x21 or 0x7F. */
int osap__topic_level_ok(struct osap_topic_span s, size_t max);

/** 1 when @p s is one or more levels separated by single '/' (no empty level,
 *  none at either end), each valid as above, @p max bytes in all (0 = no limit). */
int osap__topic_levels_ok(struct osap_topic_span s, size_t max);

/** Split off the level starting at *p (up to the next '/' or @p end) into @p out and
 *  move *p past the '/'. Returns 1 when a '/' followed, 0 at the end. */
int osap__topic_next_level(const char **p, const char *end, struct osap_topic_span *out);

/** 1 when @p s equals the NUL-terminated @p lit. */
int osap__topic_span_is(struct osap_topic_span s, const char *lit);

#endif /* OSAP_TOPIC_INTERNAL_H */
