/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * LAVM arithmetic in GLSL, bit-identical to lavm/lavm_math.c and
 * lavm/lavm_exec.h on any Vulkan device.
 *
 * Vulkan only promises correct rounding for OpFAdd, OpFSub and OpFMul, and
 * may flush denormals (lavapipe does not offer DenormPreserve).  So:
 * every comparison, NaN test and conversion works on bit patterns; ADD, SUB
 * and MUL use the hardware (precise: no contraction) unless an operand is
 * denormal or the result is within a factor 2 of the denormal range, where
 * an integer routine rounds instead; DIV and SQRT are integer routines
 * (correctly rounded, RNE); sin/cos/fmod port lavm_math.c step by step.
 * Constants are bit patterns: a decimal literal might round differently.
 */

#define CANON_NAN 0x7fc00000u
#define SIGN 0x80000000u

bool bits_nan(uint u)
{
	return (u & 0x7fffffffu) > 0x7f800000u;
}

uint canon(uint u)
{
	return bits_nan(u) ? CANON_NAN : u;
}

bool bits_denormal(uint u)
{
	return (u & 0x7f800000u) == 0u && (u & 0x007fffffu) != 0u;
}

/* Orders two non-NaN values: -1, 0, 1 (-0 == +0, as C's <, ==). */
int bits_cmp(uint a, uint b)
{
	if (((a | b) & 0x7fffffffu) == 0u)
		return 0;
	/* monotone keys: negative values reversed below the positive ones */
	uint ka = (a & SIGN) != 0u ? ~a : a | SIGN;
	uint kb = (b & SIGN) != 0u ? ~b : b | SIGN;
	return ka < kb ? -1 : (ka > kb ? 1 : 0);
}

/* Highest set bit of a non-zero 64-bit value. */
int msb64(uint64_t m)
{
	uint hi = uint(m >> 32);
	return hi != 0u ? 32 + findMSB(hi) : findMSB(uint(m));
}

/*
 * The f32 nearest (ties to even) to sign * (mant + sticky) * 2^e, where
 * sticky means "a little more than mant" (inexact bits below it); mant > 0,
 * below 2^62.
 */
uint make_float(uint sign, int e, uint64_t mant, bool sticky)
{
	int p = msb64(mant);
	int biased = p + e + 127;
	int shift;
	uint64_t keep, rb, halfway;

	if (biased >= 255)
		return sign | 0x7f800000u;
	shift = biased >= 1 ? p - 23 : -149 - e;
	if (shift <= 0) {
		keep = mant << uint(-shift);	/* exact; sticky alone is below halfway */
		rb = 0ul;
		halfway = 1ul;
	} else if (shift > 62) {
		return sign;			/* far below halfway the smallest denormal */
	} else {
		keep = mant >> uint(shift);
		rb = mant & ((1ul << uint(shift)) - 1ul);
		halfway = 1ul << uint(shift - 1);
	}
	if (rb > halfway || (rb == halfway && (sticky || (keep & 1ul) != 0ul)))
		keep++;
	if (biased >= 1)
		return sign | (uint(biased - 1) << 23) + uint(keep);
	return sign | uint(keep);		/* denormal (or the smallest normal) */
}

/* |u| as significand * 2^exp with an integer significand (finite, non-zero u). */
void unpack(uint u, out uint64_t m, out int e)
{
	uint ex = (u >> 23) & 0xffu;

	if (ex == 0u) {
		m = uint64_t(u & 0x007fffffu);
		e = -149;
	} else {
		m = uint64_t((u & 0x007fffffu) | 0x00800000u);
		e = int(ex) - 150;
	}
}

bool bits_zero(uint u)
{
	return (u & 0x7fffffffu) == 0u;
}

bool bits_finite(uint u)
{
	return (u & 0x7f800000u) != 0x7f800000u;
}

/* a + b, both finite, not both zero. */
uint soft_add(uint a, uint b)
{
	uint64_t ma, mb, big, small;
	int ea, eb, d;
	bool sticky = false;

	if (bits_zero(a))
		return b;
	if (bits_zero(b))
		return a;
	if ((a & 0x7fffffffu) < (b & 0x7fffffffu)) {
		uint t = a; a = b; b = t;
	}
	unpack(a, ma, ea);
	unpack(b, mb, eb);
	/* |a| >= |b|; line both up 38 bits above a's last bit */
	big = ma << 38;
	d = ea - eb;
	if (d <= 38) {
		small = mb << uint(38 - d);
	} else if (d - 38 < 60) {
		small = mb >> uint(d - 38);
		sticky = (small << uint(d - 38)) != mb;
	} else {
		small = 0ul;
		sticky = true;
	}
	if ((a ^ b) < SIGN) {
		return make_float(a & SIGN, ea - 38, big + small, sticky);
	}
	if (sticky) {
		/* true difference lies strictly between big - small - 1 and big - small */
		return make_float(a & SIGN, ea - 38, big - small - 1ul, true);
	}
	if (big == small)
		return 0u;			/* x - x = +0 */
	return make_float(a & SIGN, ea - 38, big - small, false);
}

