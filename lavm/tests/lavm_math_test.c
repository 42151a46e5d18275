// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The core's own f32 math against libm: fmodf and sqrtf must be bit-exact
 * (both are exactly specified); sinf/cosf are measured in ulps against the
 * double-precision libm result, and the bounds documented in
 * Documentation/lavm.rst are asserted here.
 */
#include <math.h>
#include "lavm_tap.h"

static uint64_t rs = 0x243f6a8885a308d3ull;

static uint32_t rnd32(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs >> 16);
}

/* Error of f in units of the f32 ulp at the exact value d. */
static double ulps(float f, double d)
{
	double ad = fabs(d);
	int e;

	if (ad < 0x1p-126)
		return fabs(f - d) / 0x1p-149;
	frexp(ad, &e);			/* ad in [2^(e-1), 2^e) */
	return fabs((double)f - d) / ldexp(1.0, e - 24);
}

static double max_ulps(float (*fn)(float), double (*ref)(double), float lo, float hi, int n,
		       float *worst)
{
	double m = 0;

	for (int i = 0; i < n; i++) {
		float x = lo + (hi - lo) * (rnd32() / 4294967296.0f);
		double u = ulps(fn(x), ref((double)x));

		if (u > m) {
			m = u;
			*worst = x;
		}
	}
	return m;
}

static double max_ulps_bits(float (*fn)(float), double (*ref)(double), uint32_t lo_exp,
			    uint32_t hi_exp, int n, float *worst)
{
	double m = 0;

	for (int i = 0; i < n; i++) {
		uint32_t e = lo_exp + rnd32() % (hi_exp - lo_exp + 1);
		float x = bitsf(e << 23 | (rnd32() & 0x807fffffu));
		double u = ulps(fn(x), ref((double)x));

		if (u > m) {
			m = u;
			*worst = x;
		}
	}
	return m;
}

int main(void)
{
	int bad = 0, n = 0;
	float worst = 0;
	double u;

	/* fmodf: exact, so any correct implementation agrees bit for bit */
	for (int i = 0; i < 2000000; i++) {
		float x = bitsf(rnd32()), y = bitsf(i % 4 ? rnd32() : (rnd32() & 0x83ffffffu));
		float a = lavm_fmodf(x, y), b = fmodf(x, y);

		n++;
		if (isnan(b) ? !(isnan(a) && fbits(a) == LAVM_CANON_NAN) : fbits(a) != fbits(b))
			bad++;
	}
	tap_ok(!bad, "lavm_fmodf equals libm fmodf bit for bit on %d random pairs (%d differ)", n, bad);
	bad = 0;
	for (int i = 0; i < 1000000; i++) {
		float x = bitsf(rnd32());

		if (!isnan(x) && fbits(lavm_sqrtf(x)) != fbits(sqrtf(x)))
			bad++;
	}
	tap_ok(!bad, "lavm_sqrtf equals sqrtf (correctly rounded) on 10^6 random floats");
	tap_ok(fbits(lavm_minf(-0.0f, 0.0f)) == 0x80000000u && fbits(lavm_maxf(-0.0f, 0.0f)) == 0 &&
	       lavm_minf(NAN, 2) == 2 && lavm_maxf(3, NAN) == 3 && lavm_minf(1, 2) == 1,
	       "min/max: -0 below +0, a NaN loses to a number");

	static const struct { const char *name; float lo, hi; double bound; } ranges[] = {
		{ "[-pi/4, pi/4]", -0.785398f, 0.785398f, 1.0 },
		{ "[-100, 100]", -100.0f, 100.0f, 2.5 },
		{ "[-8192, 8192]", -8192.0f, 8192.0f, 2.5 },
	};
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		u = max_ulps(lavm_sinf, sin, ranges[r].lo, ranges[r].hi, 1000000, &worst);
		tap_ok(u <= ranges[r].bound, "sin max error on %s: %.3f ulp (bound %.1f; worst x = %.9g)",
		       ranges[r].name, u, ranges[r].bound, worst);
		u = max_ulps(lavm_cosf, cos, ranges[r].lo, ranges[r].hi, 1000000, &worst);
		tap_ok(u <= ranges[r].bound, "cos max error on %s: %.3f ulp (bound %.1f; worst x = %.9g)",
		       ranges[r].name, u, ranges[r].bound, worst);
	}
	/* large arguments: Payne-Hanek reduction, exponents 2^13 .. 2^127 */
	u = max_ulps_bits(lavm_sinf, sin, 127 + 13, 254, 1000000, &worst);
	tap_ok(u <= 2.5, "sin max error for |x| in [2^13, 2^128): %.3f ulp (worst x = %.9g)", u, worst);
	u = max_ulps_bits(lavm_cosf, cos, 127 + 13, 254, 1000000, &worst);
	tap_ok(u <= 2.5, "cos max error for |x| in [2^13, 2^128): %.3f ulp (worst x = %.9g)", u, worst);
	/* tiny arguments */
	u = max_ulps_bits(lavm_sinf, sin, 1, 127 - 12, 200000, &worst);
	tap_ok(u <= 1.0, "sin max error for |x| < 2^-12: %.3f ulp", u);
	tap_ok(isnan(lavm_sinf(INFINITY)) && fbits(lavm_cosf(NAN)) == LAVM_CANON_NAN &&
	       lavm_cosf(0) == 1 && fbits(lavm_sinf(-0.0f)) == 0x80000000u,
	       "sin/cos of inf and NaN are the canonical NaN; sin(-0) = -0");
	return tap_done();
}
