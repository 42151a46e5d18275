// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Deterministic f32 math for the oracle kernel.  Every routine here uses
 * only IEEE f32 add, subtract, multiply, the correctly rounded square root
 * and integer operations, compiled with -ffp-contract=off, so the kernel,
 * userspace and a GPU shader written the same way agree bit for bit.
 * Accuracy (measured by lavm/tests/lavm_math_test.c) is in Documentation/lavm.rst.
 */
#include "lavm.h"

static uint32_t fbits(float f)
{
	union { float f; uint32_t u; } c = { .f = f };
	return c.u;
}

static float bitsf(uint32_t u)
{
	union { float f; uint32_t u; } c = { .u = u };
	return c.f;
}

static bool is_nan(float x)
{
	return (fbits(x) & 0x7fffffffu) > 0x7f800000u;
}

float lavm_sqrtf(float x)
{
	return __builtin_sqrtf(x);	/* sqrtss; -fno-math-errno keeps it inline */
}

/* fminf-like: a NaN operand loses to a number; -0 is below +0. */
float lavm_minf(float a, float b)
{
	if (is_nan(a))
		return b;
	if (is_nan(b))
		return a;
	if (a == b)
		return bitsf(fbits(a) | fbits(b));	/* min(-0, +0) = -0 */
	return a < b ? a : b;
}

float lavm_maxf(float a, float b)
{
	if (is_nan(a))
		return b;
	if (is_nan(b))
		return a;
	if (a == b)
		return bitsf(fbits(a) & fbits(b));	/* max(-0, +0) = +0 */
	return a > b ? a : b;
}

/* fmodf, exact, on the bit patterns (x - trunc(x / y) * y with no rounding). */
float lavm_fmodf(float x, float y)
{
	uint32_t ux = fbits(x), uy = fbits(y), sx = ux & 0x80000000u, i;
	int ex = ux >> 23 & 0xff, ey = uy >> 23 & 0xff;

	if ((uy << 1) == 0 || is_nan(y) || ex == 0xff)
		return bitsf(LAVM_CANON_NAN);
	/* integers below 2^24: the integer remainder is the exact answer */
	if (x < 16777216.0f && x > -16777216.0f && y < 16777216.0f && y > -16777216.0f) {
		int32_t ix = (int32_t)x, iy = (int32_t)y;

		if ((float)ix == x && (float)iy == y) {
			int32_t r = ix % iy;

			return r ? (float)r : bitsf(sx);
		}
	}
	if ((ux << 1) <= (uy << 1)) {
		if ((ux << 1) == (uy << 1))
			return bitsf(sx);	/* signed zero */
		return x;
	}
	if (!ex) {
		for (i = ux << 9; !(i >> 31); ex--, i <<= 1)
			;
		ux <<= -ex + 1;
	} else {
		ux &= 0x007fffffu;
		ux |= 0x00800000u;
	}
	if (!ey) {
		for (i = uy << 9; !(i >> 31); ey--, i <<= 1)
			;
		uy <<= -ey + 1;
	} else {
		uy &= 0x007fffffu;
		uy |= 0x00800000u;
	}
	for (; ex > ey; ex--) {
		i = ux - uy;
		if (!(i >> 31)) {
			if (i == 0)
				return bitsf(sx);
			ux = i;
		}
		ux <<= 1;
	}
	i = ux - uy;
	if (!(i >> 31)) {
		if (i == 0)
			return bitsf(sx);
		ux = i;
	}
	for (; !(ux >> 23); ux <<= 1, ex--)
		;
	if (ex > 0) {
		ux -= 1u << 23;
		ux |= (uint32_t)ex << 23;
	} else {
		ux >>= -ex + 1;
	}
	return bitsf(ux | sx);
}

/*
 * Range reduction: x = q * pi/2 + r, |r| <= pi/4, for every |x| > pi/4 by
 * multiplying the exact integer significand with 96 bits of 2/pi
 * (Payne-Hanek) in integer arithmetic: no cancellation near multiples of
 * pi/2, and the same bits on every machine.
 */
/* 2/pi, 24 bits per word, most significant first. */
static const uint32_t lavm_two_over_pi[] = {
	0xA2F983, 0x6E4E44, 0x1529FC, 0x2757D1, 0xF534DD, 0xC0DB62,
	0x95993C, 0x439041, 0xFE5163, 0xABDEBB, 0xC561B7, 0x246E3A,
	0x424DD2, 0xE00649,
};

/* 32 bits of 2/pi starting at fraction bit b (0 = the 2^-1 bit). */
static uint32_t two_over_pi_bits(uint32_t b)
{
	uint32_t w = b / 24, off = b % 24;
	unsigned __int128 acc = 0;

	for (uint32_t k = 0; k < 3; k++)
		acc = acc << 24 | lavm_two_over_pi[w + k];
	/* acc holds 72 bits; take 32 starting off bits below its top */
	return (uint32_t)(acc >> (72 - 32 - off));
}

