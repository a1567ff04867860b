/*
 * pm_number.c — fast, exact conversions between doubles and text.
 *
 * Parsing: Clinger's fast path (at most 19 significant digits forming an integer m <= 2^53,
 * and a decimal exponent in [-22, 22]: m and 10^|e| are exact doubles, so one IEEE division
 * or multiplication gives the correctly rounded result); anything else goes to strtod.
 *
 * Formatting: Grisu2 (Florian Loitsch, "Printing floating-point numbers quickly and accurately
 * with integers", PLDI 2010): digits that always read back (strtod) to the same double, almost
 * always the shortest such. The table of cached powers of ten was generated (10^k rounded to 64
 * bits for k = -348, -340, ..., 340). The layout follows %g: fixed notation for decimal
 * exponents from -5 to 16, otherwise d.ddde+XX; "inf", "-inf", "nan", "-0" as printf writes them.
 */
#include "pm_number.h"

#include <stdlib.h>
#include <string.h>

/* ---- parsing ---- */

static const double EXACT_POW10[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

int pm_parse_double(const char *s, size_t len, double *out) {
    const char *p = s, *end = s + len;
    int negative = 0;
    if (p < end && (*p == '-' || *p == '+')) negative = *p++ == '-';
    uint64_t m = 0;
    int digits = 0, any = 0, exp10 = 0;
    while (p < end && (unsigned)(*p - '0') <= 9) {
        if (m != 0 || *p != '0') digits++;
        m = m * 10 + (uint64_t)(*p - '0'); /* overflow only past 19 digits: checked below */
        if (digits > 19) goto slow;
        any = 1;
        p++;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && (unsigned)(*p - '0') <= 9) {
            if (m != 0 || *p != '0') digits++;
            m = m * 10 + (uint64_t)(*p - '0');
            if (digits > 19) goto slow;
            exp10--;
            any = 1;
            p++;
        }
    }
    if (!any) goto slow;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0, e = 0, edigits = 0;
        if (p < end && (*p == '-' || *p == '+')) eneg = *p++ == '-';
        while (p < end && (unsigned)(*p - '0') <= 9) {
            if (e < 10000) e = e * 10 + (*p - '0');
            edigits++;
            p++;
        }
        if (edigits == 0) goto slow;
        exp10 += eneg ? -e : e;
    }
    if (p != end) goto slow;
    double d;
    if (m == 0) {
        d = 0.0;
    } else if (m <= ((uint64_t)1 << 53) && exp10 >= -22 && exp10 <= 22) {
        d = (double)m;
        d = exp10 < 0 ? d / EXACT_POW10[-exp10] : d * EXACT_POW10[exp10];
    } else {
        goto slow;
    }
    *out = negative ? -d : d;
    return 0;
slow:;
    char *stop;
    *out = strtod(s, &stop);
    return stop == end ? 0 : -1;
}

/* ---- formatting (Grisu2) ---- */

typedef struct diyfp {
    uint64_t f;
    int e;
} diyfp;

static diyfp diy_sub(diyfp a, diyfp b) { return (diyfp){a.f - b.f, a.e}; }

static diyfp diy_mul(diyfp a, diyfp b) {
    unsigned __int128 p = (unsigned __int128)a.f * b.f;
    uint64_t h = (uint64_t)(p >> 64), l = (uint64_t)p;
    if (l & ((uint64_t)1 << 63)) h++; /* round */
    return (diyfp){h, a.e + b.e + 64};
}

static diyfp diy_normalize(diyfp a) {
    int s = __builtin_clzll(a.f);
    return (diyfp){a.f << s, a.e - s};
}

#define DP_SIGNIFICAND_BITS 52
#define DP_HIDDEN_BIT ((uint64_t)1 << 52)
#define DP_EXPONENT_BIAS (0x3FF + DP_SIGNIFICAND_BITS)
#define DP_MIN_EXPONENT (-DP_EXPONENT_BIAS)

