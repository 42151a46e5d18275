// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Assembler and disassembler for the seed's syntax:
 *
 *   label:               # comment
 *       SETI r1, 2.5     # mnemonics and registers are case-insensitive
 *       LOAD r0, 5       # VM memory addresses are constants 0..15
 *       BRANCH_GT r3, label
 *       HALT             # SYSCALL_HALT; YIELD is SYSCALL_YIELD
 *   .stack N             # maximum call depth (default: computed)
 *   .shared N            # shared memory words the program needs
 *
 * The assembler never guesses: each mistake is "file:line:col: error: ..."
 * followed by a hint.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lavm_host.h"

struct asm_label {
	char *name;
	uint32_t insn;
	unsigned int line;
};

struct asm_fixup {
	uint32_t insn, operand;
	char *name;
	unsigned int line, col;
};

struct asm_state {
	const char *path;
	FILE *diag;
	int errors;
	struct lavm_insn *insns;
	uint32_t *lines;
	unsigned int *cols;
	size_t n, cap;
	struct asm_label *labels;
	size_t nlabels, labels_cap;
	struct asm_fixup *fixups;
	size_t nfixups, fixups_cap;
	uint32_t stack, shared;
	bool stack_set;
};

static void diag(struct asm_state *as, unsigned int line, unsigned int col,
		 const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void diag(struct asm_state *as, unsigned int line, unsigned int col,
		 const char *hint, const char *fmt, ...)
{
	va_list ap;

	as->errors++;
	if (!as->diag)
		return;
	fprintf(as->diag, "%s:%u:%u: error: ", as->path, line, col);
	va_start(ap, fmt);
	vfprintf(as->diag, fmt, ap);
	va_end(ap);
	fputc('\n', as->diag);
	if (hint)
		fprintf(as->diag, "%s:%u:%u: hint: %s\n", as->path, line, col, hint);
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t nc = *cap ? *cap * 2 : 64;

	while (nc < need)
		nc *= 2;
	p = realloc(p, nc * size);
	if (!p)
		abort();
	*cap = nc;
	return p;
}

static uint32_t f2u(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static float u2f(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static int lookup_mnemonic(const char *w)
{
	for (uint32_t op = 0; op < LAVM_NOPCODES; op++) {
		const struct lavm_isa *isa = lavm_isa(op);

		if (isa && (!strcasecmp(w, isa->name) || (isa->alias && !strcasecmp(w, isa->alias))))
			return (int)op;
	}
	return -1;
}

static const char *kind_word(int kind)
{
	switch (kind) {
	case LAVM_OPND_REG: return "r";
	case LAVM_OPND_MEM: return "addr";
	case LAVM_OPND_IMM: return "imm";
	case LAVM_OPND_TARGET: return "label";
	}
	return "?";
}

static void usage_of(uint32_t op, char *buf, size_t len)
{
	const struct lavm_isa *isa = lavm_isa(op);
	size_t o = snprintf(buf, len, "%s", isa->name);

	for (int k = 0; k < isa->nops && o < len; k++)
		o += snprintf(buf + o, len - o, "%s%s", k ? ", " : " ", kind_word(isa->kind[k]));
}

/* Float immediates: decimal or hex floats, inf, -inf, nan, nan:0xBITS. */
static bool parse_float(const char *s, uint32_t *bits)
{
	const char *p = s;
	bool neg = false;
	char *end;
	float f;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!strcasecmp(p, "inf") || !strcasecmp(p, "infinity")) {
		*bits = neg ? 0xff800000u : 0x7f800000u;
		return true;
	}
	if (!strcasecmp(p, "nan")) {
		*bits = LAVM_CANON_NAN | (neg ? 0x80000000u : 0);
		return true;
	}
	if (!strncasecmp(p, "nan:0x", 6)) {
		unsigned long v = strtoul(p + 6, &end, 16);

		if (*end || v > 0xffffffffu || (v & 0x7fffffffu) <= 0x7f800000u)
			return false;
		*bits = (uint32_t)v | (neg ? 0x80000000u : 0);
		return true;
	}
	if (!isdigit((unsigned char)*p) && *p != '.')
		return false;
	errno = 0;
	f = strtof(s, &end);
	if (*end || end == s)
		return false;
	*bits = f2u(f);
	return true;
}

static bool parse_uint(const char *s, unsigned long max, uint32_t *v)
{
	char *end;
	unsigned long x;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	x = strtoul(s, &end, 0);
	if (*end || errno || x > max)
		return false;
	*v = (uint32_t)x;
	return true;
}

static bool is_ident(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_' && *s != '.')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.')
			return false;
	return true;
}

static void parse_operand(struct asm_state *as, uint32_t op, int k, const char *t,
			  unsigned int line, unsigned int col)
{
	const struct lavm_isa *isa = lavm_isa(op);
	struct lavm_insn *in = &as->insns[as->n];
	uint32_t v, bits;
	char usage[96];

	usage_of(op, usage, sizeof(usage));
	switch (isa->kind[k]) {
	case LAVM_OPND_REG:
		if ((t[0] == 'r' || t[0] == 'R') && parse_uint(t + 1, 0xffffffffu, &v) &&
		    isdigit((unsigned char)t[1])) {
			if (v < LAVM_NREGS) {
				in->a[k] = v;
				return;
			}
			diag(as, line, col,
			     "LAVM has four registers, r0..r3; keep other values in VM memory "
			     "(STORE r, addr and LOAD r, addr with addr 0..15)",
			     "no register '%s'", t);
			return;
		}
		if (parse_float(t, &bits)) {
			char hint[256];

			snprintf(hint, sizeof(hint),
				 "%s takes registers only (%s): put the constant in a free "
				 "register first, e.g. 'SETI r3, %s', and use r3", isa->name, usage, t);
			diag(as, line, col, hint,
			     "operand %d of %s must be a register, not the constant '%s'",
			     k + 1, isa->name, t);
			return;
		}
		diag(as, line, col, "registers are r0, r1, r2, r3",
		     "operand %d of %s must be a register, not '%s'", k + 1, isa->name, t);
		return;
	case LAVM_OPND_MEM:
		if (!strncasecmp(t, "mem", 3) && isdigit((unsigned char)t[3]))
			t += 3;
		if (parse_uint(t, LAVM_NMEM - 1, &v)) {
			in->a[k] = v;
			return;
		}
		diag(as, line, col,
		     "VM memory addresses are constants 0..15; for an address computed at run "
		     "time use shared memory (SYSCALL_READ / SYSCALL_WRITE)",
		     "operand %d of %s must be a VM memory address 0..15, not '%s'",
		     k + 1, isa->name, t);
		return;
	case LAVM_OPND_IMM:
		if (parse_float(t, &bits)) {
			in->a[k] = bits;
			return;
		}
		diag(as, line, col,
		     "immediates are f32 literals: 1, -2.5, 1e-3, 0x1p-4, inf, -inf, nan",
		     "operand %d of %s must be a number, not '%s'", k + 1, isa->name, t);
		return;
	case LAVM_OPND_TARGET:
		if (parse_uint(t, LAVM_MAX_INSNS - 1, &v)) {
			in->a[k] = v;
			return;
		}
		if (!is_ident(t)) {
			diag(as, line, col, "a target is a label or an instruction index",
			     "operand %d of %s must be a label, not '%s'", k + 1, isa->name, t);
			return;
		}
		as->fixups = grow(as->fixups, &as->fixups_cap, as->nfixups + 1, sizeof(*as->fixups));
		as->fixups[as->nfixups++] = (struct asm_fixup){ as->n, k, strdup(t), line, col };
		return;
	}
}

static void define_label(struct asm_state *as, const char *name, unsigned int line,
			 unsigned int col)
{
	for (size_t i = 0; i < as->nlabels; i++) {
		if (!strcmp(as->labels[i].name, name)) {
			char hint[96];

			snprintf(hint, sizeof(hint), "'%s' was first defined on line %u",
				 name, as->labels[i].line);
			diag(as, line, col, hint, "label '%s' defined twice", name);
			return;
		}
	}
	if (lookup_mnemonic(name) >= 0) {
		diag(as, line, col, "pick a label name that is not an instruction",
		     "label '%s' is an instruction name", name);
		return;
	}
	as->labels = grow(as->labels, &as->labels_cap, as->nlabels + 1, sizeof(*as->labels));
	as->labels[as->nlabels++] = (struct asm_label){ strdup(name), (uint32_t)as->n, line };
}

static void parse_directive(struct asm_state *as, char *p, unsigned int line, unsigned int col)
{
	char *name = p, *arg;
	uint32_t v;

	while (*p && !isspace((unsigned char)*p))
		p++;
	if (*p)
		*p++ = 0;
	while (isspace((unsigned char)*p))
		p++;
	arg = p;
	for (char *e = arg + strlen(arg); e > arg && isspace((unsigned char)e[-1]);)
		*--e = 0;
	if (!strcmp(name, ".stack")) {
		if (!parse_uint(arg, LAVM_MAX_CALL_DEPTH, &v)) {
			diag(as, line, col, "the call depth bound is 0..64", ".stack needs a number 0..64");
			return;
		}
		as->stack = v;
		as->stack_set = true;
	} else if (!strcmp(name, ".shared")) {
		if (!parse_uint(arg, LAVM_MAX_SHARED, &v)) {
			diag(as, line, col, "shared memory is at most 16777216 words",
			     ".shared needs a number of f32 words");
			return;
		}
		as->shared = v;
	} else {
		diag(as, line, col, "directives are .stack N and .shared N",
		     "unknown directive '%s'", name);
	}
}

static void parse_line(struct asm_state *as, char *s, unsigned int line)
{
	char *p = s, *hash = strchr(s, '#');

	if (hash)
		*hash = 0;
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			return;
		if (*p == '.' && !strchr(p, ':')) {
			parse_directive(as, p, line, p - s + 1);
			return;
		}
		char *w = p;

		while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '.'))
			p++;
		if (p == w) {
			diag(as, line, w - s + 1, NULL, "unexpected character '%c'", *w);
			return;
		}
		char save = *p;

		*p = 0;
		char *q = p + 1;

		if (save == ':' ) {
			define_label(as, w, line, w - s + 1);
			p = q;
			continue;
		}
		if (save) {
			while (isspace((unsigned char)*q))
				q++;
			if (*q == ':') {
				define_label(as, w, line, w - s + 1);
				p = q + 1;
				continue;
			}
		}
		/* an instruction */
		int op = lookup_mnemonic(w);

		if (op < 0) {
			diag(as, line, w - s + 1,
			     "instructions are listed in Documentation/lavm.rst (e.g. ADD, SETI, "
			     "BRANCH_GT, CALL, SYSCALL_READ, HALT)", "unknown instruction '%s'", w);
			return;
		}
		const struct lavm_isa *isa = lavm_isa(op);
		char *ops[8];
		unsigned int cols[8];
		int nops = 0;

		as->insns = grow(as->insns, &as->cap, as->n + 1, sizeof(*as->insns));
		as->lines = realloc(as->lines, as->cap * sizeof(*as->lines));
		as->cols = realloc(as->cols, as->cap * sizeof(*as->cols));
		if (!as->lines || !as->cols)
			abort();
		as->cols[as->n] = w - s + 1;
		memset(&as->insns[as->n], 0, sizeof(as->insns[0]));
		as->insns[as->n].op = op;
		as->lines[as->n] = line;
		p = save ? p + 1 : p;
		if (save && save != ' ' && save != '\t' && save != '\r') {
			diag(as, line, p - s, NULL, "unexpected '%c' after %s", save, w);
			return;
		}
		while (*p) {
			while (isspace((unsigned char)*p))
				p++;
			if (!*p)
				break;
			char *t = p;

			while (*p && *p != ',')
				p++;
			char *e = p;

			while (e > t && isspace((unsigned char)e[-1]))
				e--;
			bool comma = *p == ',';

			*e = 0;
			if (nops < 8) {
				ops[nops] = t;
				cols[nops] = t - s + 1;
			}
			nops++;
			if (comma)
				p++;
			if (!*t) {
				diag(as, line, t - s + 1, NULL, "empty operand");
				return;
			}
		}
		if (nops != isa->nops) {
			char usage[96], hint[160];

			usage_of(op, usage, sizeof(usage));
			snprintf(hint, sizeof(hint), "the form is '%s'", usage);
			diag(as, line, w - s + 1, hint, "%s takes %d operand%s, got %d",
			     isa->name, isa->nops, isa->nops == 1 ? "" : "s", nops);
			as->n++;
			return;
		}
		for (int k = 0; k < nops; k++)
			parse_operand(as, op, k, ops[k], line, cols[k]);
		as->n++;
		return;
	}
}

