/*
 * The services built into osapd and the settings tables it knows. Service owners
 * add ONE line each to these lists (their descriptor and their table live in
 * their own directory). Services start in the order listed here and stop in
 * reverse, so list a service after those it uses.
 */
#include "osapd.h"

#include "api/api.h"
#include "api/api_config.h"
#include "config_core.h"
#include "das/das_config.h"
#include "das/das_service.h"
#include "das/device_config.h"
#include "ingest/ingest.h"
#include "lbs/lbs.h"
#include "lbs/lbs_config.h"
#include "models.h"
#include "store.h"

const struct osapd_service *const osapd_builtin_services[] = {
    &das_service,
    &osapd_lbs_service,
    &osapd_api_service,
    NULL,
};
const size_t osapd_builtin_service_count =
    sizeof(osapd_builtin_services) / sizeof(osapd_builtin_services[0]) - 1;

const struct osap_cfg_table *const osapd_config_tables[] = {
    &osap_core_settings, &osap_store_settings, &osap_models_settings, &lbs_config_table,
    &das_config_table,   &device_config_table, &ingest_config_table,  &api_config_table,
};
const size_t osapd_config_table_count =
    sizeof(osapd_config_tables) / sizeof(osapd_config_tables[0]);
