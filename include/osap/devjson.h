/*
 * The JSON documents a device exchanges during registration:
 *
 *  - the registration record, carried encrypted in the MQTT will message of the
 *    DAS CONNECT (spec 6.2), full and light forms;
 *  - the LBS 0xA request {"DevSerial":"<sn>","Type":"DAS","Mode":0} (spec 4.7);
 *  - the LBS 0xB answer, the DAS address (spec 4.7).
 *
 * Formatters print exactly the device's bytes (compact, the device's key order,
 * cJSON's string escapes) into a caller buffer and NUL-terminate it. Parsers read
 * an exact byte range with cJSON and copy into fixed-size, NUL-terminated fields;
 * they allocate only while parsing and keep nothing. Outputs are written only on
 * success. See docs/ENVELOPE.md.
 */
#ifndef OSAP_DEVJSON_H
#define OSAP_DEVJSON_H

#include "osap/err.h"
#include "osap/proto.h"

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Registration record (will message plaintext)                             */
/* ------------------------------------------------------------------------ */

/** Longest registration document the parser accepts. */
#define OSAP_REG_JSON_MAX 8192
/** Longest text member other than SubSerial and DeviceID. */
#define OSAP_REG_STR_MAX 127
/** Most SDKVersion entries kept (devices send one per extension slot, 8 by default). */
#define OSAP_REG_SDKVER_MAX 32
/** Longest SDKVersion key (a domain id, or "0" for an unused slot). */
#define OSAP_REG_SDKVER_KEY_MAX 15
/** Longest SDKVersion value (the device keeps versions in 32-byte buffers). */
#define OSAP_REG_SDKVER_VALUE_MAX 31

/** One "<domain>":"<version>" pair of SDKVersion. */
struct osap_reg_sdk_version {
    char domain[OSAP_REG_SDKVER_KEY_MAX + 1];
    char version[OSAP_REG_SDKVER_VALUE_MAX + 1];
};

/** The registration record. Every text member is NUL-terminated. */
struct osap_reg_info {
    /** 1 for the light form {"SubSerial","DeviceID"} sent on reconnection; the other
     *  members are then empty or 0. */
    int light;
    char sub_serial[OSAP_SUBSERIAL_MAX + 1];        /**< "SubSerial", required, non-empty */
    char device_id[OSAP_DEVID_LEN + 1];             /**< "DeviceID", required, non-empty */
    char dev_serial[OSAP_REG_STR_MAX + 1];          /**< "DevSerial" */
    char firmware_version[OSAP_REG_STR_MAX + 1];    /**< "FirmwareVersion" */
    char dev_type[OSAP_REG_STR_MAX + 1];            /**< "DevType" */
    char dev_type_display[OSAP_REG_STR_MAX + 1];    /**< "DevTypeDisplay" */
    char mac[OSAP_REG_STR_MAX + 1];                 /**< "MAC" */
    int32_t status;                                 /**< "Status": 1 normal, 5 standby */
    char firmware_ident_code[OSAP_REG_STR_MAX + 1]; /**< "FirmwareIdentificationCode" */
    char lbs_domain[OSAP_REG_STR_MAX + 1];          /**< "LbsDomain" */
    int32_t reg_mode;                               /**< "RegMode" (1..5) */
    char sdk_main_version[OSAP_REG_STR_MAX + 1];    /**< "SDKMainVersion" */
    size_t sdk_version_count;                       /**< entries used in sdk_version */
    /** "SDKVersion" in wire order, repeated keys included (unused slots are "0":""). */
    struct osap_reg_sdk_version sdk_version[OSAP_REG_SDKVER_MAX];
};

