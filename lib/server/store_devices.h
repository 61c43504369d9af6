/*
 * Store: the device registry (table devices). See store.h for the threading rule
 * and the error conventions.
 */
#ifndef OSAP_SERVER_STORE_DEVICES_H
#define OSAP_SERVER_STORE_DEVICES_H

#include "osap/err.h"
#include "osap/proto.h"

#include <stdbool.h>
#include <stdint.h>

struct osap_store;

/* Limits of the text columns (bytes, NUL excluded). */
#define OSAP_DEVICE_MODEL_MAX    63
#define OSAP_DEVICE_NAME_MAX     127
#define OSAP_DEVICE_FIRMWARE_MAX 63
#define OSAP_NODE_ID_MAX         63 /* DAS node ids; spec: ServerID < 64 */
#define OSAP_NET_ADDRESS_MAX     63 /* "host", "ip:port", "[v6]:port" */

/** How a device proves who it is (the auth_mode byte of LBS message 0x1). */
enum osap_auth_mode {
    OSAP_AUTH_SAP = 0,     /* serial + verification code */
    OSAP_AUTH_LICENCE = 1, /* "productKey:deviceName" + licence */
};

/** Which MD5-hex case of the share key the device used (spec 2.2). */
enum osap_share_key_case {
    OSAP_SHARE_KEY_CASE_UNKNOWN = -1, /* not seen yet: accept both */
    OSAP_SHARE_KEY_CASE_LOWER = 0,
    OSAP_SHARE_KEY_CASE_UPPER = 1,
};

/** One device. Empty strings mean "none" (no devid issued yet, never seen ...). */
struct osap_device {
    char serial[OSAP_SUBSERIAL_MAX + 1]; /* subserial, or productKey:deviceName */
    enum osap_auth_mode auth_mode;
    char secret[OSAP_VCODE_MAX + 1]; /* verification code or licence, as given */
    char model[OSAP_DEVICE_MODEL_MAX + 1];
    char name[OSAP_DEVICE_NAME_MAX + 1];
    char firmware[OSAP_DEVICE_FIRMWARE_MAX + 1];
    char devid[OSAP_DEVID_LEN + 1];           /* issued by the LBS; unique */
    char master_key[OSAP_MASTER_KEY_LEN + 1]; /* 16 upper-hex characters */
    enum osap_share_key_case share_key_case;
    bool blocked;
    bool online;
    int64_t created_at;
    int64_t last_seen; /* 0 = never */
    char das_node[OSAP_NODE_ID_MAX + 1];
    char address[OSAP_NET_ADDRESS_MAX + 1];   /* last peer address */
    char dev_type[OSAP_DEVICE_MODEL_MAX + 1]; /* DevType of its last registration */
};

/** Tri-state filter values (0 = no filtering, so a zeroed filter lists all). */
enum osap_filter_flag {
    OSAP_FILTER_ANY = 0,
    OSAP_FILTER_YES = 1,
    OSAP_FILTER_NO = 2,
};

/** Which devices osap_store_device_list() visits, in serial order. */
struct osap_device_filter {
    const char *serial_prefix; /* NULL = any */
    const char *model;         /* exact model; NULL = any */
    enum osap_filter_flag online;
    enum osap_filter_flag blocked;
    const char *after;  /* only serials greater than this (paging); NULL = from the start */
    uint32_t limit;     /* 0 = no limit */
    const char *search; /* text found in the serial or the name (ASCII case-insensitive);
                           NULL = any */
};

/** What osap_store_device_update() changes: NULL members are left as they are. */
struct osap_device_update {
    const char *name;
    const char *model;
    const char *secret; /* verification code or licence (osap_secret_valid()) */
};

/** Device counts (osap_store_device_count()). */
struct osap_device_counts {
    uint64_t total;
    uint64_t online;
    uint64_t blocked;
};

/** Add a device: serial, auth_mode, secret, model and name are taken from @p dev
 *  (everything else starts empty). The serial must pass osap_serial_valid(), the
 *  secret osap_secret_valid(); a licence-mode device needs a licence-form serial
 *  and a SAP device must not have one. OSAP_EEXISTS when the serial is taken. */
osap_err osap_store_device_add(struct osap_store *st, const struct osap_device *dev);

/** Read the device @p serial. */
osap_err osap_store_device_get(struct osap_store *st, const char *serial, struct osap_device *out);

