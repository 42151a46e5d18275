// SPDX-License-Identifier: GPL-2.0
/*
 * The main job, spec -> generator -> fabric + accel -> results; see
 * pipeline.h.  One LAVM job per VM: its instances form one segment owned
 * by the VM's fabric VM, so the job's epochs are charged to that VM's
 * quota and its shared memory sits under the fabric's SHARE rights.
 */
#include <pthread.h>
#include <sys/eventfd.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hyperaether.h"
#include "lavm_host.h"
#include "pipeline.h"
#include "kvm_abi.h"
#include "kvm_monitor.h"

uint64_t ha_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *ha_errno_name(int err)
{
	static __thread char buf[16];

	switch (err < 0 ? -err : err) {
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case ENOMEM: return "ENOMEM";
	case EDQUOT: return "EDQUOT";
	case ENOSPC: return "ENOSPC";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ESRCH: return "ESRCH";
	case EBUSY: return "EBUSY";
	case EAGAIN: return "EAGAIN";
	case ENODEV: return "ENODEV";
	case E2BIG: return "E2BIG";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECANCELED: return "ECANCELED";
	case ESHUTDOWN: return "ESHUTDOWN";
	case EBADMSG: return "EBADMSG";
	case EMSGSIZE: return "EMSGSIZE";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EIO: return "EIO";
	case ETIME: return "ETIME";
	}
	snprintf(buf, sizeof(buf), "E%d", err < 0 ? -err : err);
	return buf;
}

