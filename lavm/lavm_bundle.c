// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The .lavm bundle: a versioned, checksummed, little-endian container.
 * The loader validates every byte it will use before anything else runs.
 */
#include "lavm.h"

/* Header field offsets (all u32 little endian after the 8-byte magic). */
enum {
	H_MAGIC = 0, H_VERSION = 8, H_HDRSIZE = 12, H_FLAGS = 16, H_NINSNS = 20,
	H_NLINEAR = 24, H_ENTRY = 28, H_DEPTH = 32, H_SHARED = 36, H_INSNOFF = 40,
	H_MATOFF = 44, H_TOTAL = 48, H_INSNCRC = 52, H_MATCRC = 56, H_HDRCRC = 60,
};

/* CRC-32 (IEEE 802.3, reflected 0xedb88320), bitwise: no table, no state. */
uint32_t lavm_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

static uint32_t f2u(float f)
{
	union { float f; uint32_t u; } c = { .f = f };
	return c.u;
}

static float u2f(uint32_t u)
{
	union { float f; uint32_t u; } c = { .u = u };
	return c.f;
}

size_t lavm_bundle_size(const struct lavm_prog *prog)
{
	return LAVM_BUNDLE_HDR_SIZE + (size_t)prog->ninsns * 20 +
	       (size_t)prog->nlinear * LAVM_MAT * 4;
}

long lavm_bundle_write(const struct lavm_prog *prog, void *buf, size_t len)
{
	size_t total = lavm_bundle_size(prog);
	uint8_t *b = buf, *p;
	size_t insn_off = LAVM_BUNDLE_HDR_SIZE;
	size_t mat_off = insn_off + (size_t)prog->ninsns * 20;

	if (len < total || total > 0xffffffffu)
		return LAVM_E_SHORT;
	for (int i = 0; i < LAVM_BUNDLE_HDR_SIZE; i++)
		b[i] = 0;
	for (int i = 0; i < 8; i++)
		b[H_MAGIC + i] = LAVM_BUNDLE_MAGIC[i];
	put32(b + H_VERSION, LAVM_BUNDLE_VERSION);
	put32(b + H_HDRSIZE, LAVM_BUNDLE_HDR_SIZE);
	put32(b + H_NINSNS, prog->ninsns);
	put32(b + H_NLINEAR, prog->nlinear);
	put32(b + H_ENTRY, prog->entry);
	put32(b + H_DEPTH, prog->max_call_depth);
	put32(b + H_SHARED, prog->shared_size);
	put32(b + H_INSNOFF, insn_off);
	put32(b + H_MATOFF, mat_off);
	put32(b + H_TOTAL, total);
	p = b + insn_off;
	for (uint32_t i = 0; i < prog->ninsns; i++) {
		put32(p, prog->insns[i].op);
		for (int k = 0; k < 4; k++)
			put32(p + 4 + 4 * k, prog->insns[i].a[k]);
		p += 20;
	}
	for (size_t i = 0; i < (size_t)prog->nlinear * LAVM_MAT; i++, p += 4)
		put32(p, f2u(prog->matrices[i]));
	put32(b + H_INSNCRC, lavm_crc32(0, b + insn_off, mat_off - insn_off));
	put32(b + H_MATCRC, lavm_crc32(0, b + mat_off, total - mat_off));
	put32(b + H_HDRCRC, lavm_crc32(0, b, H_HDRCRC));
	return (long)total;
}

int lavm_bundle_peek(const void *buf, size_t len, struct lavm_bundle_info *info)
{
	const uint8_t *b = buf;
	uint64_t insn_end, total;
	uint32_t ninsns, nlinear, insn_off, mat_off;

	if (len < LAVM_BUNDLE_HDR_SIZE)
		return LAVM_E_SHORT;
	for (int i = 0; i < 8; i++)
		if (b[H_MAGIC + i] != (uint8_t)LAVM_BUNDLE_MAGIC[i])
			return LAVM_E_MAGIC;
	if (lavm_crc32(0, b, H_HDRCRC) != get32(b + H_HDRCRC))
		return LAVM_E_CRC;
	if (get32(b + H_VERSION) != LAVM_BUNDLE_VERSION)
		return LAVM_E_VERSION;
	ninsns = get32(b + H_NINSNS);
	nlinear = get32(b + H_NLINEAR);
	insn_off = get32(b + H_INSNOFF);
	mat_off = get32(b + H_MATOFF);
	if (get32(b + H_HDRSIZE) != LAVM_BUNDLE_HDR_SIZE || get32(b + H_FLAGS))
		return LAVM_E_HEADER;
	if (ninsns == 0 || ninsns > LAVM_MAX_INSNS || nlinear > ninsns ||
	    get32(b + H_DEPTH) > LAVM_MAX_CALL_DEPTH ||
	    get32(b + H_SHARED) > LAVM_MAX_SHARED)
		return LAVM_E_LIMIT;
	insn_end = (uint64_t)insn_off + (uint64_t)ninsns * 20;
	total = insn_end + (uint64_t)nlinear * LAVM_MAT * 4;
	if (insn_off != LAVM_BUNDLE_HDR_SIZE || mat_off != insn_end ||
	    get32(b + H_TOTAL) != total)
		return LAVM_E_HEADER;
	if (len < total)
		return LAVM_E_SHORT;
	if (len > total)
		return LAVM_E_HEADER;
	if (lavm_crc32(0, b + insn_off, mat_off - insn_off) != get32(b + H_INSNCRC) ||
	    lavm_crc32(0, b + mat_off, total - mat_off) != get32(b + H_MATCRC))
		return LAVM_E_CRC;
	info->version = LAVM_BUNDLE_VERSION;
	info->ninsns = ninsns;
	info->nlinear = nlinear;
	info->entry = get32(b + H_ENTRY);
	info->max_call_depth = get32(b + H_DEPTH);
	info->shared_size = get32(b + H_SHARED);
	info->total_size = total;
	return LAVM_OK;
}

int lavm_bundle_load(const void *buf, size_t len, struct lavm_prog *prog,
		     struct lavm_insn *insns, size_t insns_cap,
		     float *matrices, size_t matrices_cap)
{
	struct lavm_bundle_info info;
	const uint8_t *b = buf, *p;
	int ret = lavm_bundle_peek(buf, len, &info);

	if (ret)
		return ret;
	if (insns_cap < info.ninsns || matrices_cap < (size_t)info.nlinear * LAVM_MAT)
		return LAVM_E_SHORT;
	p = b + LAVM_BUNDLE_HDR_SIZE;
	for (uint32_t i = 0; i < info.ninsns; i++, p += 20) {
		insns[i].op = get32(p);
		for (int k = 0; k < 4; k++)
			insns[i].a[k] = get32(p + 4 + 4 * k);
	}
	for (size_t i = 0; i < (size_t)info.nlinear * LAVM_MAT; i++, p += 4)
		matrices[i] = u2f(get32(p));
	prog->insns = insns;
	prog->matrices = matrices;
	prog->ninsns = info.ninsns;
	prog->nlinear = info.nlinear;
	prog->entry = info.entry;
	prog->max_call_depth = info.max_call_depth;
	prog->shared_size = info.shared_size;
	prog->flags = 0;
	return LAVM_OK;
}
