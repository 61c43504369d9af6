/* Clocks, descriptor limits, the local port range and the /proc readers. */
#include "mqload.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t mqload_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void mqload_sleep_until(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* Descriptors the generator needs besides its sockets: stdio, epoll and an
 * eventfd per thread, /proc files, the dynamic loader's. */
#define FD_RESERVE 64

bool mqload_sys_fd_check(unsigned need)
{
    struct rlimit rl;
    unsigned long total = (unsigned long)need + FD_RESERVE;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        fprintf(stderr, "osap-mqtt-load: getrlimit(RLIMIT_NOFILE): %s\n", strerror(errno));
        return false;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < total) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > total ? total : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl); /* checked just below */
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < total) {
        fprintf(stderr,
                "osap-mqtt-load: this run needs %u connections, i.e. %lu open files with the "
                "generator's own %d, but a process may open at most %lu here (hard limit %lu); "
                "ask for fewer connections\n",
                need, total, FD_RESERVE, (unsigned long)rl.rlim_cur,
                rl.rlim_max == RLIM_INFINITY ? 0ul : (unsigned long)rl.rlim_max);
        return false;
    }
    return true;
}

unsigned mqload_sys_port_range(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
    unsigned lo = 32768, hi = 60999;

    if (f) {
        if (fscanf(f, "%u %u", &lo, &hi) != 2 || hi < lo) {
            lo = 32768;
            hi = 60999;
        }
        fclose(f);
    }
    return hi - lo + 1;
}

uint64_t mqload_sys_rss(pid_t pid)
{
    char path[64], line[256];
    unsigned long long kb = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    f = fopen(path, "re");
    if (!f) return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %llu kB", &kb) == 1) break;
    fclose(f);
    return (uint64_t)kb * 1024u;
}

double mqload_sys_proc_cpu(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long long utime, stime;
    const char *p;
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    f = fopen(path, "re");
    if (!f) return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* the command name is in parentheses and may hold spaces: skip past it,
     * then fields 3.. follow; utime and stime are fields 14 and 15 */
    p = strrchr(buf, ')');
    if (!p) return -1;
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
        2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

double mqload_sys_self_cpu(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}
