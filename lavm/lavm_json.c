// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * JSON in (json-c) and out.  Floats are written with 9 significant digits,
 * which round-trips every f32; values JSON cannot hold as numbers are the
 * strings "inf", "-inf" and "nan" (any NaN).  The same strings are accepted
 * on input.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "lavm_host.h"

const char *lavm_status_name(uint32_t status)
{
	switch (status) {
	case LAVM_RUNNING: return "running";
	case LAVM_BLOCKED: return "blocked";
	case LAVM_YIELDED: return "yielded";
	case LAVM_HALTED: return "halted";
	case LAVM_FAULTED: return "faulted";
	}
	return "invalid";
}

const char *lavm_fault_name(uint32_t fault)
{
	switch (fault) {
	case LAVM_FAULT_NONE: return "none";
	case LAVM_FAULT_BAD_IP: return "bad_ip";
	case LAVM_FAULT_SHARED_ADDR: return "shared_addr";
	case LAVM_FAULT_STACK_OVERFLOW: return "stack_overflow";
	case LAVM_FAULT_STACK_UNDERFLOW: return "stack_underflow";
	case LAVM_FAULT_BAD_STATE: return "bad_state";
	case LAVM_FAULT_ACCESS: return "access";
	}
	return "invalid";
}

void lavm_json_print_float(FILE *out, float f)
{
	if (isnan(f))
		fputs("\"nan\"", out);
	else if (isinf(f))
		fputs(f < 0 ? "\"-inf\"" : "\"inf\"", out);
	else
		fprintf(out, "%.9g", f);
}

void lavm_json_write_result(FILE *out, const struct lavm_job *job, uint32_t epochs)
{
	fprintf(out, "{\"epochs\": %u, \"vms\": [", epochs);
	for (uint32_t i = 0; i < job->nvms; i++) {
		const struct lavm_vm *vm = &job->vms[i];

		fprintf(out, "%s\n  {\"status\": \"%s\", \"ip\": ", i ? "," : "",
			lavm_status_name(vm->status));
		lavm_json_print_float(out, vm->v[LAVM_X_IP]);
		fputs(", \"r\": [", out);
		for (int k = 0; k < LAVM_NREGS; k++) {
			fputs(k ? ", " : "", out);
			lavm_json_print_float(out, vm->v[LAVM_X_R0 + k]);
		}
		fputs("], \"mem\": [", out);
		for (int k = 0; k < LAVM_NMEM; k++) {
			fputs(k ? ", " : "", out);
			lavm_json_print_float(out, vm->v[LAVM_X_MEM0 + k]);
		}
		fputs("], \"fault\": ", out);
		if (vm->status == LAVM_FAULTED)
			fprintf(out, "\"%s\"", lavm_fault_name(vm->fault));
		else
			fputs("null", out);
		fputs("}", out);
	}
	fputs("\n], \"shared\": [", out);
	for (uint32_t i = 0; i < job->nshared; i++) {
		fputs(i ? ", " : "", out);
		lavm_json_print_float(out, job->shared[i]);
	}
	fputs("]}\n", out);
}

