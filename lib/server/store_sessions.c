/* Store: LBS sessions, validation and dispatch (see store_sessions.h). */
#include "store_backend.h"

#include "util.h"

#include <string.h>

osap_err osap_store_session_put(struct osap_store *st, const struct osap_session *s)
{
    if (!osap_serial_valid(s->serial) || strlen(s->devid) != OSAP_DEVID_LEN) return OSAP_EINVAL;
    return st->be->sessions->put(st, s);
}

osap_err osap_store_session_get(struct osap_store *st, const char *serial, struct osap_session *out)
{
    if (!serial) return OSAP_EINVAL;
    return st->be->sessions->get(st, serial, out);
}

osap_err osap_store_session_remove(struct osap_store *st, const char *serial)
{
    if (!serial) return OSAP_EINVAL;
    return st->be->sessions->remove(st, serial);
}
