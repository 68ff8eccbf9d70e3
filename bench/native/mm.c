/*
 * mm.c - the host-kernel side of the MM benchmark (bench/mm.ts): what the Linux kernel of this machine
 * takes for the memory-management operations of issue 4, measured with the same system calls the
 * emulator's figures are compared with. Every size is a 4 KiB-page size: the regions are madvised
 * MADV_NOHUGEPAGE, so no transparent huge page (PMD or mTHP) replaces 512 faults by one, whatever
 * /sys/kernel/mm/transparent_hugepage says (the emulator maps 4 KiB pages).
 *
 * Cases (NAME:PARAM:OPS, OPS = operations per timed run):
 *   brk1:P          will-it-scale brk1 (tests/brk1.c), generalised to P pages: brk(cur + P pages),
 *                   brk(cur); one op = one brk call, as will-it-scale counts (2 per loop iteration).
 *                   The pages are never touched (P = 1 is will-it-scale's test)
 *   brk1-vmas:V     brk1 with V extra vmas in the address space (2V pages of PROT_NONE, every other
 *                   page mprotected PROT_READ, so that they cannot merge): brk's lookups vs tree size
 *   page_fault1:P   will-it-scale page_fault1 (tests/page_fault1.c) with a region of P pages (P = 32768
 *                   is its 128 MiB): mmap anonymous, write one byte per page, munmap; one op = one
 *                   fault, and the mmap and munmap are in the time (amortised), as in will-it-scale
 *   fork:M          fork + exit of a process whose parent touched M MiB of private anonymous memory
 *                   (one write per page, before timing): fork(), the child _exit(0)s at once, the
 *                   parent waitpid()s; one op = fork + exit + wait. M = 0: the program's own memory only
 *   fork-vmas:V     the same with V extra vmas of one touched anonymous page each (alternating
 *                   protections, so they do not merge): fork's cost per vma (dup_mmap, anon_vma_fork)
 *   munmap:P        munmap of P touched pages (P = 262144: 1 GiB); the mmap and the touching (one write
 *                   per page) are not timed; one op = one munmap call. Skipped, with the reason, when
 *                   the machine lacks 1.25 x the memory
 *   rmap:N          an rmap walk of one page mapped by N processes (the parent and N - 1 forked
 *                   children); one op = one walk. The method (--rmap=auto|migrate|remove):
 *                   migrate: move_pages(MPOL_MF_MOVE_ALL) of a private anonymous page, written by the
 *                            parent before fork, between two NUMA nodes; migration walks the anon_vma
 *                            twice (try_to_migrate, then remove_migration_ptes). Needs two nodes with
 *                            memory (exit status 2 otherwise) and CAP_SYS_NICE; each op's status must
 *                            show the target node
 *                   remove:  madvise(MADV_REMOVE) of one page of a MAP_SHARED|MAP_ANONYMOUS (shmem)
 *                            mapping mapped by the N processes: shmem_fallocate(PUNCH_HOLE) ->
 *                            unmap_mapping_range walks the file rmap (mapping->i_mmap) and zaps the
 *                            page in each of the N vmas (what try_to_unmap of a file page does), then
 *                            frees it. Between ops (not timed) every child reads the page again so
 *                            that the N mappings exist; the first op of each case checks, in
 *                            /proc/PID/pagemap, that all N map the page before and none after
 *                   auto (default): migrate when the host has two memory nodes and we may move
 *                            shared pages, else remove (bench/README.md says why, not MADV_PAGEOUT)
 *
 * The program binds itself (and so every child it forks) to the CPU it starts on: one CPU, as the
 * emulator is measured.
 *
 * Usage: mm [--rmap=auto|migrate|remove] REPS CASE...
 * Each case runs once untimed (warm-up), then REPS timed runs (clock_gettime(CLOCK_MONOTONIC)).
 * Prints one JSON object: {"host":{...}, "cases":[{"name", "param", "ops" (per run), "reps", "ns" (ns
 * per op of each run), "ns_min", "ns_median", "ns_mean"} or {"name", "param", "skipped": reason}]}.
 * Exit status 2 for bad arguments, 3 when an operation fails or does not do what it must.
 * Build: cc -O2 -o mm mm.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#ifndef MADV_NOHUGEPAGE
#define MADV_NOHUGEPAGE 15
#endif
/* <numaif.h> is libnuma's: the two flags of move_pages(2) are restated here. */
#define MPOL_MF_MOVE (1 << 1)
#define MPOL_MF_MOVE_ALL (1 << 2)

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "mm: %s: %s\n", what, strerror(errno));
	exit(3);
}

