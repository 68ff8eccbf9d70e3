/*
 * walk.c - the native reference for the page-walk benchmark (bench/walk.ts): the walker of
 * assembly/arch/x86/pgtable.ts (paging_walk, reached through mmu_walk) and the loop of
 * assembly/lib/bench_walk.ts (bench_translate, tlb = 0), in C, over a copy of the emulated
 * machine's RAM with contents (the host dumps frames [0, nr_backed) to a file; physical address pa
 * is byte pa of that image, as it is byte framesBase + pa of the Wasm memory).
 *
 * Two variants per case: fill = 1 does all the core does per walk (the walk, the A/D compare-and-
 * swaps, the event counters and the fill of a TLB of the core's shape: 64 x 4 entries of 4 KiB,
 * 8 x 4 of 2 MiB, 1 x 4 of 1 GiB, first invalid way else a round-robin victim); fill = 0 is the
 * bare walk (no TLB, no counters).
 *
 * Usage: walk IMAGE BACKED_LIMIT RAM_LIMIT MAXPHYADDR CR0 CR3 CR4 EFER RFLAGS CPL REPS CASE...
 *   CASE = name:va_base:span_pages:iters:seed:order:fill (numbers decimal or 0x-hex)
 * Each case runs once untimed (warm-up; its checksum is the case's checksum), then REPS timed runs
 * (clock_gettime(CLOCK_MONOTONIC)), each of which must give the same checksum. Prints one JSON
 * object: {"cases":[{"name", "checksum" (decimal string), "iters", "reps", "ns" (ns per translation
 * of each timed run), "ns_mean", "ns_median", "ns_min"}], "walks", "fills"}.
 * Exit status 2 for bad arguments, 3 when a run faults or checksums disagree.
 * Build: cc -O2 -o walk walk.c
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define P_PRESENT  (1ull << 0)
#define P_RW       (1ull << 1)
#define P_USER     (1ull << 2)
#define P_ACCESSED (1ull << 5)
#define P_DIRTY    (1ull << 6)
#define P_PSE      (1ull << 7)
#define P_GLOBAL   (1ull << 8)
#define P_NX       (1ull << 63)
#define PFN_MASK   0x000ffffffffff000ull
#define RSVD_1G    0x3fffe000ull
#define RSVD_2M    0x001fe000ull

#define ACC_WRITE 2u
#define ACC_USER 4u
#define ACC_FETCH 16u
#define ACC_IMPLICIT 256u

#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PGE (1ull << 7)
#define CR4_PCIDE (1ull << 17)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define EFER_NX (1ull << 11)
#define RFLAGS_AC (1ull << 18)

#define TLB_V 1ull
#define TLB_G (1ull << 13)
#define TLB_D_W (1ull << 1)
#define TLB_D_U (1ull << 2)
#define TLB_D_DIRTY (1ull << 6)
#define TLB_D_XD (1ull << 63)
#define TLB_D_ADDR 0x000ffffffffff000ull
#define WAYS 4

enum { ST_WALK, ST_FILL, ST_SET_ACCESSED, ST_SET_DIRTY, ST_RESTART, NR_ST };

struct tlb_entry { uint64_t tag, data; };

struct cpu {
	uint64_t cr0, cr3, cr4, efer, rflags;
	uint32_t cpl, xlat_shift;
	uint64_t stats[NR_ST];
	struct tlb_entry tlb[64 + 8 + 1][WAYS]; /* 4 KiB sets, then 2 MiB, then 1 GiB */
	uint8_t cursor[64 + 8 + 1];
};

static uint8_t *frames;
static uint64_t backed_limit, ram_limit;
static int maxphyaddr;

