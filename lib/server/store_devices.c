/* Store: the device registry, validation and dispatch (see store_devices.h). */
#include "store_backend.h"

#include "util.h"

#include <string.h>

static bool hex_upper16(const char *s)
{
    if (strlen(s) != OSAP_MASTER_KEY_LEN) return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'F'))) return false;
    return true;
}

static bool devid_valid(const char *s)
{
    if (strlen(s) != OSAP_DEVID_LEN) return false;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) return false;
    return true;
}

osap_err osap_store_device_add(struct osap_store *st, const struct osap_device *dev)
{
    bool licence_form;

    if (!osap_serial_valid(dev->serial) || !osap_secret_valid(dev->secret)) return OSAP_EINVAL;
    if (!osap_label_valid(dev->model, OSAP_DEVICE_MODEL_MAX) ||
        !osap_label_valid(dev->name, OSAP_DEVICE_NAME_MAX))
        return OSAP_EINVAL;
    licence_form = osap_serial_is_licence(dev->serial);
    if (dev->auth_mode == OSAP_AUTH_LICENCE && !licence_form) return OSAP_EINVAL;
    if (dev->auth_mode == OSAP_AUTH_SAP && strchr(dev->serial, ':')) return OSAP_EINVAL;
    if (dev->auth_mode != OSAP_AUTH_SAP && dev->auth_mode != OSAP_AUTH_LICENCE) return OSAP_EINVAL;
    return st->be->devices->add(st, dev, osap_time_now_ms());
}

osap_err osap_store_device_get(struct osap_store *st, const char *serial, struct osap_device *out)
{
    if (!serial) return OSAP_EINVAL;
    return st->be->devices->get(st, serial, out);
}

osap_err osap_store_device_get_by_devid(struct osap_store *st, const char *devid,
                                        struct osap_device *out)
{
    if (!osap_str_set(devid)) return OSAP_EINVAL;
    return st->be->devices->get_by_devid(st, devid, out);
}

osap_err osap_store_device_list(struct osap_store *st, const struct osap_device_filter *filter,
                                osap_err (*fn)(const struct osap_device *dev, void *userdata),
                                void *userdata)
{
    static const struct osap_device_filter all;
    return st->be->devices->list(st, filter ? filter : &all, fn, userdata);
}

osap_err osap_store_device_remove(struct osap_store *st, const char *serial)
{
    if (!serial) return OSAP_EINVAL;
    return st->be->devices->remove(st, serial);
}

osap_err osap_store_device_set_blocked(struct osap_store *st, const char *serial, bool blocked)
{
    if (!serial) return OSAP_EINVAL;
    return st->be->devices->set_blocked(st, serial, blocked);
}

osap_err osap_store_device_set_keys(struct osap_store *st, const char *serial, const char *devid,
                                    const char *master_key, enum osap_share_key_case sk_case)
{
    if (!serial) return OSAP_EINVAL;
    if (osap_str_set(devid) && !devid_valid(devid)) return OSAP_EINVAL;
    if (osap_str_set(master_key) && !hex_upper16(master_key)) return OSAP_EINVAL;
    if (sk_case < OSAP_SHARE_KEY_CASE_UNKNOWN || sk_case > OSAP_SHARE_KEY_CASE_UPPER)
        return OSAP_EINVAL;
    return st->be->devices->set_keys(st, serial, devid, master_key, sk_case);
}

osap_err osap_store_device_set_online(struct osap_store *st, const char *serial, bool online,
                                      const char *das_node, const char *address, int64_t now)
{
    if (!serial) return OSAP_EINVAL;
    if (das_node && strlen(das_node) > OSAP_NODE_ID_MAX) return OSAP_EINVAL;
    if (address && strlen(address) > OSAP_NET_ADDRESS_MAX) return OSAP_EINVAL;
    return st->be->devices->set_online(st, serial, online, das_node, address, now);
}

osap_err osap_store_device_touch(struct osap_store *st, const char *serial, int64_t now)
{
    if (!serial) return OSAP_EINVAL;
    return st->be->devices->touch(st, serial, now);
}

osap_err osap_store_device_set_info(struct osap_store *st, const char *serial, const char *dev_type,
                                    const char *firmware)
{
    if (!serial) return OSAP_EINVAL;
    if (!osap_label_valid(dev_type, OSAP_DEVICE_MODEL_MAX) ||
        !osap_label_valid(firmware, OSAP_DEVICE_FIRMWARE_MAX))
        return OSAP_EINVAL;
    return st->be->devices->set_info(st, serial, dev_type, firmware);
}

osap_err osap_store_device_offline_node(struct osap_store *st, const char *das_node, int64_t now,
                                        uint64_t *count)
{
    if (!osap_str_set(das_node)) return OSAP_EINVAL;
    return st->be->devices->offline_node(st, das_node, now, count);
}

osap_err osap_store_device_update(struct osap_store *st, const char *serial,
                                  const struct osap_device_update *u)
{
    if (!serial || !u) return OSAP_EINVAL;
    if ((u->name && !osap_label_valid(u->name, OSAP_DEVICE_NAME_MAX)) ||
        (u->model && !osap_label_valid(u->model, OSAP_DEVICE_MODEL_MAX)) ||
        (u->secret && !osap_secret_valid(u->secret)))
        return OSAP_EINVAL;
    return st->be->devices->update(st, serial, u);
}

osap_err osap_store_device_count(struct osap_store *st, struct osap_device_counts *out)
{
    struct osap_device_counts c;
    osap_err err;

    if (!out) return OSAP_EINVAL;
    err = st->be->devices->count(st, &c);
    if (err == OSAP_OK) *out = c;
    return err;
}
