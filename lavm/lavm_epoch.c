// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The epoch engine: the seed's five kernels on structure-of-arrays blocks.
 *
 * A block holds LAVM_BLOCK VMs, each register and memory word a row of
 * LAVM_BLOCK floats.  Classification finds the smallest IP among the block's
 * live lanes and the group of lanes sitting there.  When the whole block is
 * one group at a linear, oracle or branch instruction it runs coherently:
 * one vector kernel per instruction, straight through branches that every
 * lane takes the same way, with no per-lane bookkeeping until it leaves.
 * Otherwise the group takes one masked step.
 *
 * Lanes are independent until they touch shared memory, so a lane runs
 * ahead until it reaches a READ or WRITE (it then "waits"), stops, or uses
 * up max_epochs; the I/O kernel then runs the READs and WRITEs of the
 * smallest epoch among all waiting lanes (see lavm.h), which is exactly the
 * reference's epoch order.  Every kernel computes each value with the same
 * single IEEE operation as the reference (lavm_exec.h), so results are
 * bit-identical.
 *
 * Userspace builds this file a second time with AVX2 or AVX-512 enabled and
 * LAVM_EPOCH_NAME() renaming its entry points.
 */
#include "lavm_exec.h"

#ifndef LAVM_EPOCH_NAME
#define LAVM_EPOCH_NAME(x) x
#endif

#define B	LAVM_BLOCK
/* Lanes per vector: the target's native width, so nothing is emulated. */
#if defined(__AVX512F__)
#define VW	16
#elif defined(__AVX__)
#define VW	8
#else
#define VW	4
#endif
#define NV	(B / VW)
#define NROWS	(LAVM_DIM - 2)		/* r0..r3, mem0..15 */

typedef float vf __attribute__((vector_size(VW * 4)));
typedef int32_t vi __attribute__((vector_size(VW * 4)));
typedef uint32_t vu __attribute__((vector_size(VW * 4)));
typedef double vd __attribute__((vector_size(VW * 8)));

enum kind {
	K_MOV, K_SETI, K_ADD, K_SUB, K_NEG, K_SCALE, K_MUL, K_DIV, K_ABS,
	K_LANE,		/* oracle op computed lane by lane (MOD, MIN, MAX, SQRT, SIN, COS) */
	K_BR, K_JUMP,	/* coherent-capable up to here */
	K_CALL, K_RET, K_YIELD, K_HALT,
	K_READ,		/* runs in place while its epoch is within the write horizon */
	K_IO,		/* WRITE: always through the I/O phase */
};
#define DW_INF	0xffffffffu
#define K_LAST_ALU	K_LANE
#define K_LAST_FAST	K_JUMP

/* One decoded instruction: rows are state-vector slots minus one. */
struct code {
	uint8_t kind;
	uint8_t dst, s1, s2;
	uint32_t op;
	uint32_t imm;		/* SETI/SCALE immediate bits */
	uint32_t target;
	uint32_t dw;		/* fewest epochs from here to executing a WRITE */
};

struct lavm_epoch_block {
	float x[NROWS][B];
	uint32_t ip[B];
	uint32_t epochs[B];
	int32_t live[B];	/* -1: running, not waiting, budget left */
	int32_t mask[B];	/* the group being run */
	int32_t taken[B];	/* branch outcome per lane */
	uint32_t status[B];
	uint32_t sp[B];
	uint32_t fault[B];
	uint32_t first, count;
	uint32_t horizon;	/* READs at epochs <= horizon may run in place */
	struct lavm_epoch_wait wait;	/* where the block waits, after a run */
	/*
	 * Call frames, structure of arrays: frame level k, field f (0: return
	 * IP bits, 1..3: r1..r3) of lane l is fr[(k * 4 + f) * B + l].
	 */
	float *fr;
} __attribute__((aligned(64)));

#define FR(b, k, f)	((b)->fr + ((size_t)(k) * 4 + (f)) * B)

static size_t code_bytes(const struct lavm_prog *prog)
{
	return ((size_t)prog->ninsns * sizeof(struct code) + 63) & ~(size_t)63;
}

size_t LAVM_EPOCH_NAME(lavm_epoch_mem_size)(const struct lavm_prog *prog, uint32_t nvms)
{
	size_t nb = ((size_t)nvms + B - 1) / B;

	return 64 + code_bytes(prog) + nb * sizeof(struct lavm_epoch_block) +
	       nb * (size_t)prog->max_call_depth * 4 * B * sizeof(float);
}