static diyfp diy_of_double(uint64_t bits) {
    int biased = (int)((bits >> 52) & 0x7FF);
    uint64_t significand = bits & (DP_HIDDEN_BIT - 1);
    if (biased != 0) return (diyfp){significand + DP_HIDDEN_BIT, biased - DP_EXPONENT_BIAS};
    return (diyfp){significand, DP_MIN_EXPONENT + 1};
}

/* The boundaries m- and m+ of v, normalized to m+'s exponent. */
static void diy_boundaries(diyfp v, diyfp *minus, diyfp *plus) {
    diyfp pl = {(v.f << 1) + 1, v.e - 1};
    while (!(pl.f & (DP_HIDDEN_BIT << 1))) {
        pl.f <<= 1;
        pl.e--;
    }
    pl.f <<= 64 - DP_SIGNIFICAND_BITS - 2;
    pl.e -= 64 - DP_SIGNIFICAND_BITS - 2;
    diyfp mi = v.f == DP_HIDDEN_BIT ? (diyfp){(v.f << 2) - 1, v.e - 2}
                                    : (diyfp){(v.f << 1) - 1, v.e - 1};
    mi.f <<= mi.e - pl.e;
    mi.e = pl.e;
    *minus = mi;
    *plus = pl;
}

static const struct {
    uint64_t f;
    int e;
} CACHED_POWERS[87] = {
    {0xfa8fd5a0081c0288ull, -1220}, {0xbaaee17fa23ebf76ull, -1193}, {0x8b16fb203055ac76ull, -1166},
    {0xcf42894a5dce35eaull, -1140}, {0x9a6bb0aa55653b2dull, -1113}, {0xe61acf033d1a45dfull, -1087},
    {0xab70fe17c79ac6caull, -1060}, {0xff77b1fcbebcdc4full, -1034}, {0xbe5691ef416bd60cull, -1007},
    {0x8dd01fad907ffc3cull, -980}, {0xd3515c2831559a83ull, -954}, {0x9d71ac8fada6c9b5ull, -927},
    {0xea9c227723ee8bcbull, -901}, {0xaecc49914078536dull, -874}, {0x823c12795db6ce57ull, -847},
    {0xc21094364dfb5637ull, -821}, {0x9096ea6f3848984full, -794}, {0xd77485cb25823ac7ull, -768},
    {0xa086cfcd97bf97f4ull, -741}, {0xef340a98172aace5ull, -715}, {0xb23867fb2a35b28eull, -688},
    {0x84c8d4dfd2c63f3bull, -661}, {0xc5dd44271ad3cdbaull, -635}, {0x936b9fcebb25c996ull, -608},
    {0xdbac6c247d62a584ull, -582}, {0xa3ab66580d5fdaf6ull, -555}, {0xf3e2f893dec3f126ull, -529},
    {0xb5b5ada8aaff80b8ull, -502}, {0x87625f056c7c4a8bull, -475}, {0xc9bcff6034c13053ull, -449},
    {0x964e858c91ba2655ull, -422}, {0xdff9772470297ebdull, -396}, {0xa6dfbd9fb8e5b88full, -369},
    {0xf8a95fcf88747d94ull, -343}, {0xb94470938fa89bcfull, -316}, {0x8a08f0f8bf0f156bull, -289},
    {0xcdb02555653131b6ull, -263}, {0x993fe2c6d07b7facull, -236}, {0xe45c10c42a2b3b06ull, -210},
    {0xaa242499697392d3ull, -183}, {0xfd87b5f28300ca0eull, -157}, {0xbce5086492111aebull, -130},
    {0x8cbccc096f5088ccull, -103}, {0xd1b71758e219652cull, -77}, {0x9c40000000000000ull, -50},
    {0xe8d4a51000000000ull, -24}, {0xad78ebc5ac620000ull, 3}, {0x813f3978f8940984ull, 30},
    {0xc097ce7bc90715b3ull, 56}, {0x8f7e32ce7bea5c70ull, 83}, {0xd5d238a4abe98068ull, 109},
    {0x9f4f2726179a2245ull, 136}, {0xed63a231d4c4fb27ull, 162}, {0xb0de65388cc8ada8ull, 189},
    {0x83c7088e1aab65dbull, 216}, {0xc45d1df942711d9aull, 242}, {0x924d692ca61be758ull, 269},
    {0xda01ee641a708deaull, 295}, {0xa26da3999aef774aull, 322}, {0xf209787bb47d6b85ull, 348},
    {0xb454e4a179dd1877ull, 375}, {0x865b86925b9bc5c2ull, 402}, {0xc83553c5c8965d3dull, 428},
    {0x952ab45cfa97a0b3ull, 455}, {0xde469fbd99a05fe3ull, 481}, {0xa59bc234db398c25ull, 508},
    {0xf6c69a72a3989f5cull, 534}, {0xb7dcbf5354e9beceull, 561}, {0x88fcf317f22241e2ull, 588},
    {0xcc20ce9bd35c78a5ull, 614}, {0x98165af37b2153dfull, 641}, {0xe2a0b5dc971f303aull, 667},
    {0xa8d9d1535ce3b396ull, 694}, {0xfb9b7cd9a4a7443cull, 720}, {0xbb764c4ca7a44410ull, 747},
    {0x8bab8eefb6409c1aull, 774}, {0xd01fef10a657842cull, 800}, {0x9b10a4e5e9913129ull, 827},
    {0xe7109bfba19c0c9dull, 853}, {0xac2820d9623bf429ull, 880}, {0x80444b5e7aa7cf85ull, 907},
    {0xbf21e44003acdd2dull, 933}, {0x8e679c2f5e44ff8full, 960}, {0xd433179d9c8cb841ull, 986},
    {0x9e19db92b4e31ba9ull, 1013}, {0xeb96bf6ebadf77d9ull, 1039}, {0xaf87023b9bf0ee6bull, 1066},
};

