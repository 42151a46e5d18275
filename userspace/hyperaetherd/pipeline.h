/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The main job, spec -> results, shared by hyperaetherd and the CLI:
 *
 *   ha_run_parse()     spec JSON -> struct gen_spec
 *   ha_run_generate()  every VM's program with genclient (T_AI); touches no
 *                      device, so the daemon runs it on its generator thread
 *   ha_run_boot()      fabric + VMs + capability edges on /dev/hyperaether,
 *                      one LAVM job per VM on the accel device, each with an
 *                      out-syncobj exported as a sync_file fd (T_boot)
 *   ha_run_reap()      once a VM's sync_file is readable: its status and
 *                      final state (run time ends at the last reap)
 *   ha_run_cpu()       instead of boot/reap: the userspace lavm engine
 *   ha_run_result()    the results as JSON (ha_result_print_table() prints
 *                      that JSON as a table, locally or from the daemon)
 *
 * Functions return 0 or -errno and leave one line naming the cause in
 * run->error.  A failed boot leaves nothing behind: the fabric is
 * destroyed (its owner fd closed) and the accel context with it.
 */
#ifndef HA_PIPELINE_H
#define HA_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "genclient.h"
#include "hyperaether_accel.h"

enum ha_engine {
	HA_ENGINE_ACCEL,	/* /dev/hyperaether + /dev/accel (the kernel) */
	HA_ENGINE_CPU,		/* the userspace lavm engine, no fabric */
};

/* Shared words reported per VM; the rest is summarised. */
#define HA_RESULT_MAX_SHARED	256

/* struct ha_vm_run - one VM of a run: its program, job and results. */
struct ha_vm_run {
	struct gen_result gen;
	int gen_ret;
	uint32_t fabric_vm;		/* id in the fabric */
	struct ha_accel_job job;	/* its BOs (accel engine) */
	uint32_t syncobj;		/* out-syncobj, 0: none */
	int sync_fd;			/* its sync_file, -1: none or reaped */
	bool submitted, done;
	int error;			/* the job's error (-ETIMEDOUT, -ECANCELED, ...) */
	uint32_t epochs, halted, faulted, active;
	uint64_t engine_ns;
	struct ha_kvm_run *kvm;		/* spec backend "kvm": its monitor, while it runs */
	struct lavm_vm *states;		/* final states (instances) */
	float *shared;			/* final shared memory (nshared) */
	uint32_t nshared;
};

struct ha_kvm_run;

/* struct ha_run - one spec on its way to results. */
struct ha_run {
	struct gen_spec *spec;
	struct ha_vm_run *vms;
	enum ha_engine engine;
	int fabric_fd;			/* owner of the fabric, -1: none */
	uint32_t fabric_id;
	int accel_fd;			/* borrowed */
	uint32_t ctx_id;		/* one accel context per run */
	uint32_t pending;		/* jobs submitted, not reaped */
	uint64_t t_start_ns;		/* CLOCK_MONOTONIC at parse */
	uint64_t t_ai_ns;		/* generation, summed over VMs */
	uint64_t t_gen_wall_ns;
	uint64_t t_boot_start_ns, t_boot_ns;	/* fabric create .. last submit */
	uint64_t t_run_ns;		/* last submit .. last completion */
	bool cancelled;
	int err;
	char error[640];
};

uint64_t ha_now_ns(void);

/* Zero @run (fds -1); pair with ha_run_free(). */
void ha_run_init(struct ha_run *run);
void ha_run_free(struct ha_run *run);

/* Parse and validate a spec; @name is used in messages. */
int ha_run_parse(struct ha_run *run, const char *json, size_t len, const char *name);

/* Generate every VM's program; the first failure names its VM. */
int ha_run_generate(struct ha_run *run, const struct gen_options *opt);

/*
 * Create the fabric and submit the jobs on @accel_fd (kept open by the
 * caller).  On failure nothing of the run is left in the kernel.
 */
int ha_run_boot(struct ha_run *run, int accel_fd);

/* Reap VM @i once its sync_file is readable (or to poll it: -EAGAIN). */
int ha_run_reap(struct ha_run *run, uint32_t i);

/* Stop every job (destroys the context: jobs end with -ECANCELED). */
void ha_run_cancel(struct ha_run *run);

/* Wait for and reap every job with poll(2); @progress (may be NULL) is called on the way. */
int ha_run_wait_all(struct ha_run *run, int64_t timeout_ms,
		    void (*progress)(const struct ha_run *run, void *arg), void *arg);

/* Destroy the fabric and the context (results stay). */
void ha_run_teardown(struct ha_run *run);

/* Run every VM on the userspace lavm engine (no fabric: labelled "cpu"). */
int ha_run_cpu(struct ha_run *run);

/* Epochs run so far by the jobs still in flight plus the reaped ones. */
uint64_t ha_run_epochs_now(const struct ha_run *run);

/* The results: {"ok", "fabric", "engine", "vms": [...], "edges", "timing"}. */
struct json_object *ha_run_result(const struct ha_run *run);

/* An error reply: {"ok": false, "errno": "EINVAL", "error": "..."}. */
struct json_object *ha_error_result(int err, const char *msg);

/* The fabric graph of a spec or result JSON as text or Graphviz DOT. */
void ha_fabric_print(FILE *out, struct json_object *fabric, bool dot);
/* A spec's fabric (no run) in the same JSON shape as a result's. */
struct json_object *ha_spec_fabric(const struct gen_spec *spec);

/* A result JSON as a table (both a local run's and the daemon's). */
void ha_result_print_table(FILE *out, struct json_object *result);

/* errno name ("EDQUOT"), or "E<n>". */
const char *ha_errno_name(int err);

/* A float as JSON: shortest round-trip text, "inf"/"-inf"/"nan" as strings. */
struct json_object *ha_json_float(float f);

#endif /* HA_PIPELINE_H */