static inline __attribute__((always_inline)) int access_denied(const struct cpu *p, uint32_t access, int rw, int us, int xd)
{
	int nxe = (p->efer & EFER_NX) != 0, fetch = (access & ACC_FETCH) != 0, write = (access & ACC_WRITE) != 0;
	if (access & ACC_USER) {
		if (!us) return 1;
		if (write && !rw) return 1;
		return fetch && nxe && xd;
	}
	if (us) {
		if (fetch) {
			if (p->cr4 & CR4_SMEP) return 1;
		} else if (p->cr4 & CR4_SMAP) {
			if ((access & ACC_IMPLICIT) || !(p->rflags & RFLAGS_AC)) return 1;
		}
	}
	if (write && !rw && (p->cr0 & CR0_WP)) return 1;
	return fetch && nxe && xd;
}

static inline __attribute__((always_inline)) uint32_t current_pcid(const struct cpu *p)
{
	return (p->cr4 & CR4_PCIDE) ? (uint32_t)(p->cr3 & 0xfff) : 0;
}

static void tlb_fill(struct cpu *p, uint64_t va, uint32_t pcid, uint32_t size, uint64_t frame, uint64_t rights, int global)
{
	static const uint32_t shifts[3] = { 12, 21, 30 }, sets[3] = { 64, 8, 1 }, base[3] = { 0, 64, 72 };
	uint64_t key = (((va & 0xffffffffffffull) >> shifts[size]) << 16) | ((uint64_t)pcid << 1) | TLB_V | (global ? TLB_G : 0);
	uint32_t si = (uint32_t)(key >> 16) & (sets[size] - 1);
	struct tlb_entry *set = p->tlb[base[size] + si], *victim = NULL;
	for (int w = 0; w < WAYS; w++)
		if (!(set[w].tag & TLB_V)) { victim = &set[w]; break; }
	if (!victim) {
		uint8_t *c = &p->cursor[base[size] + si];
		uint32_t w = *c;
		*c = (uint8_t)((w + 1) & (WAYS - 1));
		victim = &set[w];
	}
	victim->data = (frame & TLB_D_ADDR) | rights | ((uint64_t)size << 9);
	victim->tag = key;
	p->stats[ST_FILL]++;
}

