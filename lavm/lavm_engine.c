// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Host driver for the engines: job memory, and the epoch engine on T
 * threads.  Each thread owns a contiguous range of blocks; the threads meet
 * at a barrier around each I/O phase (lavm.h describes the protocol).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "lavm_host.h"

struct epoch_ops {
	const char *name;
	size_t (*mem_size)(const struct lavm_prog *, uint32_t);
	int (*setup)(struct lavm_epoch *, struct lavm_job *, void *, size_t);
	void (*load)(struct lavm_epoch *, uint32_t, uint32_t);
	void (*run_blocks)(struct lavm_epoch *, uint32_t, uint32_t);
	void (*min_io)(struct lavm_epoch *, uint32_t, uint32_t, struct lavm_epoch_wait *);
	bool (*io)(struct lavm_epoch *, const struct lavm_epoch_wait *);
	uint32_t (*finish)(struct lavm_epoch *, uint32_t, uint32_t);
};

#define DECLARE_VARIANT(sfx)								\
	size_t lavm_epoch_mem_size_##sfx(const struct lavm_prog *, uint32_t);		\
	int lavm_epoch_setup_##sfx(struct lavm_epoch *, struct lavm_job *, void *, size_t); \
	void lavm_epoch_load_##sfx(struct lavm_epoch *, uint32_t, uint32_t);		\
	void lavm_epoch_run_blocks_##sfx(struct lavm_epoch *, uint32_t, uint32_t);	\
	void lavm_epoch_min_io_##sfx(struct lavm_epoch *, uint32_t, uint32_t,		\
				     struct lavm_epoch_wait *);				\
	bool lavm_epoch_io_##sfx(struct lavm_epoch *, const struct lavm_epoch_wait *);	\
	uint32_t lavm_epoch_finish_##sfx(struct lavm_epoch *, uint32_t, uint32_t);	\
	static const struct epoch_ops epoch_ops_##sfx = {				\
		#sfx, lavm_epoch_mem_size_##sfx, lavm_epoch_setup_##sfx,		\
		lavm_epoch_load_##sfx,							\
		lavm_epoch_run_blocks_##sfx, lavm_epoch_min_io_##sfx,			\
		lavm_epoch_io_##sfx,								\
		lavm_epoch_finish_##sfx };
DECLARE_VARIANT(avx2)
DECLARE_VARIANT(avx512)

static const struct epoch_ops epoch_ops_generic = {
	"generic", lavm_epoch_mem_size, lavm_epoch_setup, lavm_epoch_load, lavm_epoch_run_blocks,
	lavm_epoch_min_io, lavm_epoch_io, lavm_epoch_finish,
};