void lavm_image_free(struct lavm_image *img)
{
	free(img->insns);
	free(img->matrices);
	free(img->lines);
	memset(img, 0, sizeof(*img));
}

int lavm_image_finish(struct lavm_image *img, struct lavm_verify_err *err)
{
	struct lavm_prog *prog = &img->prog;
	uint32_t nlin = 0;
	void *scratch;
	int ret;

	for (uint32_t i = 0; i < prog->ninsns; i++) {
		const struct lavm_isa *isa = lavm_isa(img->insns[i].op);

		nlin += isa && isa->cls == LAVM_CLASS_LINEAR;
	}
	free(img->matrices);
	img->matrices = calloc((size_t)nlin * LAVM_MAT + 1, sizeof(float));
	if (!img->matrices)
		return -ENOMEM;
	nlin = 0;
	for (uint32_t i = 0; i < prog->ninsns; i++) {
		const struct lavm_isa *isa = lavm_isa(img->insns[i].op);

		if (isa && isa->cls == LAVM_CLASS_LINEAR)
			lavm_matrix_compile(&img->insns[i], img->matrices + (size_t)nlin++ * LAVM_MAT);
	}
	prog->insns = img->insns;
	prog->matrices = img->matrices;
	prog->nlinear = nlin;
	scratch = malloc(lavm_verify_scratch_size(prog) + 1);
	if (!scratch)
		return -ENOMEM;
	ret = lavm_verify(prog, scratch, lavm_verify_scratch_size(prog) + 1, err);
	free(scratch);
	return ret;
}

