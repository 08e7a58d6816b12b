/* Threads: four workers hash disjoint ranges and meet under a mutex and a
 * barrier several times (clone, futex, TLS). The result does not depend on
 * scheduling. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define WORKERS 4
#define PHASES 8

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t barrier;
static uint64_t total;
static long per_phase;

static void *worker(void *arg)
{
    uint64_t id = (uintptr_t)arg;
    for (int phase = 0; phase < PHASES; phase++) {
        uint64_t h = id * 1000 + phase, acc = 0;
        for (long i = 0; i < per_phase; i++) {
            h ^= h << 13;
            h ^= h >> 7;
            h ^= h << 17;
            acc += h & 0xffff;
        }
        pthread_mutex_lock(&lock);
        total += acc;
        pthread_mutex_unlock(&lock);
        pthread_barrier_wait(&barrier);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    per_phase = argc > 1 ? atol(argv[1]) : 3000000;
    pthread_t t[WORKERS];
    pthread_barrier_init(&barrier, NULL, WORKERS);
    for (uintptr_t i = 0; i < WORKERS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
            return 1;
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    printf("total %llu\n", (unsigned long long)total);
    return 0;
}
