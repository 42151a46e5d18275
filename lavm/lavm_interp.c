// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The reference interpreter, which defines LAVM semantics, and two
 * baselines for the benchmark: a plain per-VM switch interpreter and the
 * seed's dense 22x22 mat-vec formulation.
 *
 * Epoch rule: in each epoch every active VM takes one step in index order;
 * a YIELDED VM sits the epoch out and is RUNNING again after it.  READs see
 * shared memory as it was at the start of the epoch; WRITEs are applied
 * after the epoch in VM index order (the highest index wins).
 */
#include "lavm_exec.h"

size_t lavm_stack_size(const struct lavm_prog *prog, uint32_t nvms)
{
	return (size_t)nvms * prog->max_call_depth * sizeof(struct lavm_frame);
}

void lavm_vm_init(struct lavm_vm *vm, const struct lavm_prog *prog, uint32_t index)
{
	for (int i = 0; i < LAVM_DIM; i++)
		vm->v[i] = 0.0f;
	vm->v[LAVM_X_IP] = (float)prog->entry;
	vm->v[LAVM_X_R0] = (float)index;
	vm->v[LAVM_X_ONE] = 1.0f;
	vm->sp = 0;
	vm->status = LAVM_RUNNING;
	vm->fault = LAVM_FAULT_NONE;
	vm->epochs = 0;
	vm->pend_addr = LAVM_NO_WRITE;
	vm->pend_val = 0;
	for (int i = 0; i < 4; i++)
		vm->reserved[i] = 0;
}

bool lavm_vm_active(const struct lavm_vm *vm)
{
	return vm->status == LAVM_RUNNING || vm->status == LAVM_YIELDED;
}

static void vm_fault(struct lavm_vm *vm, uint32_t code)
{
	vm->status = LAVM_FAULTED;
	vm->fault = code;
}

void lavm_vm_check(struct lavm_vm *vm, const struct lavm_prog *prog)
{
	vm->v[LAVM_X_ONE] = 1.0f;
	vm->pend_addr = LAVM_NO_WRITE;
	vm->epochs = 0;			/* counts the epochs of this job */
	if (vm->v[LAVM_X_IP] == 0.0f)
		vm->v[LAVM_X_IP] = 0.0f;	/* -0 is instruction 0; one bit pattern per IP */
	if (vm->status > LAVM_FAULTED || vm->sp > prog->max_call_depth)
		vm_fault(vm, LAVM_FAULT_BAD_STATE);
}

int lavm_acl_check(const struct lavm_acl *acl, uint32_t nvms)
{
	if (!acl->dom || !acl->allow || acl->seg_words < 1 || acl->nseg < 1 ||
	    acl->nseg > LAVM_ACL_MAX_SEG)
		return LAVM_E_LIMIT;
	for (uint32_t i = 0; i < nvms; i++)
		if (acl->dom[i] >= acl->nseg)
			return LAVM_E_LIMIT;
	return LAVM_OK;
}

/* IP as an instruction index, or false if it is not one. */
static bool fetch_ip(const struct lavm_vm *vm, const struct lavm_prog *prog, uint32_t *ip)
{
	float f = vm->v[LAVM_X_IP];

	if (!(f >= 0.0f) || !(f < (float)prog->ninsns))
		return false;
	*ip = (uint32_t)f;
	return (float)*ip == f;
}

static struct lavm_frame *vm_frames(struct lavm_job *job, uint32_t i)
{
	return job->stack + (size_t)i * job->prog->max_call_depth;
}

/*
 * One instruction of VM @i, with shared memory as of the start of the
 * epoch; a WRITE is left in pend_addr/pend_val.
 */