/* a * b, both finite and non-zero. */
uint soft_mul(uint a, uint b)
{
	uint64_t ma, mb;
	int ea, eb;

	unpack(a, ma, ea);
	unpack(b, mb, eb);
	return make_float((a ^ b) & SIGN, ea + eb, ma * mb, false);
}

/* Results at or below 2^-125 (and denormal inputs) take the integer path. */
bool near_denormal(uint u)
{
	return (u & 0x7fffffffu) < 0x01000000u;
}

uint f_add(uint a, uint b)
{
	precise float r = uintBitsToFloat(a) + uintBitsToFloat(b);
	uint u = floatBitsToUint(r);

	if (bits_finite(a) && bits_finite(b) && !(bits_zero(a) && bits_zero(b)) &&
	    (bits_denormal(a) || bits_denormal(b) || near_denormal(u)))
		u = soft_add(a, b);
	return canon(u);
}

uint f_sub(uint a, uint b)
{
	if (bits_nan(b))
		return CANON_NAN;
	return f_add(a, b ^ SIGN);
}

uint f_mul(uint a, uint b)
{
	uint sign = (a ^ b) & SIGN;
	bool za = bits_zero(a), zb = bits_zero(b);

	if (bits_nan(a) || bits_nan(b))
		return CANON_NAN;
	/* decided here: a flushed denormal would turn denormal * inf into NaN */
	if (!bits_finite(a) || !bits_finite(b))
		return za || zb ? CANON_NAN : sign | 0x7f800000u;
	if (za || zb)
		return sign;
	if (bits_denormal(a) || bits_denormal(b))
		return soft_mul(a, b);
	precise float r = uintBitsToFloat(a) * uintBitsToFloat(b);
	uint u = floatBitsToUint(r);

	return near_denormal(u) ? soft_mul(a, b) : canon(u);
}

uint f_div(uint a, uint b)
{
	uint sign = (a ^ b) & SIGN;
	uint64_t ma, mb, q;
	int ea, eb;

	if (bits_nan(a) || bits_nan(b))
		return CANON_NAN;
	if (!bits_finite(a))
		return bits_finite(b) ? sign | 0x7f800000u : CANON_NAN;
	if (!bits_finite(b))
		return sign;
	if (bits_zero(b))
		return bits_zero(a) ? CANON_NAN : sign | 0x7f800000u;
	if (bits_zero(a))
		return sign;
	unpack(a, ma, ea);
	unpack(b, mb, eb);
	/* normalise both significands to 24 bits so the quotient has 38-40 bits */
	int sa = 23 - msb64(ma), sb = 23 - msb64(mb);
	ma <<= uint(sa); ea -= sa;
	mb <<= uint(sb); eb -= sb;
	q = (ma << 39) / mb;
	return make_float(sign, ea - eb - 39, q, q * mb != (ma << 39));
}

uint f_sqrt(uint a)
{
	uint64_t m, n, s, bit;
	int e;

	if (bits_nan(a))
		return CANON_NAN;
	if (bits_zero(a))
		return a;			/* sqrt(-0) = -0 */
	if ((a & SIGN) != 0u)
		return CANON_NAN;
	if (a == 0x7f800000u)
		return a;
	unpack(a, m, e);
	int sh = 23 - msb64(m);
	m <<= uint(sh); e -= sh;		/* m in [2^23, 2^24) */
	if ((e & 1) != 0) {
		m <<= 1; e -= 1;
	}
	n = m << 26;				/* < 2^51; sqrt has 25-26 bits */
	s = 0ul;
	for (bit = 1ul << 26; bit != 0ul; bit >>= 1) {
		uint64_t t = s | bit;
		if (t * t <= n)
			s = t;
	}
	return make_float(0u, (e - 26) / 2, s, s * s != n);
}