/* paging_walk: the physical address, or -14 (#PF) / -18 (bus fault). */
static inline __attribute__((always_inline)) int64_t paging_walk(struct cpu *p, uint64_t va, uint32_t access, const int fill)
{
	int nxe = (p->efer & EFER_NX) != 0;
	uint64_t rsvd = (PFN_MASK & ~((1ull << maxphyaddr) - 1)) | (nxe ? 0 : P_NX);
	int write = (access & ACC_WRITE) != 0;
	if (fill) p->stats[ST_WALK]++;
	for (;;) {
		uint64_t table = p->cr3 & PFN_MASK;
		int rw = 1, us = 1, xd = 0;
		uint64_t shift = 39;
		int level = 4;
		for (;;) {
			uint64_t ep = table | (((va >> shift) & 511) << 3);
			if (ep >= backed_limit) return -18;
			uint64_t *host = (uint64_t *)(frames + ep);
			uint64_t e = __atomic_load_n(host, __ATOMIC_SEQ_CST);
			if (!(e & P_PRESENT)) return -14;
			uint64_t bad = e & rsvd;
			int leaf = level == 1 || (level <= 3 && (e & P_PSE));
			if (level == 4) bad |= e & P_PSE;
			else if (leaf && level == 3) bad |= e & RSVD_1G;
			else if (leaf && level == 2) bad |= e & RSVD_2M;
			if (bad) return -14;
			rw = rw && (e & P_RW);
			us = us && (e & P_USER);
			xd = xd || (e & P_NX);
			if (!leaf) {
				if (!(e & P_ACCESSED)) {
					uint64_t exp = e;
					if (!__atomic_compare_exchange_n(host, &exp, e | P_ACCESSED, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) break;
					if (fill) p->stats[ST_SET_ACCESSED]++;
				}
				table = e & PFN_MASK;
				shift -= 9;
				level--;
				continue;
			}
			if (access_denied(p, access, rw, us, xd)) return -14;
			uint64_t offmask = (1ull << shift) - 1;
			uint64_t frame = e & PFN_MASK & ~offmask;
			uint64_t pa = frame | (va & offmask);
			if (pa >= ram_limit) return -18;
			uint64_t ne = e | P_ACCESSED | (write ? P_DIRTY : 0);
			if (ne != e) {
				uint64_t exp = e;
				if (!__atomic_compare_exchange_n(host, &exp, ne, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) break;
				if (fill && !(e & P_ACCESSED)) p->stats[ST_SET_ACCESSED]++;
				if (fill && (ne & ~e & P_DIRTY)) p->stats[ST_SET_DIRTY]++;
			}
			if (fill) {
				uint32_t size = level == 1 ? 0 : (level == 2 ? 1 : 2);
				uint64_t rights = (rw ? TLB_D_W : 0) | (us ? TLB_D_U : 0) | (xd ? TLB_D_XD : 0) | ((ne & P_DIRTY) ? TLB_D_DIRTY : 0);
				int global = (e & P_GLOBAL) && (p->cr4 & CR4_PGE);
				tlb_fill(p, va, current_pcid(p), size, frame, rights, global);
				p->xlat_shift = (uint32_t)shift;
			}
			return (int64_t)pa;
		}
		if (fill) p->stats[ST_RESTART]++;
	}
}

/* mmu_walk: paging on (checked by main), canonical address, CPL 3 makes accesses user accesses. */
static inline __attribute__((always_inline)) int64_t mmu_walk(struct cpu *p, uint64_t va, uint32_t access, const int fill)
{
	if ((uint64_t)((int64_t)(va << 16) >> 16) != va) return -13;
	if (p->cpl == 3 && !(access & ACC_IMPLICIT)) access |= ACC_USER;
	return paging_walk(p, va, access, fill);
}

static inline __attribute__((always_inline)) int64_t bench(struct cpu *p, uint64_t va_base, uint32_t span, uint32_t iters, uint32_t seed, uint32_t order, const int fill)
{
	uint32_t mask = span - 1, x = seed | 1;
	uint64_t acc = 0, prev = 0;
	for (uint32_t n = 0; n < iters; n++) {
		uint32_t page;
		if (order == 2) {
			page = n & mask;
		} else {
			x ^= x << 13; x ^= x >> 17; x ^= x << 5;
			page = (order == 1 ? x ^ (uint32_t)(prev >> 12) : x) & mask;
		}
		int64_t pa = mmu_walk(p, va_base + ((uint64_t)page << 12), 0, fill);
		if (pa < 0) return pa;
		prev = (uint64_t)pa;
		acc ^= prev;
	}
	return (int64_t)(acc & 0x7fffffffffffffffull);
}

static __attribute__((noinline)) int64_t bench_fill(struct cpu *p, uint64_t b, uint32_t s, uint32_t i, uint32_t seed, uint32_t o) { return bench(p, b, s, i, seed, o, 1); }
static __attribute__((noinline)) int64_t bench_bare(struct cpu *p, uint64_t b, uint32_t s, uint32_t i, uint32_t seed, uint32_t o) { return bench(p, b, s, i, seed, o, 0); }

static uint64_t num(const char *s, const char *what)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);
	if (*s == '\0' || *end != '\0') { fprintf(stderr, "walk: bad %s: %s\n", what, s); exit(2); }
	return v;
}

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc < 13) {
		fprintf(stderr, "usage: walk IMAGE BACKED_LIMIT RAM_LIMIT MAXPHYADDR CR0 CR3 CR4 EFER RFLAGS CPL REPS CASE...\n");
		return 2;
	}
	static struct cpu cpu0;
	struct cpu *p = &cpu0;
	backed_limit = num(argv[2], "backed limit");
	ram_limit = num(argv[3], "ram limit");
	maxphyaddr = (int)num(argv[4], "maxphyaddr");
	p->cr0 = num(argv[5], "cr0"); p->cr3 = num(argv[6], "cr3"); p->cr4 = num(argv[7], "cr4");
	p->efer = num(argv[8], "efer"); p->rflags = num(argv[9], "rflags"); p->cpl = (uint32_t)num(argv[10], "cpl");
	int reps = (int)num(argv[11], "reps");
	if (!(p->cr0 & CR0_PG) || maxphyaddr < 36 || maxphyaddr > 52 || reps < 1 || reps > 10000) {
		fprintf(stderr, "walk: paging off, MAXPHYADDR outside 36..52 or REPS outside 1..10000\n");
		return 2;
	}

	FILE *f = fopen(argv[1], "rb");
	if (!f) { perror(argv[1]); return 2; }
	void *buf;
	if (posix_memalign(&buf, 4096, (size_t)backed_limit) != 0) { fprintf(stderr, "walk: out of memory\n"); return 2; }
	frames = buf;
	if (fread(frames, 1, (size_t)backed_limit, f) != (size_t)backed_limit) { fprintf(stderr, "walk: %s is shorter than BACKED_LIMIT\n", argv[1]); return 2; }
	fclose(f);

	double *ns = malloc(sizeof(double) * (size_t)reps);
	if (!ns) return 2;
	printf("{\"cases\":[");
	for (int c = 12; c < argc; c++) {
		char name[128];
		char arg[512];
		snprintf(arg, sizeof arg, "%s", argv[c]);
		char *fields[7];
		int nf = 0;
		for (char *tok = strtok(arg, ":"); tok && nf < 7; tok = strtok(NULL, ":")) fields[nf++] = tok;
		if (nf != 7) { fprintf(stderr, "walk: bad case %s\n", argv[c]); return 2; }
		snprintf(name, sizeof name, "%s", fields[0]);
		uint64_t va_base = num(fields[1], "va_base");
		uint32_t span = (uint32_t)num(fields[2], "span"), iters = (uint32_t)num(fields[3], "iters");
		uint32_t seed = (uint32_t)num(fields[4], "seed"), order = (uint32_t)num(fields[5], "order");
		int fill = (int)num(fields[6], "fill");
		if (span == 0 || (span & (span - 1)) || order > 2 || iters == 0) { fprintf(stderr, "walk: bad case %s\n", argv[c]); return 2; }

		int64_t (*fn)(struct cpu *, uint64_t, uint32_t, uint32_t, uint32_t, uint32_t) = fill ? bench_fill : bench_bare;
		int64_t sum = fn(p, va_base, span, iters, seed, order);
		if (sum < 0) { fprintf(stderr, "walk: case %s faulted: %" PRId64 "\n", name, sum); return 3; }
		for (int r = 0; r < reps; r++) {
			double t0 = now_ns();
			int64_t s = fn(p, va_base, span, iters, seed, order);
			double t1 = now_ns();
			if (s != sum) { fprintf(stderr, "walk: case %s: checksum changed between runs\n", name); return 3; }
			ns[r] = (t1 - t0) / iters;
		}
		double mean = 0;
		printf("%s{\"name\":\"%s\",\"checksum\":\"%" PRIu64 "\",\"iters\":%u,\"reps\":%d,\"ns\":[",
		       c > 12 ? "," : "", name, (uint64_t)sum, iters, reps);
		for (int r = 0; r < reps; r++) {
			printf("%s%.4f", r ? "," : "", ns[r]);
			mean += ns[r];
		}
		mean /= reps;
		qsort(ns, (size_t)reps, sizeof(double), cmp_double);
		double median = reps % 2 ? ns[reps / 2] : (ns[reps / 2 - 1] + ns[reps / 2]) / 2;
		printf("],\"ns_mean\":%.4f,\"ns_median\":%.4f,\"ns_min\":%.4f}", mean, median, ns[0]);
	}
	printf("],\"walks\":%" PRIu64 ",\"fills\":%" PRIu64 "}\n", p->stats[ST_WALK], p->stats[ST_FILL]);
	free(ns);
	free(buf);
	return 0;
}