static int run_fail(struct ha_run *run, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int run_fail(struct ha_run *run, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(run->error, sizeof(run->error), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(run->error) - 24)
		snprintf(run->error + n, sizeof(run->error) - n, " (%s)", ha_errno_name(err));
	run->err = err;
	return err;
}

void ha_run_init(struct ha_run *run)
{
	memset(run, 0, sizeof(*run));
	run->fabric_fd = -1;
	run->accel_fd = -1;
}

/*
 * A VM on the "kvm" backend: hakvm_run() (userspace/kvm) runs the guest to
 * its end on a thread of its own, over the fabric VM's memory; the thread
 * writes @efd when the guest has stopped, which the ring or poll() sees
 * through the VM's sync_fd (a dup of it) like an accel job's sync_file.
 */
struct ha_kvm_run {
	pthread_t thread;
	bool started;
	struct hakvm_config cfg;
	struct hakvm_result res;
	int ret;
	int efd;
	int vmfd;
	struct lavm_job lj;		/* the start states and shared memory */
};

static void *kvm_thread(void *arg)
{
	struct ha_kvm_run *k = arg;
	uint64_t one = 1;

	k->ret = hakvm_run(&k->cfg, &k->res);
	if (write(k->efd, &one, sizeof(one)) != sizeof(one))
		abort();	/* an eventfd write of 1 cannot fail */
	return NULL;
}

/* Waits for the guest (bounded by its wall-clock budget) and frees it all. */
static void kvm_run_free(struct ha_kvm_run *k)
{
	if (k->started)
		pthread_join(k->thread, NULL);
	hakvm_result_free(&k->res);
	lavm_job_free(&k->lj);
	if (k->efd >= 0)
		close(k->efd);
	if (k->vmfd >= 0)
		close(k->vmfd);
	free(k);
}

static void vm_run_release(struct ha_run *run, struct ha_vm_run *v)
{
	if (v->kvm)
		kvm_run_free(v->kvm);
	v->kvm = NULL;
	if (v->sync_fd >= 0)
		close(v->sync_fd);
	v->sync_fd = -1;
	if (run->accel_fd >= 0) {
		if (v->syncobj)
			ha_accel_syncobj_destroy(run->accel_fd, v->syncobj);
		ha_accel_job_free(run->accel_fd, &v->job);
	}
	v->syncobj = 0;
}

void ha_run_teardown(struct ha_run *run)
{
	if (run->vms)
		for (uint32_t i = 0; i < run->spec->nvms; i++)
			vm_run_release(run, &run->vms[i]);
	if (run->ctx_id && run->accel_fd >= 0)
		ha_accel_ctx_destroy(run->accel_fd, run->ctx_id);
	run->ctx_id = 0;
	if (run->fabric_fd >= 0)
		close(run->fabric_fd);	/* destroys the fabric */
	run->fabric_fd = -1;
}

void ha_run_free(struct ha_run *run)
{
	ha_run_teardown(run);
	if (run->vms) {
		for (uint32_t i = 0; i < run->spec->nvms; i++) {
			gen_result_free(&run->vms[i].gen);
			free(run->vms[i].states);
			free(run->vms[i].shared);
		}
	}
	free(run->vms);
	gen_spec_free(run->spec);
	ha_run_init(run);
}

int ha_run_parse(struct ha_run *run, const char *json, size_t len, const char *name)
{
	struct gen_error gerr;
	int ret;

	run->t_start_ns = ha_now_ns();
	ret = gen_spec_parse(json, len, name, &run->spec, &gerr);
	if (ret) {
		snprintf(run->error, sizeof(run->error), "%s", gerr.msg);
		run->err = ret;
		return ret;
	}
	run->vms = calloc(run->spec->nvms, sizeof(*run->vms));
	if (!run->vms)
		return run_fail(run, -ENOMEM, "%s: out of memory", name);
	for (uint32_t i = 0; i < run->spec->nvms; i++)
		run->vms[i].sync_fd = -1;
	return 0;
}

int ha_run_generate(struct ha_run *run, const struct gen_options *opt)
{
	uint64_t t0 = ha_now_ns();

	for (uint32_t i = 0; i < run->spec->nvms; i++) {
		struct ha_vm_run *v = &run->vms[i];

		v->gen_ret = gen_generate(run->spec, i, opt, &v->gen);
		run->t_ai_ns += v->gen.t_ai_ns;
		if (v->gen_ret) {
			run->t_gen_wall_ns = ha_now_ns() - t0;
			return run_fail(run, v->gen_ret, "vm '%s': no program: %s",
					run->spec->vms[i].name,
					v->gen.error[0] ? v->gen.error : strerror(-v->gen_ret));
		}
	}
	run->t_gen_wall_ns = ha_now_ns() - t0;
	return 0;
}

static uint32_t vm_nshared(const struct ha_vm_run *v, const struct gen_vm *vm)
{
	uint32_t n = v->gen.image.prog.shared_size;

	return vm->shared_size > n ? vm->shared_size : n;
}

/* The fabric: quotas from the spec, one fabric VM per spec VM, the edges. */
static int boot_fabric(struct ha_run *run)
{
	const struct gen_spec *spec = run->spec;
	struct hyperaether_quota q = {
		.mem_bytes = spec->quota.mem_bytes,
		.epochs = spec->quota.epochs,
		.queue_depth = spec->quota.queue_depth,
	};
	int ret;

	/* The spec's quota.max_vms, else room for its VMs (at least the default). */
	q.max_vms = spec->max_vms ? spec->max_vms : spec->nvms > 64 ? spec->nvms : 0;
	ret = ha_open();
	if (ret < 0)
		return run_fail(run, ret, "cannot open %s: %s", HA_DEV_PATH, strerror(-ret));
	run->fabric_fd = ret;
	ret = ha_fabric_create(run->fabric_fd, &q, &run->fabric_id);
	if (ret)
		return run_fail(run, ret, "fabric '%s': FABRIC_CREATE: %s", spec->name, strerror(-ret));
	for (uint32_t i = 0; i < spec->nvms; i++) {
		const struct gen_vm *vm = &spec->vms[i];
		struct hyperaether_quota vq = {
			.mem_bytes = vm->quota.mem_bytes,
			.epochs = vm->quota.epochs,
			.queue_depth = vm->quota.queue_depth,
		};

		if (vm->backend == GEN_BACKEND_KVM) {
			/* A KVM guest's RAM is the VM's memory: enough for it. */
			struct hakvm_config kc = {
				.vmfd = -1, .bundle = run->vms[i].gen.bundle,
				.bundle_len = run->vms[i].gen.bundle_len,
				.nvms = vm->instances, .nshared = vm_nshared(&run->vms[i], vm),
			};
			size_t ram;

			ret = hakvm_ram_size(&kc, &ram);
			if (ret)
				return run_fail(run, ret, "vm '%s': KVM guest size: %s", vm->name,
						strerror(-ret));
			if (vq.mem_bytes < ram)
				vq.mem_bytes = ram;
		}
		ret = ha_vm_add(run->fabric_fd, vm->name,
				vm->backend == GEN_BACKEND_KVM ? HYPERAETHER_BACKEND_KVM :
				HYPERAETHER_BACKEND_LAVM, &vq, 0, &run->vms[i].fabric_vm);
		if (ret)
			return run_fail(run, ret, "vm '%s': VM_ADD: %s%s", vm->name, strerror(-ret),
					ret == -EDQUOT ? " (its quota exceeds the fabric's)" :
					ret == -ENOSPC ? " (more VMs than the fabric's max_vms)" : "");
	}
	for (uint32_t e = 0; e < spec->nedges; e++) {
		const struct gen_edge *ed = &spec->edges[e];

		ret = ha_cap_set(run->fabric_fd, run->vms[ed->src].fabric_vm,
				 run->vms[ed->dst].fabric_vm, ed->rights);
		if (ret)
			return run_fail(run, ret, "edge %s -> %s: CAP_SET: %s",
					spec->vms[ed->src].name, spec->vms[ed->dst].name,
					strerror(-ret));
	}
	return 0;
}

/* The generator ABI's start states (gen_job_setup()) for the real run. */
static int vm_start(const struct gen_vm *vm, const struct ha_vm_run *v,
		    struct lavm_job *lj)
{
	return gen_job_setup(vm, &v->gen.image.prog, NULL, lj);
}

static void vm_copy_results(const struct gen_vm *vm, struct ha_vm_run *v,
			    const struct lavm_vm *states, const float *shared, uint32_t nshared);

static int boot_kvm(struct ha_run *run, uint32_t i)
{
	const struct gen_vm *vm = &run->spec->vms[i];
	struct ha_vm_run *v = &run->vms[i];
	struct ha_kvm_run *k;
	int ret;

	k = calloc(1, sizeof(*k));
	if (!k)
		return run_fail(run, -ENOMEM, "vm '%s': out of memory", vm->name);
	k->efd = -1;
	k->vmfd = -1;
	v->kvm = k;
	ret = vm_start(vm, v, &k->lj);
	if (ret)
		return run_fail(run, ret, "vm '%s': job setup: %s", vm->name, strerror(-ret));
	/* Guest RAM is the fabric VM's memory, mapped through its VM fd. */
	k->vmfd = ha_vm_export(run->fabric_fd, v->fabric_vm,
			       HYPERAETHER_VMFD_MAP | HYPERAETHER_VMFD_SEND |
			       HYPERAETHER_VMFD_RECV, 0);
	if (k->vmfd < 0)
		return run_fail(run, k->vmfd, "vm '%s': VM_EXPORT: %s", vm->name,
				strerror(-k->vmfd));
	k->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (k->efd < 0)
		return run_fail(run, -errno, "vm '%s': eventfd: %s", vm->name, strerror(errno));
	k->cfg = (struct hakvm_config){
		.vmfd = k->vmfd,
		.bundle = v->gen.bundle, .bundle_len = v->gen.bundle_len,
		.nvms = vm->instances, .nshared = vm_nshared(v, vm),
		.max_epochs = vm->max_epochs,
		.init = k->lj.vms, .shared_in = k->lj.nshared ? k->lj.shared : NULL,
		.send_dst = HAKVM_NO_PEER, .timeout_ms = 60000,
	};
	v->sync_fd = dup(k->efd);
	if (v->sync_fd < 0)
		return run_fail(run, -errno, "vm '%s': dup: %s", vm->name, strerror(errno));
	ret = -pthread_create(&k->thread, NULL, kvm_thread, k);
	if (ret)
		return run_fail(run, ret, "vm '%s': thread: %s", vm->name, strerror(-ret));
	k->started = true;
	v->submitted = true;
	run->pending++;
	return 0;
}

/* A KVM VM's guest has stopped: its results, as an accel job's. */
static int reap_kvm(struct ha_run *run, uint32_t i)
{
	const struct gen_vm *vm = &run->spec->vms[i];
	struct ha_vm_run *v = &run->vms[i];
	struct ha_kvm_run *k = v->kvm;
	uint64_t n;

	if (read(k->efd, &n, sizeof(n)) != sizeof(n))
		return -EAGAIN;
	pthread_join(k->thread, NULL);
	k->started = false;
	v->done = true;
	run->pending--;
	if (!run->pending)
		run->t_run_ns = ha_now_ns() - run->t_boot_start_ns - run->t_boot_ns;
	if (k->ret) {
		v->error = k->ret;
	} else if (k->res.stop != HAKVM_STOP_HALT) {
		/* The monitor stopped the guest: say why, as a job error. */
		v->error = k->res.stop == HAKVM_STOP_TIMEOUT ? -ETIMEDOUT : -EIO;
		fprintf(stderr, "vm '%s': KVM guest stopped (%s): %s\n", vm->name,
			hakvm_stop_name(k->res.stop), k->res.why);
	} else {
		v->epochs = k->res.epochs;
		v->engine_ns = k->res.ns_end - k->res.ns_first_insn;
		for (uint32_t j = 0; j < k->res.nvms; j++) {
			uint32_t st = k->res.vms[j].status;

			v->halted += st == LAVM_HALTED;
			v->faulted += st == LAVM_FAULTED;
			v->active += st == LAVM_RUNNING || st == LAVM_YIELDED;
		}
		vm_copy_results(vm, v, k->res.vms, k->res.shared, k->res.nshared);
	}
	vm_run_release(run, v);
	return 0;
}

static int boot_job(struct ha_run *run, uint32_t i)
{
	const struct gen_vm *vm = &run->spec->vms[i];
	struct ha_vm_run *v = &run->vms[i];
	struct drm_hyperaether_submit s;
	uint32_t nshared = vm_nshared(v, vm);
	uint32_t seg = v->fabric_vm;
	uint8_t *dom = NULL;
	struct lavm_job lj;
	char log[256] = "";
	int ret;

	ret = vm_start(vm, v, &lj);
	if (ret)
		return run_fail(run, ret, "vm '%s': job setup: %s", vm->name, strerror(-ret));
	v->job = (struct ha_accel_job){
		.bundle = v->gen.bundle,
		.bundle_size = v->gen.bundle_len,
		.ninstances = vm->instances,
		.nshared = nshared,
		.max_epochs = vm->max_epochs,
		.ctx_id = run->ctx_id,
		.states = lj.vms,
		.shared_in = lj.shared,
	};
	ret = ha_accel_job_prepare(run->accel_fd, &v->job);
	lavm_job_free(&lj);
	if (ret)
		return run_fail(run, ret, "vm '%s': job buffers: %s", vm->name, strerror(-ret));
	ret = ha_accel_syncobj_create(run->accel_fd, 0, &v->syncobj);
	if (ret)
		return run_fail(run, ret, "vm '%s': syncobj: %s", vm->name, strerror(-ret));

	dom = calloc(vm->instances, 1);
	if (!dom)
		return run_fail(run, -ENOMEM, "vm '%s': out of memory", vm->name);
	ha_accel_submit_init(&s);
	s.ctx_id = run->ctx_id;
	s.prog_handle = v->job.prog.handle;
	s.prog_size = (uint32_t)v->job.bundle_size;
	s.state_handle = v->job.state.handle;
	s.ninstances = vm->instances;
	s.shared_handle = v->job.shared.handle;
	s.nshared = v->job.nshared;
	s.max_epochs = vm->max_epochs;
	s.out_syncobj = v->syncobj;
	/* One segment, the VM's own: epochs charged to its quota. */
	s.fabric_fd = run->fabric_fd;
	s.nsegments = 1;
	s.seg_words = nshared ? nshared : 1;
	s.segments_ptr = (uint64_t)(uintptr_t)&seg;
	s.domains_ptr = (uint64_t)(uintptr_t)dom;
	s.log_ptr = (uint64_t)(uintptr_t)log;
	s.log_size = sizeof(log);
	ret = ha_accel_submit(run->accel_fd, &s);
	free(dom);
	if (ret)
		return run_fail(run, ret, "vm '%s': SUBMIT: %s%s%s", vm->name,
				log[0] ? log : strerror(-ret),
				ret == -EDQUOT ? ": its epoch budget exceeds the VM's epoch quota" : "",
				"");
	v->job.job_id = s.job_id;
	v->submitted = true;
	run->pending++;
	v->sync_fd = ha_accel_syncobj_export_sync_file(run->accel_fd, v->syncobj);
	if (v->sync_fd < 0) {
		ret = v->sync_fd;
		v->sync_fd = -1;
		return run_fail(run, ret, "vm '%s': export sync_file: %s", vm->name, strerror(-ret));
	}
	return 0;
}

int ha_run_boot(struct ha_run *run, int accel_fd)
{
	int ret;

	run->engine = HA_ENGINE_ACCEL;
	run->accel_fd = accel_fd;
	run->t_boot_start_ns = ha_now_ns();
	ret = boot_fabric(run);
	if (ret)
		goto err_teardown;
	ret = ha_accel_ctx_create(accel_fd, DRM_HYPERAETHER_PRIORITY_NORMAL, &run->ctx_id);
	if (ret) {
		run_fail(run, ret, "accel CTX_CREATE: %s", strerror(-ret));
		goto err_teardown;
	}
	for (uint32_t i = 0; i < run->spec->nvms; i++) {
		ret = run->spec->vms[i].backend == GEN_BACKEND_KVM ? boot_kvm(run, i) :
		      boot_job(run, i);
		if (ret)
			goto err_teardown;
	}
	run->t_boot_ns = ha_now_ns() - run->t_boot_start_ns;
	return 0;

err_teardown:
	/* Destroying the context cancels what was submitted; nothing stays. */
	ha_run_teardown(run);
	run->pending = 0;
	return ret;
}

static void vm_copy_results(const struct gen_vm *vm, struct ha_vm_run *v,
			    const struct lavm_vm *states, const float *shared, uint32_t nshared)
{
	v->states = malloc((size_t)vm->instances * sizeof(*v->states));
	if (v->states)
		memcpy(v->states, states, (size_t)vm->instances * sizeof(*v->states));
	v->nshared = 0;
	if (nshared && shared) {
		v->shared = malloc((size_t)nshared * sizeof(float));
		if (v->shared) {
			memcpy(v->shared, shared, (size_t)nshared * sizeof(float));
			v->nshared = nshared;
		}
	}
}

int ha_run_reap(struct ha_run *run, uint32_t i)
{
	const struct gen_vm *vm = &run->spec->vms[i];
	struct ha_vm_run *v = &run->vms[i];
	struct drm_hyperaether_wait st;
	int ret;

	if (v->done || !v->submitted)
		return 0;
	if (v->kvm)
		return reap_kvm(run, i);
	ret = ha_accel_wait(run->accel_fd, v->job.job_id, 0, DRM_HYPERAETHER_WAIT_RELEASE, &st);
	if (ret == -ETIME)
		return -EAGAIN;
	v->done = true;
	run->pending--;
	if (!run->pending)
		run->t_run_ns = ha_now_ns() - run->t_boot_start_ns - run->t_boot_ns;
	if (ret) {
		v->error = ret;
		vm_run_release(run, v);
		return 0;
	}
	v->error = st.error;
	v->epochs = st.epochs;
	v->halted = st.halted;
	v->faulted = st.faulted;
	v->active = st.active;
	v->engine_ns = st.run_ns;
	vm_copy_results(vm, v, v->job.state.map, v->job.shared.map, v->job.nshared);
	vm_run_release(run, v);
	return 0;
}

void ha_run_cancel(struct ha_run *run)
{
	run->cancelled = true;
	if (run->ctx_id && run->accel_fd >= 0)
		ha_accel_ctx_destroy(run->accel_fd, run->ctx_id);
	run->ctx_id = 0;
}

uint64_t ha_run_epochs_now(const struct ha_run *run)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; run->vms && i < run->spec->nvms; i++) {
		const struct ha_vm_run *v = &run->vms[i];
		struct drm_hyperaether_wait st;
		int ret;

		if (v->done) {
			sum += v->epochs;
			continue;
		}
		if (!v->submitted || v->kvm || run->accel_fd < 0)
			continue;
		ret = ha_accel_wait(run->accel_fd, v->job.job_id, 0, 0, &st);
		if (!ret || ret == -ETIME)
			sum += st.epochs;
	}
	return sum;
}

