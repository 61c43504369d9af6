/* Error strings and the one-to-one maps between errors and wire result codes. */
#include "osap/err.h"

#include <stddef.h>

struct err_entry {
    int value;
    const char *name;
    const char *text;
};

static const struct err_entry err_table[] = {
#define OSAP_ERR_ENTRY_(name, value, text) {value, #name, text},
    OSAP_ERRORS(OSAP_ERR_ENTRY_)
#undef OSAP_ERR_ENTRY_
};

static const struct err_entry *err_find(int err)
{
    for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
        if (err_table[i].value == err) return &err_table[i];
    return NULL;
}

const char *osap_strerror(int err)
{
    const struct err_entry *e = err_find(err < 0 ? -err : err);
    return e ? e->text : "unknown error";
}

const char *osap_errname(int err)
{
    const struct err_entry *e = err_find(err < 0 ? -err : err);
    return e ? e->name : "EUNKNOWN";
}

osap_err osap_err_from_lbs_result(uint8_t result)
{
    if (result == 0) return OSAP_OK;
    if (result <= 19) return (osap_err)(300 + result);
    return OSAP_ELBS_RESULT_OTHER;
}

uint8_t osap_err_to_lbs_result(osap_err err)
{
    if (err == OSAP_OK) return 0;
    if (err >= OSAP_ELBS_RESULT_SIGN && err <= OSAP_ELBS_RESULT_SIGN_CHECK)
        return (uint8_t)(err - 300);
    return 3;
}

osap_err osap_err_from_connack(uint8_t code)
{
    if (code == 0) return OSAP_OK;
    if ((code >= 1 && code <= 5) || (code >= 10 && code <= 12)) return (osap_err)(400 + code);
    return OSAP_ECONNACK_OTHER;
}

uint8_t osap_err_to_connack(osap_err err)
{
    if (err == OSAP_OK) return 0;
    if ((err >= OSAP_ECONNACK_PROTOCOL && err <= OSAP_ECONNACK_NOT_AUTHORIZED) ||
        (err >= OSAP_ECONNACK_BLOCKED && err <= OSAP_ECONNACK_SESSION_EXISTS))
        return (uint8_t)(err - 400);
    return 3;
}
