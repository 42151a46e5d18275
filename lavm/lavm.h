/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * LAVM - the linear-algebra VM of seed 003, as one freestanding core.
 *
 * Everything an engine, a tool or the kernel needs: the ISA table, the
 * VM state layout, the bundle format, the verifier, the matrix compiler,
 * the reference interpreter and the epoch engine's slice functions.  No
 * libc, no kernel header, no allocation, no global mutable state: callers
 * pass every buffer, sized with the lavm_*_size() helpers.
 *
 * Semantics are specified in Documentation/lavm.rst.
 */
#ifndef LAVM_H
#define LAVM_H

#include "lavm_types.h"

/* ------------------------------------------------------------ state */

#define LAVM_NREGS	4
#define LAVM_NMEM	16
#define LAVM_DIM	22		/* [IP, r0..r3, mem0..mem15, 1] */
#define LAVM_MAT	(LAVM_DIM * LAVM_DIM)
#define LAVM_X_IP	0
#define LAVM_X_R0	1
#define LAVM_X_MEM0	5
#define LAVM_X_ONE	21

#define LAVM_MAX_INSNS		(1u << 20)	/* IPs stay exact in f32 */
#define LAVM_MAX_CALL_DEPTH	64
#define LAVM_MAX_SHARED		(1u << 24)	/* addresses exact in f32 */
#define LAVM_BRANCH_EPS		1.0e-4f		/* 0x38d1b717 */
#define LAVM_CANON_NAN		0x7fc00000u

enum lavm_status {
	LAVM_RUNNING = 0,
	LAVM_BLOCKED = 1,	/* reserved for host I/O; no opcode sets it */
	LAVM_YIELDED = 2,
	LAVM_HALTED = 3,
	LAVM_FAULTED = 4,
};

enum lavm_fault {
	LAVM_FAULT_NONE = 0,
	LAVM_FAULT_BAD_IP = 1,		/* IP not an integer inside the program */
	LAVM_FAULT_SHARED_ADDR = 2,	/* READ/WRITE address not an index of shared */
	LAVM_FAULT_STACK_OVERFLOW = 3,	/* CALL with max_call_depth frames in use */
	LAVM_FAULT_STACK_UNDERFLOW = 4,	/* RETURN with no frame */
	LAVM_FAULT_BAD_STATE = 5,	/* status or sp out of range at start */
	LAVM_FAULT_ACCESS = 6,		/* READ/WRITE index in a segment the VM's domain may not use */
};

/*
 * struct lavm_vm - one VM instance, 128 bytes (the seed's VMState).
 * @v:        the transformation vector [IP, r0..r3, mem0..mem15, 1]
 * @sp:       call frames in use (0..max_call_depth)
 * @status:   enum lavm_status
 * @fault:    enum lavm_fault, set with status LAVM_FAULTED
 * @epochs:   epochs this VM has been active in (running or yielded)
 * @pend_addr: shared-memory index of this epoch's WRITE, or LAVM_NO_WRITE
 * @pend_val: the value of that write (f32 bits)
 */
struct lavm_vm {
	float v[LAVM_DIM];
	uint32_t sp;
	uint32_t status;
	uint32_t fault;
	uint32_t epochs;
	uint32_t pend_addr;
	uint32_t pend_val;
	uint32_t reserved[4];
};
#define LAVM_NO_WRITE	0xffffffffu

/* struct lavm_frame - one call frame: return IP and the caller's r1..r3. */
struct lavm_frame {
	uint32_t ret_ip;
	float r[3];
};

/* ------------------------------------------------------------ ISA */

enum lavm_opcode {
	LAVM_OP_ADD = 0, LAVM_OP_SUB, LAVM_OP_MOV, LAVM_OP_SETI, LAVM_OP_LOAD,
	LAVM_OP_STORE, LAVM_OP_COPY, LAVM_OP_CLEAR, LAVM_OP_NEG, LAVM_OP_SCALE,
	LAVM_OP_MUL = 10, LAVM_OP_DIV, LAVM_OP_MOD, LAVM_OP_CMP, LAVM_OP_MIN,
	LAVM_OP_MAX, LAVM_OP_ABS, LAVM_OP_SQRT, LAVM_OP_SIN, LAVM_OP_COS,
	LAVM_OP_READ = 20, LAVM_OP_WRITE, LAVM_OP_YIELD, LAVM_OP_HALT,
	LAVM_OP_BEQ = 50, LAVM_OP_BNE, LAVM_OP_BLT, LAVM_OP_BGT, LAVM_OP_BLE,
	LAVM_OP_BGE, LAVM_OP_JUMP,
	LAVM_OP_CALL = 60, LAVM_OP_RETURN = 61,
	LAVM_NOPCODES = 62,
};

