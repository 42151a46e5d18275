// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The spec: JSON (json-c) into struct gen_spec, validated field by field.
 * Every error names the JSON path of the value at fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include "gen_internal.h"

/* ------------------------------------------------------------ small helpers */

void gen_buf_put(struct gen_buf *b, const char *s, size_t len)
{
	if (b->oom)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *n;

		while (cap < b->len + len + 1)
			cap *= 2;
		n = realloc(b->s, cap);
		if (!n) {
			b->oom = true;
			return;
		}
		b->s = n;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = 0;
}

void gen_buf_printf(struct gen_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		gen_buf_put(b, small, n);
		return;
	}
	char *big = malloc((size_t)n + 1);

	if (!big) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	gen_buf_put(b, big, n);
	free(big);
}

char *gen_buf_take(struct gen_buf *b)
{
	char *s;

	if (b->oom) {
		gen_buf_free(b);
		return NULL;
	}
	if (!b->s)
		gen_buf_put(b, "", 0);
	s = b->s;
	memset(b, 0, sizeof(*b));
	return s;
}

void gen_buf_free(struct gen_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

int gen_err(struct gen_error *err, int code, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

uint64_t gen_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void gen_fmt_float(char *buf, size_t len, float f)
{
	if (isnan(f))
		snprintf(buf, len, "nan");
	else if (isinf(f))
		snprintf(buf, len, f > 0 ? "inf" : "-inf");
	else
		snprintf(buf, len, "%.9g", f);
}

bool gen_same_value(float a, float b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return a == b;	/* +0 == -0 */
}

/* ------------------------------------------------------------ parsing */

struct parse {
	const char *file;
	struct gen_error *err;
	char path[128];
};

static int perr(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct parse *p, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return gen_err(p->err, -EINVAL, p->path, "%s: %s: %s", p->file, p->path, msg);
}

/* Sets p->path to @base + @suffix for the duration of a check. */
static void setpath(struct parse *p, const char *base, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void setpath(struct parse *p, const char *base, const char *fmt, ...)
{
	char tail[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tail, sizeof(tail), fmt, ap);
	va_end(ap);
	snprintf(p->path, sizeof(p->path), "%s%s", base, tail);
}

static int check_keys(struct parse *p, json_object *o, const char *base, const char *const *keys)
{
	json_object_object_foreach(o, k, v) {
		const char *const *kk;

		(void)v;
		for (kk = keys; *kk; kk++)
			if (!strcmp(*kk, k))
				break;
		if (!*kk) {
			setpath(p, base, ".%s", k);
			return perr(p, "unknown field \"%s\"", k);
		}
	}
	return 0;
}

/* A number, or one of the strings "inf", "-inf", "nan" (as lavm's JSON). */
static int get_float(struct parse *p, json_object *v, float *out)
{
	if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
		double d = json_object_get_double(v);

		if (isfinite(d) && fabs(d) > 3.4028234663852886e38)
			return perr(p, "%g does not fit in an f32", d);
		*out = (float)d;
		return 0;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		if (!strcmp(s, "inf"))
			*out = INFINITY;
		else if (!strcmp(s, "-inf"))
			*out = -INFINITY;
		else if (!strcmp(s, "nan"))
			*out = NAN;
		else
			return perr(p, "expected a number, \"inf\", \"-inf\" or \"nan\", got \"%s\"", s);
		return 0;
	}
	return perr(p, "expected a number, got %s", json_type_to_name(json_object_get_type(v)));
}

static int get_u64(struct parse *p, json_object *v, uint64_t min, uint64_t max, uint64_t *out)
{
	int64_t x;

	if (!json_object_is_type(v, json_type_int))
		return perr(p, "expected an integer, got %s", json_type_to_name(json_object_get_type(v)));
	errno = 0;
	x = json_object_get_int64(v);
	if (x < 0 || (uint64_t)x < min || (uint64_t)x > max)
		return perr(p, "%lld is out of range %llu..%llu", (long long)x,
			    (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)x;
	return 0;
}

static int get_string(struct parse *p, json_object *v, char **out)
{
	if (json_object_is_type(v, json_type_array)) {
		/* An array of lines (convenient for source programs). */
		struct gen_buf b = {0};

		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *l = json_object_array_get_idx(v, i);

			if (!json_object_is_type(l, json_type_string)) {
				gen_buf_free(&b);
				return perr(p, "line %zu: expected a string", i);
			}
			gen_buf_printf(&b, "%s\n", json_object_get_string(l));
		}
		*out = gen_buf_take(&b);
		return *out ? 0 : -ENOMEM;
	}
	if (!json_object_is_type(v, json_type_string))
		return perr(p, "expected a string, got %s", json_type_to_name(json_object_get_type(v)));
	*out = strdup(json_object_get_string(v));
	return *out ? 0 : -ENOMEM;
}

static bool valid_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_' ||
		      *s == '-' || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

/* Names used by formulas: letters, digits, '_' (no '-'), not a keyword. */
static bool valid_var(const char *s)
{
	static const char *const kw[] = { "if", "then", "else", "and", "or", "not", "shared",
		"id", "instances", "sum", "prod", "fold", "repeat", "min", "max", "abs", "sqrt",
		"sin", "cos", NULL };

	if (!valid_name(s) || strchr(s, '-'))
		return false;
	for (const char *const *k = kw; *k; k++)
		if (!strcmp(*k, s))
			return false;
	return true;
}

static int parse_names(struct parse *p, json_object *v, const char *base, char **names,
		       uint32_t max, uint32_t *n)
{
	if (!json_object_is_type(v, json_type_array))
		return perr(p, "expected an array of names");
	if (json_object_array_length(v) > max)
		return perr(p, "%zu names, at most %u", json_object_array_length(v), max);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *e = json_object_array_get_idx(v, i);
		int ret;

		setpath(p, base, "[%zu]", i);
		if ((ret = get_string(p, e, &names[i])))
			return ret;
		*n = i + 1;
		if (!valid_var(names[i]))
			return perr(p, "\"%s\" is not a valid variable name (letters, digits, '_'; not a keyword)",
				    names[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(names[j], names[i]))
				return perr(p, "\"%s\" appears twice", names[i]);
	}
	return 0;
}

/* Values by position ([1, 2]) or by name ({"a": 1}); a lone number for one. */
static int parse_values(struct parse *p, json_object *v, const char *base, char *const *names,
			uint32_t n, float *vals, const char *what)
{
	int ret;

	setpath(p, base, "%s", "");
	if (json_object_is_type(v, json_type_array)) {
		if (json_object_array_length(v) != n)
			return perr(p, "expected %u %s, got %zu", n, what, json_object_array_length(v));
		for (uint32_t i = 0; i < n; i++) {
			setpath(p, base, "[%u]", i);
			if ((ret = get_float(p, json_object_array_get_idx(v, i), &vals[i])))
				return ret;
		}
		return 0;
	}
	if (json_object_is_type(v, json_type_object)) {
		bool seen[GEN_MAX_INPUTS] = { false };

		json_object_object_foreach(v, k, e) {
			uint32_t i;

			setpath(p, base, ".%s", k);
			for (i = 0; i < n; i++)
				if (!strcmp(names[i], k))
					break;
			if (i == n)
				return perr(p, "\"%s\" is not one of the VM's %s", k, what);
			if ((ret = get_float(p, e, &vals[i])))
				return ret;
			seen[i] = true;
		}
		for (uint32_t i = 0; i < n; i++)
			if (!seen[i]) {
				setpath(p, base, "%s", "");
				return perr(p, "missing %s \"%s\"", what, names[i]);
			}
		return 0;
	}
	if (n == 1)
		return get_float(p, v, &vals[0]);
	return perr(p, "expected an array or an object of %u %s", n, what);
}

/* Shared words: an array from index 0, or {"index": value}. */
static int parse_words(struct parse *p, json_object *v, const char *base, uint32_t size,
		       struct gen_word **out, uint32_t *n)
{
	size_t cnt;
	int ret;

	setpath(p, base, "%s", "");
	if (json_object_is_type(v, json_type_array))
		cnt = json_object_array_length(v);
	else if (json_object_is_type(v, json_type_object))
		cnt = json_object_object_length(v);
	else
		return perr(p, "expected an array or an object {\"index\": value}");
	if (cnt > size)
		return perr(p, "%zu words, but shared.size is %u", cnt, size);
	*out = calloc(cnt + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < cnt; i++) {
			setpath(p, base, "[%zu]", i);
			(*out)[i].index = i;
			if ((ret = get_float(p, json_object_array_get_idx(v, i), &(*out)[i].value)))
				return ret;
			*n = i + 1;
		}
		return 0;
	}
	json_object_object_foreach(v, k, e) {
		char *end;
		unsigned long idx;

		setpath(p, base, ".%s", k);
		errno = 0;
		idx = strtoul(k, &end, 10);
		if (!*k || *end || errno || k[0] == '-' || k[0] == '+')
			return perr(p, "\"%s\" is not a word index", k);
		if (idx >= size)
			return perr(p, "index %lu is outside shared memory (size %u)", idx, size);
		for (uint32_t j = 0; j < *n; j++)
			if ((*out)[j].index == idx)
				return perr(p, "index %lu given twice", idx);
		(*out)[*n].index = idx;
		if ((ret = get_float(p, e, &(*out)[*n].value)))
			return ret;
		(*n)++;
	}
	return 0;
}

static int parse_quota(struct parse *p, json_object *v, const char *base, struct gen_quota *q,
		       bool fabric, uint64_t *max_vms)
{
	static const char *const keys[] = { "mem_bytes", "epochs", "queue_depth", "max_vms", NULL };
	json_object *e;
	int ret;

	setpath(p, base, "%s", "");
	if (!json_object_is_type(v, json_type_object))
		return perr(p, "expected an object");
	if ((ret = check_keys(p, v, base, keys)))
		return ret;
	if (json_object_object_get_ex(v, "mem_bytes", &e)) {
		setpath(p, base, ".mem_bytes");
		if ((ret = get_u64(p, e, 0, UINT64_MAX >> 1, &q->mem_bytes)))
			return ret;
	}
	if (json_object_object_get_ex(v, "epochs", &e)) {
		setpath(p, base, ".epochs");
		if ((ret = get_u64(p, e, 0, UINT32_MAX, &q->epochs)))
			return ret;
	}
	if (json_object_object_get_ex(v, "queue_depth", &e)) {
		uint64_t x;

		setpath(p, base, ".queue_depth");
		if ((ret = get_u64(p, e, 0, UINT32_MAX, &x)))
			return ret;
		q->queue_depth = x;
	}
	if (json_object_object_get_ex(v, "max_vms", &e)) {
		setpath(p, base, ".max_vms");
		if (!fabric)
			return perr(p, "max_vms is a fabric quota, not a VM quota");
		if ((ret = get_u64(p, e, 0, UINT32_MAX, max_vms)))
			return ret;
	}
	return 0;
}

static bool same_words(const struct gen_word *a, uint32_t na, const struct gen_word *b, uint32_t nb)
{
	/* Order-insensitive, +0 == -0: both lists set the same words alike. */
	if (na != nb)
		return false;
	for (uint32_t i = 0; i < na; i++) {
		uint32_t j;

		for (j = 0; j < nb; j++)
			if (a[i].index == b[j].index && gen_same_value(a[i].value, b[j].value))
				break;
		if (j == nb)
			return false;
	}
	return true;
}

static bool same_inputs(const struct gen_example *a, const struct gen_example *b)
{
	for (uint32_t i = 0; i < a->nin; i++)
		if (!gen_same_value(a->in[i], b->in[i]))
			return false;
	return same_words(a->shared_in, a->nshared_in, b->shared_in, b->nshared_in);
}

/* Two examples with the same inputs must not demand different results. */
static const char *contradiction(const struct gen_example *a, const struct gen_example *b)
{
	if (a->nout && b->nout)
		for (uint32_t i = 0; i < a->nout; i++)
			if (!gen_same_value(a->out[i], b->out[i]))
				return "output";
	for (uint32_t i = 0; i < a->nshared_out; i++)
		for (uint32_t j = 0; j < b->nshared_out; j++)
			if (a->shared_out[i].index == b->shared_out[j].index &&
			    !gen_same_value(a->shared_out[i].value, b->shared_out[j].value))
				return "shared_out";
	return NULL;
}

static int parse_example(struct parse *p, json_object *o, const char *base, struct gen_vm *vm,
			 struct gen_example *ex)
{
	static const char *const keys[] = { "in", "out", "shared_in", "shared_out", "comment", NULL };
	char sub[128];
	json_object *e;
	int ret;

	setpath(p, base, "%s", "");
	if (!json_object_is_type(o, json_type_object))
		return perr(p, "expected an object {\"in\": ..., \"out\": ...}");
	if ((ret = check_keys(p, o, base, keys)))
		return ret;
	ex->nin = vm->ninputs;
	if (json_object_object_get_ex(o, "in", &e)) {
		snprintf(sub, sizeof(sub), "%s.in", base);
		if ((ret = parse_values(p, e, sub, vm->params, vm->ninputs, ex->in, "inputs")))
			return ret;
	} else if (vm->ninputs) {
		return perr(p, "missing \"in\" (the VM has %u params)", vm->ninputs);
	}
	if (json_object_object_get_ex(o, "out", &e)) {
		snprintf(sub, sizeof(sub), "%s.out", base);
		if (!vm->noutputs) {
			setpath(p, sub, "%s", "");
			return perr(p, "the VM has no outputs (set \"outputs\")");
		}
		ex->nout = vm->noutputs;
		if ((ret = parse_values(p, e, sub, vm->outputs, vm->noutputs, ex->out, "outputs")))
			return ret;
	}
	if (json_object_object_get_ex(o, "shared_in", &e)) {
		snprintf(sub, sizeof(sub), "%s.shared_in", base);
		if ((ret = parse_words(p, e, sub, vm->shared_size, &ex->shared_in, &ex->nshared_in)))
			return ret;
	}
	if (json_object_object_get_ex(o, "shared_out", &e)) {
		snprintf(sub, sizeof(sub), "%s.shared_out", base);
		if ((ret = parse_words(p, e, sub, vm->shared_size, &ex->shared_out, &ex->nshared_out)))
			return ret;
	}
	if (!ex->nout && !ex->nshared_out) {
		setpath(p, base, "%s", "");
		return perr(p, "an example must check something: give \"out\" or \"shared_out\"");
	}
	return 0;
}

static int parse_vm(struct parse *p, json_object *o, uint32_t idx, struct gen_vm *vm)
{
	static const char *const keys[] = { "name", "intent", "formula", "source", "params",
		"outputs", "instances", "inputs", "shared", "examples", "quota", "backend",
		"comment", NULL };
	char base[64], sub[128];
	json_object *e;
	uint64_t x;
	int ret;

	snprintf(base, sizeof(base), "$.vms[%u]", idx);
	setpath(p, base, "%s", "");
	if (!json_object_is_type(o, json_type_object))
		return perr(p, "expected an object");
	if ((ret = check_keys(p, o, base, keys)))
		return ret;
	if (!json_object_object_get_ex(o, "name", &e))
		return perr(p, "missing \"name\"");
	setpath(p, base, ".name");
	if ((ret = get_string(p, e, &vm->name)))
		return ret;
	if (!valid_name(vm->name) || strlen(vm->name) > 63)
		return perr(p, "\"%s\" is not a valid VM name ([A-Za-z_][A-Za-z0-9_-]*, <= 63)", vm->name);
	if (json_object_object_get_ex(o, "intent", &e)) {
		setpath(p, base, ".intent");
		if ((ret = get_string(p, e, &vm->intent)))
			return ret;
	}
	if (json_object_object_get_ex(o, "formula", &e)) {
		setpath(p, base, ".formula");
		if ((ret = get_string(p, e, &vm->formula)))
			return ret;
	}
	if (json_object_object_get_ex(o, "source", &e)) {
		setpath(p, base, ".source");
		if ((ret = get_string(p, e, &vm->source)))
			return ret;
	}
	if (json_object_object_get_ex(o, "params", &e)) {
		snprintf(sub, sizeof(sub), "%s.params", base);
		setpath(p, sub, "%s", "");
		if ((ret = parse_names(p, e, sub, vm->params, GEN_MAX_INPUTS, &vm->ninputs)))
			return ret;
	}
	if (json_object_object_get_ex(o, "outputs", &e)) {
		snprintf(sub, sizeof(sub), "%s.outputs", base);
		setpath(p, sub, "%s", "");
		if ((ret = parse_names(p, e, sub, vm->outputs, GEN_MAX_OUTPUTS, &vm->noutputs)))
			return ret;
		for (uint32_t i = 0; i < vm->noutputs; i++)
			for (uint32_t j = 0; j < vm->ninputs; j++)
				if (!strcmp(vm->outputs[i], vm->params[j])) {
					setpath(p, sub, "[%u]", i);
					return perr(p, "\"%s\" is both a param and an output", vm->outputs[i]);
				}
	}
	if (json_object_object_get_ex(o, "backend", &e)) {
		char *b = NULL;

		setpath(p, base, ".backend");
		if ((ret = get_string(p, e, &b)))
			return ret;
		if (!strcmp(b, "kvm"))
			vm->backend = GEN_BACKEND_KVM;
		else if (strcmp(b, "lavm"))
			ret = perr(p, "backend \"%s\": \"lavm\" or \"kvm\"", b);
		free(b);
		if (ret)
			return ret;
	}
	vm->instances = 1;
	if (json_object_object_get_ex(o, "instances", &e)) {
		setpath(p, base, ".instances");
		if ((ret = get_u64(p, e, 1, GEN_MAX_INSTANCES, &x)))
			return ret;
		vm->instances = x;
	}
	if (json_object_object_get_ex(o, "shared", &e)) {
		static const char *const skeys[] = { "size", "init", NULL };
		json_object *s;

		snprintf(sub, sizeof(sub), "%s.shared", base);
		setpath(p, sub, "%s", "");
		if (!json_object_is_type(e, json_type_object))
			return perr(p, "expected an object {\"size\": N, \"init\": ...}");
		if ((ret = check_keys(p, e, sub, skeys)))
			return ret;
		if (!json_object_object_get_ex(e, "size", &s))
			return perr(p, "missing \"size\"");
		setpath(p, sub, ".size");
		if ((ret = get_u64(p, s, 1, GEN_MAX_SHARED, &x)))
			return ret;
		vm->shared_size = x;
		if (json_object_object_get_ex(e, "init", &s)) {
			snprintf(sub, sizeof(sub), "%s.shared.init", base);
			if ((ret = parse_words(p, s, sub, vm->shared_size, &vm->shared_init,
					       &vm->nshared_init)))
				return ret;
		}
	}
	if (json_object_object_get_ex(o, "inputs", &e)) {
		snprintf(sub, sizeof(sub), "%s.inputs", base);
		if ((ret = parse_values(p, e, sub, vm->params, vm->ninputs, vm->input, "params")))
			return ret;
	}
	vm->max_epochs = 100000;
	if (json_object_object_get_ex(o, "quota", &e)) {
		snprintf(sub, sizeof(sub), "%s.quota", base);
		if ((ret = parse_quota(p, e, sub, &vm->quota, false, NULL)))
			return ret;
		if (vm->quota.epochs)
			vm->max_epochs = vm->quota.epochs;
	}
	if (vm->formula) {
		struct gen_formula *f;
		struct gen_error ferr;

		ret = gen_formula_parse(vm, vm->formula, &f, &ferr);
		if (ret) {
			setpath(p, base, ".formula");
			if (ret == -ENOMEM)
				return ret;
			return gen_err(p->err, ret, p->path, "%s: %s: %s", p->file, p->path, ferr.msg);
		}
		/* A formula that ends in a bare expression computes "result". */
		if (!vm->noutputs && gen_formula_bare(f)) {
			vm->outputs[0] = strdup("result");
			vm->noutputs = 1;
		}
		gen_formula_free(f);
		if (!vm->outputs[0] && vm->noutputs)
			return -ENOMEM;
	}
	if (json_object_object_get_ex(o, "examples", &e)) {
		size_t n;

		snprintf(sub, sizeof(sub), "%s.examples", base);
		setpath(p, sub, "%s", "");
		if (!json_object_is_type(e, json_type_array))
			return perr(p, "expected an array of examples");
		n = json_object_array_length(e);
		if (n > 1024)
			return perr(p, "%zu examples, at most 1024", n);
		vm->examples = calloc(n + 1, sizeof(*vm->examples));
		if (!vm->examples)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			char eb[128];

			snprintf(eb, sizeof(eb), "%s[%zu]", sub, i);
			vm->nexamples = i + 1;
			if ((ret = parse_example(p, json_object_array_get_idx(e, i), eb, vm,
						 &vm->examples[i])))
				return ret;
			for (size_t j = 0; j < i; j++) {
				const char *what;

				if (!same_inputs(&vm->examples[j], &vm->examples[i]))
					continue;
				what = contradiction(&vm->examples[j], &vm->examples[i]);
				if (what) {
					setpath(p, eb, "%s", "");
					return perr(p, "contradicts %s[%zu]: same inputs, different %s",
						    sub, j, what);
				}
			}
		}
	}
	setpath(p, base, "%s", "");
	if (!vm->intent && !vm->formula && !vm->source && !vm->nexamples)
		return perr(p, "nothing to generate from: give an intent, a formula, a source or examples");
	return 0;
}