/** Read the device that was issued @p devid. */
osap_err osap_store_device_get_by_devid(struct osap_store *st, const char *devid,
                                        struct osap_device *out);

/** Call @p fn for each device matching @p filter (NULL = all), in serial order. A
 *  non-OK return from @p fn stops the walk and is returned. @p fn must not use @p st. */
osap_err osap_store_device_list(struct osap_store *st, const struct osap_device_filter *filter,
                                osap_err (*fn)(const struct osap_device *dev, void *userdata),
                                void *userdata);

/** Remove a device and everything stored about it (session, attributes, events,
 *  requests). */
osap_err osap_store_device_remove(struct osap_store *st, const char *serial);

/** Block or unblock a device (a blocked device is refused by the LBS and the DAS). */
osap_err osap_store_device_set_blocked(struct osap_store *st, const char *serial, bool blocked);

/** Record the LBS outcome: @p devid (NULL or "" = none), @p master_key (16 upper-hex
 *  characters, NULL or "" = none) and the share-key case that matched. All three are
 *  written; pass the current values to keep them. OSAP_EEXISTS when another device
 *  holds @p devid. */
osap_err osap_store_device_set_keys(struct osap_store *st, const char *serial, const char *devid,
                                    const char *master_key, enum osap_share_key_case sk_case);

/** Record that the device came online (or went offline) at @p now on DAS node
 *  @p das_node from @p address (NULL = leave unchanged); last_seen = @p now. */
osap_err osap_store_device_set_online(struct osap_store *st, const char *serial, bool online,
                                      const char *das_node, const char *address, int64_t now);

/** Update last_seen only (traffic from an online device). */
osap_err osap_store_device_touch(struct osap_store *st, const char *serial, int64_t now);

/** Update what the device reported about itself at registration (NULL = leave
 *  unchanged): @p dev_type (its DevType) goes to dev_type, and to model only while
 *  model is empty (model is the thing model given at provisioning, which the
 *  platform validates against); @p firmware to firmware. */
osap_err osap_store_device_set_info(struct osap_store *st, const char *serial, const char *dev_type,
                                    const char *firmware);

/** Mark every device online on @p das_node offline (a DAS node starting or
 *  stopping); @p count (may be NULL) receives how many changed. */
osap_err osap_store_device_offline_node(struct osap_store *st, const char *das_node, int64_t now,
                                        uint64_t *count);

/** Change the operator-given fields of device @p serial (see struct
 *  osap_device_update). OSAP_EINVAL for a value that breaks a limit. */
osap_err osap_store_device_update(struct osap_store *st, const char *serial,
                                  const struct osap_device_update *u);

/** Count the devices: all, online, blocked. */
osap_err osap_store_device_count(struct osap_store *st, struct osap_device_counts *out);

/** Backend operations behind the functions above (arguments already validated). */
struct osap_store_device_ops {
    osap_err (*add)(struct osap_store *st, const struct osap_device *dev, int64_t now);
    osap_err (*get)(struct osap_store *st, const char *serial, struct osap_device *out);
    osap_err (*get_by_devid)(struct osap_store *st, const char *devid, struct osap_device *out);
    osap_err (*list)(struct osap_store *st, const struct osap_device_filter *filter,
                     osap_err (*fn)(const struct osap_device *dev, void *userdata), void *userdata);
    osap_err (*remove)(struct osap_store *st, const char *serial);
    osap_err (*set_blocked)(struct osap_store *st, const char *serial, bool blocked);
    osap_err (*set_keys)(struct osap_store *st, const char *serial, const char *devid,
                         const char *master_key, enum osap_share_key_case sk_case);
    osap_err (*set_online)(struct osap_store *st, const char *serial, bool online,
                           const char *das_node, const char *address, int64_t now);
    osap_err (*touch)(struct osap_store *st, const char *serial, int64_t now);
    osap_err (*set_info)(struct osap_store *st, const char *serial, const char *dev_type,
                         const char *firmware);
    osap_err (*offline_node)(struct osap_store *st, const char *das_node, int64_t now,
                             uint64_t *count);
    osap_err (*update)(struct osap_store *st, const char *serial,
                       const struct osap_device_update *u);
    osap_err (*count)(struct osap_store *st, struct osap_device_counts *out);
};

#endif /* OSAP_SERVER_STORE_DEVICES_H */