static const char *verify_hint(int code)
{
	switch (code) {
	case LAVM_E_FALLOFF:
		return "execution would run past the last instruction: end the program "
		       "with HALT, JUMP or RETURN";
	case LAVM_E_DEPTH:
		return "calls must not recurse, and nesting must fit the .stack bound (at most 64)";
	case LAVM_E_LIMIT:
		return "a program has 1 to 1048576 instructions";
	case LAVM_E_TARGET:
		return "a target is a label or the index (from 0) of an instruction of this program";
	}
	return NULL;
}

int lavm_assemble(const char *path, const char *src, size_t len,
		  struct lavm_image *img, FILE *diagf)
{
	struct asm_state as = { .path = path, .diag = diagf };
	struct lavm_verify_err verr;
	unsigned int line = 0;
	size_t pos = 0;
	int ret;

	memset(img, 0, sizeof(*img));
	while (pos < len) {
		size_t e = pos;

		while (e < len && src[e] != '\n')
			e++;
		char *l = strndup(src + pos, e - pos);

		if (!l)
			abort();
		line++;
		if (strlen(l) != e - pos)
			diag(&as, line, strlen(l) + 1, NULL, "NUL byte in source");
		else
			parse_line(&as, l, line);
		free(l);
		pos = e + 1;
	}
	for (size_t f = 0; f < as.nfixups; f++) {
		struct asm_fixup *fx = &as.fixups[f];
		size_t i;

		for (i = 0; i < as.nlabels; i++)
			if (!strcmp(as.labels[i].name, fx->name))
				break;
		if (i == as.nlabels) {
			diag(&as, fx->line, fx->col, "define it as 'NAME:' before an instruction",
			     "undefined label '%s'", fx->name);
		} else if (as.labels[i].insn >= as.n) {
			diag(&as, fx->line, fx->col, "put an instruction after the label",
			     "label '%s' is at the end of the program", fx->name);
		} else {
			as.insns[fx->insn].a[fx->operand] = as.labels[i].insn;
		}
		free(fx->name);
	}
	for (size_t i = 0; i < as.nlabels; i++)
		free(as.labels[i].name);
	free(as.labels);
	free(as.fixups);
	if (!as.errors && as.n == 0)
		diag(&as, line ? line : 1, 1, "write at least one instruction, e.g. HALT",
		     "empty program");
	if (as.errors) {
		free(as.insns);
		free(as.lines);
		free(as.cols);
		return -EINVAL;
	}
	img->insns = as.insns;
	img->lines = as.lines;
	img->prog.ninsns = as.n;
	img->prog.shared_size = as.shared;
	img->prog.max_call_depth = as.stack;
	img->prog.insns = img->insns;
	if (!as.stack_set) {
		uint8_t *scratch = malloc(as.n);
		int d;

		if (!scratch)
			abort();
		d = lavm_call_depth(&img->prog, scratch, as.n);
		free(scratch);
		img->prog.max_call_depth = d < 0 ? LAVM_MAX_CALL_DEPTH : (uint32_t)d;
	}
	ret = lavm_image_finish(img, &verr);
	if (ret) {
		unsigned int l = verr.insn < as.n ? img->lines[verr.insn] : line, col = 1;

		if (ret == LAVM_E_DEPTH) {	/* point at the first CALL */
			for (uint32_t i = 0; i < as.n; i++) {
				if (as.insns[i].op == LAVM_OP_CALL) {
					l = as.lines[i];
					col = as.cols[i];
					break;
				}
			}
		}
		diag(&as, l, col, verify_hint(verr.code), "%s", lavm_strerror(ret));
		lavm_image_free(img);
		free(as.cols);
		return -EINVAL;
	}
	free(as.cols);
	return 0;
}

