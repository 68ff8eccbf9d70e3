/*
 * locks.c - the native reference for the lock benchmark (bench/locks.ts): the lock types of the Wasm
 * core (assembly/locking/) written in C with the same algorithms and the same atomic instructions,
 * timed the same two ways:
 *
 *   uncontended  one thread: ITERS x { lock; unlock } on a lock nobody else touches (ns per pair)
 *   handoff      two threads take turns exactly as assembly/lib/bench_lock.ts's bench_lock_pingpong:
 *                wait until a turn counter (its own cache line) has my parity, lock, advance the turn,
 *                unlock; every acquisition follows the other thread's release (ns per handoff =
 *                elapsed / (2 x ITERS))
 *
 * Locks (name: what; the core's counterpart):
 *   ticket          ticket spinlock: XADD of 1 << 16 takes a ticket, spin until the head half equals
 *                   it; unlock adds 1 to the 16-bit head with a locked add (LOCK_TICKET)
 *   tas             test-and-set with XCHG, spinning on a load before retrying; unlock is a
 *                   sequentially consistent store (LOCK_TAS)
 *   mutex           futex mutex, word 0 free / 1 locked / 2 locked with waiters (U. Drepper, Futexes
 *                   Are Tricky, mutex 2): CMPXCHG 0 -> 1, else XCHG 2 and FUTEX_WAIT until XCHG gives
 *                   0; unlock XCHG 0 and FUTEX_WAKE one if it was 2 (LOCK_MUTEX)
 *   mutex-spin      the same, spinning up to 2048 iterations while the word is held before sleeping
 *                   (LOCK_MUTEX with MUTEX_OPT_SPIN; user space cannot see whether the owner runs)
 *   rwsem-write     a futex readers-writer semaphore with the core's count layout (bit 0 WRITER, bit 1
 *   rwsem-read      WAITERS, readers x 8): fast paths CMPXCHG 0 -> WRITER / XADD of a reader bias;
 *                   waiters set WAITERS and FUTEX_WAIT, a release that saw WAITERS clears it and wakes
 *                   them all to retry (LOCK_RWSEM; no handoff, no optimistic spinning)
 *   pthread-mutex, pthread-rwlock-write, pthread-rwlock-read   glibc's, for reference
 *
 * Spin-waits use no PAUSE (cpu_relax() is a compiler barrier), as in the Wasm core, which has none.
 * Threads are not pinned, as the core's worker threads are not.
 *
 * Usage: locks REPS UNCONTENDED_ITERS HANDOFF_ITERS CASE...   CASE = uncontended:NAME | handoff:NAME
 * Each case runs once untimed (warm-up), then REPS timed runs (clock_gettime(CLOCK_MONOTONIC)).
 * Prints one JSON object: {"cases":[{"name", "ops" (per run), "reps", "ns" (ns per op of each run),
 * "ns_min", "ns_median", "ns_mean", "sleeps" (FUTEX_WAIT calls in the timed runs)}]}.
 * Exit status 2 for bad arguments, 3 when a run goes wrong (a lost update).
 * Build: cc -O2 -o locks locks.c -pthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define cpu_relax() __asm__ __volatile__("" ::: "memory")

static _Atomic unsigned long nr_sleeps;

static void futex_wait(_Atomic uint32_t *w, uint32_t expected)
{
	atomic_fetch_add_explicit(&nr_sleeps, 1, memory_order_relaxed);
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *w, int n)
{
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* One lock per cache line, as struct mm_lock is. */
struct lock {
	union {
		_Atomic uint32_t word;
		struct { _Atomic uint16_t head, tail; } t;
	};
	pthread_mutex_t pm;
	pthread_rwlock_t prw;
} __attribute__((aligned(64)));

/* ---- ticket ---- */
static inline void ticket_lock(struct lock *l)
{
	uint32_t old = atomic_fetch_add(&l->word, 1u << 16);
	uint16_t ticket = old >> 16;
	while ((uint16_t)(atomic_load(&l->word) & 0xffff) != ticket)
		cpu_relax();
}
static inline void ticket_unlock(struct lock *l) { atomic_fetch_add(&l->t.head, 1); }

/* ---- tas ---- */
static inline void tas_lock(struct lock *l)
{
	while (atomic_exchange(&l->word, 1) != 0)
		while (atomic_load(&l->word) != 0)
			cpu_relax();
}
static inline void tas_unlock(struct lock *l) { atomic_store(&l->word, 0); }