static void free_vm(struct gen_vm *vm)
{
	free(vm->name);
	free(vm->intent);
	free(vm->formula);
	free(vm->source);
	for (uint32_t i = 0; i < GEN_MAX_INPUTS; i++)
		free(vm->params[i]);
	for (uint32_t i = 0; i < GEN_MAX_OUTPUTS; i++)
		free(vm->outputs[i]);
	free(vm->shared_init);
	for (uint32_t i = 0; i < vm->nexamples; i++) {
		free(vm->examples[i].shared_in);
		free(vm->examples[i].shared_out);
	}
	free(vm->examples);
}

void gen_spec_free(struct gen_spec *spec)
{
	if (!spec)
		return;
	for (uint32_t i = 0; i < spec->nvms; i++)
		free_vm(&spec->vms[i]);
	free(spec->vms);
	free(spec->edges);
	free(spec->name);
	free(spec->path);
	free(spec);
}

int gen_spec_find_vm(const struct gen_spec *spec, const char *name)
{
	for (uint32_t i = 0; i < spec->nvms; i++)
		if (!strcmp(spec->vms[i].name, name))
			return i;
	return -ENOENT;
}

static int parse_rights(struct parse *p, json_object *v, uint32_t *rights)
{
	static const struct { const char *name; uint32_t bit; } tab[] = {
		{ "send", GEN_RIGHT_SEND }, { "recv", GEN_RIGHT_RECV },
		{ "share", GEN_RIGHT_SHARE }, { "grant", GEN_RIGHT_GRANT },
	};

	if (!json_object_is_type(v, json_type_array) || !json_object_array_length(v))
		return perr(p, "expected a non-empty array of \"send\", \"recv\", \"share\", \"grant\"");
	*rights = 0;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *r = json_object_array_get_idx(v, i);
		const char *s = json_object_is_type(r, json_type_string) ? json_object_get_string(r) : "";
		size_t k;

		for (k = 0; k < sizeof(tab) / sizeof(tab[0]); k++)
			if (!strcmp(tab[k].name, s))
				break;
		if (k == sizeof(tab) / sizeof(tab[0]))
			return perr(p, "[%zu]: unknown right \"%s\" (send, recv, share, grant)", i, s);
		*rights |= tab[k].bit;
	}
	return 0;
}