int ha_run_wait_all(struct ha_run *run, int64_t timeout_ms,
		    void (*progress)(const struct ha_run *run, void *arg), void *arg)
{
	uint32_t n = run->spec->nvms;
	struct pollfd *pfd = calloc(n, sizeof(*pfd));
	int64_t deadline = timeout_ms < 0 ? -1 : (int64_t)(ha_now_ns() / 1000000) + timeout_ms;

	if (!pfd)
		return run_fail(run, -ENOMEM, "out of memory");
	while (run->pending) {
		uint32_t k = 0;
		int wait_ms = 200, ret;

		for (uint32_t i = 0; i < n; i++) {
			if (run->vms[i].sync_fd < 0)
				continue;
			pfd[k].fd = run->vms[i].sync_fd;
			pfd[k].events = POLLIN;
			pfd[k].revents = 0;
			k++;
		}
		if (deadline >= 0) {
			int64_t left = deadline - (int64_t)(ha_now_ns() / 1000000);

			if (left <= 0 && !run->cancelled) {
				ha_run_cancel(run);
				left = 1000;
				deadline = (int64_t)(ha_now_ns() / 1000000) + 30000;
			} else if (left <= 0) {
				break;
			}
			if (left < wait_ms)
				wait_ms = (int)left;
		}
		ret = poll(pfd, k, wait_ms);
		if (ret < 0 && errno != EINTR)
			break;
		for (uint32_t i = 0; i < n; i++) {
			struct ha_vm_run *v = &run->vms[i];
			struct pollfd p = { .fd = v->sync_fd, .events = POLLIN };

			if (v->sync_fd >= 0 && poll(&p, 1, 0) == 1)
				ha_run_reap(run, i);
		}
		if (progress)
			progress(run, arg);
	}
	free(pfd);
	if (run->pending)
		return run_fail(run, -ETIMEDOUT, "%u jobs did not complete", run->pending);
	return 0;
}

