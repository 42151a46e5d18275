// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The cache of accepted programs: DIR/KEY.lavm (the bundle) and
 * DIR/KEY.json (how it was found, and its assembler text).  KEY is the
 * VM's spec hash and the generator asked for, so the same spec yields the
 * same VM.  A cached bundle is loaded, verified and run on the examples
 * again before it is served: the cache is not trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include "gen_internal.h"

int gen_cache_dir(char *buf, size_t len)
{
	const char *e = getenv("HA_GEN_CACHE");
	int n;

	if (e && *e)
		n = snprintf(buf, len, "%s", e);
	else if ((e = getenv("XDG_CACHE_HOME")) && *e)
		n = snprintf(buf, len, "%s/hyperaether/gen", e);
	else if ((e = getenv("HOME")) && *e)
		n = snprintf(buf, len, "%s/.cache/hyperaether/gen", e);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int mkdir_p(const char *dir)
{
	char tmp[512];
	size_t n = strlen(dir);

	if (n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	size_t got = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size > (64 << 20)) {
		close(fd);
		return -EINVAL;
	}
	*out = malloc(st.st_size + 1);
	if (!*out) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *out + got, st.st_size - got);

		if (n <= 0) {
			ret = -EIO;
			break;
		}
		got += n;
	}
	close(fd);
	if (ret) {
		free(*out);
		*out = NULL;
		return ret;
	}
	(*out)[got] = 0;
	*len = got;
	return 0;
}

/* Writes @len bytes to @path atomically (temporary file, then rename). */
static int write_file(const char *path, const void *buf, size_t len)
{
	char tmp[600];
	int fd, ret = 0;
	size_t done = 0;

	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n <= 0) {
			ret = n ? -errno : -EIO;
			break;
		}
		done += n;
	}
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

int gen_cache_lookup(struct gen_ctx *ctx, const char *dir, const char *key, struct gen_result *res)
{
	char path[600], why[256];
	struct lavm_bundle_info info;
	struct lavm_image img = { 0 };
	struct lavm_verify_err verr;
	uint8_t *buf = NULL, *meta = NULL;
	size_t len, metalen;
	json_object *root = NULL, *v;
	int ret;

	snprintf(path, sizeof(path), "%s/%s.lavm", dir, key);
	if (read_file(path, &buf, &len))
		return -ENOENT;
	ret = lavm_bundle_peek(buf, len, &info) ? -EINVAL : 0;
	if (!ret) {
		img.insns = calloc(info.ninsns + 1, sizeof(*img.insns));
		img.matrices = calloc((size_t)info.nlinear * LAVM_MAT + 1, sizeof(float));
		ret = img.insns && img.matrices ? 0 : -ENOMEM;
	}
	if (!ret && lavm_bundle_load(buf, len, &img.prog, img.insns, info.ninsns + 1, img.matrices,
				     (size_t)info.nlinear * LAVM_MAT + 1))
		ret = -EINVAL;
	if (!ret && lavm_image_finish(&img, &verr))
		ret = -EINVAL;
	if (!ret && gen_check_examples(ctx->vm, &img.prog, why, sizeof(why)) != ctx->vm->nexamples)
		ret = -EINVAL;
	free(buf);
	if (ret) {
		gen_log(ctx, "cache: %s is stale or damaged, regenerating", path);
		lavm_image_free(&img);
		return ret;
	}
	snprintf(res->cache_path, sizeof(res->cache_path), "%s", path);
	snprintf(path, sizeof(path), "%s/%s.json", dir, key);
	if (!read_file(path, &meta, &metalen))
		root = json_tokener_parse((const char *)meta);
	free(meta);
	res->generator = GEN_SOURCE;
	if (root && json_object_object_get_ex(root, "generator", &v))
		gen_generator_parse(json_object_get_string(v), &res->generator);
	if (root && json_object_object_get_ex(root, "rounds", &v))
		res->rounds = json_object_get_int(v);
	if (root && json_object_object_get_ex(root, "candidates", &v))
		res->candidates = json_object_get_int64(v);
	if (root && json_object_object_get_ex(root, "asm", &v))
		res->asm_text = strdup(json_object_get_string(v));
	json_object_put(root);
	if (!res->asm_text) {
		/* No metadata: the disassembly assembles to the same program. */
		size_t n;
		FILE *f = open_memstream(&res->asm_text, &n);

		if (f) {
			lavm_disassemble(&img.prog, f);
			fclose(f);
		}
	}
	res->image = img;
	res->from_cache = true;
	return res->asm_text ? 0 : -ENOMEM;
}

int gen_cache_store(const char *dir, const char *key, const struct gen_result *res,
		    char *path_out, size_t pathlen)
{
	char path[600];
	json_object *meta;
	const char *text;
	int ret;

	ret = mkdir_p(dir);
	if (ret)
		return ret;
	meta = json_object_new_object();
	if (!meta)
		return -ENOMEM;
	json_object_object_add(meta, "generator", json_object_new_string(gen_generator_name(res->generator)));
	json_object_object_add(meta, "rounds", json_object_new_int(res->rounds));
	json_object_object_add(meta, "candidates", json_object_new_int64(res->candidates));
	json_object_object_add(meta, "t_ai_ns", json_object_new_int64(res->t_ai_ns));
	json_object_object_add(meta, "spec_hash", json_object_new_string(res->spec_hash));
	json_object_object_add(meta, "asm", json_object_new_string(res->asm_text));
	text = json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PRETTY);
	snprintf(path, sizeof(path), "%s/%s.json", dir, key);
	ret = write_file(path, text, strlen(text));
	json_object_put(meta);
	if (ret)
		return ret;
	/* The bundle last: a lookup only trusts a key whose bundle exists. */
	snprintf(path, sizeof(path), "%s/%s.lavm", dir, key);
	ret = write_file(path, res->bundle, res->bundle_len);
	if (!ret)
		snprintf(path_out, pathlen, "%s", path);
	return ret;
}