static uint32_t dmin(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/*
 * dw: a lower bound on the epochs before an instruction's VM can execute a
 * WRITE (shortest path in the control flow; RETURN may go to any return
 * site).  Backward sweeps of a Bellman-Ford relaxation converge after at
 * most (backward edges + 2) sweeps; if that takes more than 64 the bound
 * falls back to 0 everywhere, which only costs speed.
 */
static void write_distance(const struct lavm_prog *prog, struct code *code)
{
	uint32_t n = prog->ninsns;
	bool changed = true;

	for (uint32_t i = 0; i < n; i++)
		code[i].dw = prog->insns[i].op == LAVM_OP_WRITE ? 0 : DW_INF;
	for (int sweep = 0; changed; sweep++) {
		uint32_t rmin = DW_INF;

		if (sweep == 64) {
			for (uint32_t i = 0; i < n; i++)
				code[i].dw = 0;
			return;
		}
		for (uint32_t i = 0; i + 1 < n; i++)
			if (prog->insns[i].op == LAVM_OP_CALL)
				rmin = dmin(rmin, code[i + 1].dw);
		changed = false;
		for (uint32_t i = n; i-- > 0;) {
			const struct lavm_insn *in = &prog->insns[i];
			uint32_t d;

			switch (in->op) {
			case LAVM_OP_WRITE: continue;
			case LAVM_OP_HALT: d = DW_INF; break;
			case LAVM_OP_RETURN: d = rmin; break;
			case LAVM_OP_JUMP: case LAVM_OP_CALL: d = code[in->a[0]].dw; break;
			case LAVM_OP_BEQ ... LAVM_OP_BGE:
				d = dmin(code[i + 1].dw, code[in->a[1]].dw);
				break;
			default: d = code[i + 1].dw; break;
			}
			d = d == DW_INF ? DW_INF : d + 1;
			if (d < code[i].dw) {
				code[i].dw = d;
				changed = true;
			}
		}
	}
}

static void decode(const struct lavm_prog *prog, struct code *code)
{
	for (uint32_t i = 0; i < prog->ninsns; i++) {
		const struct lavm_insn *in = &prog->insns[i];
		const struct lavm_isa *isa = lavm_isa(in->op);
		struct code *c = &code[i];

		c->op = in->op;
		c->imm = 0;
		c->target = 0;
		c->dst = c->s1 = c->s2 = 0;
		if (isa->cls == LAVM_CLASS_LINEAR || isa->cls == LAVM_CLASS_ORACLE) {
			struct lavm_alu_slots s = lavm_alu_slots(in);

			c->dst = s.dst - 1;
			c->s1 = s.src1 - 1;
			c->s2 = s.src2 - 1;
			c->imm = lavm_alu_imm(in);
		}
		switch (in->op) {
		case LAVM_OP_MOV: case LAVM_OP_LOAD: case LAVM_OP_STORE: case LAVM_OP_COPY:
			c->kind = K_MOV; break;
		case LAVM_OP_SETI: c->kind = K_SETI; break;
		case LAVM_OP_CLEAR: c->kind = K_SETI; c->imm = 0; break;
		case LAVM_OP_ADD: c->kind = K_ADD; break;
		case LAVM_OP_SUB: case LAVM_OP_CMP: c->kind = K_SUB; break;
		case LAVM_OP_NEG: c->kind = K_NEG; break;
		case LAVM_OP_SCALE: c->kind = K_SCALE; break;
		case LAVM_OP_MUL: c->kind = K_MUL; break;
		case LAVM_OP_DIV: c->kind = K_DIV; break;
		case LAVM_OP_ABS: c->kind = K_ABS; break;
		case LAVM_OP_MOD: case LAVM_OP_MIN: case LAVM_OP_MAX: case LAVM_OP_SQRT:
		case LAVM_OP_SIN: case LAVM_OP_COS:
			c->kind = K_LANE; break;
		case LAVM_OP_BEQ ... LAVM_OP_BGE:
			c->kind = K_BR; c->s1 = in->a[0]; c->target = in->a[1]; break;
		case LAVM_OP_JUMP: c->kind = K_JUMP; c->target = in->a[0]; break;
		case LAVM_OP_CALL: c->kind = K_CALL; c->target = in->a[0]; break;
		case LAVM_OP_RETURN: c->kind = K_RET; break;
		case LAVM_OP_YIELD: c->kind = K_YIELD; break;
		case LAVM_OP_HALT: c->kind = K_HALT; break;
		case LAVM_OP_READ: c->kind = K_READ; break;
		default: c->kind = K_IO; break;	/* WRITE */
		}
	}
	write_distance(prog, code);
}

/* Macros, not functions: a 64-byte vector argument has no portable ABI. */
#define splat(bits)	((vf)((vi){} + (int32_t)(bits)))
#define canon(r)							\
	({ vf r_ = (r); vi m_ = r_ != r_;				\
	   (vf)(((vi)r_ & ~m_) | (m_ & (int32_t)LAVM_CANON_NAN)); })

/*
 * The linear and oracle kernels: one instruction on a whole block, or on the
 * lanes of @mask (NULL: every lane).
 */
#define VLOOP(expr)							\
	do {								\
		if (!mask) {						\
			for (int k = 0; k < NV; k++)			\
				d[k] = (expr);				\
		} else {						\
			for (int k = 0; k < NV; k++) {			\
				vi m = mask[k];				\
				d[k] = (vf)(((vi)(expr) & m) | ((vi)d[k] & ~m)); \
			}						\
		}							\
	} while (0)

static void alu_kernel(struct lavm_epoch_block *b, const struct code *c, const vi *mask)
{
	vf *d = (vf *)b->x[c->dst];
	const vf *s1 = (const vf *)b->x[c->s1], *s2 = (const vf *)b->x[c->s2];
	vf imm = splat(c->imm);

	switch (c->kind) {
	case K_MOV: VLOOP(s1[k]); break;
	case K_SETI: VLOOP(imm); break;
	case K_ADD: VLOOP(canon(s1[k] + s2[k])); break;
	case K_SUB: VLOOP(canon(s1[k] - s2[k])); break;
	case K_NEG: VLOOP((vf)((vi)s1[k] ^ (int32_t)0x80000000u)); break;
	case K_ABS: VLOOP((vf)((vi)s1[k] & 0x7fffffff)); break;
	case K_SCALE: VLOOP(canon(s1[k] * imm)); break;
	case K_MUL: VLOOP(canon(s1[k] * s2[k])); break;
	case K_DIV: VLOOP(canon(s1[k] / s2[k])); break;
	default: {
		const int32_t *m = (const int32_t *)mask;
		const float *a = b->x[c->s1], *bb = b->x[c->s2];
		float *dd = b->x[c->dst];

#define LANE_LOOP(expr)							\
		for (int l = 0; l < B; l++)				\
			if (!m || m[l])					\
				dd[l] = (expr)
		switch (c->op) {
		case LAVM_OP_MOD: {
			/*
			 * Integers below 2^24 (the common case): the remainder in
			 * doubles is exact, hence the same bits as lavm_fmodf().
			 */
			const vf *av = (const vf *)a, *bv = (const vf *)bb;
			const vf lim = splat(0x4b800000u), nlim = -lim;	/* 2^24 */
			vi ok = ~(vi){};

			for (int k = 0; k < NV; k++) {
				vi in = (av[k] < lim) & (av[k] > nlim) & (bv[k] < lim) & (bv[k] > nlim) &
					(bv[k] != 0.0f);
				vf xa = (vf)((vi)av[k] & in), xb = (vf)((vi)bv[k] & in);
				vi ia = __builtin_convertvector(xa, vi), ib = __builtin_convertvector(xb, vi);

				in &= (__builtin_convertvector(ia, vf) == xa) &
				      (__builtin_convertvector(ib, vf) == xb);
				ok &= in | (mask ? ~mask[k] : (vi){});
			}
			int ints = 1;

			for (int k = 0; k < VW; k++)
				ints &= ok[k] != 0;
			if (!ints) {
				LANE_LOOP(lavm_fmodf(a[l], bb[l]));
				break;
			}
			for (int l = 0; l < B; l++) {
				bool on = !m || m[l];
				double x = on ? a[l] : 0.0, y = on ? bb[l] : 1.0;
				double r = x - (double)(int64_t)(x / y) * y;
				float f = (float)r;
				uint32_t sx = lavm_fbits(a[l]) & 0x80000000u;

				f = r == 0.0 ? lavm_bitsf(sx) : f;
				if (!m || m[l])
					dd[l] = f;
			}
			break;
		}
		case LAVM_OP_SIN: LANE_LOOP(lavm_sinf(a[l])); break;
		case LAVM_OP_COS: LANE_LOOP(lavm_cosf(a[l])); break;
		default: LANE_LOOP(lavm_alu(c->op, a[l], bb[l], c->imm)); break;
		}
#undef LANE_LOOP
	}
	}
}

/* The branch kernel's condition, lane-wise (lavm_branch_taken()). */
static inline void br_taken(uint32_t op, const vf *cp, vi *out)
{
	vf c = *cp, eps = splat(lavm_fbits(LAVM_BRANCH_EPS)), neps = -eps;
	vi zero = (c < eps) & (c > neps), pos = c >= eps, neg = c <= neps;

	switch (op) {
	case LAVM_OP_BEQ: *out = zero; break;
	case LAVM_OP_BNE: *out = ~zero; break;
	case LAVM_OP_BLT: *out = neg; break;
	case LAVM_OP_BGT: *out = pos; break;
	case LAVM_OP_BLE: *out = neg | zero; break;
	default: *out = pos | zero; break;
	}
}

static bool lane_live(const struct lavm_epoch *eng, const struct lavm_epoch_block *b, int l)
{
	const struct code *code = eng->code;

	const struct code *c;

	if (b->status[l] != LAVM_RUNNING || b->epochs[l] >= eng->job->max_epochs ||
	    b->ip[l] >= eng->job->prog->ninsns)
		return false;
	c = &code[b->ip[l]];
	return c->kind < K_READ || (c->kind == K_READ && b->epochs[l] <= b->horizon);
}

static void lane_fault(struct lavm_epoch_block *b, int l, uint32_t code)
{
	b->status[l] = LAVM_FAULTED;
	b->fault[l] = code;
}

/* One instruction of one lane (the control-flow and scheduling kernels). */
static void lane_step(struct lavm_epoch *eng, struct lavm_epoch_block *b, int l)
{
	const struct code *c = &((const struct code *)eng->code)[b->ip[l]];
	struct lavm_job *job = eng->job;
	uint32_t k;

	b->epochs[l]++;
	switch (c->kind) {
	case K_BR:
		b->ip[l] = lavm_branch_taken(c->op, b->x[c->s1][l]) ? c->target : b->ip[l] + 1;
		break;
	case K_JUMP:
		b->ip[l] = c->target;
		break;
	case K_CALL:
		if (b->sp[l] >= eng->depth) {
			lane_fault(b, l, LAVM_FAULT_STACK_OVERFLOW);
			break;
		}
		k = b->sp[l]++;
		FR(b, k, 0)[l] = lavm_bitsf(b->ip[l] + 1);
		for (int f = 1; f < 4; f++)
			FR(b, k, f)[l] = b->x[f][l];
		b->ip[l] = c->target;
		break;
	case K_RET:
		if (b->sp[l] == 0) {
			lane_fault(b, l, LAVM_FAULT_STACK_UNDERFLOW);
			break;
		}
		k = --b->sp[l];
		for (int f = 1; f < 4; f++)
			b->x[f][l] = FR(b, k, f)[l];
		b->ip[l] = lavm_fbits(FR(b, k, 0)[l]);
		break;
	case K_YIELD:
		b->ip[l]++;
		if (b->epochs[l] >= job->max_epochs)
			b->status[l] = LAVM_YIELDED;
		else
			b->epochs[l]++;		/* the epoch it sits out */
		break;
	case K_HALT:
		b->status[l] = LAVM_HALTED;
		break;
	case K_READ: {
		const struct lavm_insn *in = &job->prog->insns[b->ip[l]];
		uint32_t addr, fault = lavm_shared_access(job, b->first + l, b->x[in->a[1]][l], &addr);

		if (fault) {
			lane_fault(b, l, fault);
			break;
		}
		b->x[in->a[0]][l] = job->shared[addr];
		b->ip[l]++;
		break;
	}
	default:
		b->x[c->dst][l] = lavm_alu(c->op, b->x[c->s1][l], b->x[c->s2][l], c->imm);
		b->ip[l]++;
	}
	b->live[l] = lane_live(eng, b, l) ? -1 : 0;
}

/*
 * Coherent run of one group: the lanes of @mask (NULL: the whole block), all
 * live at @pc.  Lanes are independent between I/O instructions, so the group
 * may run ahead of the others: it runs linear, oracle, branch and call
 * instructions while all its lanes agree, for at most the smallest remaining
 * epoch budget, and stops where other lanes wait (@stop_pc, the smallest IP
 * of the block's other live lanes) so that groups merge again.
 */
static uint32_t run_coherent(struct lavm_epoch *eng, struct lavm_epoch_block *b, uint32_t pc,
			     const vi *mask, uint32_t stop_pc)
{
	const struct code *code = eng->code;
	const int32_t *m = (const int32_t *)mask;
	uint32_t most = 0, lim, steps = 0, depth = eng->depth, br_target = ~0u;
	bool split = false;

	for (int l = 0; l < B; l++)
		if (!m || m[l])
			most = b->epochs[l] > most ? b->epochs[l] : most;
	lim = eng->job->max_epochs - most;
	while (steps < lim) {
		const struct code *c = &code[pc];

		if (steps && pc >= stop_pc)
			break;
		if (c->kind <= K_LAST_ALU) {
			alu_kernel(b, c, mask);
			pc++;
		} else if (c->kind == K_JUMP) {
			pc = c->target;
		} else if (c->kind == K_BR) {
			const vf *cv = (const vf *)b->x[c->s1];
			vi any = {}, all = ~(vi){};

			for (int k = 0; k < NV; k++) {
				vi t;

				br_taken(c->op, &cv[k], &t);
				if (mask) {
					any |= t & mask[k];
					all &= t | ~mask[k];
				} else {
					any |= t;
					all &= t;
				}
				((vi *)b->taken)[k] = t;
			}
			uint32_t an = 0, al = ~0u;
			for (int k = 0; k < VW; k++) {
				an |= any[k];
				al &= all[k];
			}
			if (al) {
				pc = c->target;
			} else if (!an) {
				pc++;
			} else {
				/* the group splits: per-lane IPs, then classify again */
				for (int l = 0; l < B; l++)
					if (!m || m[l])
						b->ip[l] = b->taken[l] ? c->target : pc + 1;
				steps++;
				split = true;
				br_target = c->target;
				break;
			}
		} else if (c->kind == K_READ) {
			/* in place: no WRITE can land before this epoch (see horizon) */
			const struct lavm_insn *in = &eng->job->prog->insns[pc];
			const float *ad = b->x[in->a[1]];
			float *dst = b->x[in->a[0]];
			const float *shared = eng->job->shared;
			uint32_t ns = eng->job->nshared, idx;
			bool ok = most + steps <= b->horizon;

			if (!eng->job->acl) {
				for (int l = 0; l < B && ok; l++)
					if (!m || m[l])
						ok = lavm_shared_index(ad[l], ns, &idx);
			} else {
				for (int l = 0; l < B && ok; l++)
					if (!m || m[l])
						ok = !lavm_shared_access(eng->job, b->first + l, ad[l], &idx);
			}
			if (!ok)
				break;		/* a fault, or too early: lane by lane */
			for (int l = 0; l < B; l++)
				if ((!m || m[l]) && lavm_shared_index(ad[l], ns, &idx))
					dst[l] = shared[idx];
			pc++;
		} else if (c->kind == K_CALL || c->kind == K_RET) {
			/* vector path when the group shares one call depth */
			uint32_t lvl = ~0u;
			bool uniform = true;
			int first = 0;

			while (m && first < B && !m[first])
				first++;
			lvl = b->sp[first];
			{
				vu diff = {}, lv = (vu){} + lvl;

				for (int k = 0; k < NV; k++)
					diff |= (((const vu *)b->sp)[k] ^ lv) &
						(mask ? (vu)mask[k] : ~(vu){});
				for (int k = 0; k < VW; k++)
					uniform &= diff[k] == 0;
			}
			if (!uniform || (c->kind == K_CALL ? lvl >= depth : lvl == 0))
				break;		/* lane by lane (and the faults) */
			if (c->kind == K_CALL) {
				vf retv = splat(pc + 1);

				for (int f = 0; f < 4; f++) {
					vf *d = (vf *)FR(b, lvl, f);
					const vf *src = (const vf *)b->x[f];

					if (f == 0)
						VLOOP(retv);
					else
						VLOOP(src[k]);
				}
				for (int k = 0; k < NV; k++)
					((vu *)b->sp)[k] += (mask ? (vu)mask[k] : ~(vu){}) & 1;
				pc = c->target;
			} else {
				const uint32_t *rip = (const uint32_t *)FR(b, lvl - 1, 0);
				uint32_t ret = ~0u;
				bool same = true;

				for (int f = 1; f < 4; f++) {
					vf *d = (vf *)b->x[f];
					const vf *src = (const vf *)FR(b, lvl - 1, f);

					VLOOP(src[k]);
				}
				vu diff = {}, rv;

				ret = rip[first];
				rv = (vu){} + ret;
				for (int k = 0; k < NV; k++) {
					vu mk = mask ? (vu)mask[k] : ~(vu){};

					((vu *)b->sp)[k] -= mk & 1;
					diff |= (((const vu *)rip)[k] ^ rv) & mk;
				}
				for (int k = 0; k < VW; k++)
					same &= diff[k] == 0;
				if (!same) {
					for (int l = 0; l < B; l++)
						if (!m || m[l])
							b->ip[l] = rip[l];
					steps++;
					split = true;
					break;
				}
				pc = ret;
			}
		} else {
			break;
		}
		steps++;
	}
	if (split && br_target == ~0u) {
		/* RETURN to different places: per-lane IPs are set */
		for (int l = 0; l < B; l++) {
			if (m && !m[l])
				continue;
			b->epochs[l] += steps;
			b->live[l] = lane_live(eng, b, l) ? -1 : 0;
		}
		return steps;
	}
	/*
	 * Vector exit: group lanes are RUNNING (nothing here changes a status);
	 * they stay live unless their budget ran out or they wait at I/O.
	 */
	const vu maxv = (vu){} + eng->job->max_epochs, hv = (vu){} + b->horizon;
	vi io_a = (vi){} - (int32_t)(code[pc].kind == K_IO);
	vi io_t = (vi){} - (int32_t)(split && code[br_target].kind == K_IO);
	vi io_f = (vi){} - (int32_t)(split && code[pc + 1].kind == K_IO);
	vi rd_a = (vi){} - (int32_t)(code[pc].kind == K_READ);
	vi rd_t = (vi){} - (int32_t)(split && code[br_target].kind == K_READ);
	vi rd_f = (vi){} - (int32_t)(split && code[pc + 1].kind == K_READ);

	for (int k = 0; k < NV; k++) {
		vi mk = mask ? mask[k] : ~(vi){};
		vu *ep = (vu *)b->epochs + k, *ipp = (vu *)b->ip + k;
		vi *lv = (vi *)b->live + k, io, rd;

		*ep += (vu)mk & steps;
		if (!split) {
			*ipp = ((vu)mk & pc) | (*ipp & ~(vu)mk);
			io = io_a;
			rd = rd_a;
		} else {
			vi t = ((const vi *)b->taken)[k];

			io = (t & io_t) | (~t & io_f);
			rd = (t & rd_t) | (~t & rd_f);
		}
		*lv = (*lv & ~mk) | (mk & (vi)(*ep < maxv) & ~io & (~rd | (vi)(*ep <= hv)));
	}
	return steps;
}

static void run_block(struct lavm_epoch *eng, struct lavm_epoch_block *b)
{
	const struct code *code = eng->code;

	for (;;) {
		uint32_t pc = ~0u, next = ~0u, cnt = 0;
		const vu *ipv = (const vu *)b->ip;
		const vi *livev = (const vi *)b->live;
		vu vmin = ~(vu){}, vnext = ~(vu){}, vcnt = {};

		/* classify: the smallest live IP, its group, and the next IP up */
		for (int k = 0; k < NV; k++) {
			vu key = (ipv[k] & (vu)livev[k]) | ~(vu)livev[k];
			vu lt = (vu)(key < vmin);

			vmin = (key & lt) | (vmin & ~lt);
		}
		for (int k = 0; k < VW; k++)
			pc = vmin[k] < pc ? vmin[k] : pc;
		if (pc == ~0u)
			return;
		for (int k = 0; k < NV; k++) {
			vu key = (ipv[k] & (vu)livev[k]) | ~(vu)livev[k];
			vu eq = (vu)(key == pc);
			vu other = key | eq;		/* ~0 where key == pc */
			vu lt = (vu)(other < vnext);

			((vi *)b->mask)[k] = livev[k] & (vi)eq;
			vcnt += eq & 1;
			vnext = (other & lt) | (vnext & ~lt);
		}
		for (int k = 0; k < VW; k++) {
			cnt += vcnt[k];
			next = vnext[k] < next ? vnext[k] : next;
		}
		const struct code *c = &code[pc];

		/* YIELD, HALT and a CALL/RETURN that faults go lane by lane */
		if ((c->kind <= K_LAST_FAST || c->kind == K_CALL || c->kind == K_RET ||
		     c->kind == K_READ) &&
		    run_coherent(eng, b, pc, cnt == B ? NULL : (const vi *)b->mask, next))
			continue;
		for (int l = 0; l < B; l++)
			if (b->mask[l])
				lane_step(eng, b, l);
	}
}

int LAVM_EPOCH_NAME(lavm_epoch_setup)(struct lavm_epoch *eng, struct lavm_job *job,
				      void *mem, size_t len)
{
	const struct lavm_prog *prog = job->prog;
	uintptr_t p = ((uintptr_t)mem + 63) & ~(uintptr_t)63;
	struct code *code = (struct code *)p;

	if (len < LAVM_EPOCH_NAME(lavm_epoch_mem_size)(prog, job->nvms))
		return LAVM_E_SHORT;
	decode(prog, code);
	eng->job = job;
	eng->code = code;
	eng->depth = prog->max_call_depth;
	eng->blocks = (struct lavm_epoch_block *)(p + code_bytes(prog));
	eng->nblocks = (job->nvms + B - 1) / B;
	/* before the first I/O phase, only a program without WRITE reads freely */
	eng->horizon = DW_INF;
	for (uint32_t i = 0; i < prog->ninsns; i++)
		if (prog->insns[i].op == LAVM_OP_WRITE)
			eng->horizon = 0;
	for (uint32_t bi = 0; bi < eng->nblocks; bi++)
		eng->blocks[bi].fr = (float *)(eng->blocks + eng->nblocks) +
				     (size_t)bi * eng->depth * 4 * B;
	return LAVM_OK;
}

/* Transposes VMs into the SoA blocks [b0, b1): run by the thread that owns them. */
void LAVM_EPOCH_NAME(lavm_epoch_load)(struct lavm_epoch *eng, uint32_t b0, uint32_t b1)
{
	struct lavm_job *job = eng->job;
	const struct lavm_prog *prog = job->prog;

	for (uint32_t bi = b0; bi < b1; bi++) {
		struct lavm_epoch_block *b = &eng->blocks[bi];

		b->first = bi * B;
		b->count = job->nvms - b->first < B ? job->nvms - b->first : B;
		for (int l = 0; l < B; l++) {
			struct lavm_vm *vm;
			float f;

			b->epochs[l] = 0;
			b->fault[l] = 0;
			b->sp[l] = 0;
			b->ip[l] = 0;
			b->status[l] = LAVM_HALTED;
			b->live[l] = 0;
			b->horizon = eng->horizon;
			b->wait.epoch = LAVM_EPOCH_NONE;
			if ((uint32_t)l >= b->count) {	/* padding lane */
				for (int r = 0; r < NROWS; r++)
					b->x[r][l] = 0.0f;
				continue;
			}
			vm = &job->vms[b->first + l];
			lavm_vm_check(vm, prog);
			for (int r = 0; r < NROWS; r++)
				b->x[r][l] = vm->v[1 + r];
			b->status[l] = vm->status;
			b->fault[l] = vm->fault;
			b->sp[l] = vm->sp;
			for (uint32_t k = 0; k < vm->sp && k < eng->depth; k++) {
				const struct lavm_frame *f =
					&job->stack[(size_t)(b->first + l) * eng->depth + k];

				FR(b, k, 0)[l] = lavm_bitsf(f->ret_ip);
				for (int r = 0; r < 3; r++)
					FR(b, k, 1 + r)[l] = f->r[r];
			}
			if (b->status[l] == LAVM_YIELDED && job->max_epochs > 0) {
				b->status[l] = LAVM_RUNNING;	/* sits out epoch 0 */
				b->epochs[l] = 1;
			}
			f = vm->v[LAVM_X_IP];
			if (f >= 0.0f && f < (float)prog->ninsns && (float)(uint32_t)f == f) {
				b->ip[l] = (uint32_t)f;
			} else {
				/* ~0: not an instruction; finish keeps the float IP */
				b->ip[l] = ~0u;
				if (b->status[l] == LAVM_RUNNING &&
				    b->epochs[l] < job->max_epochs) {
					b->epochs[l]++;
					lane_fault(b, l, LAVM_FAULT_BAD_IP);
				}
			}
			b->live[l] = lane_live(eng, b, l) ? -1 : 0;
		}
	}
}

/*
 * After a block has run: the smallest epoch at which one of its lanes waits
 * at I/O (a READ beyond the horizon, or a WRITE), whether a READ waits then,
 * and the block's share of the next write horizon.
 */
static void block_wait(struct lavm_epoch *eng, struct lavm_epoch_block *b)
{
	const struct code *code = eng->code;
	uint32_t e = LAVM_EPOCH_NONE, h = DW_INF, rd = 0, max = eng->job->max_epochs;

	for (uint32_t l = 0; l < b->count; l++) {
		const struct code *c;
		uint32_t ep = b->epochs[l], d;

		if (b->status[l] != LAVM_RUNNING || ep >= max || b->ip[l] >= eng->job->prog->ninsns)
			continue;
		c = &code[b->ip[l]];
		d = c->dw == DW_INF || c->dw > DW_INF - ep ? DW_INF : c->dw + ep;
		h = d < h ? d : h;
		if (c->kind != K_READ && c->kind != K_IO)
			continue;
		if (ep < e) {
			e = ep;
			rd = 0;
		}
		if (ep == e && c->kind == K_READ)
			rd = 1;
	}
	b->wait.epoch = e;
	b->wait.read = rd;
	b->wait.horizon = h;
}

void LAVM_EPOCH_NAME(lavm_epoch_run_blocks)(struct lavm_epoch *eng, uint32_t b0, uint32_t b1)
{
	for (uint32_t bi = b0; bi < b1; bi++) {
		struct lavm_epoch_block *b = &eng->blocks[bi];

		if (b->horizon != eng->horizon) {	/* READs may have become runnable */
			b->horizon = eng->horizon;
			for (int l = 0; l < B; l++)
				b->live[l] = lane_live(eng, b, l) ? -1 : 0;
		}
		run_block(eng, b);
		block_wait(eng, b);
	}
}

void LAVM_EPOCH_NAME(lavm_epoch_min_io)(struct lavm_epoch *eng, uint32_t b0, uint32_t b1,
					struct lavm_epoch_wait *w)
{
	w->epoch = LAVM_EPOCH_NONE;
	w->read = 0;
	w->horizon = DW_INF;
	for (uint32_t bi = b0; bi < b1; bi++) {
		const struct lavm_epoch_wait *bw = &eng->blocks[bi].wait;

		if (bw->epoch < w->epoch) {
			w->epoch = bw->epoch;
			w->read = bw->read;
		} else if (bw->epoch == w->epoch) {
			w->read |= bw->read;
		}
		w->horizon = bw->horizon < w->horizon ? bw->horizon : w->horizon;
	}
}

/* WRITEs of epoch @e land in VM index order: the highest index wins. */
static void io_writes(struct lavm_epoch *eng, uint32_t e)
{
	const struct code *code = eng->code;
	struct lavm_job *job = eng->job;

	for (uint32_t bi = 0; bi < eng->nblocks; bi++) {
		struct lavm_epoch_block *b = &eng->blocks[bi];

		if (b->wait.epoch != e)
			continue;
		for (uint32_t l = 0; l < b->count; l++) {
			const struct lavm_insn *in;
			uint32_t addr, fault;

			if (b->status[l] != LAVM_RUNNING || b->epochs[l] != e ||
			    b->ip[l] >= job->prog->ninsns || code[b->ip[l]].kind != K_IO)
				continue;
			in = &job->prog->insns[b->ip[l]];
			b->epochs[l]++;
			fault = lavm_shared_access(job, b->first + l, b->x[in->a[0]][l], &addr);
			if (fault) {
				lane_fault(b, l, fault);
			} else {
				job->shared[addr] = b->x[in->a[1]][l];
				b->ip[l]++;
			}
			b->live[l] = lane_live(eng, b, l) ? -1 : 0;
		}
	}
}

/*
 * The I/O kernel, run by one thread between barriers, with @w merged over
 * all blocks.  If a READ waits at the smallest waiting epoch e, every WRITE
 * before e has landed: READs up to e may run (the next run_blocks does them
 * in place, before the WRITEs of e).  Otherwise the WRITEs of e land now,
 * and READs up to e + 1 may run.  The static horizon (no VM can write
 * before its epoch plus its distance to a WRITE) may allow more.
 */
bool LAVM_EPOCH_NAME(lavm_epoch_io)(struct lavm_epoch *eng, const struct lavm_epoch_wait *w)
{
	uint32_t h = eng->horizon;

	if (w->epoch == LAVM_EPOCH_NONE)
		return false;
	if (w->read) {
		h = w->epoch > h ? w->epoch : h;
	} else {
		io_writes(eng, w->epoch);
		h = w->epoch + 1 > h ? w->epoch + 1 : h;
	}
	if (w->horizon != DW_INF && w->horizon > h)
		h = w->horizon;
	eng->horizon = h;
	return true;
}

uint32_t LAVM_EPOCH_NAME(lavm_epoch_finish)(struct lavm_epoch *eng, uint32_t b0, uint32_t b1)
{
	struct lavm_job *job = eng->job;
	uint32_t most = 0;

	for (uint32_t bi = b0; bi < b1; bi++) {
		struct lavm_epoch_block *b = &eng->blocks[bi];

		for (uint32_t l = 0; l < b->count; l++) {
			struct lavm_vm *vm = &job->vms[b->first + l];

			if (b->ip[l] != ~0u)
				vm->v[LAVM_X_IP] = (float)b->ip[l];
			for (int r = 0; r < NROWS; r++)
				vm->v[1 + r] = b->x[r][l];
			vm->v[LAVM_X_ONE] = 1.0f;
			vm->status = b->status[l];
			vm->fault = b->fault[l];
			vm->sp = b->sp[l];
			for (uint32_t k = 0; k < vm->sp && k < eng->depth; k++) {
				struct lavm_frame *f =
					&job->stack[(size_t)(b->first + l) * eng->depth + k];

				f->ret_ip = lavm_fbits(FR(b, k, 0)[l]);
				for (int r = 0; r < 3; r++)
					f->r[r] = FR(b, k, 1 + r)[l];
			}
			vm->epochs = b->epochs[l];
			vm->pend_addr = LAVM_NO_WRITE;
			most = b->epochs[l] > most ? b->epochs[l] : most;
		}
	}
	return most;
}

uint32_t LAVM_EPOCH_NAME(lavm_epoch_most)(struct lavm_epoch *eng, uint32_t b0, uint32_t b1,
					 uint64_t *sum)
{
	uint32_t most = 0;
	uint64_t total = 0;

	for (uint32_t bi = b0; bi < b1; bi++) {
		const struct lavm_epoch_block *b = &eng->blocks[bi];

		for (uint32_t l = 0; l < b->count; l++) {
			most = b->epochs[l] > most ? b->epochs[l] : most;
			total += b->epochs[l];
		}
	}
	if (sum)
		*sum = total;
	return most;
}

/*
 * The run to @old_max ended (lavm_epoch_io() returned false) and the caller
 * raised job->max_epochs: lanes stopped at @old_max go on.  A lane that
 * yielded in the last epoch sits out the next one, as lavm_epoch_load()
 * does for a YIELDED state.  READs may run in place only up to @old_max:
 * lanes stopped there may WRITE from then on, and the horizon of the run
 * that ended did not count them.
 */
void LAVM_EPOCH_NAME(lavm_epoch_extend)(struct lavm_epoch *eng, uint32_t b0, uint32_t b1,
					uint32_t old_max)
{
	const struct lavm_job *job = eng->job;

	if (eng->horizon > old_max)
		eng->horizon = old_max;
	for (uint32_t bi = b0; bi < b1; bi++) {
		struct lavm_epoch_block *b = &eng->blocks[bi];

		b->horizon = eng->horizon;
		b->wait.epoch = LAVM_EPOCH_NONE;
		for (uint32_t l = 0; l < b->count; l++) {
			if (b->status[l] == LAVM_YIELDED && b->epochs[l] < job->max_epochs) {
				b->status[l] = LAVM_RUNNING;
				b->epochs[l]++;		/* the epoch it sits out */
			}
			b->live[l] = lane_live(eng, b, l) ? -1 : 0;
		}
	}
}

uint32_t LAVM_EPOCH_NAME(lavm_epoch_run)(struct lavm_epoch *eng)
{
	struct lavm_epoch_wait w;

	LAVM_EPOCH_NAME(lavm_epoch_load)(eng, 0, eng->nblocks);
	do {
		LAVM_EPOCH_NAME(lavm_epoch_run_blocks)(eng, 0, eng->nblocks);
		LAVM_EPOCH_NAME(lavm_epoch_min_io)(eng, 0, eng->nblocks, &w);
	} while (LAVM_EPOCH_NAME(lavm_epoch_io)(eng, &w));
	return LAVM_EPOCH_NAME(lavm_epoch_finish)(eng, 0, eng->nblocks);
}