static void print_imm(FILE *out, uint32_t bits)
{
	float f = u2f(bits);

	if (f != f) {
		if ((bits & 0x7fffffffu) == LAVM_CANON_NAN)
			fprintf(out, "%snan", bits >> 31 ? "-" : "");
		else
			fprintf(out, "%snan:0x%08x", bits >> 31 ? "-" : "", bits & 0x7fffffffu);
	} else if (f == __builtin_inff() || f == -__builtin_inff()) {
		fprintf(out, "%sinf", f < 0 ? "-" : "");
	} else {
		fprintf(out, "%.9g", f);
	}
}

void lavm_disassemble(const struct lavm_prog *prog, FILE *out)
{
	bool *is_target = calloc(prog->ninsns + 1, 1);

	if (!is_target)
		abort();
	for (uint32_t i = 0; i < prog->ninsns; i++) {
		const struct lavm_isa *isa = lavm_isa(prog->insns[i].op);

		for (int k = 0; isa && k < isa->nops; k++)
			if (isa->kind[k] == LAVM_OPND_TARGET && prog->insns[i].a[k] < prog->ninsns)
				is_target[prog->insns[i].a[k]] = true;
	}
	fprintf(out, "# %u instructions, %u linear\n", prog->ninsns, prog->nlinear);
	fprintf(out, ".stack %u\n", prog->max_call_depth);
	if (prog->shared_size)
		fprintf(out, ".shared %u\n", prog->shared_size);
	for (uint32_t i = 0; i < prog->ninsns; i++) {
		const struct lavm_insn *in = &prog->insns[i];
		const struct lavm_isa *isa = lavm_isa(in->op);

		if (is_target[i])
			fprintf(out, "L%u:\n", i);
		if (!isa) {
			fprintf(out, "\t# invalid opcode %u\n", in->op);
			continue;
		}
		fprintf(out, "\t%s", isa->alias ? isa->alias : isa->name);
		for (int k = 0; k < isa->nops; k++) {
			fputs(k ? ", " : " ", out);
			switch (isa->kind[k]) {
			case LAVM_OPND_REG: fprintf(out, "r%u", in->a[k]); break;
			case LAVM_OPND_MEM: fprintf(out, "%u", in->a[k]); break;
			case LAVM_OPND_IMM: print_imm(out, in->a[k]); break;
			case LAVM_OPND_TARGET: fprintf(out, "L%u", in->a[k]); break;
			}
		}
		fprintf(out, "\t# %u\n", i);
	}
	free(is_target);
}