int ha_run_cpu(struct ha_run *run)
{
	uint64_t t0;

	run->engine = HA_ENGINE_CPU;
	run->t_boot_start_ns = ha_now_ns();
	run->t_boot_ns = 0;
	t0 = ha_now_ns();
	for (uint32_t i = 0; i < run->spec->nvms; i++) {
		const struct gen_vm *vm = &run->spec->vms[i];
		struct ha_vm_run *v = &run->vms[i];
		struct lavm_job lj;
		uint64_t t1 = ha_now_ns();
		long epochs;
		int ret;

		ret = vm_start(vm, v, &lj);
		if (ret)
			return run_fail(run, ret, "vm '%s': job setup: %s", vm->name, strerror(-ret));
		epochs = lavm_engine_run(&lj, LAVM_ENGINE_EPOCH, 1);
		if (epochs < 0) {
			lavm_job_free(&lj);
			return run_fail(run, (int)epochs, "vm '%s': lavm engine: %s", vm->name,
					strerror((int)-epochs));
		}
		v->submitted = v->done = true;
		v->epochs = (uint32_t)epochs;
		for (uint32_t k = 0; k < vm->instances; k++) {
			if (lj.vms[k].status == LAVM_HALTED)
				v->halted++;
			else if (lj.vms[k].status == LAVM_FAULTED)
				v->faulted++;
			else
				v->active++;
		}
		v->engine_ns = ha_now_ns() - t1;
		vm_copy_results(vm, v, lj.vms, lj.shared, lj.nshared);
		lavm_job_free(&lj);
	}
	run->t_run_ns = ha_now_ns() - t0;
	return 0;
}

