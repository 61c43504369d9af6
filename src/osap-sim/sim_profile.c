/*
 * Device profiles: what a simulated device of each kind reports, raises and
 * answers. Values are integers in a range (or booleans); events carry a small
 * body; operations echo their input.
 */
#include "sim.h"

#include <string.h>

static const struct sim_attr_def camera_attrs[] = {
    {"0-global", "Video", "Brightness", 0, 100},
    {"0-global", "Video", "NightMode", 1, 0},
    {"0-global", "Network", "Signal", -90, -30},
    {"0-global", "Storage", "FreePercent", 0, 100},
};
static const struct sim_key_def camera_events[] = {
    {"0-global", "Alarm", "Motion"},
    {"0-global", "Alarm", "Tamper"},
};
static const struct sim_key_def camera_ops[] = {
    {"0-global", "PTZ", "Move"},
    {"0-global", "Video", "Snapshot"},
};

static const struct sim_attr_def sensor_attrs[] = {
    {"0-global", "Env", "Temperature", -20, 45},
    {"0-global", "Env", "Humidity", 0, 100},
    {"0-global", "Power", "Battery", 0, 100},
};
static const struct sim_key_def sensor_events[] = {
    {"0-global", "Env", "Threshold"},
};
static const struct sim_key_def sensor_ops[] = {
    {"0-global", "Env", "Calibrate"},
};

static const struct sim_attr_def nvr_attrs[] = {
    {"1-channel", "Record", "Enabled", 1, 0},    {"2-channel", "Record", "Enabled", 1, 0},
    {"3-channel", "Record", "Enabled", 1, 0},    {"4-channel", "Record", "Enabled", 1, 0},
    {"0-global", "Disk", "UsedPercent", 0, 100},
};
static const struct sim_key_def nvr_events[] = {
    {"1-channel", "Alarm", "VideoLoss"},
    {"0-global", "Disk", "Error"},
};
static const struct sim_key_def nvr_ops[] = {
    {"1-channel", "Record", "Start"},
    {"0-global", "Disk", "Format"},
};

static const struct sim_attr_def doorbell_attrs[] = {
    {"0-global", "Power", "Battery", 0, 100},
    {"0-global", "Chime", "Volume", 0, 10},
};
static const struct sim_key_def doorbell_events[] = {
    {"0-global", "Call", "Ring"},
    {"0-global", "Alarm", "Motion"},
};
static const struct sim_key_def doorbell_ops[] = {
    {"0-global", "Door", "Unlock"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define PROFILE(name, model, p)                                                              \
    {                                                                                        \
        name, model, p##_attrs, N(p##_attrs), p##_events, N(p##_events), p##_ops, N(p##_ops) \
    }

static const struct sim_profile profiles[] = {
    PROFILE("camera", "OSAP-SIM-CAMERA", camera),
    PROFILE("sensor", "OSAP-SIM-SENSOR", sensor),
    PROFILE("nvr", "OSAP-SIM-NVR", nvr),
    PROFILE("doorbell", "OSAP-SIM-DOORBELL", doorbell),
};

const struct sim_profile *sim_profile_find(const char *name)
{
    for (size_t i = 0; i < N(profiles); i++)
        if (strcmp(profiles[i].name, name) == 0) return &profiles[i];
    return NULL;
}

const char *sim_profile_names(void)
{
    return "camera|sensor|nvr|doorbell";
}
