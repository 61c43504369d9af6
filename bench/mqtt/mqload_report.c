/*
 * The result line: one JSON object on stdout (cJSON, unformatted), and a short
 * human summary on stderr. Field names are stable: scripts read them.
 */
#include "mqload.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

const char *mqload_scenario_name(enum mqload_scenario s)
{
    switch (s) {
    case MQLOAD_P2P: return "p2p";
    case MQLOAD_FANOUT: return "fanout";
    case MQLOAD_IDLE: return "idle";
    }
    return "?";
}

/* Round to @p digits decimals so that the line stays readable. */
static double rnd(double v, int digits)
{
    double m = pow(10, digits);
    return round(v * m) / m;
}

static void add_num(cJSON *o, const char *name, double v)
{
    cJSON_AddNumberToObject(o, name, v);
}

static void add_latency(cJSON *root, const struct mqload_hist *h)
{
    cJSON *lat = cJSON_AddObjectToObject(root, "latency_us");

    if (!lat) return;
    add_num(lat, "samples", (double)h->count);
    add_num(lat, "p50", rnd((double)mqload_hist_quantile(h, 0.50) / 1e3, 1));
    add_num(lat, "p90", rnd((double)mqload_hist_quantile(h, 0.90) / 1e3, 1));
    add_num(lat, "p99", rnd((double)mqload_hist_quantile(h, 0.99) / 1e3, 1));
    add_num(lat, "p999", rnd((double)mqload_hist_quantile(h, 0.999) / 1e3, 1));
    add_num(lat, "max", rnd((double)h->max / 1e3, 1));
    add_num(lat, "mean", h->count ? rnd((double)h->sum / (double)h->count / 1e3, 1) : 0);
}

void mqload_report(const struct mqload_opts *o, const struct mqload_stats *st,
                   const struct mqload_result *r)
{
    cJSON *root = cJSON_CreateObject(), *err;
    char server[64], src[INET_ADDRSTRLEN] = "";
    double secs = r->measured_s > 0 ? r->measured_s : 1;
    char *line;

    if (!root) {
        fprintf(stderr, "osap-mqtt-load: out of memory while reporting\n");
        return;
    }
    snprintf(server, sizeof(server), "%s:%u", o->host, o->port);
    inet_ntop(AF_INET, &o->src_first, src, sizeof(src));
    cJSON_AddStringToObject(root, "tool", "osap-mqtt-load");
    cJSON_AddStringToObject(root, "scenario", mqload_scenario_name(o->scenario));
    cJSON_AddStringToObject(root, "label", o->label);
    cJSON_AddStringToObject(root, "server", server);
    cJSON_AddBoolToObject(root, "ok", r->ok);
    if (r->error) cJSON_AddStringToObject(root, "error", r->error);
    add_num(root, "threads", o->threads);
    add_num(root, "src_addrs", o->src_addrs);
    switch (o->scenario) {
    case MQLOAD_P2P:
        add_num(root, "pairs", o->pairs);
        add_num(root, "window", o->window);
        add_num(root, "qos", 1);
        add_num(root, "payload", o->payload);
        break;
    case MQLOAD_FANOUT:
        add_num(root, "subscribers", o->subscribers);
        add_num(root, "window", o->window);
        add_num(root, "qos", 0);
        add_num(root, "payload", o->payload);
        break;
    case MQLOAD_IDLE: add_num(root, "keepalive", o->keepalive); break;
    }
    if (o->scenario != MQLOAD_IDLE) add_num(root, "warmup_s", o->warmup);
    add_num(root, "duration_s", rnd(r->measured_s, 3));
    add_num(root, "connections", o->total_conns);
    add_num(root, "connected", r->connected);
    add_num(root, "connect_s", rnd(r->connect_s, 3));
    if (o->scenario != MQLOAD_IDLE) {
        add_num(root, "published", (double)st->published);
        add_num(root, "delivered", (double)st->delivered);
        add_num(root, "pub_per_s", rnd((double)st->published_window / secs, 1));
        add_num(root, "delivered_per_s", rnd((double)st->delivered_window / secs, 1));
        add_latency(root, &st->hist);
        add_num(root, "lost", (double)r->lost);
        add_num(root, "duplicates", (double)r->dups);
        add_num(root, "reordered", (double)r->reordered);
        cJSON_AddBoolToObject(root, "drained", r->drained);
    } else {
        add_num(root, "alive_end", r->alive_end);
        add_num(root, "pings", (double)st->pings);
        add_num(root, "pongs", (double)st->pongs);
        if (o->server_pid && r->rss_before && r->rss_after) {
            double delta = (double)r->rss_after - (double)r->rss_before;
            add_num(root, "server_rss_before_kb", (double)(r->rss_before / 1024));
            add_num(root, "server_rss_after_kb", (double)(r->rss_after / 1024));
            add_num(root, "server_rss_end_kb", (double)(r->rss_end / 1024));
            add_num(root, "bytes_per_conn", r->connected ? rnd(delta / r->connected, 1) : 0);
        }
    }
    add_num(root, "gen_cpu_pct", rnd(100.0 * r->gen_cpu_s / secs, 1));
    if (r->server_cpu_s >= 0)
        add_num(root, "server_cpu_pct", rnd(100.0 * r->server_cpu_s / secs, 1));
    if (r->ok && r->loadavg >= 0) add_num(root, "loadavg", rnd(r->loadavg, 2));
    err = cJSON_AddObjectToObject(root, "errors");
    if (err) {
        add_num(err, "connect_failed", (double)st->connect_failed);
        add_num(err, "connect_retries", (double)st->connect_retries);
        add_num(err, "connack_refused", (double)st->connack_refused);
        add_num(err, "suback_refused", (double)st->suback_refused);
        add_num(err, "lost_conns", (double)st->lost_conns);
        add_num(err, "protocol", (double)st->protocol_errors);
        add_num(err, "misrouted", (double)st->misrouted);
        add_num(err, "bad_acks", (double)st->bad_acks);
        add_num(err, "fanout_stalls", (double)st->stalls);
        add_num(err, "fanout_written_off", (double)st->written_off);
    }
    line = cJSON_PrintUnformatted(root);
    if (line) {
        printf("%s\n", line);
        fflush(stdout);
        cJSON_free(line);
    } else {
        fprintf(stderr, "osap-mqtt-load: out of memory while reporting\n");
    }
    cJSON_Delete(root);

    if (!r->ok) {
        fprintf(stderr, "osap-mqtt-load: %s %s: FAILED: %s\n", mqload_scenario_name(o->scenario),
                server, r->error ? r->error : "?");
    } else if (o->scenario == MQLOAD_IDLE) {
        fprintf(stderr,
                "osap-mqtt-load: idle %s: %u connections up in %.2f s, %u alive at the end\n",
                server, r->connected, r->connect_s, r->alive_end);
    } else {
        fprintf(stderr,
                "osap-mqtt-load: %s %s: %.0f delivered/s, latency p50 %.0f us p99 %.0f us, "
                "lost %llu, duplicates %llu, generator CPU %.0f%%\n",
                mqload_scenario_name(o->scenario), server, (double)st->delivered_window / secs,
                (double)mqload_hist_quantile(&st->hist, 0.5) / 1e3,
                (double)mqload_hist_quantile(&st->hist, 0.99) / 1e3, (unsigned long long)r->lost,
                (unsigned long long)r->dups, 100.0 * r->gen_cpu_s / secs);
    }
}
