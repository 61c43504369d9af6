/*
 * Small helpers shared by osapd's modules: wall-clock time, bounded string
 * copies, file-system paths and the validation of device identities.
 *
 * Everything here is thread-safe and allocates only where it says so (through
 * osap_malloc; the caller frees with osap_free).
 */
#ifndef OSAP_SERVER_UTIL_H
#define OSAP_SERVER_UTIL_H

#include "osap/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ------------------------------------------------------------------------ */
/* Time                                                                     */
/* ------------------------------------------------------------------------ */

/** Length of an ISO 8601 UTC timestamp with milliseconds, "2026-11-29T05:09:35.123Z". */
#define OSAP_ISO_TIME_LEN 24

/** Wall-clock time in milliseconds since the Unix epoch. */
int64_t osap_time_now_ms(void);

/** Write @p ms (milliseconds since the epoch) as "YYYY-MM-DDThh:mm:ss.mmmZ" into @p out,
 *  NUL-terminated. Returns @p out. */
char *osap_time_iso(int64_t ms, char out[OSAP_ISO_TIME_LEN + 1]);

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */
/* ------------------------------------------------------------------------ */

/** Copy the NUL-terminated @p src into @p dst of @p cap bytes. Returns false (and
 *  leaves @p dst an empty string) when @p src does not fit; NULL copies as "". */
bool osap_str_copy(char *dst, size_t cap, const char *src);

/** True when @p s is non-NULL and not the empty string. */
bool osap_str_set(const char *s);

/** Lower-case hex text of @p len bytes into @p out (2 * len + 1 bytes). */
void osap_hex_encode(const uint8_t *p, size_t len, char *out);

/* ------------------------------------------------------------------------ */
/* Paths                                                                    */
/* ------------------------------------------------------------------------ */

/** @p path made absolute against the current working directory, in a new string
 *  (leading "./" components dropped). An empty @p path gives an empty string. */
osap_err osap_path_absolute(const char *path, char **out);

/** "dir/name" in a new string; @p name is returned as is (copied) when absolute. */
osap_err osap_path_join(const char *dir, const char *name, char **out);

/** Create directory @p path and its missing parents with @p mode (like mkdir -p).
 *  Existing directories are left as they are. */
osap_err osap_mkdir_p(const char *path, mode_t mode);

/* ------------------------------------------------------------------------ */
/* Device identities (spec section 1 sizes)                                 */
/* ------------------------------------------------------------------------ */

/** A valid subserial: 1..OSAP_SUBSERIAL_MAX printable ASCII characters (no space),
 *  none of '/', '+', '#' (they would break MQTT topics). Licence-mode serials
 *  "productKey:deviceName" are valid serials too. */
bool osap_serial_valid(const char *serial);

/** True when @p serial has the licence-mode form "productKey:deviceName" (one ':'
 *  with a non-empty part on each side). */
bool osap_serial_is_licence(const char *serial);

/** A valid verification code or licence: 1..OSAP_VCODE_MAX printable ASCII
 *  characters, no space. */
bool osap_secret_valid(const char *secret);

/** A valid free-text label (device name, model, firmware): at most @p max bytes,
 *  no control characters. UTF-8 is allowed. */
bool osap_label_valid(const char *s, size_t max);

#endif /* OSAP_SERVER_UTIL_H */
