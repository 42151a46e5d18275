/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * LAVM on the host (userspace): programs that own their memory, the
 * assembler and disassembler, the threaded engines, JSON in and out.
 * Functions return 0 or -errno (or a negative enum lavm_err where noted).
 */
#ifndef LAVM_HOST_H
#define LAVM_HOST_H

#include <stdio.h>
#include "lavm.h"

/* struct lavm_image - a program with its own arrays (free with lavm_image_free). */
struct lavm_image {
	struct lavm_prog prog;
	struct lavm_insn *insns;
	float *matrices;
	uint32_t *lines;	/* source line of each instruction, or NULL */
};

void lavm_image_free(struct lavm_image *img);
/* Fills matrices and max_call_depth (if 0) from insns; then verifies. */
int lavm_image_finish(struct lavm_image *img, struct lavm_verify_err *err);

/*
 * Assembles @src (@len bytes, named @path in diagnostics).  Errors go to
 * @diag as "path:line:col: error: ...", each followed by a hint line.
 * Returns 0, or -EINVAL after printing at least one error.
 */
int lavm_assemble(const char *path, const char *src, size_t len,
		  struct lavm_image *img, FILE *diag);
/* Writes assembler source that assembles back to the same program. */
void lavm_disassemble(const struct lavm_prog *prog, FILE *out);
/* Reads a .lasm or a .lavm file (told apart by the bundle magic). */
int lavm_image_read(const char *path, struct lavm_image *img, FILE *diag);
int lavm_image_write(const struct lavm_image *img, const char *path);

/* Engines */
enum lavm_engine_kind {
	LAVM_ENGINE_REF,	/* reference interpreter */
	LAVM_ENGINE_SWITCH,	/* plain per-VM switch interpreter */
	LAVM_ENGINE_DENSE,	/* the seed's dense mat-vec (not exact) */
	LAVM_ENGINE_EPOCH,	/* SoA epoch engine, threaded */
};

/*
 * Runs @job on an engine with @threads threads (epoch engine only).  The
 * epoch engine uses the widest vector code the CPU has; the environment
 * variable LAVM_ISA=generic|avx2|avx512 forces one.  Returns epochs run,
 * or a negative errno (-EINVAL for a job->acl that lavm_acl_check() rejects).
 */
long lavm_engine_run(struct lavm_job *job, enum lavm_engine_kind kind, unsigned int threads);
const char *lavm_engine_isa(void);

/* Allocates vms (default-initialised), stack and shared for @nvms VMs. */
int lavm_job_alloc(struct lavm_job *job, const struct lavm_prog *prog,
		   uint32_t nvms, uint32_t nshared, uint32_t max_epochs);
void lavm_job_free(struct lavm_job *job);

/* JSON: --init and --shared-in files, and the run report. */
int lavm_json_read_init(const char *path, struct lavm_job *job, FILE *diag);
int lavm_json_read_shared(const char *path, struct lavm_job *job, FILE *diag);
/* --acl: fills @acl for @nvms VMs (arrays allocated; free with lavm_json_free_acl). */
int lavm_json_read_acl(const char *path, uint32_t nvms, struct lavm_acl *acl, FILE *diag);
void lavm_json_free_acl(struct lavm_acl *acl);
void lavm_json_print_float(FILE *out, float f);
void lavm_json_write_result(FILE *out, const struct lavm_job *job, uint32_t epochs);
const char *lavm_status_name(uint32_t status);
const char *lavm_fault_name(uint32_t fault);

#endif /* LAVM_HOST_H */
