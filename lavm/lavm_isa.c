// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The ISA table: the one definition of every LAVM opcode.
 */
#include "lavm.h"

#define R LAVM_OPND_REG
#define M LAVM_OPND_MEM
#define I LAVM_OPND_IMM
#define T LAVM_OPND_TARGET
#define LIN LAVM_CLASS_LINEAR
#define ORA LAVM_CLASS_ORACLE
#define IO LAVM_CLASS_IO
#define BR LAVM_CLASS_BRANCH

static const struct lavm_isa lavm_isa_table[LAVM_NOPCODES] = {
	[LAVM_OP_ADD]    = { "ADD",   NULL, LIN, 3, { R, R, R }, 1 },
	[LAVM_OP_SUB]    = { "SUB",   NULL, LIN, 3, { R, R, R }, 1 },
	[LAVM_OP_MOV]    = { "MOV",   NULL, LIN, 2, { R, R }, 1 },
	[LAVM_OP_SETI]   = { "SETI",  NULL, LIN, 2, { R, I }, 1 },
	[LAVM_OP_LOAD]   = { "LOAD",  NULL, LIN, 2, { R, M }, 1 },
	[LAVM_OP_STORE]  = { "STORE", NULL, LIN, 2, { R, M }, 1 },
	[LAVM_OP_COPY]   = { "COPY",  NULL, LIN, 2, { M, M }, 1 },
	[LAVM_OP_CLEAR]  = { "CLEAR", NULL, LIN, 1, { R }, 1 },
	[LAVM_OP_NEG]    = { "NEG",   NULL, LIN, 2, { R, R }, 1 },
	[LAVM_OP_SCALE]  = { "SCALE", NULL, LIN, 3, { R, R, I }, 1 },
	[LAVM_OP_MUL]    = { "MUL",   NULL, ORA, 3, { R, R, R }, 1 },
	[LAVM_OP_DIV]    = { "DIV",   NULL, ORA, 3, { R, R, R }, 1 },
	[LAVM_OP_MOD]    = { "MOD",   NULL, ORA, 3, { R, R, R }, 1 },
	[LAVM_OP_CMP]    = { "CMP",   NULL, ORA, 3, { R, R, R }, 1 },
	[LAVM_OP_MIN]    = { "MIN",   NULL, ORA, 3, { R, R, R }, 1 },
	[LAVM_OP_MAX]    = { "MAX",   NULL, ORA, 3, { R, R, R }, 1 },
	[LAVM_OP_ABS]    = { "ABS",   NULL, ORA, 2, { R, R }, 1 },
	[LAVM_OP_SQRT]   = { "SQRT",  NULL, ORA, 2, { R, R }, 1 },
	[LAVM_OP_SIN]    = { "SIN",   NULL, ORA, 2, { R, R }, 1 },
	[LAVM_OP_COS]    = { "COS",   NULL, ORA, 2, { R, R }, 1 },
	[LAVM_OP_READ]   = { "SYSCALL_READ",  NULL, IO, 2, { R, R }, 1 },
	[LAVM_OP_WRITE]  = { "SYSCALL_WRITE", NULL, IO, 2, { R, R }, 1 },
	[LAVM_OP_YIELD]  = { "SYSCALL_YIELD", "YIELD", IO, 0, { 0 }, 1 },
	[LAVM_OP_HALT]   = { "SYSCALL_HALT",  "HALT",  IO, 0, { 0 }, 0 },
	[LAVM_OP_BEQ]    = { "BRANCH_EQ", NULL, BR, 2, { R, T }, 1 },
	[LAVM_OP_BNE]    = { "BRANCH_NE", NULL, BR, 2, { R, T }, 1 },
	[LAVM_OP_BLT]    = { "BRANCH_LT", NULL, BR, 2, { R, T }, 1 },
	[LAVM_OP_BGT]    = { "BRANCH_GT", NULL, BR, 2, { R, T }, 1 },
	[LAVM_OP_BLE]    = { "BRANCH_LE", NULL, BR, 2, { R, T }, 1 },
	[LAVM_OP_BGE]    = { "BRANCH_GE", NULL, BR, 2, { R, T }, 1 },
	[LAVM_OP_JUMP]   = { "JUMP",   NULL, BR, 1, { T }, 0 },
	[LAVM_OP_CALL]   = { "CALL",   NULL, BR, 1, { T }, 1 },
	[LAVM_OP_RETURN] = { "RETURN", NULL, BR, 0, { 0 }, 0 },
};

const struct lavm_isa *lavm_isa(uint32_t opcode)
{
	if (opcode >= LAVM_NOPCODES || !lavm_isa_table[opcode].name)
		return NULL;
	return &lavm_isa_table[opcode];
}

const char *lavm_strerror(int err)
{
	switch (err) {
	case LAVM_OK: return "ok";
	case LAVM_E_SHORT: return "truncated bundle or buffer too small";
	case LAVM_E_MAGIC: return "not a LAVM bundle (bad magic)";
	case LAVM_E_VERSION: return "unsupported bundle version";
	case LAVM_E_HEADER: return "inconsistent bundle header";
	case LAVM_E_CRC: return "checksum mismatch";
	case LAVM_E_LIMIT: return "count above the LAVM limits";
	case LAVM_E_OPCODE: return "invalid opcode";
	case LAVM_E_OPERAND: return "operand out of range";
	case LAVM_E_TARGET: return "jump or call target outside the program";
	case LAVM_E_FALLOFF: return "execution can fall off the end of the program";
	case LAVM_E_MATRIX: return "matrix is not the compiled form of its instruction";
	case LAVM_E_DEPTH: return "call depth not bounded by max_call_depth";
	case LAVM_E_ENTRY: return "entry point outside the program";
	case LAVM_E_NLINEAR: return "matrix count does not match the linear instructions";
	}
	return "unknown error";
}