/* Anonymous private memory of n pages in 4 KiB pages, not yet touched. */
static char *map_anon(size_t pages)
{
	char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	madvise(p, pages * PAGE, MADV_NOHUGEPAGE); /* EINVAL without THP: 4 KiB pages anyway */
	return p;
}

static void touch(char *p, size_t pages)
{
	for (size_t i = 0; i < pages; i++)
		((volatile char *)p)[i * PAGE] = 1;
}

/* V vmas that cannot merge: 2V pages of PROT_NONE, every other one PROT_READ (and touched if asked). */
static char *make_vmas(long v, int touched)
{
	if (v <= 0)
		return NULL;
	char *p = mmap(NULL, 2 * v * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap (vmas)");
	madvise(p, 2 * v * PAGE, MADV_NOHUGEPAGE);
	for (long i = 0; i < v; i++) {
		if (mprotect(p + 2 * i * PAGE, PAGE, PROT_READ | PROT_WRITE) != 0)
			die("mprotect (vmas: raise vm.max_map_count?)");
		if (touched)
			p[2 * i * PAGE] = 1;
	}
	return p;
}

/* ---- brk1 ---- */

static double run_brk1(long pages, long ops)
{
	char *base = sbrk(0);
	size_t step = pages * PAGE;
	long loops = (ops + 1) / 2;
	double t0 = now_ns();
	for (long i = 0; i < loops; i++) {
		if (brk(base + step) != 0)
			die("brk(+)");
		if (brk(base) != 0)
			die("brk(-)");
	}
	return (now_ns() - t0) / (2 * loops);
}

/* ---- page_fault1 ---- */

static double run_page_fault1(long pages, long ops)
{
	long loops = (ops + pages - 1) / pages;
	double t0 = now_ns();
	for (long l = 0; l < loops; l++) {
		char *c = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c == MAP_FAILED)
			die("mmap");
		madvise(c, pages * PAGE, MADV_NOHUGEPAGE);
		for (long i = 0; i < pages; i++)
			((volatile char *)c)[i * PAGE] = 0;
		munmap(c, pages * PAGE);
	}
	return (now_ns() - t0) / (loops * pages);
}

/* ---- fork + exit ---- */

static double run_fork(long ops)
{
	double t0 = now_ns();
	for (long i = 0; i < ops; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0)
			_exit(0);
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			die("waitpid");
	}
	return (now_ns() - t0) / ops;
}

/* ---- munmap of touched memory ---- */

static double run_munmap(long pages, long ops)
{
	double total = 0;
	for (long i = 0; i < ops; i++) {
		char *p = map_anon(pages);
		touch(p, pages);
		double t0 = now_ns();
		if (munmap(p, pages * PAGE) != 0)
			die("munmap");
		total += now_ns() - t0;
	}
	return total / ops;
}

/* ---- rmap walk of a page mapped by N processes ---- */

enum rmap_method { RMAP_AUTO, RMAP_MIGRATE, RMAP_REMOVE };
static enum rmap_method rmap_method = RMAP_AUTO;
static const char *rmap_reason = "";
static int numa_nodes[2], nr_mem_nodes;

/* The first two nodes of /sys/devices/system/node/has_memory ("0", "0-1", "0,2-3"). */
static void read_memory_nodes(void)
{
	char buf[256] = "";
	FILE *f = fopen("/sys/devices/system/node/has_memory", "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	nr_mem_nodes = 0;
	for (char *s = buf; *s && nr_mem_nodes < 2;) {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long n = a; n <= b && nr_mem_nodes < 2; n++)
			numa_nodes[nr_mem_nodes++] = (int)n;
		s = *end == ',' ? end + 1 : end;
		if (*end != ',')
			break;
	}
}