static int parse_spec(struct parse *p, json_object *root, struct gen_spec *spec)
{
	static const char *const keys[] = { "fabric", "vms", "edges", "quota", "comment", NULL };
	json_object *e;
	uint64_t max_vms = 0;
	int ret;

	setpath(p, "$", "%s", "");
	if (!json_object_is_type(root, json_type_object))
		return perr(p, "a spec is a JSON object {\"fabric\": ..., \"vms\": [...]}");
	if ((ret = check_keys(p, root, "$", keys)))
		return ret;
	if (json_object_object_get_ex(root, "fabric", &e)) {
		setpath(p, "$.fabric", "%s", "");
		if ((ret = get_string(p, e, &spec->name)))
			return ret;
		if (!valid_name(spec->name))
			return perr(p, "\"%s\" is not a valid fabric name", spec->name);
	} else {
		spec->name = strdup("fabric");
		if (!spec->name)
			return -ENOMEM;
	}
	if (json_object_object_get_ex(root, "quota", &e) &&
	    (ret = parse_quota(p, e, "$.quota", &spec->quota, true, &max_vms)))
		return ret;
	setpath(p, "$.vms", "%s", "");
	if (!json_object_object_get_ex(root, "vms", &e))
		return perr(p, "missing \"vms\"");
	if (!json_object_is_type(e, json_type_array) || !json_object_array_length(e))
		return perr(p, "expected a non-empty array of VMs");
	if (json_object_array_length(e) > 1024)
		return perr(p, "%zu VMs, at most 1024", json_object_array_length(e));
	if (max_vms && json_object_array_length(e) > max_vms)
		return perr(p, "%zu VMs, but quota.max_vms is %llu", json_object_array_length(e),
			    (unsigned long long)max_vms);
	spec->max_vms = (uint32_t)max_vms;
	spec->vms = calloc(json_object_array_length(e), sizeof(*spec->vms));
	if (!spec->vms)
		return -ENOMEM;
	for (size_t i = 0; i < json_object_array_length(e); i++) {
		spec->nvms = i + 1;
		if ((ret = parse_vm(p, json_object_array_get_idx(e, i), i, &spec->vms[i])))
			return ret;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(spec->vms[j].name, spec->vms[i].name)) {
				setpath(p, "$.vms", "[%zu].name", i);
				return perr(p, "VM name \"%s\" already used by $.vms[%zu]",
					    spec->vms[i].name, j);
			}
	}
	if (json_object_object_get_ex(root, "edges", &e)) {
		size_t n;

		setpath(p, "$.edges", "%s", "");
		if (!json_object_is_type(e, json_type_array))
			return perr(p, "expected an array of edges");
		n = json_object_array_length(e);
		spec->edges = calloc(n + 1, sizeof(*spec->edges));
		if (!spec->edges)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			static const char *const ekeys[] = { "from", "to", "rights", "comment", NULL };
			json_object *o = json_object_array_get_idx(e, i), *f, *t, *r;
			char base[64];
			struct gen_edge *edge = &spec->edges[i];
			int src, dst;

			snprintf(base, sizeof(base), "$.edges[%zu]", i);
			setpath(p, base, "%s", "");
			if (!json_object_is_type(o, json_type_object))
				return perr(p, "expected {\"from\": VM, \"to\": VM, \"rights\": [...]}");
			if ((ret = check_keys(p, o, base, ekeys)))
				return ret;
			if (!json_object_object_get_ex(o, "from", &f) ||
			    !json_object_object_get_ex(o, "to", &t) ||
			    !json_object_object_get_ex(o, "rights", &r))
				return perr(p, "an edge needs \"from\", \"to\" and \"rights\"");
			setpath(p, base, ".from");
			src = gen_spec_find_vm(spec, json_object_get_string(f));
			if (!json_object_is_type(f, json_type_string) || src < 0)
				return perr(p, "\"%s\" is not a VM of this spec", json_object_get_string(f));
			setpath(p, base, ".to");
			dst = gen_spec_find_vm(spec, json_object_get_string(t));
			if (!json_object_is_type(t, json_type_string) || dst < 0)
				return perr(p, "\"%s\" is not a VM of this spec", json_object_get_string(t));
			if (src == dst)
				return perr(p, "an edge from a VM to itself");
			setpath(p, base, ".rights");
			if ((ret = parse_rights(p, r, &edge->rights)))
				return ret;
			edge->src = src;
			edge->dst = dst;
			for (size_t j = 0; j < i; j++)
				if (spec->edges[j].src == edge->src && spec->edges[j].dst == edge->dst) {
					setpath(p, base, "%s", "");
					return perr(p, "duplicate edge (same as $.edges[%zu])", j);
				}
			spec->nedges = i + 1;
		}
	}
	return 0;
}