/* ------------------------------------------------------------ results */

struct json_object *ha_json_float(float f)
{
	char buf[32];

	if (isnan(f))
		return json_object_new_string("nan");
	if (isinf(f))
		return json_object_new_string(f > 0 ? "inf" : "-inf");
	if (f == (float)(long long)f && fabsf(f) < 1e15f) {
		snprintf(buf, sizeof(buf), "%lld", (long long)f);
		return json_object_new_double_s((double)f, signbit(f) && f == 0 ? "-0" : buf);
	}
	for (int prec = 1; prec <= 9; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, (double)f);
		if (strtof(buf, NULL) == f)
			break;
	}
	return json_object_new_double_s((double)f, buf);
}

static const char *const right_names[] = { "send", "recv", "share", "grant" };

static struct json_object *rights_json(uint32_t rights)
{
	struct json_object *a = json_object_new_array();

	for (int b = 0; b < 4; b++)
		if (rights & (1u << b))
			json_object_array_add(a, json_object_new_string(right_names[b]));
	return a;
}

static struct json_object *edges_json(const struct gen_spec *spec)
{
	struct json_object *edges = json_object_new_array();

	for (uint32_t e = 0; e < spec->nedges; e++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "from", json_object_new_string(spec->vms[spec->edges[e].src].name));
		json_object_object_add(o, "to", json_object_new_string(spec->vms[spec->edges[e].dst].name));
		json_object_object_add(o, "rights", rights_json(spec->edges[e].rights));
		json_object_array_add(edges, o);
	}
	return edges;
}