static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *b;

	if (!f)
		return -errno;
	b = malloc(cap);
	while (b) {
		size_t r = fread(b + n, 1, cap - n, f);

		n += r;
		if (n < cap)
			break;
		cap *= 2;
		b = realloc(b, cap);
	}
	if (!b || ferror(f)) {
		int e = b ? -EIO : -ENOMEM;

		free(b);
		fclose(f);
		return e;
	}
	fclose(f);
	*buf = b;
	*len = n;
	return 0;
}

int lavm_image_read(const char *path, struct lavm_image *img, FILE *diagf)
{
	struct lavm_bundle_info info;
	struct lavm_verify_err verr;
	char *buf = NULL;
	size_t len = 0;
	int ret = read_file(path, &buf, &len);

	memset(img, 0, sizeof(*img));
	if (ret) {
		fprintf(diagf, "%s: %s\n", path, strerror(-ret));
		return ret;
	}
	if (len < 8 || memcmp(buf, LAVM_BUNDLE_MAGIC, 8)) {
		ret = lavm_assemble(path, buf, len, img, diagf);
		free(buf);
		return ret;
	}
	ret = lavm_bundle_peek(buf, len, &info);
	if (!ret) {
		img->insns = calloc(info.ninsns, sizeof(*img->insns));
		img->matrices = calloc((size_t)info.nlinear * LAVM_MAT + 1, sizeof(float));
		if (!img->insns || !img->matrices)
			abort();
		ret = lavm_bundle_load(buf, len, &img->prog, img->insns, info.ninsns,
				       img->matrices, (size_t)info.nlinear * LAVM_MAT);
	}
	free(buf);
	if (ret) {
		fprintf(diagf, "%s: error: %s\n", path, lavm_strerror(ret));
		lavm_image_free(img);
		return -EINVAL;
	}
	void *scratch = malloc(lavm_verify_scratch_size(&img->prog) + 1);

	if (!scratch)
		abort();
	ret = lavm_verify(&img->prog, scratch, lavm_verify_scratch_size(&img->prog) + 1, &verr);
	free(scratch);
	if (ret) {
		if (verr.insn != ~0u)
			fprintf(diagf, "%s: instruction %u: error: %s\n", path, verr.insn,
				lavm_strerror(ret));
		else
			fprintf(diagf, "%s: error: %s\n", path, lavm_strerror(ret));
		lavm_image_free(img);
		return -EINVAL;
	}
	return 0;
}

int lavm_image_write(const struct lavm_image *img, const char *path)
{
	size_t len = lavm_bundle_size(&img->prog);
	void *buf = malloc(len);
	FILE *f;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	if (lavm_bundle_write(&img->prog, buf, len) < 0) {
		free(buf);
		return -EINVAL;
	}
	f = fopen(path, "wb");
	if (!f) {
		ret = -errno;
	} else {
		if (fwrite(buf, 1, len, f) != len)
			ret = -EIO;
		if (fclose(f) && !ret)
			ret = -errno;
	}
	free(buf);
	return ret;
}
