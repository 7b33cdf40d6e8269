/*
 * A libmemcached peer for the interop test: weighted ketama (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED).
 * usage: ketama_peer set|get|where <key prefix> <count> host:port:weight...
 *   set   stores every key with its own name as the value
 *   get   prints "<key> found|missing" for every key
 *   where prints "<key> <host>:<port>" for every key (the node libmemcached chooses)
 */
#include <libmemcached/memcached.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s set|get|where prefix count host:port:weight...\n", argv[0]);
        return 2;
    }

    memcached_st *memc = memcached_create(NULL);
    memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
    for (int i = 4; i < argc; i++) {
        char host[256];
        unsigned port = 0, weight = 1;
        if (sscanf(argv[i], "%255[^:]:%u:%u", host, &port, &weight) < 2) {
            fprintf(stderr, "bad server %s\n", argv[i]);
            return 2;
        }
        memcached_server_add_with_weight(memc, host, (in_port_t)port, weight);
    }

    const char *mode = argv[1];
    const char *prefix = argv[2];
    int count = atoi(argv[3]);
    int failures = 0;
    char key[256];
    for (int i = 0; i < count; i++) {
        int len = snprintf(key, sizeof key, "%s%d", prefix, i);
        memcached_return_t rc;
        if (strcmp(mode, "set") == 0) {
            rc = memcached_set(memc, key, (size_t)len, key, (size_t)len, 0, 0);
            if (rc != MEMCACHED_SUCCESS) {
                fprintf(stderr, "set %s: %s\n", key, memcached_strerror(memc, rc));
                failures++;
            }
        } else if (strcmp(mode, "get") == 0) {
            size_t vlen = 0;
            uint32_t flags = 0;
            char *value = memcached_get(memc, key, (size_t)len, &vlen, &flags, &rc);
            printf("%s %s\n", key, value != NULL ? "found" : "missing");
            free(value);
        } else {
            const memcached_instance_st *server = memcached_server_by_key(memc, key, (size_t)len, &rc);
            printf("%s %s:%u\n", key, memcached_server_name(server), (unsigned)memcached_server_port(server));
        }
    }

    memcached_free(memc);
    return failures > 0 ? 1 : 0;
}