struct json_object *ha_spec_fabric(const struct gen_spec *spec)
{
	struct json_object *o = json_object_new_object(), *vms = json_object_new_array();

	json_object_object_add(o, "fabric", json_object_new_string(spec->name));
	for (uint32_t i = 0; i < spec->nvms; i++) {
		struct json_object *v = json_object_new_object();

		json_object_object_add(v, "name", json_object_new_string(spec->vms[i].name));
		json_object_object_add(v, "instances", json_object_new_int64(spec->vms[i].instances));
		json_object_array_add(vms, v);
	}
	json_object_object_add(o, "vms", vms);
	json_object_object_add(o, "edges", edges_json(spec));
	return o;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static struct json_object *json_ms(uint64_t ns)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.3f", ms(ns));
	return json_object_new_double_s(ms(ns), buf);
}

static const char *vm_status(const struct ha_vm_run *v, uint32_t instances)
{
	if (!v->done)
		return v->submitted ? "running" : "not run";
	if (v->error == -ECANCELED)
		return "cancelled";
	if (v->error == -ETIMEDOUT)
		return "timeout";
	if (v->error)
		return "error";
	if (v->halted == instances)
		return "halted";
	if (v->faulted)
		return "faulted";
	return "epoch budget";
}

static struct json_object *vm_json(const struct ha_run *run, uint32_t i)
{
	const struct gen_vm *vm = &run->spec->vms[i];
	const struct ha_vm_run *v = &run->vms[i];
	struct json_object *o = json_object_new_object(), *outs, *faults;

	json_object_object_add(o, "name", json_object_new_string(vm->name));
	if (run->engine == HA_ENGINE_ACCEL)
		json_object_object_add(o, "fabric_vm", json_object_new_int64(v->fabric_vm));
	json_object_object_add(o, "instances", json_object_new_int64(vm->instances));
	if (run->engine == HA_ENGINE_ACCEL)
		json_object_object_add(o, "backend", json_object_new_string(
			vm->backend == GEN_BACKEND_KVM ? "kvm" : "lavm"));
	json_object_object_add(o, "generator", json_object_new_string(gen_generator_name(v->gen.generator)));
	json_object_object_add(o, "from_cache", json_object_new_boolean(v->gen.from_cache));
	json_object_object_add(o, "rounds", json_object_new_int64(v->gen.rounds));
	json_object_object_add(o, "ninsns", json_object_new_int64(v->gen.image.prog.ninsns));
	json_object_object_add(o, "t_ai_ms", json_ms(v->gen.t_ai_ns));
	json_object_object_add(o, "status", json_object_new_string(vm_status(v, vm->instances)));
	if (v->error)
		json_object_object_add(o, "error", json_object_new_string(ha_errno_name(v->error)));
	json_object_object_add(o, "epochs", json_object_new_int64(v->epochs));
	json_object_object_add(o, "halted", json_object_new_int64(v->halted));
	json_object_object_add(o, "faulted", json_object_new_int64(v->faulted));
	json_object_object_add(o, "active", json_object_new_int64(v->active));
	json_object_object_add(o, "engine_ms", json_ms(v->engine_ns));