/* A cached power c = 10^-K such that the product with a number of binary exponent e has an
   exponent in [-60, -32]. */
static diyfp cached_power(int e, int *K) {
    double dk = (-61 - e) * 0.30102999566398114 + 347;
    int k = (int)dk;
    if (dk - k > 0.0) k++;
    unsigned index = (unsigned)((k >> 3) + 1);
    *K = -(-348 + (int)(index << 3));
    return (diyfp){CACHED_POWERS[index].f, CACHED_POWERS[index].e};
}

static const uint64_t POW10_U64[20] = {
    1ull,
    10ull,
    100ull,
    1000ull,
    10000ull,
    100000ull,
    1000000ull,
    10000000ull,
    100000000ull,
    1000000000ull,
    10000000000ull,
    100000000000ull,
    1000000000000ull,
    10000000000000ull,
    100000000000000ull,
    1000000000000000ull,
    10000000000000000ull,
    100000000000000000ull,
    1000000000000000000ull,
    10000000000000000000ull,
};

static void grisu_round(char *buf, int len, uint64_t delta, uint64_t rest, uint64_t ten_kappa,
                        uint64_t wp_w) {
    while (rest < wp_w && delta - rest >= ten_kappa &&
           (rest + ten_kappa < wp_w || wp_w - rest > rest + ten_kappa - wp_w)) {
        buf[len - 1]--;
        rest += ten_kappa;
    }
}

static int decimal_digits32(uint32_t n) {
    int d = 1;
    while (d < 10 && n >= POW10_U64[d]) d++;
    return d;
}