int gen_spec_parse(const char *json, size_t len, const char *path,
		   struct gen_spec **out, struct gen_error *err)
{
	struct gen_error dummy;
	struct parse p = { .file = path ? path : "<string>", .err = err ? err : &dummy };
	struct json_tokener *tok;
	struct gen_spec *spec;
	json_object *root;
	int ret;

	*out = NULL;
	memset(p.err, 0, sizeof(*p.err));
	if (len > (64u << 20))
		return gen_err(p.err, -E2BIG, "", "%s: spec larger than 64 MiB", p.file);
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, json, (int)len);
	if (!root || json_tokener_get_parse_end(tok) < len) {
		enum json_tokener_error jerr = json_tokener_get_error(tok);
		size_t end = json_tokener_get_parse_end(tok), line = 1, col = 1;
		const char *what = root ? "trailing characters after the JSON value" :
			jerr == json_tokener_continue ? "unexpected end of input" :
			json_tokener_error_desc(jerr);

		/* Skip trailing whitespace before calling it garbage. */
		if (root) {
			size_t i = end;

			while (i < len && strchr(" \t\r\n", json[i]))
				i++;
			if (i == len)
				goto parsed;
			end = i;
		}
		for (size_t i = 0; i < end && i < len; i++) {
			if (json[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		json_object_put(root);
		json_tokener_free(tok);
		return gen_err(p.err, -EINVAL, "", "%s:%zu:%zu: malformed JSON: %s",
			       p.file, line, col, what);
	}
parsed:
	json_tokener_free(tok);
	spec = calloc(1, sizeof(*spec));
	if (!spec) {
		json_object_put(root);
		return -ENOMEM;
	}
	spec->path = strdup(p.file);
	ret = spec->path ? parse_spec(&p, root, spec) : -ENOMEM;
	json_object_put(root);
	if (ret) {
		if (ret == -ENOMEM)
			gen_err(p.err, ret, "", "%s: out of memory", p.file);
		gen_spec_free(spec);
		return ret;
	}
	*out = spec;
	return 0;
}

int gen_spec_load(const char *path, struct gen_spec **out, struct gen_error *err)
{
	struct gen_error dummy;
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, ret;

	if (!err)
		err = &dummy;
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return gen_err(err, ret, "", "%s: %s", path, strerror(-ret));
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (64 << 20)) {
		close(fd);
		return gen_err(err, -EINVAL, "", "%s: not a regular file of at most 64 MiB", path);
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, st.st_size - got);

		if (n <= 0) {
			ret = n ? -errno : -EIO;
			free(buf);
			close(fd);
			return gen_err(err, ret, "", "%s: read: %s", path, strerror(-ret));
		}
		got += n;
	}
	close(fd);
	ret = gen_spec_parse(buf, got, path, out, err);
	free(buf);
	return ret;
}