/* fminf/fmaxf as lavm_minf/lavm_maxf, then canonical NaN. */
uint f_min(uint a, uint b)
{
	if (bits_nan(a))
		return canon(b);
	if (bits_nan(b))
		return a;
	int c = bits_cmp(a, b);
	if (c == 0)
		return a | b;
	return c < 0 ? a : b;
}

uint f_max(uint a, uint b)
{
	if (bits_nan(a))
		return canon(b);
	if (bits_nan(b))
		return a;
	int c = bits_cmp(a, b);
	if (c == 0)
		return a & b;
	return c > 0 ? a : b;
}

/* An exact integer of magnitude below 2^24, as lavm_fmodf's fast path checks. */
bool bits_small_int(uint u, out int v)
{
	uint ex = (u >> 23) & 0xffu;

	if (bits_zero(u)) {
		v = 0;
		return true;
	}
	if (ex < 127u || ex >= 127u + 24u)
		return false;
	uint m = (u & 0x007fffffu) | 0x00800000u, fr = 23u - (ex - 127u);
	if ((m & ((1u << fr) - 1u)) != 0u)
		return false;
	v = int(m >> fr);
	if ((u & SIGN) != 0u)
		v = -v;
	return true;
}

uint f_mod(uint ux, uint uy)
{
	uint sx = ux & SIGN, i;
	int ex = int(ux >> 23 & 0xffu), ey = int(uy >> 23 & 0xffu);
	int ix, iy;

	if ((uy << 1) == 0u || bits_nan(uy) || ex == 0xff)
		return CANON_NAN;
	if (bits_small_int(ux, ix) && bits_small_int(uy, iy)) {
		/* C's % truncates: the remainder takes the dividend's sign */
		int r = abs(ix) % abs(iy);
		if (ix < 0)
			r = -r;
		return r != 0 ? floatBitsToUint(float(r)) : sx;
	}
	if ((ux << 1) <= (uy << 1)) {
		if ((ux << 1) == (uy << 1))
			return sx;
		return ux;
	}
	if (ex == 0) {
		for (i = ux << 9; (i >> 31) == 0u; ex--, i <<= 1)
			;
		ux <<= uint(-ex + 1);
	} else {
		ux &= 0x007fffffu;
		ux |= 0x00800000u;
	}
	if (ey == 0) {
		for (i = uy << 9; (i >> 31) == 0u; ey--, i <<= 1)
			;
		uy <<= uint(-ey + 1);
	} else {
		uy &= 0x007fffffu;
		uy |= 0x00800000u;
	}
	for (; ex > ey; ex--) {
		i = ux - uy;
		if ((i >> 31) == 0u) {
			if (i == 0u)
				return sx;
			ux = i;
		}
		ux <<= 1;
	}
	i = ux - uy;
	if ((i >> 31) == 0u) {
		if (i == 0u)
			return sx;
		ux = i;
	}
	for (; (ux >> 23) == 0u; ux <<= 1, ex--)
		;
	if (ex > 0) {
		ux -= 1u << 23;
		ux |= uint(ex) << 23;
	} else {
		ux >>= uint(-ex + 1);
	}
	return ux | sx;
}

/* 2/pi, 24 bits per word, most significant first (lavm_two_over_pi). */
const uint two_over_pi[14] = uint[14](
	0xA2F983u, 0x6E4E44u, 0x1529FCu, 0x2757D1u, 0xF534DDu, 0xC0DB62u,
	0x95993Cu, 0x439041u, 0xFE5163u, 0xABDEBBu, 0xC561B7u, 0x246E3Au,
	0x424DD2u, 0xE00649u);

/* 32 bits of 2/pi from fraction bit b; acc >> 16 of lavm_math.c's 72-bit acc */
uint two_over_pi_bits(uint b)
{
	uint w = b / 24u, off = b % 24u;
	uint64_t acc = uint64_t(two_over_pi[w]) << 32 | uint64_t(two_over_pi[w + 1u]) << 8 |
		       uint64_t(two_over_pi[w + 2u] >> 16);
	return uint(acc >> (24u - off));
}

#define F(u) uintBitsToFloat(u)