/* ---- mutex ---- */
#define OPT_SPIN_LIMIT 2048
static inline void mutex_lock_common(struct lock *l, int spin)
{
	uint32_t c = 0;
	if (atomic_compare_exchange_strong(&l->word, &c, 1))
		return;
	if (spin) {
		for (int i = 0; i < OPT_SPIN_LIMIT; i++) {
			uint32_t z = 0;
			if (atomic_load(&l->word) == 0 && atomic_compare_exchange_strong(&l->word, &z, 1))
				return;
			cpu_relax();
		}
	}
	while (atomic_exchange(&l->word, 2) != 0)
		futex_wait(&l->word, 2);
}
static inline void mutex_lock(struct lock *l) { mutex_lock_common(l, 0); }
static inline void mutex_spin_lock(struct lock *l) { mutex_lock_common(l, 1); }
static inline void mutex_unlock(struct lock *l)
{
	if (atomic_exchange(&l->word, 0) == 2)
		futex_wake(&l->word, 1);
}

/* ---- rwsem ---- */
#define RW_WRITER 1u
#define RW_WAITERS 2u
#define RW_BIAS 8u
#define RW_READERS (~(RW_BIAS - 1))

/* Sleep until the count changes from v (after setting WAITERS in it). */
static inline void rwsem_wait(struct lock *l, uint32_t v)
{
	if (!(v & RW_WAITERS)) {
		if (!atomic_compare_exchange_strong(&l->word, &v, v | RW_WAITERS))
			return; /* it changed: retry */
		v |= RW_WAITERS;
	}
	futex_wait(&l->word, v);
}

static inline void rwsem_wake(struct lock *l)
{
	atomic_fetch_and(&l->word, ~RW_WAITERS);
	futex_wake(&l->word, INT_MAX);
}

static inline void down_write(struct lock *l)
{
	uint32_t v = 0;
	if (atomic_compare_exchange_strong(&l->word, &v, RW_WRITER))
		return;
	for (;;) {
		v = atomic_load(&l->word);
		if (!(v & (RW_WRITER | RW_READERS))) {
			if (atomic_compare_exchange_strong(&l->word, &v, v | RW_WRITER))
				return;
			continue;
		}
		rwsem_wait(l, v);
	}
}
static inline void up_write(struct lock *l)
{
	if (atomic_fetch_and(&l->word, ~RW_WRITER) & RW_WAITERS)
		rwsem_wake(l);
}

static inline void down_read(struct lock *l)
{
	uint32_t v = atomic_fetch_add(&l->word, RW_BIAS);
	if (!(v & (RW_WRITER | RW_WAITERS)))
		return;
	atomic_fetch_sub(&l->word, RW_BIAS); /* back out: queue behind the writer or the waiters */
	for (;;) {
		v = atomic_load(&l->word);
		if (!(v & RW_WRITER)) {
			if (atomic_compare_exchange_strong(&l->word, &v, v + RW_BIAS))
				return;
			continue;
		}
		rwsem_wait(l, v);
	}
}
static inline void up_read(struct lock *l)
{
	uint32_t v = atomic_fetch_sub(&l->word, RW_BIAS) - RW_BIAS;
	if (v == RW_WAITERS) {
		uint32_t w = RW_WAITERS;
		if (atomic_compare_exchange_strong(&l->word, &w, 0))
			futex_wake(&l->word, INT_MAX);
	}
}

/* ---- the cases ---- */
enum kind { K_TICKET, K_TAS, K_MUTEX, K_MUTEX_SPIN, K_RW_WRITE, K_RW_READ, K_PMUTEX, K_PRW_WRITE, K_PRW_READ };
static const char *const names[] = { "ticket", "tas", "mutex", "mutex-spin", "rwsem-write", "rwsem-read",
	"pthread-mutex", "pthread-rwlock-write", "pthread-rwlock-read" };
#define NR_KINDS (int)(sizeof(names) / sizeof(names[0]))

static inline void lock(enum kind k, struct lock *l)
{
	switch (k) {
	case K_TICKET: ticket_lock(l); break;
	case K_TAS: tas_lock(l); break;
	case K_MUTEX: mutex_lock(l); break;
	case K_MUTEX_SPIN: mutex_spin_lock(l); break;
	case K_RW_WRITE: down_write(l); break;
	case K_RW_READ: down_read(l); break;
	case K_PMUTEX: pthread_mutex_lock(&l->pm); break;
	case K_PRW_WRITE: pthread_rwlock_wrlock(&l->prw); break;
	case K_PRW_READ: pthread_rwlock_rdlock(&l->prw); break;
	}
}

