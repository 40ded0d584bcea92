/* Peak arithmetic throughput of one core: tight loops of independent
 * fused multiply-adds (float32) or int8 dot products, nothing else.
 *
 * Compiled at benchmark time by replicate/bench/peak.py (cc -O2 -shared)
 * and called through ctypes, one call per thread. Each kernel is compiled for
 * its own instruction set (a target attribute), so one file builds with any
 * -march; peak.py calls only those whose flags /proc/cpuinfo lists.
 *
 * Every kernel runs `iters` rounds of ACC independent accumulators (enough to
 * hide the instruction latency on both FMA pipes) and returns a value that
 * depends on all of them, so the compiler cannot drop the loop. Work per
 * round, in multiply-accumulates (MACs), is in the table peak.py keeps:
 *   fma_avx512   16 zmm FMAs x 16 float32 lanes          = 256 MACs
 *   fma_avx2     12 ymm FMAs x  8 float32 lanes          =  96 MACs
 *   vnni_avx512  16 zmm VPDPBUSD x 64 u8*s8 products     = 1024 MACs
 *   vnni_avx256  12 ymm VPDPBUSD (VEX, AVX-VNNI) x 32    = 384 MACs
 *   madd_avx512  16 zmm VPMADDUBSW+VPMADDWD+VPADDD x 64  = 1024 MACs
 *   madd_avx2    12 ymm VPMADDUBSW+VPMADDWD+VPADDD x 32  = 384 MACs
 *   amx_int8      4 TDPBUSD x 16 x 16 x 64 u8*s8 products = 65536 MACs
 * (madd_*: how int8 dot products run without VNNI; amx_int8: the tile unit
 * of processors with AMX, which int8 libraries use where it exists).
 */
#include <immintrin.h>

#define REPEAT16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) \
                    X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define REPEAT12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

__attribute__((target("avx512f")))
float fma_avx512(long iters)
{
    const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
#define DECL(i) __m512 a##i = _mm512_set1_ps((float)(i + 1));
    REPEAT16(DECL)
#undef DECL
    for (long n = 0; n < iters; n++) {
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, b, c);
        REPEAT16(STEP)
#undef STEP
    }
    __m512 s = _mm512_setzero_ps();
#define SUM(i) s = _mm512_add_ps(s, a##i);
    REPEAT16(SUM)
#undef SUM
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma")))
float fma_avx2(long iters)
{
    const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
#define DECL(i) __m256 a##i = _mm256_set1_ps((float)(i + 1));
    REPEAT12(DECL)
#undef DECL
    for (long n = 0; n < iters; n++) {
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, b, c);
        REPEAT12(STEP)
#undef STEP
    }
    __m256 s = _mm256_setzero_ps();
#define SUM(i) s = _mm256_add_ps(s, a##i);
    REPEAT12(SUM)
#undef SUM
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

__attribute__((target("avx512f,avx512vnni")))
int vnni_avx512(long iters)
{
    const __m512i u = _mm512_set1_epi8(3), v = _mm512_set1_epi8(-2);
#define DECL(i) __m512i a##i = _mm512_set1_epi32(i);
    REPEAT16(DECL)
#undef DECL
    for (long n = 0; n < iters; n++) {
#define STEP(i) a##i = _mm512_dpbusd_epi32(a##i, u, v);
        REPEAT16(STEP)
#undef STEP
    }
    __m512i s = _mm512_setzero_si512();
#define SUM(i) s = _mm512_add_epi32(s, a##i);
    REPEAT16(SUM)
#undef SUM
    return _mm512_reduce_add_epi32(s);
}

/* the eight int32 lanes of s, added (a macro: it needs the caller's target) */
#define SUM256(s, out) do { int lanes[8]; \
    _mm256_storeu_si256((__m256i *)lanes, s); \
    out = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] \
        + lanes[7]; } while (0)

#ifndef PEAK_NO_AVXVNNI  /* compilers before GCC 11 / clang 12 lack it */
__attribute__((target("avx2,avxvnni")))
int vnni_avx256(long iters)
{
    const __m256i u = _mm256_set1_epi8(3), v = _mm256_set1_epi8(-2);
#define DECL(i) __m256i a##i = _mm256_set1_epi32(i);
    REPEAT12(DECL)
#undef DECL
    for (long n = 0; n < iters; n++) {
#define STEP(i) a##i = _mm256_dpbusd_avx_epi32(a##i, u, v);
        REPEAT12(STEP)
#undef STEP
    }
    __m256i s = _mm256_setzero_si256();
#define SUM(i) s = _mm256_add_epi32(s, a##i);
    REPEAT12(SUM)
#undef SUM
    int total;
    SUM256(s, total);
    return total;
}