float reduce_large(uint u, out int q)
{
	int e = int(u >> 23) - 150;
	uint64_t m = uint64_t((u & 0x007fffffu) | 0x00800000u);
	int i0 = e - 1 > 1 ? e - 1 : 1;
	uint64_t w0 = two_over_pi_bits(uint(i0 - 1)), w1 = two_over_pi_bits(uint(i0 + 31)),
		 w2 = two_over_pi_bits(uint(i0 + 63));
	/* p = (m*w0 << 64) + (m*w1 << 32) + m*w2 as hi:lo */
	uint64_t p0 = m * w2, p1 = m * w1, lo, hi;
	lo = p0 + (p1 << 32);
	hi = m * w0 + (p1 >> 32) + (lo < p0 ? 1ul : 0ul);
	int sh = 96 - (e - i0 + 1);		/* 94..120 */
	uint s = uint(sh - 64);
	uint64_t frac = (lo >> s) | (hi << (64u - s));
	int qq = int((hi >> s) & 3ul);
	int64_t sf;

	if ((frac >> 63) != 0ul)
		qq++;
	sf = int64_t(frac);
	precise float a = float(int(sf >> 40)) * F(0x33800000u);
	precise float bb = float(int((sf >> 16) & 0xffffffl)) * F(0x27800000u);
	precise float r = a * F(0x3fc90fdbu) + (bb * F(0x3fc90fdbu) - a * F(0x333bbd2eu));
	q = qq & 3;
	return r;
}

float reduce(uint x, out int q)
{
	uint ax = x & 0x7fffffffu;
	float r;

	if (ax <= 0x3f490fdbu) {		/* |x| <= pi/4 */
		q = 0;
		return F(x);
	}
	r = reduce_large(ax, q);
	if ((x >> 31) != 0u) {
		r = -r;
		q = (4 - q) & 3;
	}
	return r;
}

float sin_poly(float x)
{
	precise float z = x * x;
	precise float r = ((F(0xb94ca1f9u) * z + F(0x3c08839eu)) * z - F(0x3e2aaaa3u)) * z * x + x;
	return r;
}

float cos_poly(float x)
{
	precise float z = x * x;
	precise float r = ((F(0x37ccf5ceu) * z - F(0x3ab6061au)) * z + F(0x3d2aaaa5u)) * z * z -
			  F(0x3f000000u) * z + F(0x3f800000u);
	return r;
}

uint f_sin(uint x)
{
	int q;
	float r, s;

	if ((x & 0x7fffffffu) >= 0x7f800000u)
		return CANON_NAN;
	if ((x & 0x7fffffffu) < 0x39800000u)
		return x;
	r = reduce(x, q);
	switch (q) {
	case 0: s = sin_poly(r); break;
	case 1: s = cos_poly(r); break;
	case 2: s = -sin_poly(r); break;
	default: s = -cos_poly(r); break;
	}
	return floatBitsToUint(s);
}

uint f_cos(uint x)
{
	int q;
	float r, s;

	if ((x & 0x7fffffffu) >= 0x7f800000u)
		return CANON_NAN;
	if ((x & 0x7fffffffu) < 0x39800000u)
		return 0x3f800000u;
	r = reduce(x, q);
	switch (q) {
	case 0: s = cos_poly(r); break;
	case 1: s = -sin_poly(r); break;
	case 2: s = -cos_poly(r); break;
	default: s = sin_poly(r); break;
	}
	return floatBitsToUint(s);
}

/*
 * lavm_shared_index() and the IP check: an exact integer, >= 0 (-0 is 0),
 * below @limit (<= 2^24).
 */
bool bits_index(uint u, uint limit, out uint idx)
{
	idx = 0u;
	if ((u & 0x7fffffffu) == 0u)
		return limit > 0u;
	if ((u & SIGN) != 0u)
		return false;
	uint ex = u >> 23;
	if (ex < 127u || ex > 127u + 24u)
		return false;
	uint m = (u & 0x007fffffu) | 0x00800000u;
	if (ex - 127u >= 23u) {
		idx = m << (ex - 127u - 23u);
	} else {
		uint fr = 23u - (ex - 127u);
		if ((m & ((1u << fr) - 1u)) != 0u)
			return false;
		idx = m >> fr;
	}
	return idx < limit;
}

/* lavm_branch_taken(): |c| < eps is zero for every condition; NaN only NE. */
bool branch_taken(uint op, uint c)
{
	uint a = c & 0x7fffffffu;
	bool nan = a > 0x7f800000u;
	bool zero = a < 0x38d1b717u;
	bool pos = !nan && !zero && (c & SIGN) == 0u;
	bool neg = !nan && !zero && (c & SIGN) != 0u;

	switch (op) {
	case 50u: return zero;
	case 51u: return !zero;
	case 52u: return neg;
	case 53u: return pos;
	case 54u: return neg || zero;
	case 55u: return pos || zero;
	}
	return true;
}