/* The four execution kernels of the seed (classification picks one). */
enum lavm_class {
	LAVM_CLASS_LINEAR = 0,
	LAVM_CLASS_ORACLE = 1,
	LAVM_CLASS_IO = 2,
	LAVM_CLASS_BRANCH = 3,
};

enum lavm_operand {
	LAVM_OPND_NONE = 0,
	LAVM_OPND_REG,		/* 0..3 */
	LAVM_OPND_MEM,		/* VM memory index 0..15 */
	LAVM_OPND_IMM,		/* f32 bit pattern */
	LAVM_OPND_TARGET,	/* instruction index */
};

/*
 * struct lavm_isa - one row of the ISA table, the only definition of an
 * opcode: the assembler, disassembler, verifier, matrix compiler and engines
 * all read it.
 */
struct lavm_isa {
	const char *name;	/* assembler mnemonic; NULL: no such opcode */
	const char *alias;	/* second accepted mnemonic, or NULL */
	uint8_t cls;		/* enum lavm_class */
	uint8_t nops;
	uint8_t kind[4];	/* enum lavm_operand */
	uint8_t falls_through;	/* execution may continue at IP + 1 */
};

const struct lavm_isa *lavm_isa(uint32_t opcode);	/* NULL if invalid */

/* 20 bytes, the seed's Instruction: opcode + 4 operands (little endian in a bundle). */
struct lavm_insn {
	uint32_t op;
	uint32_t a[4];
};

/* ------------------------------------------------------------ program */

/*
 * struct lavm_prog - a program in memory.  The arrays belong to the caller.
 * @matrices: one 22x22 row-major f32 matrix per linear instruction, in
 *            program order.
 */
struct lavm_prog {
	const struct lavm_insn *insns;
	const float *matrices;
	uint32_t ninsns;
	uint32_t nlinear;
	uint32_t entry;
	uint32_t max_call_depth;
	uint32_t shared_size;	/* minimum shared memory, in f32 words */
	uint32_t flags;		/* LAVM_PROG_* set by lavm_verify() */
};
#define LAVM_PROG_HAS_READ	(1u << 0)
#define LAVM_PROG_HAS_WRITE	(1u << 1)
#define LAVM_PROG_HAS_CALL	(1u << 2)
#define LAVM_PROG_VERIFIED	(1u << 31)

enum lavm_err {
	LAVM_OK = 0,
	LAVM_E_SHORT = -1,		/* buffer too small / truncated */
	LAVM_E_MAGIC = -2,
	LAVM_E_VERSION = -3,
	LAVM_E_HEADER = -4,		/* inconsistent sizes, flags, offsets */
	LAVM_E_CRC = -5,
	LAVM_E_LIMIT = -6,		/* a count above its LAVM_MAX_* */
	LAVM_E_OPCODE = -7,
	LAVM_E_OPERAND = -8,
	LAVM_E_TARGET = -9,
	LAVM_E_FALLOFF = -10,		/* last instruction can fall off the end */
	LAVM_E_MATRIX = -11,		/* not the compiled form of its instruction */
	LAVM_E_DEPTH = -12,		/* call depth not bounded by max_call_depth */
	LAVM_E_ENTRY = -13,
	LAVM_E_NLINEAR = -14,
};
const char *lavm_strerror(int err);

/* ------------------------------------------------------------ bundle */

/*
 * The .lavm bundle, little endian:
 *   header (64 bytes, struct lavm_bundle_hdr)
 *   ninsns x 20-byte instructions
 *   nlinear x 484 f32 matrices
 */
#define LAVM_BUNDLE_MAGIC	"LAVM\r\n\x1a\n"
#define LAVM_BUNDLE_VERSION	1
#define LAVM_BUNDLE_HDR_SIZE	64

struct lavm_bundle_info {
	uint32_t version;
	uint32_t ninsns;
	uint32_t nlinear;
	uint32_t entry;
	uint32_t max_call_depth;
	uint32_t shared_size;
	uint32_t total_size;
};

uint32_t lavm_crc32(uint32_t crc, const void *buf, size_t len);
size_t lavm_bundle_size(const struct lavm_prog *prog);
/* Returns bytes written or -LAVM_E_SHORT. */
long lavm_bundle_write(const struct lavm_prog *prog, void *buf, size_t len);
/* Validates the header and checksums; fills @info. */
int lavm_bundle_peek(const void *buf, size_t len, struct lavm_bundle_info *info);
/*
 * Decodes into caller arrays of info.ninsns instructions and
 * info.nlinear * LAVM_MAT floats; @prog then points at them.
 */
int lavm_bundle_load(const void *buf, size_t len, struct lavm_prog *prog,
		     struct lavm_insn *insns, size_t insns_cap,
		     float *matrices, size_t matrices_cap);