/** Parse a registration document (full or light form).
 *
 *  Required: SubSerial (1..OSAP_SUBSERIAL_MAX bytes) and DeviceID (1..OSAP_DEVID_LEN
 *  bytes), both strings. The document is light when it has no other member. Other
 *  known members are optional; when present they must have their type (strings of
 *  at most OSAP_REG_STR_MAX bytes, Status and RegMode integers in int32 range,
 *  SDKVersion an object of strings). Repeated keys inside SDKVersion are kept; a
 *  repeated top-level member is refused, as are members of another type and
 *  documents longer than OSAP_REG_JSON_MAX. Unknown members are ignored.
 *  OSAP_EREG_JSON, or OSAP_ENOMEM when the parser runs out of memory. */
osap_err osap_reg_json_parse(const char *json, size_t len, struct osap_reg_info *out);

/** Print @p info as the device does: the light form when info->light, otherwise
 *  every member of the full form in the device's order, SDKVersion entries as
 *  listed. OSAP_EINVAL for an unterminated field or sdk_version_count above
 *  OSAP_REG_SDKVER_MAX; OSAP_EBUFSIZE when @p cap is too small for text and NUL. */
osap_err osap_reg_json_format(const struct osap_reg_info *info, char *out, size_t cap, size_t *len);

/* ------------------------------------------------------------------------ */
/* LBS 0xA: the DAS request                                                  */
/* ------------------------------------------------------------------------ */

/** The 0xA request: {"DevSerial":"<sn>","Type":"DAS","Mode":<mode>}. */
struct osap_das_request {
    char dev_serial[OSAP_SUBSERIAL_MAX + 1]; /**< the device's subserial */
    int mode;                                /**< 0 normal device, 1 hub */
};

/** Print the 0xA request for @p dev_serial (1..OSAP_SUBSERIAL_MAX bytes) and @p mode
 *  (0 or 1). OSAP_EINVAL for other arguments, OSAP_EBUFSIZE when @p cap is short. */
osap_err osap_das_request_format(const char *dev_serial, int mode, char *out, size_t cap,
                                 size_t *len);

/** Parse a 0xA request strictly: exactly the members DevSerial (string,
 *  1..OSAP_SUBSERIAL_MAX bytes), Type (the string "DAS") and Mode (0 or 1), each
 *  once. OSAP_EDAS_REQUEST_JSON otherwise; OSAP_ENOMEM when out of memory. */
osap_err osap_das_request_parse(const char *json, size_t len, struct osap_das_request *out);

/* ------------------------------------------------------------------------ */
/* LBS 0xB: the DAS address                                                  */
/* ------------------------------------------------------------------------ */

/** Longest Address, Domain and ServerID (the device keeps them in 64-byte buffers). */
#define OSAP_DAS_STR_MAX 63

/** The DAS a device is sent to. */
struct osap_das_info {
    char address[OSAP_DAS_STR_MAX + 1];   /**< host name or IPv4 address, non-empty */
    uint16_t port;                        /**< MQTT port, 1..65535 */
    uint16_t udp_port;                    /**< handed to the device application only */
    char domain[OSAP_DAS_STR_MAX + 1];    /**< handed to the device application only */
    char server_id[OSAP_DAS_STR_MAX + 1]; /**< handed to the device application only */
};

/** Print {"Type":"DAS","DasInfo":{"Address":..,"Port":..,"UdpPort":..,"Domain":..,
 *  "ServerID":..}}. OSAP_EINVAL for an empty or unterminated address, an
 *  unterminated string or port 0; OSAP_EBUFSIZE when @p cap is short. */
osap_err osap_das_json_format(const struct osap_das_info *info, char *out, size_t cap, size_t *len);

/** Parse the 0xB answer. Type must be the string "DAS"; DasInfo an object whose
 *  five members are all present with their types: Address a non-empty string,
 *  Domain and ServerID strings (at most OSAP_DAS_STR_MAX bytes each), Port an
 *  integer 1..65535, UdpPort an integer 0..65535. Repeated members are refused,
 *  unknown ones ignored. OSAP_EDAS_JSON, or OSAP_ENOMEM. */
osap_err osap_das_json_parse(const char *json, size_t len, struct osap_das_info *out);

#endif /* OSAP_DEVJSON_H */
