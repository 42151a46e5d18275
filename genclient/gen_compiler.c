// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The formula compiler: a small expression language, parsed by recursive
 * descent (errors "formula:LINE:COL: ..."), compiled to LAVM assembly.
 *
 * Values live in registers while an expression is evaluated (r0..r3, with
 * Sethi-Ullman ordering) and in VM memory otherwise: inputs in mem0..11
 * (the generator ABI), named values, loop state and spills in the slots
 * after the inputs, up to mem13.  Before control flow (if, loops) every
 * live register is spilled, so all paths into a label agree on where each
 * value is.  The language is in Documentation/genclient.rst.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "gen_internal.h"

enum nkind {
	N_NUM, N_VAR, N_ID, N_NINST, N_BIN, N_NEG, N_UN, N_CMP, N_IF, N_SHARED, N_FOLD,
};

struct node {
	enum nkind kind;
	int op;			/* LAVM opcode for N_BIN/N_UN, branch opcode for N_CMP */
	float num;
	char *name;		/* N_VAR; N_FOLD: the index variable */
	char *acc;		/* N_FOLD: the accumulator */
	struct node *a, *b, *c, *d;	/* N_FOLD: lo, hi, init, body */
	int line, col;
};

enum skind { S_ASSIGN, S_WRITE, S_EXPR };

struct stmt {
	enum skind kind;
	char *name;		/* S_ASSIGN */
	struct node *idx;	/* S_WRITE */
	struct node *val;
};

struct gen_formula {
	struct stmt *stmts;
	uint32_t nstmts;
	struct node **nodes;	/* every node, for freeing */
	size_t nnodes, capnodes;
	char **names;		/* statement-level names assigned so far (parse) */
	uint32_t nnames;
	bool bare;		/* ends with a bare expression */
};

/* ------------------------------------------------------------ lexer */

enum tkind { T_EOF, T_NUM, T_NAME, T_OP, T_SEP };

struct tok {
	enum tkind kind;
	char text[64];
	float num;
	int line, col;
};

struct parser {
	const struct gen_vm *vm;
	const char *s;
	size_t pos;
	int line, col;
	int depth;		/* bracket depth: newlines separate statements at 0 */
	struct tok t;
	struct gen_formula *f;
	struct gen_error *err;
	int ret;
	/* Loop variables in scope, innermost last. */
	const char *scope[32];
	int nscope;
	int hidden;
};

