/*
 * The POSIX port of libosap-device, internal: the context shared by
 * port_posix.c (time, randomness, threads), port_posix_tcp.c (sockets) and
 * port_posix_store.c (KV and files, on disk or in memory).
 */
#ifndef OSAP_PORT_POSIX_H
#define OSAP_PORT_POSIX_H

#include "osap/device_port.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* A file kept in memory (no state directory). */
struct posix_mem_file {
    char name[64];
    uint8_t *data;
    size_t len, cap;
    struct posix_mem_file *next;
};

/* A value of the in-memory KV store. */
struct posix_mem_kv {
    char key[32];
    uint8_t *val;
    size_t len;
    struct posix_mem_kv *next;
};

struct posix_port {
    char *dir; /* state directory, NULL = memory */
    int has_bind;
    struct in_addr bind;
    pthread_mutex_t lock;
    int wake_fd[2]; /* created by the first thread_start() */
    pthread_t thread;
    int thread_started;
    void (*thread_fn)(void *);
    void *thread_arg;
    struct posix_mem_file *files;
    struct posix_mem_kv *kv;
};

/* port_posix_tcp.c */
osap_err osap__posix_tcp_connect(void *ctx, const char *host, uint16_t port, intptr_t *sock);
osap_err osap__posix_tcp_check(void *ctx, intptr_t sock);
osap_err osap__posix_tcp_read(void *ctx, intptr_t sock, uint8_t *buf, size_t cap, size_t *n);
osap_err osap__posix_tcp_write(void *ctx, intptr_t sock, const uint8_t *buf, size_t len, size_t *n);
void osap__posix_tcp_close(void *ctx, intptr_t sock);
int osap__posix_tcp_fd(void *ctx, intptr_t sock);

/* port_posix_store.c */
osap_err osap__posix_store_init(struct posix_port *pp, const char *dir);
void osap__posix_store_free(struct posix_port *pp);
osap_err osap__posix_kv_get(void *ctx, const char *key, uint8_t *buf, size_t cap, size_t *len);
osap_err osap__posix_kv_set(void *ctx, const char *key, const uint8_t *val, size_t len);
osap_err osap__posix_kv_del(void *ctx, const char *key);
osap_err osap__posix_file_open(void *ctx, const char *name, int truncate, void **file);
osap_err osap__posix_file_size(void *ctx, void *file, uint64_t *size);
osap_err osap__posix_file_read(void *ctx, void *file, uint64_t off, void *buf, size_t len);
osap_err osap__posix_file_append(void *ctx, void *file, const void *buf, size_t len);
osap_err osap__posix_file_truncate(void *ctx, void *file, uint64_t size);
osap_err osap__posix_file_sync(void *ctx, void *file);
osap_err osap__posix_file_rename(void *ctx, const char *from, const char *to);
void osap__posix_file_close(void *ctx, void *file);

#endif /* OSAP_PORT_POSIX_H */