static void choose_rmap_method(void)
{
	read_memory_nodes();
	int can_migrate = nr_mem_nodes >= 2 && geteuid() == 0; /* MOVE_ALL: CAP_SYS_NICE; root as a proxy */
	if (rmap_method == RMAP_AUTO)
		rmap_method = can_migrate ? RMAP_MIGRATE : RMAP_REMOVE;
	if (rmap_method == RMAP_MIGRATE && nr_mem_nodes < 2) {
		fprintf(stderr, "mm: --rmap=migrate needs two NUMA nodes with memory (this host has %d)\n", nr_mem_nodes);
		exit(2);
	}
	if (rmap_method == RMAP_MIGRATE)
		rmap_reason = can_migrate ? "two memory nodes: move_pages(MPOL_MF_MOVE_ALL) between them"
					  : "forced (--rmap=migrate) without root: moves of shared pages may fail (EPERM)";
	else
		rmap_reason = nr_mem_nodes < 2 ? "one memory node: no migration between nodes; MADV_REMOVE on shmem"
					       : "MADV_REMOVE on shmem (--rmap=remove, or no root for MPOL_MF_MOVE_ALL)";
}

/* Bit 63 of the pagemap entry of addr in process pid: the page is present in its page table. */
static int page_present(pid_t pid, void *addr)
{
	char path[64];
	uint64_t e = 0;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open pagemap");
	if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)addr / PAGE * sizeof(e))) != sizeof(e))
		die("read pagemap");
	close(fd);
	return (int)(e >> 63);
}

struct sharers {
	int n;          /* processes mapping the page, the parent included */
	pid_t *pid;     /* the n - 1 children */
	int *go;        /* write end of each child's pipe */
	int ack;        /* read end of the children's common answer pipe */
	char *page;
};

/*
 * A child: wait for a byte on its pipe; 'r': read the page (the shmem read fault maps it again),
 * answer; 'q' or EOF: exit. With migrate nothing is ever sent but 'q': the child only holds its mapping.
 */
static void sharer(int go, int ack, volatile char *page)
{
	char c;
	while (read(go, &c, 1) == 1 && c == 'r') {
		(void)page[0];
		if (write(ack, "a", 1) != 1)
			_exit(1);
	}
	_exit(0);
}

static void sharers_start(struct sharers *s, int n)
{
	int shared = rmap_method == RMAP_REMOVE;
	s->n = n;
	s->pid = calloc(n, sizeof(pid_t));
	s->go = calloc(n, sizeof(int));
	s->page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
	if (s->page == MAP_FAILED)
		die("mmap (rmap page)");
	s->page[0] = 1; /* the page exists before fork: every child maps the same one */
	int ack[2];
	if (pipe(ack) != 0)
		die("pipe");
	for (int i = 0; i < n - 1; i++) {
		int go[2];
		if (pipe(go) != 0)
			die("pipe");
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(go[1]);
			close(ack[0]);
			for (int j = 0; j < i; j++)
				close(s->go[j]);
			sharer(go[0], ack[1], s->page);
		}
		close(go[0]);
		s->pid[i] = pid;
		s->go[i] = go[1];
	}
	close(ack[1]);
	s->ack = ack[0];
}

/* Every child reads the page again (shmem: after MADV_REMOVE), and the parent too. */
static void sharers_remap(struct sharers *s)
{
	for (int i = 0; i < s->n - 1; i++)
		if (write(s->go[i], "r", 1) != 1)
			die("write (go)");
	for (int got = 0; got < s->n - 1;) {
		char buf[64];
		ssize_t r = read(s->ack, buf, sizeof(buf));
		if (r <= 0)
			die("read (ack)");
		got += (int)r;
	}
	(void)((volatile char *)s->page)[0];
}