static int json_float(json_object *o, float *f)
{
	if (json_object_is_type(o, json_type_double) || json_object_is_type(o, json_type_int)) {
		*f = (float)json_object_get_double(o);
		return 0;
	}
	if (json_object_is_type(o, json_type_string)) {
		const char *s = json_object_get_string(o);

		if (!strcmp(s, "inf"))
			*f = INFINITY;
		else if (!strcmp(s, "-inf"))
			*f = -INFINITY;
		else if (!strcmp(s, "nan"))
			*f = NAN;
		else
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

static json_object *read_json(const char *path, FILE *diag)
{
	json_object *o = json_object_from_file(path);

	if (!o)
		fprintf(diag, "%s: error: not valid JSON: %s\n", path, json_util_get_last_err());
	return o;
}

static int float_array(json_object *a, float *dst, int n, const char *path, const char *what,
		       uint32_t vm, FILE *diag)
{
	if (!json_object_is_type(a, json_type_array) || (int)json_object_array_length(a) > n) {
		fprintf(diag, "%s: error: vm %u: \"%s\" must be an array of at most %d numbers\n",
			path, vm, what, n);
		return -EINVAL;
	}
	for (int k = 0; k < (int)json_object_array_length(a); k++) {
		if (json_float(json_object_array_get_idx(a, k), &dst[k])) {
			fprintf(diag, "%s: error: vm %u: %s[%d] is not a number, \"inf\", \"-inf\" or \"nan\"\n",
				path, vm, what, k);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * --init: [{"ip": 0, "r": [..4], "mem": [..16], "status": "running"}, ...];
 * entry i replaces fields of VM i; missing fields keep the default state.
 */
int lavm_json_read_init(const char *path, struct lavm_job *job, FILE *diag)
{
	json_object *root = read_json(path, diag), *f;
	int ret = -EINVAL;

	if (!root)
		return -EINVAL;
	if (!json_object_is_type(root, json_type_array) ||
	    json_object_array_length(root) > job->nvms) {
		fprintf(diag, "%s: error: expected an array of at most %u VM states\n", path, job->nvms);
		goto out;
	}
	for (uint32_t i = 0; i < json_object_array_length(root); i++) {
		json_object *v = json_object_array_get_idx(root, i);
		struct lavm_vm *vm = &job->vms[i];

		if (!json_object_is_type(v, json_type_object)) {
			fprintf(diag, "%s: error: vm %u: expected an object\n", path, i);
			goto out;
		}
		json_object_object_foreach(v, key, val) {
			(void)val;
			if (strcmp(key, "ip") && strcmp(key, "r") && strcmp(key, "mem") &&
			    strcmp(key, "status")) {
				fprintf(diag, "%s: error: vm %u: unknown field \"%s\" (ip, r, mem, status)\n",
					path, i, key);
				goto out;
			}
		}
		if (json_object_object_get_ex(v, "ip", &f)) {
			float ip;

			if (json_float(f, &ip) || !(ip >= 0) || ip >= job->prog->ninsns ||
			    ip != (float)(uint32_t)ip) {
				fprintf(diag, "%s: error: vm %u: ip must be an instruction index 0..%u\n",
					path, i, job->prog->ninsns - 1);
				goto out;
			}
			vm->v[LAVM_X_IP] = ip;
		}
		if (json_object_object_get_ex(v, "r", &f) &&
		    float_array(f, &vm->v[LAVM_X_R0], LAVM_NREGS, path, "r", i, diag))
			goto out;
		if (json_object_object_get_ex(v, "mem", &f) &&
		    float_array(f, &vm->v[LAVM_X_MEM0], LAVM_NMEM, path, "mem", i, diag))
			goto out;
		if (json_object_object_get_ex(v, "status", &f)) {
			const char *s = json_object_get_string(f);

			if (!strcmp(s, "running"))
				vm->status = LAVM_RUNNING;
			else if (!strcmp(s, "yielded"))
				vm->status = LAVM_YIELDED;
			else if (!strcmp(s, "halted"))
				vm->status = LAVM_HALTED;
			else {
				fprintf(diag, "%s: error: vm %u: status must be running, yielded or halted\n",
					path, i);
				goto out;
			}
		}
	}
	ret = 0;
out:
	json_object_put(root);
	return ret;
}

/* --shared-in: [v0, v1, ...] from index 0, or {"index": value, ...}. */
int lavm_json_read_shared(const char *path, struct lavm_job *job, FILE *diag)
{
	json_object *root = read_json(path, diag);
	int ret = -EINVAL;

	if (!root)
		return -EINVAL;
	if (json_object_is_type(root, json_type_array)) {
		size_t n = json_object_array_length(root);

		if (n > job->nshared) {
			fprintf(diag, "%s: error: %zu values for %u words of shared memory (use --shared)\n",
				path, n, job->nshared);
			goto out;
		}
		for (size_t k = 0; k < n; k++) {
			if (json_float(json_object_array_get_idx(root, k), &job->shared[k])) {
				fprintf(diag, "%s: error: [%zu] is not a number\n", path, k);
				goto out;
			}
		}
	} else if (json_object_is_type(root, json_type_object)) {
		json_object_object_foreach(root, key, val) {
			char *end;
			unsigned long idx = strtoul(key, &end, 10);

			if (*end || !*key || idx >= job->nshared) {
				fprintf(diag, "%s: error: key \"%s\" is not an index below %u\n",
					path, key, job->nshared);
				goto out;
			}
			if (json_float(val, &job->shared[idx])) {
				fprintf(diag, "%s: error: \"%s\" is not a number\n", path, key);
				goto out;
			}
		}
	} else {
		fprintf(diag, "%s: error: expected an array or an object of index: value\n", path);
		goto out;
	}
	ret = 0;
out:
	json_object_put(root);
	return ret;
}

/* An integer in 0..@max (json-c reads integers above INT64_MAX as uint64). */
static int json_uint(json_object *o, uint64_t max, uint64_t *v, const char *path,
		     const char *what, FILE *diag)
{
	if (json_object_is_type(o, json_type_int) && json_object_get_int64(o) >= 0 &&
	    json_object_get_uint64(o) <= max) {
		*v = json_object_get_uint64(o);
		return 0;
	}
	fprintf(diag, "%s: error: %s must be an integer 0..%llu\n", path, what,
		(unsigned long long)max);
	return -EINVAL;
}

/*
 * --acl: {"seg_words": W, "dom": [one domain per VM], "allow": [one mask per
 * segment]}: nseg is the length of "allow", masks are integers (bit s:
 * segment s).  The arrays are allocated; lavm_json_free_acl() frees them.
 */
int lavm_json_read_acl(const char *path, uint32_t nvms, struct lavm_acl *acl, FILE *diag)
{
	json_object *root = read_json(path, diag), *w, *dom, *allow;
	uint8_t *d = NULL;
	uint64_t *a = NULL;
	char what[32];
	int ret = -EINVAL;
	uint64_t x;

	memset(acl, 0, sizeof(*acl));
	if (!root)
		return -EINVAL;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "seg_words", &w) ||
	    !json_object_object_get_ex(root, "dom", &dom) ||
	    !json_object_object_get_ex(root, "allow", &allow) ||
	    !json_object_is_type(dom, json_type_array) ||
	    !json_object_is_type(allow, json_type_array)) {
		fprintf(diag, "%s: error: expected {\"seg_words\": W, \"dom\": [...], \"allow\": [...]}\n",
			path);
		goto out;
	}
	json_object_object_foreach(root, key, val) {
		(void)val;
		if (strcmp(key, "seg_words") && strcmp(key, "dom") && strcmp(key, "allow")) {
			fprintf(diag, "%s: error: unknown field \"%s\" (seg_words, dom, allow)\n",
				path, key);
			goto out;
		}
	}
	if (json_uint(w, LAVM_MAX_SHARED, &x, path, "seg_words", diag))
		goto out;
	if (x == 0) {
		fprintf(diag, "%s: error: seg_words must be at least 1\n", path);
		goto out;
	}
	acl->seg_words = x;
	acl->nseg = json_object_array_length(allow);
	if (acl->nseg < 1 || acl->nseg > LAVM_ACL_MAX_SEG) {
		fprintf(diag, "%s: error: \"allow\" needs 1..%d masks (one per segment), got %u\n",
			path, LAVM_ACL_MAX_SEG, acl->nseg);
		goto out;
	}
	if (json_object_array_length(dom) != nvms) {
		fprintf(diag, "%s: error: \"dom\" needs one domain per VM: %u entries, got %zu\n",
			path, nvms, json_object_array_length(dom));
		goto out;
	}
	d = calloc(nvms + 1, 1);
	a = calloc(acl->nseg, sizeof(*a));
	if (!d || !a) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < acl->nseg; i++) {
		snprintf(what, sizeof(what), "allow[%u]", i);
		if (json_uint(json_object_array_get_idx(allow, i), UINT64_MAX, &a[i], path, what,
			      diag))
			goto out;
	}
	for (uint32_t i = 0; i < nvms; i++) {
		snprintf(what, sizeof(what), "dom[%u]", i);
		if (json_uint(json_object_array_get_idx(dom, i), acl->nseg - 1, &x, path, what,
			      diag))
			goto out;
		d[i] = x;
	}
	acl->dom = d;
	acl->allow = a;
	d = NULL;
	a = NULL;
	ret = 0;
out:
	free(d);
	free(a);
	json_object_put(root);
	return ret;
}

void lavm_json_free_acl(struct lavm_acl *acl)
{
	free((void *)acl->dom);
	free((void *)acl->allow);
	acl->dom = NULL;
	acl->allow = NULL;
}
