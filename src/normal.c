// normal.c: fast bulk N(0,1) blocks (see normal.h).
#include "normal.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

unsigned long long normal_key(long seed, const char *tag)
{
    char head[32];
    int n = snprintf(head, sizeof head, "%ld|", seed);
    unsigned long long h = fnv1a(FNV_OFFSET, head, (size_t)n);
    return fnv1a(h, tag, strlen(tag));
}

// ---------------------------------------------------------------------------
// Uniform bits.

static inline uint64_t rotl64(uint64_t v, int k) { return (v << k) | (v >> (64 - k)); }

// splitmix64's output function (Steele, Lea & Flood 2014, with Stafford's
// "Mix13" constants): z ^= z >> 30; z *= c1; z ^= z >> 27; z *= c2; z ^= z >> 31.
// Each step is a bijection of 64-bit words (xor-shift and multiplication by an
// odd constant are invertible), so the whole map is a bijection, and one bit
// flipped in z flips each output bit with probability close to 1/2.
static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// xoshiro256++ (Blackman & Vigna 2019): a linear engine on a 256-bit state
// (s0, s1, s2, s3) over GF(2) of period 2^256 - 1,
//     t = s1 << 17;  s2 ^= s0;  s3 ^= s1;  s1 ^= s2;  s0 ^= s3;  s2 ^= t;
//     s3 = rotl(s3, 45),
// with the nonlinear output rotl(s0 + s3, 23) + s0 (taken before the update),
// whose every bit passes the usual statistical batteries -- unlike
// xoshiro256+, whose lowest bits are weak, which matters here because the
// lowest bits pick the ziggurat layer.
typedef struct {
    uint64_t s0, s1, s2, s3;
} xoshiro;

static inline uint64_t xoshiro_next(xoshiro *g)
{
    uint64_t out = rotl64(g->s0 + g->s3, 23) + g->s0;
    uint64_t t = g->s1 << 17;
    g->s2 ^= g->s0;
    g->s3 ^= g->s1;
    g->s1 ^= g->s2;
    g->s0 ^= g->s3;
    g->s2 ^= t;
    g->s3 = rotl64(g->s3, 45);
    return out;
}

// The state of stream (key, block): z = mix(mix(key) ^ block) is one-to-one in
// block for a fixed key and in key for a fixed block; the four state words are
// the splitmix64 sequence from z, s_j = mix(z + (j + 1) * gamma) with gamma =
// 2^64 / golden ratio.  Distinct arguments of the bijection mix give distinct
// words, so at most one of them is zero and the state is never all-zero (the
// one fixed point of the engine).
static xoshiro xoshiro_seed(uint64_t key, uint64_t block)
{
    const uint64_t gamma = 0x9e3779b97f4a7c15ULL;
    uint64_t z = mix64(mix64(key) ^ block);
    xoshiro g = {mix64(z + gamma), mix64(z + 2 * gamma), mix64(z + 3 * gamma),
                 mix64(z + 4 * gamma)};
    return g;
}

// A uniform in (0, 1]: the top 53 bits of a draw, plus one, times 2^-53.
static inline double uniform_pos(xoshiro *g)
{
    return (double)(int64_t)((xoshiro_next(g) >> 11) + 1) * 0x1p-53;
}

// ---------------------------------------------------------------------------
// The ziggurat (Marsaglia & Tsang 2000) for the half-normal density
// f(x) = exp(-x^2/2), x >= 0, with N = 256 layers of equal area v.
//
// Layer edges x_1 = r > x_2 > ... > x_{N-1} > x_N = 0.  Layer 0 is the base:
// the rectangle [0, r] x [0, f(r)] together with the tail {x > r, y < f(x)},
// of area
//     v = r f(r) + int_r^inf f = r f(r) + sqrt(pi/2) erfc(r / sqrt 2);
// it is treated as a rectangle of width x_0 = v / f(r).  Layer i >= 1 is the
// rectangle [0, x_i] x [f(x_i), f(x_{i+1})], of area x_i (f(x_{i+1}) - f(x_i))
// = v, which gives the recursion
//     x_{i+1} = f^{-1}(f(x_i) + v / x_i) = sqrt(-2 log(f(x_i) + v / x_i)).
// The tail start r is the root for which the recursion lands on f(x_N) = 1
// exactly, i.e. the top layer [0, x_{N-1}] x [f(x_{N-1}), 1] also has area v:
// r = 3.6541528853610088 for N = 256 (Marsaglia & Tsang; normal_init records
// how far the top layer's area lands from v, and tests/test_normal checks it).
//
// Sampling: a layer i uniform in 0..N-1 (each has area v), u uniform in
// [0, 1), x = u x_i.  Points with x < x_{i+1} lie under the curve in every
// layer (f(x) > f(x_{i+1}) >= top of layer i) and are accepted at once: the
// fast path, taken with probability (1/N) sum_i x_{i+1}/x_i ~ 0.985.
// Otherwise, for i >= 1, x is in the wedge [x_{i+1}, x_i): draw y uniform in
// [f(x_i), f(x_{i+1})] and accept x if y < f(x); for i = 0, x >= r means the
// point fell in the tail, sampled exactly by Marsaglia's method.  A rejected
// point starts over with a new layer.  The accepted x has density
// proportional to f; a random sign makes it N(0, 1).  Draws per sample:
// N v / sqrt(pi/2) ~ 1.0067, plus the wedge and tail uniforms.
//
// One 64-bit draw w makes the fast path: bits 0..7 the layer, bit 8 the sign,
// bits 11..63 the 53-bit integer j with u = j 2^-53.  The tables are indexed
// by the 9 low bits, sign folded in:
//     k[s] = floor(2^53 x_{i+1} / x_i)   (accept when j < k[s]),
//     w[s] = +-x_i 2^-53                  (x = j w[s]),
// for s = i + 256 sign.