static void sharers_stop(struct sharers *s)
{
	for (int i = 0; i < s->n - 1; i++) {
		if (write(s->go[i], "q", 1) != 1)
			die("write (quit)");
		close(s->go[i]);
	}
	for (int i = 0; i < s->n - 1; i++) {
		int st;
		if (waitpid(s->pid[i], &st, 0) != s->pid[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			die("waitpid (sharer)");
	}
	close(s->ack);
	munmap(s->page, PAGE);
	free(s->pid);
	free(s->go);
}

/* Present in the parent and every child (want = 1), or in none (want = 0)? */
static void check_mapped(struct sharers *s, int want, const char *when)
{
	int k = page_present(getpid(), s->page) == want;
	for (int i = 0; i < s->n - 1; i++)
		k += page_present(s->pid[i], s->page) == want;
	if (k != s->n) {
		fprintf(stderr, "mm: rmap:%d: %s, %d of %d processes %s the page\n", s->n, when, s->n - k, s->n,
			want ? "do not map" : "still map");
		exit(3);
	}
}

static double run_rmap(struct sharers *s, long ops, int check)
{
	double total = 0;
	for (long i = 0; i < ops; i++) {
		if (rmap_method == RMAP_REMOVE) {
			sharers_remap(s);
			if (check && i == 0)
				check_mapped(s, 1, "before MADV_REMOVE");
			double t0 = now_ns();
			if (madvise(s->page, PAGE, MADV_REMOVE) != 0)
				die("madvise(MADV_REMOVE)");
			total += now_ns() - t0;
			if (check && i == 0)
				check_mapped(s, 0, "after MADV_REMOVE");
		} else {
			void *pages[1] = { s->page };
			int node = numa_nodes[(i + 1) & 1], status = -1;
			double t0 = now_ns();
			long r = syscall(SYS_move_pages, 0, 1UL, pages, &node, &status, MPOL_MF_MOVE_ALL);
			total += now_ns() - t0;
			if (r != 0 || status != node) {
				fprintf(stderr, "mm: move_pages to node %d: returned %ld, status %d (%s)\n", node, r, status,
					strerror(r < 0 ? errno : status < 0 ? -status : 0));
				exit(3);
			}
		}
	}
	return total / ops;
}

/* ---- driver ---- */

enum kind { K_BRK1, K_BRK1_VMAS, K_PAGE_FAULT1, K_FORK, K_FORK_VMAS, K_MUNMAP, K_RMAP };
static const char *const names[] = { "brk1", "brk1-vmas", "page_fault1", "fork", "fork-vmas", "munmap", "rmap" };
#define NR_KINDS (int)(sizeof(names) / sizeof(names[0]))

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static const char *thp_setting(void)
{
	static char buf[128] = "unavailable";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	return buf;
}

static char stdout_buf[1 << 16];

int main(int argc, char **argv)
{
	int a = 1;
	if (a < argc && !strncmp(argv[a], "--rmap=", 7)) {
		const char *m = argv[a++] + 7;
		rmap_method = !strcmp(m, "migrate") ? RMAP_MIGRATE : !strcmp(m, "remove") ? RMAP_REMOVE : !strcmp(m, "auto") ? RMAP_AUTO : -1;
		if ((int)rmap_method < 0) {
			fprintf(stderr, "mm: --rmap=%s: expected auto, migrate or remove\n", m);
			return 2;
		}
	}
	if (argc - a < 2) {
		fprintf(stderr, "usage: mm [--rmap=auto|migrate|remove] REPS NAME:PARAM:OPS...  (NAME: brk1 brk1-vmas page_fault1 fork fork-vmas munmap rmap)\n");
		return 2;
	}
	/* A static stdout buffer: stdio allocates nothing while brk1 moves the break. */
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	int reps = atoi(argv[a++]);
	if (reps < 1 || reps > 1000) {
		fprintf(stderr, "mm: bad REPS\n");
		return 2;
	}
	choose_rmap_method();
	/*
	 * One CPU, as the emulator's figures are taken (and as will-it-scale binds each task): the
	 * program and every child it forks run on the CPU it started on.
	 */
	int cpu = sched_getcpu();
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (cpu < 0 || sched_setaffinity(0, sizeof(set), &set) != 0)
		die("sched_setaffinity");
	double *ns = calloc(reps, sizeof(double)), *sorted = calloc(reps, sizeof(double));
	struct utsname u;
	uname(&u);
	long avail = sysconf(_SC_AVPHYS_PAGES);
	printf("{\"host\":{\"kernel\":");
	json_string(u.release);
	printf(",\"page_size\":%ld,\"available_pages\":%ld,\"thp\":", sysconf(_SC_PAGESIZE), avail);
	json_string(thp_setting());
	printf(",\"cpu\":%d,\"memory_nodes\":%d,\"euid\":%d,\"rmap_method\":\"%s\",\"rmap_reason\":", cpu, nr_mem_nodes, (int)geteuid(),
	       rmap_method == RMAP_MIGRATE ? "migrate" : "remove");
	json_string(rmap_reason);
	printf("},\"cases\":[");
	for (int c = a; c < argc; c++) {
		char name[32];
		long param, ops;
		if (sscanf(argv[c], "%31[^:]:%ld:%ld", name, &param, &ops) != 3 || param < 0 || ops < 1) {
			fprintf(stderr, "mm: bad case %s (NAME:PARAM:OPS)\n", argv[c]);
			return 2;
		}
		int k = -1;
		for (int i = 0; i < NR_KINDS; i++)
			if (!strcmp(name, names[i]))
				k = i;
		if (k < 0) {
			fprintf(stderr, "mm: unknown case %s\n", name);
			return 2;
		}
		if (((k == K_BRK1 || k == K_PAGE_FAULT1 || k == K_MUNMAP || k == K_RMAP) && param < 1) ||
		    (k == K_RMAP && param > 4096)) {
			fprintf(stderr, "mm: bad parameter in %s\n", argv[c]);
			return 2;
		}
		printf("%s{\"name\":\"%s\",\"param\":%ld,", c > a ? "," : "", name, param);
		if (k == K_MUNMAP && param + param / 4 > avail) {
			printf("\"skipped\":\"needs %ld MiB of free memory, %ld MiB available\"}", (param + param / 4) * PAGE >> 20,
			       avail * PAGE >> 20);
			continue;
		}
		/* Per-case state that the timed runs share. */
		char *region = NULL, *vmas = NULL;
		long region_pages = 0, nvmas = 0;
		struct sharers s;
		if (k == K_FORK && param > 0) {
			region_pages = param * (1 << 20) / PAGE;
			region = map_anon(region_pages);
			touch(region, region_pages);
		}
		if (k == K_BRK1_VMAS || k == K_FORK_VMAS) {
			nvmas = param;
			vmas = make_vmas(nvmas, k == K_FORK_VMAS);
		}
		if (k == K_RMAP)
			sharers_start(&s, (int)param);
		double sum = 0;
		for (int r = -1; r < reps; r++) { /* r = -1: the warm-up run */
			double x = 0;
			switch (k) {
			case K_BRK1: x = run_brk1(param, ops); break;
			case K_BRK1_VMAS: x = run_brk1(1, ops); break;
			case K_PAGE_FAULT1: x = run_page_fault1(param, ops); break;
			case K_FORK: case K_FORK_VMAS: x = run_fork(ops); break;
			case K_MUNMAP: x = run_munmap(param, ops); break;
			case K_RMAP: x = run_rmap(&s, ops, r == -1); break;
			}
			if (r >= 0) {
				ns[r] = x;
				sum += x;
			}
		}
		if (region)
			munmap(region, region_pages * PAGE);
		if (vmas)
			munmap(vmas, 2 * nvmas * PAGE);
		if (k == K_RMAP)
			sharers_stop(&s);
		memcpy(sorted, ns, reps * sizeof(double));
		qsort(sorted, reps, sizeof(double), cmp);
		double median = reps % 2 ? sorted[reps / 2] : (sorted[reps / 2 - 1] + sorted[reps / 2]) / 2;
		long per_run = k == K_PAGE_FAULT1 ? (ops + param - 1) / param * param : k == K_BRK1 || k == K_BRK1_VMAS ? (ops + 1) / 2 * 2 : ops;
		printf("\"ops\":%ld,\"reps\":%d,\"ns\":[", per_run, reps);
		for (int r = 0; r < reps; r++)
			printf("%s%.2f", r ? "," : "", ns[r]);
		printf("],\"ns_min\":%.2f,\"ns_median\":%.2f,\"ns_mean\":%.2f}", sorted[0], median, sum / reps);
	}
	printf("]}\n");
	return 0;
}