static void digit_gen(diyfp W, diyfp Mp, uint64_t delta, char *buf, int *len, int *K) {
    const diyfp one = {(uint64_t)1 << -Mp.e, Mp.e};
    const diyfp wp_w = diy_sub(Mp, W);
    uint32_t p1 = (uint32_t)(Mp.f >> -one.e);
    uint64_t p2 = Mp.f & (one.f - 1);
    int kappa = decimal_digits32(p1);
    *len = 0;
    while (kappa > 0) {
        uint32_t div = (uint32_t)POW10_U64[kappa - 1];
        uint32_t d = p1 / div;
        p1 %= div;
        if (d || *len) buf[(*len)++] = (char)('0' + d);
        kappa--;
        uint64_t tmp = ((uint64_t)p1 << -one.e) + p2;
        if (tmp <= delta) {
            *K += kappa;
            grisu_round(buf, *len, delta, tmp, POW10_U64[kappa] << -one.e, wp_w.f);
            return;
        }
    }
    for (;;) {
        p2 *= 10;
        delta *= 10;
        char d = (char)(p2 >> -one.e);
        if (d || *len) buf[(*len)++] = (char)('0' + d);
        p2 &= one.f - 1;
        kappa--;
        if (p2 < delta) {
            *K += kappa;
            int index = -kappa;
            grisu_round(buf, *len, delta, p2, one.f, wp_w.f * (index < 20 ? POW10_U64[index] : 0));
            return;
        }
    }
}

/* Digits of a positive finite double: value = digits × 10^K. */
static int grisu2(uint64_t bits, char *buf, int *K) {
    diyfp v = diy_of_double(bits);
    diyfp w_m, w_p;
    diy_boundaries(v, &w_m, &w_p);
    diyfp c_mk = cached_power(w_p.e, K);
    diyfp W = diy_mul(diy_normalize(v), c_mk);
    diyfp Wp = diy_mul(w_p, c_mk);
    diyfp Wm = diy_mul(w_m, c_mk);
    Wm.f++;
    Wp.f--;
    int len;
    digit_gen(W, Wp, Wp.f - Wm.f, buf, &len, K);
    return len;
}

static size_t write_exponent(char *p, int e) {
    size_t n = 0;
    p[n++] = 'e';
    if (e < 0) {
        p[n++] = '-';
        e = -e;
    } else {
        p[n++] = '+';
    }
    if (e >= 100) {
        p[n++] = (char)('0' + e / 100);
        e %= 100;
        p[n++] = (char)('0' + e / 10);
    } else {
        p[n++] = (char)('0' + e / 10);
    }
    p[n++] = (char)('0' + e % 10);
    return n;
}

size_t pm_write_double(double value, char *out) {
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    char *p = out;
    int negative = (int)(bits >> 63);
    uint64_t magnitude = bits & ~((uint64_t)1 << 63);
    if ((magnitude >> 52) == 0x7FF) {
        if (magnitude & (DP_HIDDEN_BIT - 1)) {
            if (negative) *p++ = '-';
            memcpy(p, "nan", 3);
            return (size_t)(p + 3 - out);
        }
        if (negative) *p++ = '-';
        memcpy(p, "inf", 3);
        return (size_t)(p + 3 - out);
    }
    if (negative) *p++ = '-';
    if (magnitude == 0) {
        *p++ = '0';
        return (size_t)(p - out);
    }
    char digits[24];
    int K;
    int n = grisu2(magnitude, digits, &K);
    int point = n + K; /* value = 0.digits × 10^point */
    int exp10 = point - 1;
    if (exp10 >= -5 && exp10 < 17) {
        if (point <= 0) { /* 0.000ddd */
            *p++ = '0';
            *p++ = '.';
            for (int i = 0; i < -point; i++) *p++ = '0';
            memcpy(p, digits, (size_t)n);
            p += n;
        } else if (point >= n) { /* ddd000 */
            memcpy(p, digits, (size_t)n);
            p += n;
            for (int i = n; i < point; i++) *p++ = '0';
        } else { /* dd.ddd */
            memcpy(p, digits, (size_t)point);
            p += point;
            *p++ = '.';
            memcpy(p, digits + point, (size_t)(n - point));
            p += n - point;
        }
    } else {
        *p++ = digits[0];
        if (n > 1) {
            *p++ = '.';
            memcpy(p, digits + 1, (size_t)(n - 1));
            p += n - 1;
        }
        p += write_exponent(p, exp10);
    }
    return (size_t)(p - out);
}