static inline void unlock(enum kind k, struct lock *l)
{
	switch (k) {
	case K_TICKET: ticket_unlock(l); break;
	case K_TAS: tas_unlock(l); break;
	case K_MUTEX: case K_MUTEX_SPIN: mutex_unlock(l); break;
	case K_RW_WRITE: up_write(l); break;
	case K_RW_READ: up_read(l); break;
	case K_PMUTEX: pthread_mutex_unlock(&l->pm); break;
	case K_PRW_WRITE: case K_PRW_READ: pthread_rwlock_unlock(&l->prw); break;
	}
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static struct lock the_lock;
static struct { _Atomic uint32_t v; } __attribute__((aligned(64))) turn;
static struct { _Atomic uint32_t arrived; } __attribute__((aligned(64))) start;
static uint64_t counter; /* updated under the lock: a lost update means the lock did not exclude */

static void init_lock(void)
{
	memset(&the_lock, 0, sizeof(the_lock));
	pthread_mutex_init(&the_lock.pm, NULL);
	pthread_rwlock_init(&the_lock.prw, NULL);
}

/* Uncontended: iters lock/unlock pairs; ns per pair. */
static double run_uncontended(enum kind k, long iters)
{
	double t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		lock(k, &the_lock);
		unlock(k, &the_lock);
	}
	return (now_ns() - t0) / iters;
}

struct player { enum kind k; uint32_t parity; long iters; double ns; };

static void *play(void *arg)
{
	struct player *p = arg;
	atomic_fetch_add(&start.arrived, 1);
	while (atomic_load(&start.arrived) < 2)
		cpu_relax();
	double t0 = now_ns();
	for (long i = 0; i < p->iters; i++) {
		while ((atomic_load(&turn.v) & 1) != p->parity)
			cpu_relax();
		lock(p->k, &the_lock);
		counter++;
		atomic_fetch_add(&turn.v, 1);
		unlock(p->k, &the_lock);
	}
	p->ns = now_ns() - t0;
	return NULL;
}

/* Handoff: two threads take turns; ns per handoff (max of the two elapsed / (2 x iters)). */
static double run_handoff(enum kind k, long iters)
{
	pthread_t t[2];
	struct player p[2] = { { k, 0, iters, 0 }, { k, 1, iters, 0 } };
	atomic_store(&turn.v, 0);
	atomic_store(&start.arrived, 0);
	counter = 0;
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, play, &p[i]) != 0) {
			fprintf(stderr, "locks: pthread_create failed\n");
			exit(3);
		}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	if (counter != (uint64_t)(2 * iters)) {
		fprintf(stderr, "locks: %s lost updates (%llu of %ld)\n", names[k], (unsigned long long)counter, 2 * iters);
		exit(3);
	}
	return (p[0].ns > p[1].ns ? p[0].ns : p[1].ns) / (2.0 * iters);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: locks REPS UNCONTENDED_ITERS HANDOFF_ITERS CASE...  (CASE = uncontended:NAME | handoff:NAME)\n");
		return 2;
	}
	int reps = atoi(argv[1]);
	long uiters = atol(argv[2]), hiters = atol(argv[3]);
	if (reps < 1 || reps > 1000 || uiters < 1 || hiters < 1) {
		fprintf(stderr, "locks: bad REPS or ITERS\n");
		return 2;
	}
	double *ns = calloc(reps, sizeof(double)), *sorted = calloc(reps, sizeof(double));
	printf("{\"cases\":[");
	for (int a = 4; a < argc; a++) {
		char *c = argv[a], *colon = strchr(c, ':');
		if (!colon) {
			fprintf(stderr, "locks: bad case %s\n", c);
			return 2;
		}
		*colon = 0;
		int handoff = !strcmp(c, "handoff");
		if (!handoff && strcmp(c, "uncontended")) {
			fprintf(stderr, "locks: bad case kind %s\n", c);
			return 2;
		}
		int k = -1;
		for (int i = 0; i < NR_KINDS; i++)
			if (!strcmp(colon + 1, names[i]))
				k = i;
		if (k < 0) {
			fprintf(stderr, "locks: unknown lock %s\n", colon + 1);
			return 2;
		}
		init_lock();
		long iters = handoff ? hiters : uiters;
		if (handoff) run_handoff(k, iters / 8 + 1); else run_uncontended(k, iters); /* warm-up */
		atomic_store(&nr_sleeps, 0);
		double sum = 0;
		for (int r = 0; r < reps; r++) {
			ns[r] = handoff ? run_handoff(k, iters) : run_uncontended(k, iters);
			sum += ns[r];
		}
		memcpy(sorted, ns, reps * sizeof(double));
		qsort(sorted, reps, sizeof(double), cmp);
		double median = reps % 2 ? sorted[reps / 2] : (sorted[reps / 2 - 1] + sorted[reps / 2]) / 2;
		printf("%s{\"name\":\"%s:%s\",\"ops\":%ld,\"reps\":%d,\"ns\":[", a > 4 ? "," : "", c, names[k], handoff ? 2 * iters : iters, reps);
		for (int r = 0; r < reps; r++)
			printf("%s%.4f", r ? "," : "", ns[r]);
		printf("],\"ns_min\":%.4f,\"ns_median\":%.4f,\"ns_mean\":%.4f,\"sleeps\":%lu}", sorted[0], median, sum / reps,
		       (unsigned long)atomic_load(&nr_sleeps));
	}
	printf("]}\n");
	return 0;
}
