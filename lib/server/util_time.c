/* Wall-clock time helpers (see util.h). */
#include "util.h"

#include <stdio.h>
#include <time.h>

int64_t osap_time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *osap_time_iso(int64_t ms, char out[OSAP_ISO_TIME_LEN + 1])
{
    time_t secs = (time_t)(ms / 1000);
    int milli = (int)(ms % 1000);
    struct tm tm;
    if (milli < 0) {
        milli += 1000;
        secs -= 1;
    }
    if (!gmtime_r(&secs, &tm)) {
        snprintf(out, OSAP_ISO_TIME_LEN + 1, "%s", "0000-00-00T00:00:00.000Z");
        return out;
    }
    if (tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0 ||
        strftime(out, OSAP_ISO_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
        snprintf(out, OSAP_ISO_TIME_LEN + 1, "%s", "0000-00-00T00:00:00.000Z");
        return out;
    }
    out[19] = '.';
    out[20] = (char)('0' + milli / 100);
    out[21] = (char)('0' + milli / 10 % 10);
    out[22] = (char)('0' + milli % 10);
    out[23] = 'Z';
    out[24] = '\0';
    return out;
}