static int syntax(struct parser *p, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int syntax(struct parser *p, int line, int col, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (p->ret)
		return p->ret;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->ret = gen_err(p->err, -EINVAL, "", "formula:%d:%d: %s", line, col, msg);
	return p->ret;
}

static void advance_char(struct parser *p)
{
	if (p->s[p->pos] == '\n') {
		p->line++;
		p->col = 1;
	} else {
		p->col++;
	}
	p->pos++;
}

static void next(struct parser *p)
{
	const char *s = p->s;
	struct tok *t = &p->t;

	for (;;) {
		char c = s[p->pos];

		if (c == '#') {
			while (s[p->pos] && s[p->pos] != '\n')
				advance_char(p);
		} else if (c == ' ' || c == '\t' || c == '\r' || (c == '\n' && p->depth > 0)) {
			advance_char(p);
		} else {
			break;
		}
	}
	t->line = p->line;
	t->col = p->col;
	t->text[0] = 0;
	if (!s[p->pos]) {
		t->kind = T_EOF;
		return;
	}
	char c = s[p->pos];

	if (c == '\n' || c == ';') {
		t->kind = T_SEP;
		snprintf(t->text, sizeof(t->text), "%s", c == ';' ? ";" : "newline");
		advance_char(p);
		return;
	}
	if ((c >= '0' && c <= '9') || (c == '.' && s[p->pos + 1] >= '0' && s[p->pos + 1] <= '9')) {
		char *end;
		size_t n;

		t->kind = T_NUM;
		t->num = strtof(s + p->pos, &end);
		n = end - (s + p->pos);
		snprintf(t->text, sizeof(t->text), "%.*s", (int)(n < 60 ? n : 60), s + p->pos);
		while (n--)
			advance_char(p);
		return;
	}
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
		size_t n = 0;

		t->kind = T_NAME;
		while ((s[p->pos] >= 'a' && s[p->pos] <= 'z') || (s[p->pos] >= 'A' && s[p->pos] <= 'Z') ||
		       (s[p->pos] >= '0' && s[p->pos] <= '9') || s[p->pos] == '_') {
			if (n < sizeof(t->text) - 1)
				t->text[n++] = s[p->pos];
			advance_char(p);
		}
		t->text[n] = 0;
		return;
	}
	static const char *const ops[] = { "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "(",
		")", "[", "]", ",", "=", "<", ">", NULL };

	for (const char *const *o = ops; *o; o++) {
		size_t n = strlen(*o);

		if (!strncmp(s + p->pos, *o, n)) {
			t->kind = T_OP;
			snprintf(t->text, sizeof(t->text), "%s", *o);
			if (**o == '(' || **o == '[')
				p->depth++;
			if ((**o == ')' || **o == ']') && p->depth > 0)
				p->depth--;
			while (n--)
				advance_char(p);
			return;
		}
	}
	t->kind = T_OP;
	snprintf(t->text, sizeof(t->text), "%c", c);
	syntax(p, t->line, t->col, "unexpected character '%c'", c);
	advance_char(p);
}

static bool is_op(struct parser *p, const char *op)
{
	return p->t.kind == T_OP && !strcmp(p->t.text, op);
}

static bool is_kw(struct parser *p, const char *kw)
{
	return p->t.kind == T_NAME && !strcmp(p->t.text, kw);
}

static const char *tok_desc(const struct tok *t)
{
	static __thread char buf[80];

	if (t->kind == T_EOF)
		return "end of formula";
	snprintf(buf, sizeof(buf), "'%s'", t->text);
	return buf;
}

static bool expect(struct parser *p, const char *op)
{
	if (is_op(p, op) || is_kw(p, op)) {
		next(p);
		return true;
	}
	syntax(p, p->t.line, p->t.col, "expected '%s', found %s", op, tok_desc(&p->t));
	return false;
}

/* ------------------------------------------------------------ parser */

static struct node *mk(struct parser *p, enum nkind kind, int line, int col)
{
	struct gen_formula *f = p->f;
	struct node *n;

	if (p->ret)
		return NULL;
	if (f->nnodes == f->capnodes) {
		size_t cap = f->capnodes ? 2 * f->capnodes : 64;
		struct node **nn = realloc(f->nodes, cap * sizeof(*nn));

		if (!nn) {
			p->ret = -ENOMEM;
			return NULL;
		}
		f->nodes = nn;
		f->capnodes = cap;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		p->ret = -ENOMEM;
		return NULL;
	}
	n->kind = kind;
	n->line = line;
	n->col = col;
	f->nodes[f->nnodes++] = n;
	return n;
}

static struct node *num(struct parser *p, float v, int line, int col)
{
	struct node *n = mk(p, N_NUM, line, col);

	if (n)
		n->num = v;
	return n;
}

static struct node *mkif(struct parser *p, struct node *c, struct node *a, struct node *b)
{
	struct node *n = mk(p, N_IF, c ? c->line : 0, c ? c->col : 0);

	if (n) {
		n->a = c;
		n->b = a;
		n->c = b;
	}
	return n;
}

static struct node *mkbin(struct parser *p, int op, struct node *a, struct node *b, int line, int col)
{
	struct node *n = mk(p, N_BIN, line, col);

	if (n) {
		n->op = op;
		n->a = a;
		n->b = b;
	}
	return n;
}

static char *pdup(struct parser *p, const char *s)
{
	char *d = strdup(s);

	if (!d && !p->ret)
		p->ret = -ENOMEM;
	return d;
}

static bool name_known(struct parser *p, const char *name)
{
	for (int i = 0; i < p->nscope; i++)
		if (!strcmp(p->scope[i], name))
			return true;
	for (uint32_t i = 0; i < p->vm->ninputs; i++)
		if (!strcmp(p->vm->params[i], name))
			return true;
	for (uint32_t i = 0; i < p->f->nnames; i++)
		if (!strcmp(p->f->names[i], name))
			return true;
	return false;
}

static struct node *expr(struct parser *p);

static bool loop_var(struct parser *p, char *out, size_t len)
{
	if (p->t.kind != T_NAME) {
		syntax(p, p->t.line, p->t.col, "expected a loop variable name, found %s", tok_desc(&p->t));
		return false;
	}
	snprintf(out, len, "%s", p->t.text);
	next(p);
	return true;
}

static bool push_scope(struct parser *p, const char *name, int line, int col)
{
	if (p->nscope == (int)(sizeof(p->scope) / sizeof(p->scope[0]))) {
		syntax(p, line, col, "loops nested too deeply");
		return false;
	}
	p->scope[p->nscope++] = name;
	return true;
}

/*
 * fold(i, lo, hi, acc, init, body), sum(i, lo, hi, body),
 * prod(i, lo, hi, body), repeat(n, x, init, body).
 */
static struct node *loop(struct parser *p, const char *fn, int line, int col)
{
	char iname[64], aname[64];
	struct node *n = mk(p, N_FOLD, line, col);
	bool rep = !strcmp(fn, "repeat"), fold = !strcmp(fn, "fold");

	if (!n || !expect(p, "("))
		return NULL;
	if (rep) {
		snprintf(iname, sizeof(iname), "$i%d", p->hidden++);
		n->a = num(p, 0, line, col);
		n->b = expr(p);
		if (!expect(p, ","))
			return NULL;
	} else {
		if (!loop_var(p, iname, sizeof(iname)) || !expect(p, ","))
			return NULL;
		n->a = expr(p);
		if (!expect(p, ","))
			return NULL;
		n->b = expr(p);
		if (!expect(p, ","))
			return NULL;
	}
	if (rep || fold) {
		if (!loop_var(p, aname, sizeof(aname)) || !expect(p, ","))
			return NULL;
		n->c = expr(p);
		if (!expect(p, ","))
			return NULL;
	} else {
		snprintf(aname, sizeof(aname), "$a%d", p->hidden++);
		n->c = num(p, strcmp(fn, "sum") ? 1 : 0, line, col);
	}
	n->name = pdup(p, iname);
	n->acc = pdup(p, aname);
	if (p->ret)
		return NULL;
	if (!strcmp(n->name, n->acc))
		return syntax(p, line, col, "%s: the loop variable and the accumulator need different names", fn),
		       NULL;
	if (!push_scope(p, n->name, line, col) || !push_scope(p, n->acc, line, col))
		return NULL;
	n->d = expr(p);
	p->nscope -= 2;
	if (!rep && !fold) {
		struct node *acc = mk(p, N_VAR, line, col);

		if (!acc)
			return NULL;
		acc->name = pdup(p, aname);
		n->d = mkbin(p, strcmp(fn, "sum") ? LAVM_OP_MUL : LAVM_OP_ADD, acc, n->d, line, col);
	}
	if (!expect(p, ")"))
		return NULL;
	return n;
}

static struct node *call(struct parser *p, const char *fn, int line, int col)
{
	static const struct { const char *name; int op; int nargs; } fns[] = {
		{ "abs", LAVM_OP_ABS, 1 }, { "sqrt", LAVM_OP_SQRT, 1 }, { "sin", LAVM_OP_SIN, 1 },
		{ "cos", LAVM_OP_COS, 1 }, { "min", LAVM_OP_MIN, -2 }, { "max", LAVM_OP_MAX, -2 },
	};
	struct node *args[16];
	int nargs = 0;
	size_t k;

	if (!strcmp(fn, "sum") || !strcmp(fn, "prod") || !strcmp(fn, "fold") || !strcmp(fn, "repeat"))
		return loop(p, fn, line, col);
	for (k = 0; k < sizeof(fns) / sizeof(fns[0]); k++)
		if (!strcmp(fns[k].name, fn))
			break;
	if (k == sizeof(fns) / sizeof(fns[0]))
		return syntax(p, line, col, "unknown function '%s' (abs, sqrt, sin, cos, min, max, "
			      "sum, prod, fold, repeat)", fn), NULL;
	if (!expect(p, "("))
		return NULL;
	for (;;) {
		if (nargs == 16)
			return syntax(p, line, col, "%s: too many arguments", fn), NULL;
		args[nargs++] = expr(p);
		if (p->ret)
			return NULL;
		if (!is_op(p, ","))
			break;
		next(p);
	}
	if (!expect(p, ")"))
		return NULL;
	if (fns[k].nargs == 1 && nargs != 1)
		return syntax(p, line, col, "%s takes one argument, got %d", fn, nargs), NULL;
	if (fns[k].nargs == -2 && nargs < 2)
		return syntax(p, line, col, "%s takes at least two arguments, got %d", fn, nargs), NULL;
	if (nargs == 1) {
		struct node *n = mk(p, N_UN, line, col);

		if (n) {
			n->op = fns[k].op;
			n->a = args[0];
		}
		return n;
	}
	struct node *acc = args[0];

	for (int i = 1; i < nargs; i++)
		acc = mkbin(p, fns[k].op, acc, args[i], line, col);
	return acc;
}

static struct node *primary(struct parser *p)
{
	int line = p->t.line, col = p->t.col;
	struct node *n;

	if (p->ret)
		return NULL;
	if (p->t.kind == T_NUM) {
		n = num(p, p->t.num, line, col);
		next(p);
		return n;
	}
	if (is_op(p, "(")) {
		next(p);
		n = expr(p);
		return expect(p, ")") ? n : NULL;
	}
	if (is_kw(p, "if")) {
		struct node *c, *a, *b;

		next(p);
		c = expr(p);
		if (!expect(p, "then"))
			return NULL;
		a = expr(p);
		if (!expect(p, "else"))
			return NULL;
		b = expr(p);
		return mkif(p, c, a, b);
	}
	if (p->t.kind != T_NAME)
		return syntax(p, line, col, "expected a number, a name or '(', found %s",
			      tok_desc(&p->t)), NULL;
	char name[64];

	snprintf(name, sizeof(name), "%s", p->t.text);
	next(p);
	if (!strcmp(name, "shared")) {
		if (!p->vm->shared_size)
			return syntax(p, line, col, "shared[] used, but the VM has no shared memory "
				      "(set \"shared\": {\"size\": N})"), NULL;
		n = mk(p, N_SHARED, line, col);
		if (!n || !expect(p, "["))
			return NULL;
		n->a = expr(p);
		return expect(p, "]") ? n : NULL;
	}
	if (!strcmp(name, "id"))
		return mk(p, N_ID, line, col);
	if (!strcmp(name, "instances"))
		return mk(p, N_NINST, line, col);
	if (is_op(p, "("))
		return call(p, name, line, col);
	static const char *const kw[] = { "then", "else", "and", "or", "not", NULL };

	for (const char *const *k = kw; *k; k++)
		if (!strcmp(*k, name))
			return syntax(p, line, col, "unexpected '%s'", name), NULL;
	if (!name_known(p, name))
		return syntax(p, line, col, "unknown name '%s' (not a param, a loop variable or a "
			      "value assigned before)", name), NULL;
	n = mk(p, N_VAR, line, col);
	if (n)
		n->name = pdup(p, name);
	return n;
}

static struct node *unary(struct parser *p)
{
	int line = p->t.line, col = p->t.col;

	if (is_op(p, "-")) {
		struct node *n;

		next(p);
		if (p->t.kind == T_NUM) {
			/* Fold "-3" into a constant. */
			n = num(p, -p->t.num, line, col);
			next(p);
			return n;
		}
		n = mk(p, N_NEG, line, col);
		if (n)
			n->a = unary(p);
		return n;
	}
	return primary(p);
}

static struct node *mul(struct parser *p)
{
	struct node *n = unary(p);

	while (!p->ret && (is_op(p, "*") || is_op(p, "/") || is_op(p, "%"))) {
		int op = is_op(p, "*") ? LAVM_OP_MUL : is_op(p, "/") ? LAVM_OP_DIV : LAVM_OP_MOD;
		int line = p->t.line, col = p->t.col;

		next(p);
		n = mkbin(p, op, n, unary(p), line, col);
	}
	return n;
}

static struct node *add(struct parser *p)
{
	struct node *n = mul(p);

	while (!p->ret && (is_op(p, "+") || is_op(p, "-"))) {
		int op = is_op(p, "+") ? LAVM_OP_ADD : LAVM_OP_SUB;
		int line = p->t.line, col = p->t.col;

		next(p);
		n = mkbin(p, op, n, mul(p), line, col);
	}
	return n;
}

static struct node *cmp(struct parser *p)
{
	static const struct { const char *op; int br; } tab[] = {
		{ "<", LAVM_OP_BLT }, { "<=", LAVM_OP_BLE }, { ">", LAVM_OP_BGT },
		{ ">=", LAVM_OP_BGE }, { "==", LAVM_OP_BEQ }, { "!=", LAVM_OP_BNE },
	};
	struct node *n = add(p);

	for (size_t k = 0; !p->ret && k < sizeof(tab) / sizeof(tab[0]); k++) {
		if (!is_op(p, tab[k].op))
			continue;
		struct node *c = mk(p, N_CMP, p->t.line, p->t.col);

		next(p);
		if (!c)
			return NULL;
		c->op = tab[k].br;
		c->a = n;
		c->b = add(p);
		for (size_t j = 0; !p->ret && j < sizeof(tab) / sizeof(tab[0]); j++)
			if (is_op(p, tab[j].op))
				return syntax(p, p->t.line, p->t.col, "comparisons do not chain: "
					      "write (a < b) and (b < c)"), NULL;
		return c;
	}
	return n;
}

static struct node *lnot(struct parser *p)
{
	if (is_kw(p, "not")) {
		int line = p->t.line, col = p->t.col;
		struct node *c;

		next(p);
		c = lnot(p);
		return mkif(p, c, num(p, 0, line, col), num(p, 1, line, col));
	}
	return cmp(p);
}

static struct node *land(struct parser *p)
{
	struct node *n = lnot(p);

	while (!p->ret && is_kw(p, "and")) {
		int line = p->t.line, col = p->t.col;
		struct node *b;

		next(p);
		b = lnot(p);
		n = mkif(p, n, mkif(p, b, num(p, 1, line, col), num(p, 0, line, col)),
			 num(p, 0, line, col));
	}
	return n;
}

static struct node *lor(struct parser *p)
{
	struct node *n = land(p);

	while (!p->ret && is_kw(p, "or")) {
		int line = p->t.line, col = p->t.col;
		struct node *b;

		next(p);
		b = land(p);
		n = mkif(p, n, num(p, 1, line, col),
			 mkif(p, b, num(p, 1, line, col), num(p, 0, line, col)));
	}
	return n;
}

static struct node *expr(struct parser *p)
{
	if (p->ret)
		return NULL;
	return lor(p);
}

static int add_stmt(struct parser *p, struct stmt s)
{
	struct gen_formula *f = p->f;
	struct stmt *n = realloc(f->stmts, (f->nstmts + 1) * sizeof(*n));

	if (!n)
		return p->ret = -ENOMEM;
	f->stmts = n;
	f->stmts[f->nstmts++] = s;
	return 0;
}

static bool is_param(const struct gen_vm *vm, const char *name)
{
	for (uint32_t i = 0; i < vm->ninputs; i++)
		if (!strcmp(vm->params[i], name))
			return true;
	return false;
}

/* Lexer position, for the one token of lookahead past a name. */
struct mark {
	size_t pos;
	int line, col, depth;
	struct tok t;
};

static struct mark mark(const struct parser *p)
{
	return (struct mark){ p->pos, p->line, p->col, p->depth, p->t };
}

static void rewind_to(struct parser *p, const struct mark *m)
{
	p->pos = m->pos;
	p->line = m->line;
	p->col = m->col;
	p->depth = m->depth;
	p->t = m->t;
}

static void statement(struct parser *p)
{
	int line = p->t.line, col = p->t.col;
	struct stmt s = { 0 };

	/* NAME '=' expr, or shared[e] = expr, or a bare expression. */
	if (is_kw(p, "shared")) {
		struct mark m = mark(p);
		struct node *idx;

		next(p);
		if (is_op(p, "[")) {
			if (!p->vm->shared_size) {
				syntax(p, line, col, "shared[] used, but the VM has no shared memory "
				       "(set \"shared\": {\"size\": N})");
				return;
			}
			next(p);
			idx = expr(p);
			if (!expect(p, "]"))
				return;
			if (is_op(p, "=")) {
				next(p);
				s.kind = S_WRITE;
				s.idx = idx;
				s.val = expr(p);
				add_stmt(p, s);
				return;
			}
		}
		/* Not a write: parse it again as an expression. */
		rewind_to(p, &m);
	} else if (p->t.kind == T_NAME) {
		struct mark m = mark(p);
		char name[64];

		snprintf(name, sizeof(name), "%s", p->t.text);
		next(p);
		if (is_op(p, "=")) {
			next(p);
			if (is_param(p->vm, name)) {
				syntax(p, line, col, "'%s' is an input: inputs cannot be assigned", name);
				return;
			}
			static const char *const kw[] = { "if", "then", "else", "and", "or", "not", "id",
				"instances", "sum", "prod", "fold", "repeat", "min", "max", "abs",
				"sqrt", "sin", "cos", NULL };

			for (const char *const *k = kw; *k; k++)
				if (!strcmp(*k, name)) {
					syntax(p, line, col, "'%s' is a keyword and cannot be assigned", name);
					return;
				}
			s.kind = S_ASSIGN;
			s.val = expr(p);
			s.name = pdup(p, name);
			if (p->ret)
				return;
			if (!name_known(p, name)) {
				char **nn = realloc(p->f->names, (p->f->nnames + 1) * sizeof(*nn));

				if (!nn) {
					p->ret = -ENOMEM;
					return;
				}
				p->f->names = nn;
				nn[p->f->nnames++] = s.name;
			}
			add_stmt(p, s);
			return;
		}
		rewind_to(p, &m);
	}
	s.kind = S_EXPR;
	s.val = expr(p);
	add_stmt(p, s);
}

void gen_formula_free(struct gen_formula *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nnodes; i++) {
		free(f->nodes[i]->name);
		free(f->nodes[i]->acc);
		free(f->nodes[i]);
	}
	for (uint32_t i = 0; i < f->nstmts; i++)
		free(f->stmts[i].name);
	free(f->nodes);
	free(f->stmts);
	free(f->names);
	free(f);
}