	/* outputs: name -> one value per instance */
	outs = json_object_new_object();
	faults = json_object_new_array();
	for (uint32_t k = 0; k < vm->noutputs && v->states; k++) {
		struct json_object *a = json_object_new_array();

		for (uint32_t n = 0; n < vm->instances; n++)
			json_object_array_add(a, ha_json_float(v->states[n].v[LAVM_X_R0 + k]));
		json_object_object_add(outs, vm->outputs[k], a);
	}
	for (uint32_t n = 0; v->states && n < vm->instances; n++) {
		struct json_object *f;

		if (v->states[n].status != LAVM_FAULTED || json_object_array_length(faults) >= 16)
			continue;
		f = json_object_new_object();
		json_object_object_add(f, "instance", json_object_new_int64(n));
		json_object_object_add(f, "fault", json_object_new_string(lavm_fault_name(v->states[n].fault)));
		json_object_array_add(faults, f);
	}
	json_object_object_add(o, "outputs", outs);
	json_object_object_add(o, "faults", faults);
	if (v->nshared && vm->shared_size) {
		struct json_object *a = json_object_new_array();
		uint32_t n = vm->shared_size < HA_RESULT_MAX_SHARED ? vm->shared_size : HA_RESULT_MAX_SHARED;

		for (uint32_t w = 0; w < n && w < v->nshared; w++)
			json_object_array_add(a, ha_json_float(v->shared[w]));
		json_object_object_add(o, "shared", a);
	}
	return o;
}

struct json_object *ha_run_result(const struct ha_run *run)
{
	struct json_object *o = json_object_new_object(), *vms = json_object_new_array(), *t;
	bool ok = !run->err;

	for (uint32_t i = 0; i < run->spec->nvms; i++) {
		const struct ha_vm_run *v = &run->vms[i];

		ok = ok && v->done && !v->error && v->halted == run->spec->vms[i].instances;
		json_object_array_add(vms, vm_json(run, i));
	}
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	json_object_object_add(o, "fabric", json_object_new_string(run->spec->name));
	json_object_object_add(o, "spec", json_object_new_string(run->spec->path));
	json_object_object_add(o, "engine", json_object_new_string(
		run->engine == HA_ENGINE_ACCEL ? "accel" : "cpu"));
	json_object_object_add(o, "engine_desc", json_object_new_string(
		run->engine == HA_ENGINE_ACCEL ?
		"kernel: " HA_DEV_PATH " fabric + hyperaether_accel jobs" :
		"userspace lavm engine (no fabric, no kernel)"));
	if (run->engine == HA_ENGINE_ACCEL)
		json_object_object_add(o, "fabric_id", json_object_new_int64(run->fabric_id));
	if (run->err)
		json_object_object_add(o, "error", json_object_new_string(run->error));
	json_object_object_add(o, "vms", vms);
	json_object_object_add(o, "edges", edges_json(run->spec));
	t = json_object_new_object();
	json_object_object_add(t, "t_ai_ms", json_ms(run->t_ai_ns));
	json_object_object_add(t, "t_gen_ms", json_ms(run->t_gen_wall_ns));
	json_object_object_add(t, "t_boot_ms", json_ms(run->t_boot_ns));
	json_object_object_add(t, "t_run_ms", json_ms(run->t_run_ns));
	json_object_object_add(t, "t_total_ms", json_ms(ha_now_ns() - run->t_start_ns));
	json_object_object_add(o, "timing", t);
	return o;
}

struct json_object *ha_error_result(int err, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "errno", json_object_new_string(ha_errno_name(err)));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

/* ------------------------------------------------------------ printing */

static const char *jstr(struct json_object *o, const char *key, const char *def)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : def;
}

static double jnum(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

void ha_fabric_print(FILE *out, struct json_object *fabric, bool dot)
{
	struct json_object *vms = NULL, *edges = NULL;
	const char *name = jstr(fabric, "fabric", "fabric");

	json_object_object_get_ex(fabric, "vms", &vms);
	json_object_object_get_ex(fabric, "edges", &edges);
	if (dot) {
		fprintf(out, "digraph \"%s\" {\n\tnode [shape=box];\n", name);
		for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
			struct json_object *v = json_object_array_get_idx(vms, i);
			int inst = (int)jnum(v, "instances");

			fprintf(out, "\t\"%s\"%s", jstr(v, "name", "?"), inst > 1 ? "" : ";\n");
			if (inst > 1)
				fprintf(out, " [label=\"%s x%d\"];\n", jstr(v, "name", "?"), inst);
		}
	} else {
		fprintf(out, "fabric %s: %zu VMs, %zu edges\n", name,
			vms ? json_object_array_length(vms) : 0,
			edges ? json_object_array_length(edges) : 0);
	}
	for (size_t e = 0; edges && e < json_object_array_length(edges); e++) {
		struct json_object *ed = json_object_array_get_idx(edges, e), *r = NULL;
		char rights[64] = "";

		json_object_object_get_ex(ed, "rights", &r);
		for (size_t k = 0; r && k < json_object_array_length(r); k++)
			snprintf(rights + strlen(rights), sizeof(rights) - strlen(rights), "%s%s",
				 k ? "," : "", json_object_get_string(json_object_array_get_idx(r, k)));
		if (dot)
			fprintf(out, "\t\"%s\" -> \"%s\" [label=\"%s\"];\n", jstr(ed, "from", "?"),
				jstr(ed, "to", "?"), rights);
		else
			fprintf(out, "  %-12s -> %-12s %s\n", jstr(ed, "from", "?"), jstr(ed, "to", "?"), rights);
	}
	if (dot)
		fprintf(out, "}\n");
}

