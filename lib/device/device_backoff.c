/*
 * Retry delays, as the real device waits (wire spec 5, "Retry/back-off"):
 *   LBS               2 s x n, n counts failures and stops growing at 60 (120 s);
 *                     a connection that cannot be made resets n to 1;
 *   DAS registration  2 s x n; the 6th consecutive failure goes back to the LBS;
 *   session lost      light reconnection after 1 s x n; the 4th failure raises
 *                     the offline event and goes back to the LBS.
 */
#include "device_internal.h"

uint64_t osap__backoff_lbs_ms(unsigned n)
{
    if (n < 1) n = 1;
    if (n > DEV_LBS_FAIL_CAP) n = DEV_LBS_FAIL_CAP;
    return 2000u * (uint64_t)n;
}

uint64_t osap__backoff_das_ms(unsigned n)
{
    if (n < 1) n = 1;
    if (n > DEV_DAS_FAIL_MAX) n = DEV_DAS_FAIL_MAX;
    return 2000u * (uint64_t)n;
}

uint64_t osap__backoff_light_ms(unsigned n)
{
    if (n < 1) n = 1;
    if (n > DEV_LIGHT_FAIL_MAX) n = DEV_LIGHT_FAIL_MAX;
    return 1000u * (uint64_t)n;
}
