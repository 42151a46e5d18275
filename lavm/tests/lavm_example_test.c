// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Every corrected seed example (lavm/examples/NAME.lasm) on every engine,
 * and through the CLI, against NAME.expect.json, whose values were worked
 * out by hand (the derivations are in the .lasm comments).
 *
 * An expect file: {"vms": N, "epochs": E, "shared_in": {"i": v}, "all": VM}
 * or "each": [VM, ...], and optionally "shared": {"i": v}; a VM holds any of
 * status, ip, r, mem, fault.  Results are compared as JSON values after a
 * round trip through the --json writer.
 */
#include <dirent.h>
#include <unistd.h>
#include <math.h>
#include <json-c/json.h>
#include "lavm_tap.h"

static bool num_eq(json_object *got, json_object *want)
{
	if (json_object_is_type(want, json_type_string) || json_object_is_type(got, json_type_string))
		return json_object_is_type(want, json_type_string) &&
		       json_object_is_type(got, json_type_string) &&
		       !strcmp(json_object_get_string(want), json_object_get_string(got));
	/* both numbers: the writer prints 9 digits, which round-trips f32 */
	return (float)json_object_get_double(got) == (float)json_object_get_double(want) &&
	       signbit(json_object_get_double(got)) == signbit(json_object_get_double(want));
}

static bool vm_matches(json_object *got, json_object *want, char *why, size_t wl)
{
	json_object_object_foreach(want, key, wv) {
		json_object *gv;

		if (!json_object_object_get_ex(got, key, &gv)) {
			snprintf(why, wl, "no field %s", key);
			return false;
		}
		if (json_object_is_type(wv, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(wv); i++) {
				if (!num_eq(json_object_array_get_idx(gv, i), json_object_array_get_idx(wv, i))) {
					snprintf(why, wl, "%s[%zu] = %s, want %s", key, i,
						 json_object_to_json_string(json_object_array_get_idx(gv, i)),
						 json_object_to_json_string(json_object_array_get_idx(wv, i)));
					return false;
				}
			}
		} else if (json_object_is_type(wv, json_type_null)) {
			if (!json_object_is_type(gv, json_type_null)) {
				snprintf(why, wl, "%s = %s, want null", key, json_object_to_json_string(gv));
				return false;
			}
		} else if (!num_eq(gv, wv)) {
			snprintf(why, wl, "%s = %s, want %s", key, json_object_to_json_string(gv),
				 json_object_to_json_string(wv));
			return false;
		}
	}
	return true;
}

static bool result_matches(json_object *res, json_object *expect, char *why, size_t wl)
{
	json_object *vms, *want, *e, *all = NULL, *each = NULL, *shared;

	if (!res) {
		snprintf(why, wl, "no parsable result");
		return false;
	}
	json_object_object_get_ex(expect, "epochs", &e);
	json_object_object_get_ex(res, "epochs", &want);
	if (json_object_get_int(e) != json_object_get_int(want)) {
		snprintf(why, wl, "epochs %d, want %d", json_object_get_int(want), json_object_get_int(e));
		return false;
	}
	json_object_object_get_ex(res, "vms", &vms);
	json_object_object_get_ex(expect, "all", &all);
	json_object_object_get_ex(expect, "each", &each);
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		json_object *w = all ? all : json_object_array_get_idx(each, i);
		char sub[200];

		if (w && !vm_matches(json_object_array_get_idx(vms, i), w, sub, sizeof(sub))) {
			snprintf(why, wl, "vm %zu: %s", i, sub);
			return false;
		}
	}
	if (json_object_object_get_ex(expect, "shared", &shared)) {
		json_object *gs;

		json_object_object_get_ex(res, "shared", &gs);
		json_object_object_foreach(shared, key, wv) {
			json_object *gv = json_object_array_get_idx(gs, atoi(key));

			if (!gv || !num_eq(gv, wv)) {
				snprintf(why, wl, "shared[%s] = %s, want %s", key,
					 gv ? json_object_to_json_string(gv) : "missing",
					 json_object_to_json_string(wv));
				return false;
			}
		}
	}
	return true;
}

