/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* genclient internals: shared by the spec parser, the generators and the driver. */
#ifndef GEN_INTERNAL_H
#define GEN_INTERNAL_H

#include <stdarg.h>
#include "genclient.h"

/* A growing NUL-terminated string. */
struct gen_buf {
	char *s;
	size_t len, cap;
	bool oom;
};

void gen_buf_printf(struct gen_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gen_buf_put(struct gen_buf *b, const char *s, size_t len);
char *gen_buf_take(struct gen_buf *b);	/* the string (never NULL unless oom); resets @b */
void gen_buf_free(struct gen_buf *b);

int gen_err(struct gen_error *err, int code, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

uint64_t gen_now_ns(void);
/* %.9g, or inf/-inf/nan: round-trips every f32. */
void gen_fmt_float(char *buf, size_t len, float f);
/* Output comparison: equal bits, both zeros, or both NaN. */
bool gen_same_value(float a, float b);

/* ------------------------------------------------------------ formulas */

struct gen_formula;
/* Parses @vm->formula against the VM's names; errors "formula:L:C: ...". */
int gen_formula_parse(const struct gen_vm *vm, const char *text, struct gen_formula **out,
		      struct gen_error *err);
void gen_formula_free(struct gen_formula *f);
/* True when the formula ends with a bare expression (its value is output 0). */
bool gen_formula_bare(const struct gen_formula *f);
int gen_formula_codegen(const struct gen_vm *vm, const struct gen_formula *f, char **asm_out,
			struct gen_error *err);
/* Compiles formula @text (not necessarily vm->formula) for @vm. */
int gen_formula_compile_text(const struct gen_vm *vm, const char *text, char **asm_out,
			     struct gen_error *err);

/* ------------------------------------------------------------ the loop */

/*
 * struct gen_ctx - one gen_generate() call, as the generators see it.
 * Generators propose candidates with gen_try_candidate(); the first that
 * assembles, verifies and passes every example is kept in @img/@asm_text.
 */
struct gen_ctx {
	const struct gen_spec *spec;
	const struct gen_vm *vm;
	const struct gen_options *opt;
	struct gen_buf report;
	uint64_t candidates;	/* proposed to gen_try_candidate() or evaluated by a search */
	uint32_t rounds;
	uint64_t start_ns, deadline_ns;
	char last_fail[512];
	bool accepted;
	struct lavm_image img;
	char *asm_text;
};

/*
 * Assembles @src, verifies it and runs it on every example.  Returns 0 and
 * keeps the program, or a negative errno with the reason in @why (the text
 * fed back to the next attempt).
 */
int gen_try_candidate(struct gen_ctx *ctx, const char *src, size_t len, char *why, size_t whylen);
bool gen_out_of_time(const struct gen_ctx *ctx);
void gen_log(struct gen_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int gen_run_compiler(struct gen_ctx *ctx);
int gen_run_synth(struct gen_ctx *ctx);
int gen_run_ai(struct gen_ctx *ctx);

/* ------------------------------------------------------------ cache */

int gen_cache_lookup(struct gen_ctx *ctx, const char *dir, const char *key, struct gen_result *res);
int gen_cache_store(const char *dir, const char *key, const struct gen_result *res,
		    char *path_out, size_t pathlen);

#endif /* GEN_INTERNAL_H */
