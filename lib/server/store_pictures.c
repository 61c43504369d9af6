/* Store: pictures, validation and dispatch (see store_pictures.h). */
#include "store_backend.h"

#include "util.h"

#include <string.h>

bool osap_picture_sha256_valid(const char *s)
{
    size_t i;

    if (!s) return false;
    for (i = 0; s[i]; i++) {
        if (i >= OSAP_PICTURE_SHA256_LEN) return false;
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    }
    return i == OSAP_PICTURE_SHA256_LEN;
}

osap_err osap_store_picture_add(struct osap_store *st, const struct osap_picture *pic,
                                bool *existed, struct osap_picture *out)
{
    struct osap_picture row;
    bool ex = false;
    osap_err err;

    if (!pic || !osap_picture_sha256_valid(pic->sha256) || !osap_str_set(pic->content_type) ||
        strlen(pic->content_type) > OSAP_PICTURE_TYPE_MAX || pic->size < 0 || pic->event_id < 0)
        return OSAP_EINVAL;
    if (pic->serial[0] && !osap_serial_valid(pic->serial)) return OSAP_EINVAL;
    err = st->be->pictures->add(st, pic, osap_time_now_ms(), &ex, &row);
    if (err) return err;
    if (existed) *existed = ex;
    if (out) *out = row;
    return OSAP_OK;
}

osap_err osap_store_picture_get(struct osap_store *st, const char *sha256, struct osap_picture *out)
{
    struct osap_picture row;
    osap_err err;

    if (!osap_picture_sha256_valid(sha256)) return OSAP_ENOTFOUND;
    err = st->be->pictures->get(st, sha256, &row);
    if (err == OSAP_OK && out) *out = row;
    return err;
}

osap_err osap_store_picture_list(struct osap_store *st, const struct osap_picture_filter *filter,
                                 osap_err (*fn)(const struct osap_picture *pic, void *userdata),
                                 void *userdata)
{
    static const struct osap_picture_filter all;

    if (!fn) return OSAP_EINVAL;
    return st->be->pictures->list(st, filter ? filter : &all, fn, userdata);
}

osap_err osap_store_picture_remove(struct osap_store *st, const char *sha256)
{
    if (!osap_picture_sha256_valid(sha256)) return OSAP_ENOTFOUND;
    return st->be->pictures->remove(st, sha256);
}