static void exec_one(struct lavm_job *job, uint32_t i, struct lavm_frame *frames)
{
	const struct lavm_prog *prog = job->prog;
	struct lavm_vm *vm = &job->vms[i];
	const struct lavm_insn *in;
	const struct lavm_isa *isa;
	float *v = vm->v;
	uint32_t ip, addr, fault;

	vm->epochs++;
	if (vm->status == LAVM_YIELDED) {
		vm->status = LAVM_RUNNING;
		return;
	}
	if (!fetch_ip(vm, prog, &ip)) {
		vm_fault(vm, LAVM_FAULT_BAD_IP);
		return;
	}
	in = &prog->insns[ip];
	isa = lavm_isa(in->op);
	switch (isa->cls) {
	case LAVM_CLASS_LINEAR:
	case LAVM_CLASS_ORACLE: {
		struct lavm_alu_slots s = lavm_alu_slots(in);

		v[s.dst] = lavm_alu(in->op, v[s.src1], v[s.src2], lavm_alu_imm(in));
		v[LAVM_X_IP] = (float)(ip + 1);
		return;
	}
	case LAVM_CLASS_IO:
		switch (in->op) {
		case LAVM_OP_READ:
			fault = lavm_shared_access(job, i, v[LAVM_X_R0 + in->a[1]], &addr);
			if (fault) {
				vm_fault(vm, fault);
				return;
			}
			v[LAVM_X_R0 + in->a[0]] = job->shared[addr];
			break;
		case LAVM_OP_WRITE:
			fault = lavm_shared_access(job, i, v[LAVM_X_R0 + in->a[0]], &addr);
			if (fault) {
				vm_fault(vm, fault);
				return;
			}
			vm->pend_addr = addr;
			vm->pend_val = lavm_fbits(v[LAVM_X_R0 + in->a[1]]);
			break;
		case LAVM_OP_YIELD:
			vm->status = LAVM_YIELDED;
			break;
		case LAVM_OP_HALT:
			vm->status = LAVM_HALTED;
			return;			/* IP stays on the HALT */
		}
		v[LAVM_X_IP] = (float)(ip + 1);
		return;
	case LAVM_CLASS_BRANCH:
		switch (in->op) {
		case LAVM_OP_CALL:
			if (vm->sp >= prog->max_call_depth) {
				vm_fault(vm, LAVM_FAULT_STACK_OVERFLOW);
				return;
			}
			frames[vm->sp].ret_ip = ip + 1;
			for (int k = 0; k < 3; k++)
				frames[vm->sp].r[k] = v[LAVM_X_R0 + 1 + k];
			vm->sp++;
			v[LAVM_X_IP] = (float)in->a[0];
			return;
		case LAVM_OP_RETURN:
			if (vm->sp == 0) {
				vm_fault(vm, LAVM_FAULT_STACK_UNDERFLOW);
				return;
			}
			vm->sp--;
			for (int k = 0; k < 3; k++)
				v[LAVM_X_R0 + 1 + k] = frames[vm->sp].r[k];
			v[LAVM_X_IP] = (float)frames[vm->sp].ret_ip;
			return;
		case LAVM_OP_JUMP:
			v[LAVM_X_IP] = (float)in->a[0];
			return;
		default:
			v[LAVM_X_IP] = (float)(lavm_branch_taken(in->op, v[LAVM_X_R0 + in->a[0]]) ?
					       in->a[1] : ip + 1);
			return;
		}
	}
}

void lavm_ref_step(struct lavm_job *job, uint32_t i)
{
	exec_one(job, i, vm_frames(job, i));
}

void lavm_commit_writes(struct lavm_job *job, uint32_t first, uint32_t count)
{
	for (uint32_t i = first; i < first + count; i++) {
		struct lavm_vm *vm = &job->vms[i];

		if (vm->pend_addr != LAVM_NO_WRITE) {
			if (vm->pend_addr < job->nshared)
				job->shared[vm->pend_addr] = lavm_bitsf(vm->pend_val);
			vm->pend_addr = LAVM_NO_WRITE;
		}
	}
}

uint32_t lavm_ref_run(struct lavm_job *job)
{
	uint32_t epochs = 0;

	for (uint32_t i = 0; i < job->nvms; i++)
		lavm_vm_check(&job->vms[i], job->prog);
	while (epochs < job->max_epochs) {
		bool any = false;

		for (uint32_t i = 0; i < job->nvms; i++) {
			if (lavm_vm_active(&job->vms[i])) {
				any = true;
				lavm_ref_step(job, i);
			}
		}
		if (!any)
			break;
		lavm_commit_writes(job, 0, job->nvms);
		epochs++;
	}
	return epochs;
}

/*
 * The switch interpreter runs one VM at a time from start to stop, with its
 * IP as an integer and its state in locals.  That order is only the epoch
 * order when no VM writes shared memory; programs with WRITE go through the
 * reference loop.
 */
