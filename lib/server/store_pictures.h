/*
 * Store: pictures (table pictures), the metadata of the Picture Service's files.
 * The bytes live below data_dir/pictures, named by their SHA-256 (the api's
 * picture service writes them); a row describes one distinct content, optionally
 * linked to a device and one of its events. See store.h for the threading rule
 * and the error conventions.
 */
#ifndef OSAP_SERVER_STORE_PICTURES_H
#define OSAP_SERVER_STORE_PICTURES_H

#include "osap/err.h"
#include "osap/proto.h"

#include <stdbool.h>
#include <stdint.h>

struct osap_store;

/** Hex SHA-256 length without the NUL. */
#define OSAP_PICTURE_SHA256_LEN 64
/** Longest content type ("image/jpeg" ...). */
#define OSAP_PICTURE_TYPE_MAX 31

/** One picture. */
struct osap_picture {
    int64_t seqno;                                /* output: order of arrival (paging) */
    char sha256[OSAP_PICTURE_SHA256_LEN + 1];     /* lower-case hex */
    char content_type[OSAP_PICTURE_TYPE_MAX + 1]; /* from the content's magic bytes */
    int64_t size;                                 /* bytes */
    char serial[OSAP_SUBSERIAL_MAX + 1];          /* linked device; "" = none */
    int64_t event_id;                             /* linked event; 0 = none */
    int64_t created_at;                           /* output: ms since the epoch */
};

/** Which pictures osap_store_picture_list() visits, newest first. Zero/NULL members
 *  do not filter. */
struct osap_picture_filter {
    const char *serial;
    int64_t event_id;
    int64_t before_seqno; /* seqno < before_seqno (paging; 0 = from the newest) */
    uint32_t limit;       /* 0 = no limit */
};

/** Record @p pic (sha256, content_type, size, optional serial and event_id) unless
 *  a picture with that sha256 is stored already: then @p existed is set and the
 *  stored row is kept (links it lacks are filled in from @p pic). @p out (may be
 *  NULL) receives the stored row. OSAP_ENOTFOUND when the linked device or event
 *  does not exist, OSAP_EINVAL for a malformed hash or type. */
osap_err osap_store_picture_add(struct osap_store *st, const struct osap_picture *pic,
                                bool *existed, struct osap_picture *out);

/** Read the picture @p sha256. */
osap_err osap_store_picture_get(struct osap_store *st, const char *sha256,
                                struct osap_picture *out);

/** Call @p fn for each picture matching @p filter (NULL = all), newest first. A
 *  non-OK return from @p fn stops the walk and is returned; @p fn must not use
 *  @p st. */
osap_err osap_store_picture_list(struct osap_store *st, const struct osap_picture_filter *filter,
                                 osap_err (*fn)(const struct osap_picture *pic, void *userdata),
                                 void *userdata);

/** Forget the picture @p sha256 (the caller removes its file). */
osap_err osap_store_picture_remove(struct osap_store *st, const char *sha256);

/** True when @p s is 64 lower-case hex characters. */
bool osap_picture_sha256_valid(const char *s);

/** Backend operations behind the functions above (arguments already validated). */
struct osap_store_picture_ops {
    osap_err (*add)(struct osap_store *st, const struct osap_picture *pic, int64_t now,
                    bool *existed, struct osap_picture *out);
    osap_err (*get)(struct osap_store *st, const char *sha256, struct osap_picture *out);
    osap_err (*list)(struct osap_store *st, const struct osap_picture_filter *filter,
                     osap_err (*fn)(const struct osap_picture *pic, void *userdata),
                     void *userdata);
    osap_err (*remove)(struct osap_store *st, const char *sha256);
};

#endif /* OSAP_SERVER_STORE_PICTURES_H */