/* "a=1 b=2", per-instance values collapsed when they are all equal. */
static void outputs_text(struct json_object *outs, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	json_object_object_foreach(outs, key, vals) {
		size_t n = json_object_array_length(vals);
		bool same = true;

		for (size_t k = 1; k < n; k++)
			if (strcmp(json_object_get_string(json_object_array_get_idx(vals, k)),
				   json_object_get_string(json_object_array_get_idx(vals, 0))))
				same = false;
		off += snprintf(buf + off, off < len ? len - off : 0, "%s%s=", off ? " " : "", key);
		if (same || n == 1) {
			off += snprintf(buf + off, off < len ? len - off : 0, "%s",
					n ? json_object_get_string(json_object_array_get_idx(vals, 0)) : "-");
			continue;
		}
		for (size_t k = 0; k < n && k < 8; k++)
			off += snprintf(buf + off, off < len ? len - off : 0, "%s%s", k ? "," : "[",
					json_object_get_string(json_object_array_get_idx(vals, k)));
		off += snprintf(buf + off, off < len ? len - off : 0, "%s]", n > 8 ? ",..." : "");
	}
}

void ha_result_print_table(FILE *out, struct json_object *r)
{
	struct json_object *vms = NULL, *t = NULL, *ok = NULL;

	json_object_object_get_ex(r, "ok", &ok);
	if (jstr(r, "vms", NULL) == NULL && !json_object_get_boolean(ok)) {
		fprintf(out, "error: %s\n", jstr(r, "error", "?"));
		return;
	}
	fprintf(out, "fabric %s  [engine: %s]\n", jstr(r, "fabric", "?"),
		jstr(r, "engine_desc", jstr(r, "engine", "?")));
	if (jstr(r, "error", NULL))
		fprintf(out, "error: %s\n", jstr(r, "error", ""));
	fprintf(out, "  %-12s %5s %-9s %8s %-12s %9s  %s\n", "vm", "inst", "generator",
		"t_ai_ms", "status", "epochs", "outputs");
	json_object_object_get_ex(r, "vms", &vms);
	for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *v = json_object_array_get_idx(vms, i), *outs = NULL, *sh = NULL;
		struct json_object *faults = NULL;
		char text[512];

		json_object_object_get_ex(v, "outputs", &outs);
		outputs_text(outs, text, sizeof(text));
		if (json_object_object_get_ex(v, "shared", &sh)) {
			size_t n = json_object_array_length(sh), off = strlen(text);

			off += snprintf(text + off, off < sizeof(text) ? sizeof(text) - off : 0,
					"%sshared=[", off ? " " : "");
			for (size_t k = 0; k < n && k < 40 && off < sizeof(text); k++)
				off += snprintf(text + off, sizeof(text) - off, "%s%s", k ? "," : "",
						json_object_get_string(json_object_array_get_idx(sh, k)));
			if (off < sizeof(text))
				snprintf(text + off, sizeof(text) - off, "%s]", n > 40 ? ",..." : "");
		}
		struct json_object *cached = NULL;
		char t_ai[16];

		if (json_object_object_get_ex(v, "from_cache", &cached) && json_object_get_boolean(cached))
			snprintf(t_ai, sizeof(t_ai), "cached");
		else
			snprintf(t_ai, sizeof(t_ai), "%.2f", jnum(v, "t_ai_ms"));
		fprintf(out, "  %-12s %5d %-9s %8s %-12s %9.0f  %s\n", jstr(v, "name", "?"),
			(int)jnum(v, "instances"), jstr(v, "generator", "?"), t_ai,
			jstr(v, "status", "?"), jnum(v, "epochs"), text);
		if (json_object_object_get_ex(v, "faults", &faults) && json_object_array_length(faults)) {
			struct json_object *f = json_object_array_get_idx(faults, 0);

			fprintf(out, "  %-12s faults: %zu listed, instance %d: %s\n", "",
				json_object_array_length(faults), (int)jnum(f, "instance"),
				jstr(f, "fault", "?"));
		}
	}
	if (json_object_object_get_ex(r, "timing", &t))
		fprintf(out, "  T_AI %.2f ms (generation wall %.2f ms)  T_boot %.2f ms  run %.2f ms  total %.2f ms\n",
			jnum(t, "t_ai_ms"), jnum(t, "t_gen_ms"), jnum(t, "t_boot_ms"),
			jnum(t, "t_run_ms"), jnum(t, "t_total_ms"));
	fprintf(out, "  result: %s\n", json_object_get_boolean(ok) ? "ok (every instance halted)" : "NOT OK");
}