bool gen_formula_bare(const struct gen_formula *f)
{
	return f->bare;
}

int gen_formula_parse(const struct gen_vm *vm, const char *text, struct gen_formula **out,
		      struct gen_error *err)
{
	struct gen_error dummy;
	struct parser p = { .vm = vm, .s = text, .line = 1, .col = 1, .err = err ? err : &dummy };
	struct gen_formula *f;

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	p.f = f;
	next(&p);
	while (!p.ret) {
		while (p.t.kind == T_SEP)
			next(&p);
		if (p.t.kind == T_EOF)
			break;
		statement(&p);
		if (p.ret)
			break;
		if (p.t.kind != T_SEP && p.t.kind != T_EOF)
			syntax(&p, p.t.line, p.t.col, "expected ';', a newline or the end, found %s",
			       tok_desc(&p.t));
	}
	if (!p.ret && !f->nstmts)
		syntax(&p, 1, 1, "empty formula");
	for (uint32_t i = 0; !p.ret && i + 1 < f->nstmts; i++)
		if (f->stmts[i].kind == S_EXPR)
			syntax(&p, 1, 1, "statement %u is a bare expression: only the last one may be "
			       "(assign it: NAME = ...)", i + 1);
	if (!p.ret) {
		f->bare = f->stmts[f->nstmts - 1].kind == S_EXPR;
		if (f->bare && vm->noutputs > 1)
			syntax(&p, 1, 1, "the formula ends with a bare expression but the VM has %u "
			       "outputs: assign each (NAME = ...)", vm->noutputs);
		for (uint32_t o = 0; !p.ret && o < vm->noutputs && !(f->bare && o == 0); o++) {
			uint32_t i;

			for (i = 0; i < f->nnames; i++)
				if (!strcmp(f->names[i], vm->outputs[o]))
					break;
			if (i == f->nnames)
				syntax(&p, 1, 1, "output '%s' is never assigned", vm->outputs[o]);
		}
	}
	if (p.ret) {
		if (p.ret == -ENOMEM)
			gen_err(p.err, -ENOMEM, "", "out of memory");
		gen_formula_free(f);
		return p.ret;
	}
	*out = f;
	return 0;
}