static const struct epoch_ops *pick_ops(void)
{
	const char *force = getenv("LAVM_ISA");

	__builtin_cpu_init();
	if (force && !strcmp(force, "generic"))
		return &epoch_ops_generic;
	if (force && !strcmp(force, "avx2") && __builtin_cpu_supports("avx2"))
		return &epoch_ops_avx2;
	if ((!force || !strcmp(force, "avx512")) && __builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512dq"))
		return &epoch_ops_avx512;
	if (__builtin_cpu_supports("avx2"))
		return &epoch_ops_avx2;
	return &epoch_ops_generic;
}

const char *lavm_engine_isa(void)
{
	return pick_ops()->name;
}

static void *engine_mem_alloc(size_t len);

int lavm_job_alloc(struct lavm_job *job, const struct lavm_prog *prog,
		   uint32_t nvms, uint32_t nshared, uint32_t max_epochs)
{
	memset(job, 0, sizeof(*job));
	if (nshared < prog->shared_size)
		nshared = prog->shared_size;
	job->prog = prog;
	job->nvms = nvms;
	job->nshared = nshared;
	job->max_epochs = max_epochs;
	job->vms = engine_mem_alloc((size_t)nvms * sizeof(struct lavm_vm) + 64);
	job->stack = malloc(lavm_stack_size(prog, nvms) + sizeof(struct lavm_frame));
	job->shared = calloc((size_t)nshared + 1, sizeof(float));
	if (!job->vms || !job->stack || !job->shared) {
		lavm_job_free(job);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nvms; i++)
		lavm_vm_init(&job->vms[i], prog, i);
	return 0;
}

void lavm_job_free(struct lavm_job *job)
{
	free(job->vms);
	free(job->stack);
	free(job->shared);
	job->vms = NULL;
	job->stack = NULL;
	job->shared = NULL;
}

struct epoch_run {
	const struct epoch_ops *ops;
	struct lavm_epoch eng;
	pthread_barrier_t barrier;
	unsigned int threads;
	struct lavm_epoch_wait *wait;	/* per thread */
	bool more;
	uint32_t *most;		/* per thread */
};

struct epoch_thread {
	struct epoch_run *run;
	unsigned int id;
};

static void *epoch_thread_main(void *arg)
{
	struct epoch_thread *t = arg;
	struct epoch_run *r = t->run;
	uint32_t nb = r->eng.nblocks;
	uint32_t b0 = (uint64_t)nb * t->id / r->threads;
	uint32_t b1 = (uint64_t)nb * (t->id + 1) / r->threads;

	r->ops->load(&r->eng, b0, b1);
	do {
		r->ops->run_blocks(&r->eng, b0, b1);
		r->ops->min_io(&r->eng, b0, b1, &r->wait[t->id]);
		if (pthread_barrier_wait(&r->barrier) == PTHREAD_BARRIER_SERIAL_THREAD) {
			struct lavm_epoch_wait w = r->wait[0];

			for (unsigned int i = 1; i < r->threads; i++)
				lavm_epoch_wait_merge(&w, &r->wait[i]);
			r->more = r->ops->io(&r->eng, &w);
		}
		pthread_barrier_wait(&r->barrier);
	} while (r->more);
	r->most[t->id] = r->ops->finish(&r->eng, b0, b1);
	return NULL;
}

/*
 * Engine memory in 2 MB pages where the kernel allows it: the SoA copy is
 * touched once per run, and 4 KB page faults would cost more than the
 * transposition itself.  Below 1 MB a huge page would be mostly waste (and
 * small jobs, like the tests', would each map and clear 2 MB).
 */
static void *engine_mem_alloc(size_t len)
{
	size_t huge = 2u << 20, alen = (len + huge - 1) & ~(huge - 1);
	void *p;

	if (len < huge / 2)
		return aligned_alloc(64, (len + 63) & ~(size_t)63);
	p = aligned_alloc(huge, alen);
	if (p)
		madvise(p, alen, MADV_HUGEPAGE);
	return p;
}

static long epoch_run(struct lavm_job *job, unsigned int threads)
{
	struct epoch_run r = { .ops = pick_ops() };
	size_t len = r.ops->mem_size(job->prog, job->nvms);
	void *mem = engine_mem_alloc(len);
	pthread_t tid[64];
	struct epoch_thread ts[64];
	struct lavm_epoch_wait wait[64];
	uint32_t most[64], res = 0;
	int ret;

	if (!mem)
		return -ENOMEM;
	ret = r.ops->setup(&r.eng, job, mem, len);
	if (ret) {
		free(mem);
		return -EINVAL;
	}
	if (threads < 1)
		threads = 1;
	if (threads > 64)
		threads = 64;
	if (threads > r.eng.nblocks)
		threads = r.eng.nblocks ? r.eng.nblocks : 1;
	r.threads = threads;
	r.wait = wait;
	r.most = most;
	pthread_barrier_init(&r.barrier, NULL, threads);
	for (unsigned int i = 0; i < threads; i++) {
		ts[i] = (struct epoch_thread){ &r, i };
		if (i && pthread_create(&tid[i], NULL, epoch_thread_main, &ts[i]))
			abort();
	}
	epoch_thread_main(&ts[0]);
	for (unsigned int i = 1; i < threads; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&r.barrier);
	for (unsigned int i = 0; i < threads; i++)
		res = most[i] > res ? most[i] : res;
	free(mem);
	return res;
}

long lavm_engine_run(struct lavm_job *job, enum lavm_engine_kind kind, unsigned int threads)
{
	uint32_t *matidx;
	long ret;

	if (job->acl && lavm_acl_check(job->acl, job->nvms))
		return -EINVAL;
	switch (kind) {
	case LAVM_ENGINE_REF:
		return lavm_ref_run(job);
	case LAVM_ENGINE_SWITCH:
		return lavm_switch_run(job);
	case LAVM_ENGINE_DENSE:
		matidx = malloc(job->prog->ninsns * sizeof(*matidx));
		if (!matidx)
			return -ENOMEM;
		lavm_dense_index(job->prog, matidx);
		ret = lavm_dense_run(job, matidx);
		free(matidx);
		return ret;
	case LAVM_ENGINE_EPOCH:
		return epoch_run(job, threads);
	}
	return -EINVAL;
}