/* ------------------------------------------------------------ matrix */

/* The 22x22 matrix of a linear instruction (row-major), or one entry of it. */
void lavm_matrix_compile(const struct lavm_insn *insn, float m[LAVM_MAT]);
float lavm_matrix_entry(const struct lavm_insn *insn, int row, int col);

/* ------------------------------------------------------------ verifier */

struct lavm_verify_err {
	int code;		/* enum lavm_err */
	uint32_t insn;		/* offending instruction, or ~0 */
	uint32_t operand;	/* offending operand (0..3), or ~0 */
};

/*
 * Checks everything an engine relies on.  @scratch must hold
 * lavm_verify_scratch_size(prog) bytes (for the call-graph walk).
 * On success sets LAVM_PROG_* flags in prog->flags.
 */
size_t lavm_verify_scratch_size(const struct lavm_prog *prog);
int lavm_verify(struct lavm_prog *prog, void *scratch, size_t scratch_len,
		struct lavm_verify_err *err);
/* Static call depth of an acyclic call graph, or -1 with recursion. */
int lavm_call_depth(const struct lavm_prog *prog, void *scratch, size_t scratch_len);

/* ------------------------------------------------------------ math */

float lavm_sinf(float x);
float lavm_cosf(float x);
float lavm_fmodf(float x, float y);
float lavm_sqrtf(float x);
float lavm_minf(float a, float b);
float lavm_maxf(float a, float b);
/* Converts a register value to a shared-memory index; false means fault. */
bool lavm_shared_index(float x, uint32_t size, uint32_t *index);
/* Branch condition of opcode @op (50..56) on value @c. */
bool lavm_branch_taken(uint32_t op, float c);

/* ------------------------------------------------------------ jobs */

/*
 * struct lavm_acl - access control on shared memory (capabilities on data).
 * Shared memory is split into @nseg segments of @seg_words words: word a is
 * in segment a / seg_words.  VM i belongs to domain dom[i] (< nseg), and
 * domain d may READ and WRITE segment s iff bit s of allow[d] is set.  A
 * READ or WRITE with a valid index in a segment its domain may not use, or
 * past nseg * seg_words, faults the VM with LAVM_FAULT_ACCESS.
 * @dom:       job->nvms entries
 * @allow:     nseg entries
 * @seg_words: words per segment, >= 1
 * @nseg:      1..LAVM_ACL_MAX_SEG
 */
#define LAVM_ACL_MAX_SEG	64
struct lavm_acl {
	const uint8_t *dom;
	const uint64_t *allow;
	uint32_t seg_words;
	uint32_t nseg;
};

/* LAVM_OK if @acl is well formed for @nvms VMs, else LAVM_E_LIMIT. */
int lavm_acl_check(const struct lavm_acl *acl, uint32_t nvms);

/*
 * struct lavm_job - what every engine runs: @nvms VMs of one program.
 * @stack:  nvms * prog->max_call_depth frames (lavm_stack_size())
 * @shared: nshared f32 words (nshared >= prog->shared_size)
 * @acl:    NULL (every VM may use all of @shared), or checked on every
 *          READ and WRITE; the caller validates it with lavm_acl_check()
 */
struct lavm_job {
	const struct lavm_prog *prog;
	struct lavm_vm *vms;
	uint32_t nvms;
	struct lavm_frame *stack;
	float *shared;
	uint32_t nshared;
	uint32_t max_epochs;
	const struct lavm_acl *acl;
};

size_t lavm_stack_size(const struct lavm_prog *prog, uint32_t nvms);
/* Default start state: IP = entry, r0 = @index, everything else 0. */
void lavm_vm_init(struct lavm_vm *vm, const struct lavm_prog *prog, uint32_t index);
/* True while the VM takes part in epochs (running or yielded). */
bool lavm_vm_active(const struct lavm_vm *vm);
/* Checks a caller-supplied state; faults it with LAVM_FAULT_BAD_STATE/BAD_IP. */
void lavm_vm_check(struct lavm_vm *vm, const struct lavm_prog *prog);

/*
 * Reference interpreter (defines the semantics): runs whole epochs over all
 * VMs until none is active or max_epochs.  Returns the number of epochs run.
 */
uint32_t lavm_ref_run(struct lavm_job *job);
/* One epoch of VM @i, writes left pending (the reference's step). */
void lavm_ref_step(struct lavm_job *job, uint32_t i);
/* Applies pending writes of VMs [0, nvms) in index order. */
void lavm_commit_writes(struct lavm_job *job, uint32_t first, uint32_t count);

/* Plain per-VM switch interpreter (a baseline): same results as the reference. */
uint32_t lavm_switch_run(struct lavm_job *job);