uint32_t lavm_switch_run(struct lavm_job *job)
{
	const struct lavm_prog *prog = job->prog;
	const struct lavm_insn *insns = prog->insns;
	uint32_t most = 0;

	if (prog->flags & LAVM_PROG_HAS_WRITE)
		return lavm_ref_run(job);
	for (uint32_t i = 0; i < job->nvms; i++) {
		struct lavm_vm *vm = &job->vms[i];
		struct lavm_frame *frames = vm_frames(job, i);
		uint32_t ip, e, sp, max = job->max_epochs, addr, fault;
		float v[LAVM_DIM];

		lavm_vm_check(vm, prog);
		e = vm->epochs;
		if (!lavm_vm_active(vm))
			goto done;
		if (vm->status == LAVM_YIELDED) {
			if (e >= max)
				goto done;
			e++;
			vm->status = LAVM_RUNNING;
		}
		if (!fetch_ip(vm, prog, &ip)) {
			if (e < max) {
				e++;
				vm_fault(vm, LAVM_FAULT_BAD_IP);
			}
			goto done;
		}
		for (int k = 0; k < LAVM_DIM; k++)
			v[k] = vm->v[k];
		sp = vm->sp;
		while (e < max) {
			const struct lavm_insn *in = &insns[ip];

			e++;
			switch (in->op) {
			case LAVM_OP_ADD: v[1 + in->a[0]] = lavm_canon(v[1 + in->a[1]] + v[1 + in->a[2]]); break;
			case LAVM_OP_SUB: v[1 + in->a[0]] = lavm_canon(v[1 + in->a[1]] - v[1 + in->a[2]]); break;
			case LAVM_OP_MOV: v[1 + in->a[0]] = v[1 + in->a[1]]; break;
			case LAVM_OP_SETI: v[1 + in->a[0]] = lavm_bitsf(in->a[1]); break;
			case LAVM_OP_LOAD: v[1 + in->a[0]] = v[5 + in->a[1]]; break;
			case LAVM_OP_STORE: v[5 + in->a[1]] = v[1 + in->a[0]]; break;
			case LAVM_OP_COPY: v[5 + in->a[0]] = v[5 + in->a[1]]; break;
			case LAVM_OP_CLEAR: v[1 + in->a[0]] = 0.0f; break;
			case LAVM_OP_NEG: v[1 + in->a[0]] = lavm_bitsf(lavm_fbits(v[1 + in->a[1]]) ^ 0x80000000u); break;
			case LAVM_OP_SCALE: v[1 + in->a[0]] = lavm_canon(v[1 + in->a[1]] * lavm_bitsf(in->a[2])); break;
			case LAVM_OP_MUL ... LAVM_OP_COS:
				v[1 + in->a[0]] = lavm_alu(in->op, v[1 + in->a[1]],
							   v[1 + (in->a[2] & 3)], 0);
				break;
			case LAVM_OP_READ:
				fault = lavm_shared_access(job, i, v[1 + in->a[1]], &addr);
				if (fault) {
					vm_fault(vm, fault);
					goto out;
				}
				v[1 + in->a[0]] = job->shared[addr];
				break;
			case LAVM_OP_YIELD:
				ip++;
				if (e >= max) {
					vm->status = LAVM_YIELDED;
					goto out;
				}
				e++;			/* the epoch it sits out */
				continue;
			case LAVM_OP_HALT:
				vm->status = LAVM_HALTED;
				goto out;
			case LAVM_OP_BEQ ... LAVM_OP_BGE:
				if (lavm_branch_taken(in->op, v[1 + in->a[0]])) {
					ip = in->a[1];
					continue;
				}
				break;
			case LAVM_OP_JUMP:
				ip = in->a[0];
				continue;
			case LAVM_OP_CALL:
				if (sp >= prog->max_call_depth) {
					vm_fault(vm, LAVM_FAULT_STACK_OVERFLOW);
					goto out;
				}
				frames[sp].ret_ip = ip + 1;
				for (int k = 0; k < 3; k++)
					frames[sp].r[k] = v[2 + k];
				sp++;
				ip = in->a[0];
				continue;
			case LAVM_OP_RETURN:
				if (sp == 0) {
					vm_fault(vm, LAVM_FAULT_STACK_UNDERFLOW);
					goto out;
				}
				sp--;
				for (int k = 0; k < 3; k++)
					v[2 + k] = frames[sp].r[k];
				ip = frames[sp].ret_ip;
				continue;
			}
			ip++;
		}
out:
		v[LAVM_X_IP] = (float)ip;
		for (int k = 0; k < LAVM_DIM - 1; k++)
			vm->v[k] = v[k];
		vm->sp = sp;
done:
		vm->epochs = e;
		most = e > most ? e : most;
	}
	return most;
}

void lavm_dense_index(const struct lavm_prog *prog, uint32_t *matidx)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < prog->ninsns; i++)
		matidx[i] = lavm_isa(prog->insns[i].op)->cls == LAVM_CLASS_LINEAR ? n++ : ~0u;
}

/*
 * The seed's linear kernel: new_state = M * [IP, r, mem, 1], every row a
 * 22-term sum.  Everything else as the reference.  Not exact: baseline only.
 */
uint32_t lavm_dense_run(struct lavm_job *job, const uint32_t *matidx)
{
	const struct lavm_prog *prog = job->prog;
	uint32_t epochs = 0;

	for (uint32_t i = 0; i < job->nvms; i++)
		lavm_vm_check(&job->vms[i], prog);
	while (epochs < job->max_epochs) {
		bool any = false;

		for (uint32_t i = 0; i < job->nvms; i++) {
			struct lavm_vm *vm = &job->vms[i];
			uint32_t ip;

			if (!lavm_vm_active(vm))
				continue;
			any = true;
			if (vm->status == LAVM_RUNNING && fetch_ip(vm, prog, &ip) &&
			    matidx[ip] != ~0u) {
				const float *m = prog->matrices + (size_t)matidx[ip] * LAVM_MAT;
				float x[LAVM_DIM];

				for (int k = 0; k < LAVM_DIM; k++)
					x[k] = vm->v[k];
				x[LAVM_X_ONE] = 1.0f;
				for (int r = 0; r < LAVM_DIM - 1; r++) {
					float sum = 0.0f;

					for (int c = 0; c < LAVM_DIM; c++)
						sum += m[r * LAVM_DIM + c] * x[c];
					vm->v[r] = sum;
				}
				vm->epochs++;
				continue;
			}
			lavm_ref_step(job, i);
		}
		if (!any)
			break;
		lavm_commit_writes(job, 0, job->nvms);
		epochs++;
	}
	return epochs;
}