/* ------------------------------------------------------------ code generation */

#define NTEMPS 256

struct cg {
	const struct gen_vm *vm;
	struct gen_buf out;
	int regs[LAVM_NREGS];		/* temp held by each register, or -1 */
	struct { int reg, slot; bool live; } t[NTEMPS];
	uint32_t slots_free;		/* bit k: mem k free */
	struct { const char *name; int slot; } vars[64];
	int nvars;
	int labels;
	int ret;
	struct gen_error *err;
};

static void emit(struct cg *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct cg *g, const char *fmt, ...)
{
	char line[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	gen_buf_printf(&g->out, "\t%s\n", line);
}

static int cg_fail(struct cg *g, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cg_fail(struct cg *g, int code, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (g->ret)
		return g->ret;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	g->ret = gen_err(g->err, code, "", "formula: %s", msg);
	return g->ret;
}

static int slot_alloc(struct cg *g)
{
	for (int k = 0; k < GEN_MEM_NINST; k++)
		if (g->slots_free & (1u << k)) {
			g->slots_free &= ~(1u << k);
			return k;
		}
	cg_fail(g, -E2BIG, "too complex: needs more than the %d memory slots mem%u..mem13 "
		"(split it into fewer live values)", GEN_MEM_NINST - (int)g->vm->ninputs,
		g->vm->ninputs);
	return 0;
}

static void slot_free(struct cg *g, int k)
{
	g->slots_free |= 1u << k;
}

static int temp_new(struct cg *g)
{
	for (int i = 0; i < NTEMPS; i++)
		if (!g->t[i].live) {
			g->t[i].live = true;
			g->t[i].reg = g->t[i].slot = -1;
			return i;
		}
	cg_fail(g, -E2BIG, "expression too large");
	return 0;
}

static void spill(struct cg *g, int r)
{
	int t = g->regs[r];

	if (t < 0)
		return;
	g->t[t].slot = slot_alloc(g);
	g->t[t].reg = -1;
	g->regs[r] = -1;
	emit(g, "STORE r%d, %d", r, g->t[t].slot);
}

/* A free register; spills a temp not in @pin (a register mask) if needed. */
static int reg_alloc(struct cg *g, unsigned int pin)
{
	for (int r = 0; r < LAVM_NREGS; r++)
		if (g->regs[r] < 0 && !(pin & (1u << r)))
			return r;
	for (int r = 0; r < LAVM_NREGS; r++)
		if (!(pin & (1u << r))) {
			spill(g, r);
			return r;
		}
	cg_fail(g, -E2BIG, "out of registers");
	return 0;
}

static int temp_in_reg(struct cg *g, int r)
{
	int t = temp_new(g);

	g->t[t].reg = r;
	g->regs[r] = t;
	return t;
}

/* The register holding temp @t, loading it from its slot if spilled. */
static int ensure(struct cg *g, int t, unsigned int pin)
{
	int r;

	if (g->t[t].reg >= 0)
		return g->t[t].reg;
	r = reg_alloc(g, pin);
	emit(g, "LOAD r%d, %d", r, g->t[t].slot);
	slot_free(g, g->t[t].slot);
	g->t[t].slot = -1;
	g->t[t].reg = r;
	g->regs[r] = t;
	return r;
}

static void temp_free(struct cg *g, int t)
{
	if (g->t[t].reg >= 0)
		g->regs[g->t[t].reg] = -1;
	if (g->t[t].slot >= 0)
		slot_free(g, g->t[t].slot);
	g->t[t].live = false;
}

static void flush(struct cg *g)
{
	for (int r = 0; r < LAVM_NREGS; r++)
		spill(g, r);
}

static int var_slot(struct cg *g, const char *name)
{
	for (int i = g->nvars - 1; i >= 0; i--)
		if (!strcmp(g->vars[i].name, name))
			return g->vars[i].slot;
	for (uint32_t i = 0; i < g->vm->ninputs; i++)
		if (!strcmp(g->vm->params[i], name))
			return i;
	return -1;
}

static void var_bind(struct cg *g, const char *name, int slot)
{
	if (g->nvars == (int)(sizeof(g->vars) / sizeof(g->vars[0]))) {
		cg_fail(g, -E2BIG, "too many named values");
		return;
	}
	g->vars[g->nvars].name = name;
	g->vars[g->nvars++].slot = slot;
}

static int need(const struct node *n)
{
	/* Sethi-Ullman register need, for the evaluation order of operands. */
	int a, b;

	switch (n->kind) {
	case N_BIN:
	case N_CMP:
		a = need(n->a);
		b = need(n->b);
		return a == b ? a + 1 : (a > b ? a : b);
	case N_NEG:
	case N_UN:
	case N_SHARED:
		return need(n->a);
	default:
		return 1;
	}
}

static const char *opname(int op)
{
	return lavm_isa(op)->name;
}

static void fmtnum(char *buf, size_t len, float v)
{
	gen_fmt_float(buf, len, v);
}

static int gen_node(struct cg *g, const struct node *n);

/* Both operands in registers; returns the register mask. */
static void gen_pair(struct cg *g, const struct node *n, int *ta, int *tb, int *ra, int *rb)
{
	if (need(n->b) > need(n->a)) {
		*tb = gen_node(g, n->b);
		*ta = gen_node(g, n->a);
	} else {
		*ta = gen_node(g, n->a);
		*tb = gen_node(g, n->b);
	}
	if (g->ret)
		return;
	*ra = ensure(g, *ta, 0);
	*rb = ensure(g, *tb, 1u << *ra);
}

/* Result of control flow lands in r0 (every register is free at the join). */
static int gen_into_r0(struct cg *g, const struct node *n)
{
	int t = gen_node(g, n), r;

	if (g->ret)
		return 0;
	r = ensure(g, t, 0);
	if (r != 0) {
		if (g->regs[0] >= 0)
			spill(g, 0);
		emit(g, "MOV r0, r%d", r);
	}
	temp_free(g, t);
	return 0;
}

static int gen_node(struct cg *g, const struct node *n)
{
	char k[48];
	int t, ta, tb, ra, rb, r;

	if (g->ret || !n)
		return cg_fail(g, -EINVAL, "internal: empty node"), 0;
	switch (n->kind) {
	case N_NUM:
		r = reg_alloc(g, 0);
		fmtnum(k, sizeof(k), n->num);
		emit(g, "SETI r%d, %s", r, k);
		return temp_in_reg(g, r);
	case N_VAR:
	case N_ID:
	case N_NINST: {
		int slot = n->kind == N_ID ? GEN_MEM_ID : n->kind == N_NINST ? GEN_MEM_NINST :
			var_slot(g, n->name);

		if (slot < 0)
			return cg_fail(g, -EINVAL, "%d:%d: '%s' has no value here", n->line, n->col,
				       n->name), 0;
		r = reg_alloc(g, 0);
		emit(g, "LOAD r%d, %d", r, slot);
		return temp_in_reg(g, r);
	}
	case N_BIN:
		/* x * c is SCALE (one linear instruction, no register for c). */
		if (n->op == LAVM_OP_MUL && (n->b->kind == N_NUM || n->a->kind == N_NUM)) {
			const struct node *c = n->b->kind == N_NUM ? n->b : n->a;
			const struct node *x = c == n->b ? n->a : n->b;

			t = gen_node(g, x);
			if (g->ret)
				return 0;
			r = ensure(g, t, 0);
			fmtnum(k, sizeof(k), c->num);
			emit(g, "SCALE r%d, r%d, %s", r, r, k);
			return t;
		}
		gen_pair(g, n, &ta, &tb, &ra, &rb);
		if (g->ret)
			return 0;
		emit(g, "%s r%d, r%d, r%d", opname(n->op), ra, ra, rb);
		temp_free(g, tb);
		return ta;
	case N_NEG:
	case N_UN:
		t = gen_node(g, n->a);
		if (g->ret)
			return 0;
		r = ensure(g, t, 0);
		emit(g, "%s r%d, r%d", n->kind == N_NEG ? "NEG" : opname(n->op), r, r);
		return t;
	case N_SHARED:
		t = gen_node(g, n->a);
		if (g->ret)
			return 0;
		r = ensure(g, t, 0);
		emit(g, "SYSCALL_READ r%d, r%d", r, r);
		return t;
	case N_CMP: {
		int lt = g->labels++, le = g->labels++;

		gen_pair(g, n, &ta, &tb, &ra, &rb);
		if (g->ret)
			return 0;
		emit(g, "CMP r%d, r%d, r%d", ra, ra, rb);
		temp_free(g, tb);
		emit(g, "%s r%d, L%d", opname(n->op), ra, lt);
		emit(g, "SETI r%d, 0", ra);
		emit(g, "JUMP L%d", le);
		gen_buf_printf(&g->out, "L%d:\n", lt);
		emit(g, "SETI r%d, 1", ra);
		gen_buf_printf(&g->out, "L%d:\n", le);
		return ta;
	}
	case N_IF: {
		int lthen = g->labels++, lend = g->labels++;
		const struct node *c = n->a;

		flush(g);
		if (c->kind == N_CMP) {
			gen_pair(g, c, &ta, &tb, &ra, &rb);
			if (g->ret)
				return 0;
			emit(g, "CMP r%d, r%d, r%d", ra, ra, rb);
			temp_free(g, tb);
			temp_free(g, ta);
			emit(g, "%s r%d, L%d", opname(c->op), ra, lthen);
		} else {
			/* Truthy: not within the branch epsilon of 0 (NaN is truthy). */
			t = gen_node(g, c);
			if (g->ret)
				return 0;
			r = ensure(g, t, 0);
			temp_free(g, t);
			emit(g, "BRANCH_NE r%d, L%d", r, lthen);
		}
		flush(g);
		gen_into_r0(g, n->c);
		emit(g, "JUMP L%d", lend);
		gen_buf_printf(&g->out, "L%d:\n", lthen);
		gen_into_r0(g, n->b);
		gen_buf_printf(&g->out, "L%d:\n", lend);
		if (g->ret)
			return 0;
		return temp_in_reg(g, 0);
	}
	case N_FOLD: {
		int si, shi, sacc, ltop = g->labels++, lbody = g->labels++, lend = g->labels++;
		int nvars = g->nvars;

		si = slot_alloc(g);
		shi = slot_alloc(g);
		sacc = slot_alloc(g);
		if (g->ret)
			return 0;
		const struct node *parts[3] = { n->a, n->b, n->c };
		const int slots[3] = { si, shi, sacc };

		for (int i = 0; i < 3; i++) {
			t = gen_node(g, parts[i]);
			if (g->ret)
				return 0;
			r = ensure(g, t, 0);
			emit(g, "STORE r%d, %d", r, slots[i]);
			temp_free(g, t);
		}
		flush(g);
		gen_buf_printf(&g->out, "L%d:\n", ltop);
		emit(g, "LOAD r0, %d", si);
		emit(g, "LOAD r1, %d", shi);
		emit(g, "CMP r0, r0, r1");
		emit(g, "BRANCH_LT r0, L%d", lbody);
		emit(g, "JUMP L%d", lend);
		gen_buf_printf(&g->out, "L%d:\n", lbody);
		var_bind(g, n->name, si);
		var_bind(g, n->acc, sacc);
		t = gen_node(g, n->d);
		if (g->ret)
			return 0;
		r = ensure(g, t, 0);
		emit(g, "STORE r%d, %d", r, sacc);
		temp_free(g, t);
		flush(g);
		g->nvars = nvars;
		emit(g, "LOAD r0, %d", si);
		emit(g, "SETI r1, 1");
		emit(g, "ADD r0, r0, r1");
		emit(g, "STORE r0, %d", si);
		emit(g, "JUMP L%d", ltop);
		gen_buf_printf(&g->out, "L%d:\n", lend);
		slot_free(g, si);
		slot_free(g, shi);
		/* The result stays in its slot until used. */
		t = temp_new(g);
		g->t[t].slot = sacc;
		return t;
	}
	}
	return cg_fail(g, -EINVAL, "internal: node kind %d", n->kind), 0;
}

int gen_formula_codegen(const struct gen_vm *vm, const struct gen_formula *f, char **asm_out,
			struct gen_error *err)
{
	struct gen_error dummy;
	struct cg *g;
	int last = -1, ret;

	*asm_out = NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->vm = vm;
	g->err = err ? err : &dummy;
	for (int r = 0; r < LAVM_NREGS; r++)
		g->regs[r] = -1;
	for (int k = vm->ninputs; k < GEN_MEM_NINST; k++)
		g->slots_free |= 1u << k;
	gen_buf_printf(&g->out, "# generated by genclient's formula compiler\n");
	if (vm->shared_size)
		gen_buf_printf(&g->out, ".shared %u\n", vm->shared_size);
	for (uint32_t i = 0; i < f->nstmts && !g->ret; i++) {
		const struct stmt *s = &f->stmts[i];
		int t, ti, r, ri;

		switch (s->kind) {
		case S_ASSIGN: {
			int slot = var_slot(g, s->name);

			t = gen_node(g, s->val);
			if (g->ret)
				break;
			if (slot < 0) {
				slot = slot_alloc(g);
				var_bind(g, s->name, slot);
			}
			r = ensure(g, t, 0);
			emit(g, "STORE r%d, %d", r, slot);
			temp_free(g, t);
			break;
		}
		case S_WRITE:
			ti = gen_node(g, s->idx);
			t = gen_node(g, s->val);
			if (g->ret)
				break;
			ri = ensure(g, ti, 0);
			r = ensure(g, t, 1u << ri);
			emit(g, "SYSCALL_WRITE r%d, r%d", ri, r);
			temp_free(g, ti);
			temp_free(g, t);
			break;
		case S_EXPR:
			last = gen_node(g, s->val);
			break;
		}
	}
	if (!g->ret && last >= 0) {
		int r = ensure(g, last, 0);

		if (r != 0)
			emit(g, "MOV r0, r%d", r);
	} else if (!g->ret) {
		for (uint32_t o = 0; o < vm->noutputs; o++) {
			int slot = var_slot(g, vm->outputs[o]);

			if (slot >= 0)
				emit(g, "LOAD r%u, %d", o, slot);
		}
	}
	emit(g, "HALT");
	ret = g->ret;
	if (!ret && g->out.oom)
		ret = -ENOMEM;
	if (ret)
		gen_buf_free(&g->out);
	else
		*asm_out = gen_buf_take(&g->out);
	free(g);
	return ret;
}

int gen_formula_compile_text(const struct gen_vm *vm, const char *text, char **asm_out,
			     struct gen_error *err)
{
	struct gen_formula *f;
	int ret;

	ret = gen_formula_parse(vm, text, &f, err);
	if (ret)
		return ret;
	ret = gen_formula_codegen(vm, f, asm_out, err);
	gen_formula_free(f);
	return ret;
}

int gen_formula_compile(const struct gen_vm *vm, char **asm_out, struct gen_error *err)
{
	if (!vm->formula) {
		*asm_out = NULL;
		return gen_err(err, -EINVAL, "", "VM '%s' has no formula", vm->name);
	}
	return gen_formula_compile_text(vm, vm->formula, asm_out, err);
}