/*
 * The seed's dense formulation: linear instructions as a 22x22 mat-vec.
 * Benchmark baseline only: NOT exact (0 * inf = NaN, sums of zeros round).
 * @matidx: ninsns entries filled by lavm_dense_index().
 */
void lavm_dense_index(const struct lavm_prog *prog, uint32_t *matidx);
uint32_t lavm_dense_run(struct lavm_job *job, const uint32_t *matidx);

/* ------------------------------------------------------------ epoch engine */

/*
 * The epoch engine keeps VMs in structure-of-arrays blocks of
 * LAVM_BLOCK lanes and runs the seed's five kernels per block: classify
 * (group lanes by IP), then the linear, oracle, branch or I/O kernel on the
 * group.  VMs are independent except through shared memory, so a lane runs
 * ahead until it reaches a WRITE, or a READ at an epoch beyond the "write
 * horizon" (the epoch before which no WRITE can land).  Between runs the
 * I/O kernel moves the horizon or lands the WRITEs of the smallest waiting
 * epoch in VM index order; the result is exactly the reference's epochs.
 *
 * Driving it (a single thread, or T threads each owning a range of blocks):
 *   lavm_epoch_setup(eng, job, mem, len)           once
 *   lavm_epoch_load(eng, b0, b1)                   per thread: job->vms into blocks
 *   do {
 *     lavm_epoch_run_blocks(eng, b0, b1)           per thread
 *     lavm_epoch_min_io(eng, b0, b1, &w[t])        per thread
 *     barrier; merge the w[t] (lavm_epoch_wait_merge)
 *   } while (lavm_epoch_io(eng, &w))               one thread, then barrier
 *   lavm_epoch_finish(eng, b0, b1)                 per thread: back to job->vms
 * lavm_epoch_run() does all of that on one thread.
 */
#define LAVM_BLOCK	256
#define LAVM_EPOCH_NONE	0xffffffffu

/* Where a set of blocks waits for I/O. */
struct lavm_epoch_wait {
	uint32_t epoch;		/* smallest waiting epoch, or LAVM_EPOCH_NONE */
	uint32_t read;		/* a READ waits at that epoch */
	uint32_t horizon;	/* no WRITE of these blocks before this epoch */
};

static inline void lavm_epoch_wait_merge(struct lavm_epoch_wait *acc,
					 const struct lavm_epoch_wait *w)
{
	if (w->epoch < acc->epoch) {
		acc->epoch = w->epoch;
		acc->read = w->read;
	} else if (w->epoch == acc->epoch) {
		acc->read |= w->read;
	}
	if (w->horizon < acc->horizon)
		acc->horizon = w->horizon;
}

struct lavm_epoch_block;
struct lavm_epoch {
	struct lavm_job *job;
	struct lavm_epoch_block *blocks;
	uint32_t nblocks;
	uint32_t depth;
	uint32_t horizon;	/* READs at epochs <= horizon may run (set by lavm_epoch_io) */
	const void *code;	/* decoded program (internal) */
};

size_t lavm_epoch_mem_size(const struct lavm_prog *prog, uint32_t nvms);
int lavm_epoch_setup(struct lavm_epoch *eng, struct lavm_job *job, void *mem, size_t len);
void lavm_epoch_load(struct lavm_epoch *eng, uint32_t b0, uint32_t b1);
void lavm_epoch_run_blocks(struct lavm_epoch *eng, uint32_t b0, uint32_t b1);
void lavm_epoch_min_io(struct lavm_epoch *eng, uint32_t b0, uint32_t b1,
		       struct lavm_epoch_wait *w);
/* Returns false when no VM waits: the run is over. */
bool lavm_epoch_io(struct lavm_epoch *eng, const struct lavm_epoch_wait *w);
/*
 * Slicing a long run (the kernel driver does, to stay preemptible): run to
 * job->max_epochs = M1 as above; lavm_epoch_most() says how far the lanes
 * got (largest per-VM epoch count; @sum, if not NULL, their total); if that
 * is M1, raise job->max_epochs to M2 > M1, call lavm_epoch_extend(eng, b0,
 * b1, M1) on every block, and run again.  The result equals one run to M2.
 */
uint32_t lavm_epoch_most(struct lavm_epoch *eng, uint32_t b0, uint32_t b1, uint64_t *sum);
void lavm_epoch_extend(struct lavm_epoch *eng, uint32_t b0, uint32_t b1, uint32_t old_max);
/* Copies states back to job->vms; returns the largest per-VM epoch count. */
uint32_t lavm_epoch_finish(struct lavm_epoch *eng, uint32_t b0, uint32_t b1);
uint32_t lavm_epoch_run(struct lavm_epoch *eng);

#endif /* LAVM_H */