enum { LAYERS = 256 };
#define ZIG_R 3.6541528853610088

static struct {
    uint64_t k[2 * LAYERS];
    double w[2 * LAYERS];
    double x[LAYERS + 1];   // x_0 (base width) .. x_N = 0
    double f[LAYERS + 1];   // f(x_i); f_0 = 0 is unused, f_N = 1
    double top_area_error;  // (area of the top layer - v) / v, from the recursion
} zt;

static pthread_once_t zt_once = PTHREAD_ONCE_INIT;

static void normal_init(void)
{
    const double r = ZIG_R;
    double fr = exp(-0.5 * r * r);
    double v = r * fr + sqrt(M_PI / 2) * erfc(r / sqrt(2.0));
    zt.x[0] = v / fr;
    zt.x[1] = r;
    zt.f[0] = 0;
    zt.f[1] = fr;
    for (int i = 1; i < LAYERS - 1; i++) {
        zt.x[i + 1] = sqrt(-2 * log(zt.f[i] + v / zt.x[i]));
        zt.f[i + 1] = exp(-0.5 * zt.x[i + 1] * zt.x[i + 1]);
    }
    zt.x[LAYERS] = 0;
    zt.f[LAYERS] = 1;
    zt.top_area_error = (zt.x[LAYERS - 1] * (1 - zt.f[LAYERS - 1]) - v) / v;
    for (int s = 0; s < 2 * LAYERS; s++) {
        int i = s % LAYERS;
        zt.k[s] = (uint64_t)ldexp(zt.x[i + 1] / zt.x[i], 53);
        zt.w[s] = (s < LAYERS ? 1 : -1) * ldexp(zt.x[i], -53);
    }
}

double normal_top_layer_error(void)
{
    pthread_once(&zt_once, normal_init);
    return zt.top_area_error;
}

// The tail x > r of the normal (Marsaglia 1964): with a = -log(U1) / r and
// b = -log(U2), U1, U2 uniform in (0, 1], accept r + a when 2 b > a^2.
// Why: a is Exp(r), density r e^{-r a}; P(accept | a) = P(b > a^2/2) =
// e^{-a^2/2}, so the accepted a has density proportional to
// e^{-r a - a^2/2} = e^{r^2/2} f(r + a), the normal density beyond r.
// The acceptance rate is high (about 0.93 at r = 3.65).
static double normal_tail(xoshiro *g)
{
    double a, b;
    do {
        a = -log(uniform_pos(g)) / ZIG_R;
        b = -log(uniform_pos(g));
    } while (b + b <= a * a);
    return ZIG_R + a;
}

// The slow path for a draw w whose fast test failed: the wedge test of layer
// i >= 1 (y uniform in [f(x_i), f(x_{i+1})], accept x = u x_i if y < f(x)) or
// the tail for layer 0.  Returns 1 and the signed sample in *out, or 0 when
// the point is rejected (the caller starts over with a new draw).
static __attribute__((noinline)) int normal_slow(xoshiro *g, uint64_t w, double *out)
{
    unsigned s = (unsigned)(w & (2 * LAYERS - 1));
    unsigned i = s % LAYERS;
    double sign = s < LAYERS ? 1.0 : -1.0;
    if (i == 0) {
        *out = sign * normal_tail(g);
        return 1;
    }
    double x = (double)(int64_t)(w >> 11) * ldexp(zt.x[i], -53);
    double y = zt.f[i] + (double)(int64_t)(xoshiro_next(g) >> 11) * 0x1p-53 *
                             (zt.f[i + 1] - zt.f[i]);
    if (y < exp(-0.5 * x * x)) {
        *out = sign * x;
        return 1;
    }
    return 0;
}

void normal_block(unsigned long long key, unsigned long long block, double *x, size_t len)
{
    pthread_once(&zt_once, normal_init);
    xoshiro g = xoshiro_seed(key, block);
    const uint64_t *k = zt.k;
    const double *wt = zt.w;
    size_t n = 0;
    while (n < len) {
        uint64_t w = xoshiro_next(&g);
        unsigned s = (unsigned)(w & (2 * LAYERS - 1));
        uint64_t j = w >> 11;
        if (j < k[s]) {
            x[n++] = (double)(int64_t)j * wt[s];
        } else {
            xoshiro h = g;   // keep g's address private, so it stays in registers
            n += (size_t)normal_slow(&h, w, x + n);
            g = h;
        }
    }
}

void normal_rows(unsigned long long key, unsigned long long first_row, size_t nrows,
                 size_t ncols, double *X)
{
    for (size_t r = 0; r < nrows; r++) normal_block(key, first_row + r, X + r * ncols, ncols);
}
