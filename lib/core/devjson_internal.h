/*
 * Internal helpers for the device JSON documents and the envelope's common
 * JSON (not installed).
 *
 * Writing: a bounded writer that prints compact JSON the way the device's cJSON
 * does (same string escapes, integers in decimal), so that documents can be
 * reproduced byte for byte in a fixed key order.
 *
 * Reading: cJSON over an exact byte range (nothing may follow the value but
 * blanks), and typed member lookups that refuse duplicated members.
 */
#ifndef OSAP_DEVJSON_INTERNAL_H
#define OSAP_DEVJSON_INTERNAL_H

#include "osap/err.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ writer */

/** A JSON text being written into a caller buffer. */
struct osap__jw {
    char *buf;
    size_t cap;
    size_t len;
    int overflow;
};

void osap__jw_init(struct osap__jw *w, char *buf, size_t cap);
/** Append @p n bytes as they are. */
void osap__jw_raw(struct osap__jw *w, const char *s, size_t n);
/** Append a NUL-terminated literal as it is. */
void osap__jw_lit(struct osap__jw *w, const char *s);
/** Append "s" with cJSON's escapes: \" \\ \b \f \n \r \t, other bytes below 0x20 as
 *  \u00xx (lower-case hex); every other byte as it is. */
void osap__jw_str(struct osap__jw *w, const char *s, size_t n);
/** Append a decimal integer. */
void osap__jw_u64(struct osap__jw *w, uint64_t v);
void osap__jw_i64(struct osap__jw *w, int64_t v);
/** NUL-terminate; the length (without the NUL) in @p len. OSAP_EBUFSIZE when the
 *  text and its NUL did not fit. */
osap_err osap__jw_finish(struct osap__jw *w, size_t *len);

/* ------------------------------------------------------------------ reader */

/** Parse exactly @p len bytes as one JSON value (blanks around it allowed) into a
 *  new cJSON tree. @p syntax_err is returned for malformed text; OSAP_ENOMEM when
 *  the parser ran out of memory. */
osap_err osap__json_parse(const char *text, size_t len, osap_err syntax_err, cJSON **out);

/** The member @p key of @p obj (case-sensitive). *out is NULL when absent.
 *  Returns 0, or -1 when the key appears more than once. */
int osap__json_member(const cJSON *obj, const char *key, const cJSON **out);

/** A JSON number that is an integer within [min, max]: 1 and *out set, else 0. */
int osap__json_int_in(const cJSON *item, double min, double max, int64_t *out);

/** Copy a JSON string of at most @p max bytes (no NUL inside) into @p out
 *  (max + 1 bytes): 1 on success, 0 when it is not a string or too long. */
int osap__json_str_copy(const cJSON *item, char *out, size_t max);

#endif /* OSAP_DEVJSON_INTERNAL_H */