static float reduce_large(float ax, int *q)
{
	uint32_t u = fbits(ax);
	int e = (int)(u >> 23) - 150;		/* ax = m * 2^e */
	uint64_t m = (u & 0x007fffffu) | 0x00800000u;
	/* m * 2^e * 2/pi mod 4 uses the fraction bits from i0 = e - 1 on */
	int i0 = e - 1 > 1 ? e - 1 : 1;
	uint32_t w0 = two_over_pi_bits(i0 - 1), w1 = two_over_pi_bits(i0 + 31),
		 w2 = two_over_pi_bits(i0 + 63);
	unsigned __int128 p = ((unsigned __int128)(m * w0) << 64) +
			      ((unsigned __int128)(m * w1) << 32) + m * w2;
	/* value = p * 2^(e - i0 + 1 - 96) */
	int sh = 96 - (e - i0 + 1);
	uint64_t frac = (uint64_t)((p << (128 - sh)) >> 64);
	int qq = (int)((p >> sh) & 3);
	int64_t sf;
	float a, b, r;

	if (frac >> 63)
		qq++;
	sf = (int64_t)frac;			/* f - 1 when f >= 1/2 */
	a = (float)(int32_t)(sf >> 40) * 5.9604644775390625e-8f;	  /* 2^-24 */
	b = (float)(int32_t)((sf >> 16) & 0xffffff) * 3.552713678800501e-15f; /* 2^-48 */
	/* r = (a + b) * pi/2 with pi/2 = 1.5707963705062866 - 4.3711388e-8 */
	r = a * 1.5707963705062866f + (b * 1.5707963705062866f - a * 4.37113883e-8f);
	*q = qq & 3;
	return r;
}

static float reduce(float x, int *q)
{
	float ax = bitsf(fbits(x) & 0x7fffffffu), r;

	if (ax <= 0.785398163f) {		/* |x| <= pi/4: no reduction */
		*q = 0;
		return x;
	}
	r = reduce_large(ax, q);
	if (fbits(x) >> 31) {
		r = -r;
		*q = (4 - *q) & 3;
	}
	return r;
}

/* Cephes sinf/cosf polynomials on [-pi/4, pi/4]. */
static float sin_poly(float x)
{
	float z = x * x;

	return ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * x + x;
}

static float cos_poly(float x)
{
	float z = x * x;

	return ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z +
		4.166664568298827e-2f) * z * z - 0.5f * z + 1.0f;
}

float lavm_sinf(float x)
{
	int q;
	float r;

	if ((fbits(x) & 0x7fffffffu) >= 0x7f800000u)
		return bitsf(LAVM_CANON_NAN);
	if ((fbits(x) & 0x7fffffffu) < 0x39800000u)	/* |x| < 2^-12: sin x = x */
		return x;
	r = reduce(x, &q);
	switch (q) {
	case 0: return sin_poly(r);
	case 1: return cos_poly(r);
	case 2: return -sin_poly(r);
	default: return -cos_poly(r);
	}
}

float lavm_cosf(float x)
{
	int q;
	float r;

	if ((fbits(x) & 0x7fffffffu) >= 0x7f800000u)
		return bitsf(LAVM_CANON_NAN);
	if ((fbits(x) & 0x7fffffffu) < 0x39800000u)
		return 1.0f;
	r = reduce(x, &q);
	switch (q) {
	case 0: return cos_poly(r);
	case 1: return -sin_poly(r);
	case 2: return -cos_poly(r);
	default: return sin_poly(r);
	}
}

/* Shared addresses are exact non-negative integers below the size. */
bool lavm_shared_index(float x, uint32_t size, uint32_t *index)
{
	uint32_t i;

	if (!(x >= 0.0f) || !(x < (float)size))	/* NaN fails both */
		return false;
	i = (uint32_t)x;			/* size <= 2^24: exact */
	if ((float)i != x)
		return false;
	*index = i;
	return true;
}

/*
 * Branch conditions: |c| < eps counts as zero for every comparison, so the
 * six conditions agree with each other; NaN is unordered (only NE holds).
 */
bool lavm_branch_taken(uint32_t op, float c)
{
	bool zero = c < LAVM_BRANCH_EPS && c > -LAVM_BRANCH_EPS;
	bool pos = c >= LAVM_BRANCH_EPS, neg = c <= -LAVM_BRANCH_EPS;

	switch (op) {
	case LAVM_OP_BEQ: return zero;
	case LAVM_OP_BNE: return !zero;
	case LAVM_OP_BLT: return neg;
	case LAVM_OP_BGT: return pos;
	case LAVM_OP_BLE: return neg || zero;
	case LAVM_OP_BGE: return pos || zero;
	case LAVM_OP_JUMP: return true;
	}
	return false;
}