static json_object *job_json(const struct lavm_job *job, long epochs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_object *o;

	lavm_json_write_result(f, job, epochs);
	fclose(f);
	o = json_tokener_parse(buf);
	free(buf);
	return o;
}

static json_object *cli_json(const char *cli, const char *lasm, json_object *expect,
			     const char *engine, int nvms, const char *shared_in_path)
{
	char cmd[2048], *buf = NULL;
	size_t len = 0, r;
	char chunk[4096];
	FILE *p, *m;
	json_object *o, *sh;
	int nshared = 0;

	if (json_object_object_get_ex(expect, "shared_in", &sh))
		nshared = 2001;
	snprintf(cmd, sizeof(cmd), "%s run %s --vms %d --engine %s --json%s%s%s --shared %d",
		 cli, lasm, nvms, engine, shared_in_path ? " --shared-in " : "",
		 shared_in_path ? shared_in_path : "", "", nshared);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((r = fread(chunk, 1, sizeof(chunk), p)) > 0)
		fwrite(chunk, 1, r, m);
	fclose(m);
	if (pclose(p)) {
		free(buf);
		return NULL;
	}
	o = json_tokener_parse(buf);
	free(buf);
	return o;
}

int main(void)
{
	const char *cli = getenv("LAVM_CLI");
	DIR *d = opendir("lavm/examples");
	struct dirent *de;
	int nexamples = 0;

	if (!d) {
		tap_ok(0, "open lavm/examples (run from the repository root)");
		return tap_done();
	}
	while ((de = readdir(d))) {
		char lasm[512], exp[512], shin[512] = "";
		size_t n = strlen(de->d_name);
		json_object *expect, *v, *sh;
		struct lavm_image img;

		if (n < 6 || strcmp(de->d_name + n - 5, ".lasm"))
			continue;
		nexamples++;
		snprintf(lasm, sizeof(lasm), "lavm/examples/%s", de->d_name);
		snprintf(exp, sizeof(exp), "lavm/examples/%.*s.expect.json", (int)(n - 5), de->d_name);
		expect = json_object_from_file(exp);
		if (!tap_ok(expect != NULL, "%s has a parsable expect file", de->d_name))
			continue;
		if (!tap_ok(!lavm_image_read(lasm, &img, stderr), "%s assembles and verifies", de->d_name)) {
			json_object_put(expect);
			continue;
		}
		json_object_object_get_ex(expect, "vms", &v);
		int nvms = json_object_get_int(v);
		bool has_shared = json_object_object_get_ex(expect, "shared_in", &sh);

		if (has_shared) {
			snprintf(shin, sizeof(shin), "/tmp/lavm_example_shared_%d.json", (int)getpid());
			json_object_to_file(shin, sh);
		}
		for (size_t e = 0; e < NENGINES; e++) {
			struct lavm_job job;
			char why[300] = "";
			json_object *res;
			long ep;

			if (lavm_job_alloc(&job, &img.prog, nvms, has_shared ? 2001 : 0, 1000000))
				abort();
			if (has_shared && lavm_json_read_shared(shin, &job, stderr))
				abort();
			ep = run_cfg(&engine_cfgs[e], &job);
			res = job_json(&job, ep);
			tap_ok(result_matches(res, expect, why, sizeof(why)), "%s [%s]%s%s", de->d_name,
			       engine_cfgs[e].name, *why ? ": " : "", why);
			json_object_put(res);
			lavm_job_free(&job);
		}
		if (cli) {
			static const char *const engines[] = { "ref", "cpu" };

			for (int k = 0; k < 2; k++) {
				char why[300] = "";
				json_object *res = cli_json(cli, lasm, expect, engines[k], nvms,
							    has_shared ? shin : NULL);

				tap_ok(result_matches(res, expect, why, sizeof(why)),
				       "%s via 'lavm run --engine %s --json'%s%s", de->d_name, engines[k],
				       *why ? ": " : "", why);
				json_object_put(res);
			}
		}
		if (has_shared)
			unlink(shin);
		lavm_image_free(&img);
		json_object_put(expect);
	}
	closedir(d);
	tap_ok(nexamples >= 7, "found the corrected seed examples (%d)", nexamples);
	return tap_done();
}