#endif

__attribute__((target("avx512f,avx512bw")))
int madd_avx512(long iters)
{
    /* each accumulator's own bytes are the u8 operand of its next product,
     * so no product can be hoisted out of the loop or shared */
    const __m512i v = _mm512_set1_epi8(-2), ones = _mm512_set1_epi16(1);
#define DECL(i) __m512i a##i = _mm512_set1_epi32(i);
    REPEAT16(DECL)
#undef DECL
    for (long n = 0; n < iters; n++) {
#define STEP(i) a##i = _mm512_add_epi32(a##i, \
        _mm512_madd_epi16(_mm512_maddubs_epi16(a##i, v), ones));
        REPEAT16(STEP)
#undef STEP
    }
    __m512i s = _mm512_setzero_si512();
#define SUM(i) s = _mm512_add_epi32(s, a##i);
    REPEAT16(SUM)
#undef SUM
    return _mm512_reduce_add_epi32(s);
}

__attribute__((target("avx2")))
int madd_avx2(long iters)
{
    const __m256i v = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
#define DECL(i) __m256i a##i = _mm256_set1_epi32(i);
    REPEAT12(DECL)
#undef DECL
    for (long n = 0; n < iters; n++) {
#define STEP(i) a##i = _mm256_add_epi32(a##i, \
        _mm256_madd_epi16(_mm256_maddubs_epi16(a##i, v), ones));
        REPEAT12(STEP)
#undef STEP
    }
    __m256i s = _mm256_setzero_si256();
#define SUM(i) s = _mm256_add_epi32(s, a##i);
    REPEAT12(SUM)
#undef SUM
    int total;
    SUM256(s, total);
    return total;
}

#ifndef PEAK_NO_AMX  /* compilers before GCC 11 / clang 12 lack it */
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_REQ_XCOMP_PERM 0x1023  /* Linux: ask for an extended state */
#define XFEATURE_XTILEDATA 18       /* the AMX tile data */

/* 0 where Linux lets this process use the AMX tiles (asked once, for all of
 * its threads), -1 where not (an old kernel, a hypervisor hiding them). */
int amx_permit(void)
{
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0 ? 0 : -1;
}

/* the tile layout, palette 1: 64 bytes, as LDTILECFG reads them */
struct tile_config {
    unsigned char palette_id, start_row, reserved[14];
    unsigned short colsb[16];
    unsigned char rows[16];
};

/* Call amx_permit() first. Four accumulator tiles (16 x 16 int32) and two
 * tiles of each operand (16 x 64 u8, 16 x 64 s8): the four products of a
 * 2 x 2 block are independent, so the unit never waits on a result. */
__attribute__((target("amx-tile,amx-int8")))
int amx_int8(long iters)
{
    struct tile_config config;
    unsigned char a[16 * 64];
    signed char b[16 * 64];
    int c[16 * 16];
    unsigned total = 0;  /* wraps, as it may: only its dependence matters */
    memset(&config, 0, sizeof config);
    config.palette_id = 1;
    for (int t = 0; t < 8; t++) {
        config.rows[t] = 16;
        config.colsb[t] = 64;
    }
    memset(a, 3, sizeof a);
    memset(b, -2, sizeof b);
    _tile_loadconfig(&config);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    _tile_loadd(4, a, 64);
    _tile_loadd(5, a, 64);
    _tile_loadd(6, b, 64);
    _tile_loadd(7, b, 64);
    for (long n = 0; n < iters; n++) {
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 4, 7);
        _tile_dpbusd(2, 5, 6);
        _tile_dpbusd(3, 5, 7);
    }
#define SUM(t) _tile_stored(t, c, 64); for (int k = 0; k < 16 * 16; k++) total += (unsigned)c[k];
    SUM(0) SUM(1) SUM(2) SUM(3)
#undef SUM
    _tile_release();
    return (int)total;
}

#endif