/* ------------------------------------------------------------ hash */

static void canon_float(struct gen_buf *b, float f)
{
	uint32_t u;

	if (f == 0)
		f = 0;	/* +0 and -0 compare alike in examples */
	memcpy(&u, &f, 4);
	if (isnan(f))
		u = LAVM_CANON_NAN;
	gen_buf_printf(b, "%08x,", u);
}

static void canon_str(struct gen_buf *b, const char *tag, const char *s)
{
	gen_buf_printf(b, "%s:%zu:", tag, s ? strlen(s) : (size_t)0);
	if (s)
		gen_buf_put(b, s, strlen(s));
	gen_buf_put(b, "\n", 1);
}

static void canon_words(struct gen_buf *b, const char *tag, const struct gen_word *w, uint32_t n)
{
	gen_buf_printf(b, "%s:%u:", tag, n);
	for (uint32_t i = 0; i < n; i++) {
		gen_buf_printf(b, "%u=", w[i].index);
		canon_float(b, w[i].value);
	}
	gen_buf_put(b, "\n", 1);
}

int gen_vm_hash(const struct gen_vm *vm, char hex[GEN_HASH_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct gen_buf b = {0};
	int ret = 0;

	/* Length-prefixed fields in a fixed order: no two specs collide by framing. */
	gen_buf_printf(&b, "hyperaether-gen-vm-v1\n");
	canon_str(&b, "intent", vm->intent);
	canon_str(&b, "formula", vm->formula);
	canon_str(&b, "source", vm->source);
	for (uint32_t i = 0; i < vm->ninputs; i++)
		canon_str(&b, "param", vm->params[i]);
	for (uint32_t i = 0; i < vm->noutputs; i++)
		canon_str(&b, "output", vm->outputs[i]);
	gen_buf_printf(&b, "instances:%u\nshared:%u\nmax_epochs:%u\n", vm->instances,
		       vm->shared_size, vm->max_epochs);
	for (uint32_t i = 0; i < vm->nexamples; i++) {
		const struct gen_example *ex = &vm->examples[i];

		gen_buf_printf(&b, "example:%u:", ex->nin);
		for (uint32_t k = 0; k < ex->nin; k++)
			canon_float(&b, ex->in[k]);
		gen_buf_printf(&b, ":%u:", ex->nout);
		for (uint32_t k = 0; k < ex->nout; k++)
			canon_float(&b, ex->out[k]);
		gen_buf_put(&b, "\n", 1);
		canon_words(&b, "shared_in", ex->shared_in, ex->nshared_in);
		canon_words(&b, "shared_out", ex->shared_out, ex->nshared_out);
	}
	if (b.oom)
		return -ENOMEM;
	if (!EVP_Digest(b.s, b.len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		ret = -EIO;
	for (unsigned int i = 0; !ret && i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	gen_buf_free(&b);
	return ret;
}
