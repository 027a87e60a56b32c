/*
 * nap_loop.c — C reference loops for the NAP benchmark (bench/nap.ts).
 *
 * Reads a float32 N×C×H×W feature map (the same bytes every contender reads, at OFFSET in FILE)
 * and times three loops:
 *   nap       plain single pass per channel: max and sum (double accumulator), then
 *             S = (1/C) Σ_c (max / (sum/HW + eps))^p — scalar C, as gcc compiles plain code
 *             (it does not vectorise a floating-point reduction without leave to reassociate).
 *   nap-simd  the same pass with `#pragma omp simd reduction(max:..) reduction(+:..)` (float→double
 *             per lane), i.e. what C does when allowed to vectorise the reduction (AVX2 here).
 *   bw        sum of all floats (vectorised): the memory-bandwidth limit of reading the map once.
 *   copy128   the design napood's WASM path is bound to (WASM code reads only its own memory):
 *             memcpy a chunk of CHUNK floats (whole samples, or runs of whole channels) into a
 *             buffer that stays in cache, then reduce it with 128-bit SSE2 (what WebAssembly SIMD
 *             offers: 4 float32 / 2 float64 lanes); the copy and the reduction run one after the
 *             other. Not printed where the compiler has no SSE2.
 * Timing (the same for every contender of bench/nap.ts): the map is cut into segments of SEG
 * samples (SEG = N: the whole map); after one warm-up pass, REPS passes are timed segment by
 * segment, each after reading FLUSH_MB of other memory (so the segment comes from RAM, not from
 * the cache; 0: no flush), and the time is the sum over segments of each segment's best time.
 * Build: cc -O3 -march=native -fopenmp-simd -o nap_loop nap_loop.c -lm
 * Usage: nap_loop FILE OFFSET N C HW EPS P REPS SEG FLUSH_MB OUT.f64 [CHUNK]   (OFFSET: bytes to skip,
 *        e.g. the .npy header; CHUNK: floats per copy of copy128, default 65536)
 * Prints one line per loop: "<name> <seconds>", and "simd-vs-plain-maxrel <x>"; writes the nap
 * scores (float64, N) to OUT.f64.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef void (*kernel)(const float *x, long n, long c, long hw, double eps, double p, double *out);

static void nap_plain(const float *x, long n, long c, long hw, double eps, double p, double *out) {
  for (long i = 0; i < n; i++) {
    double acc = 0;
    for (long ch = 0; ch < c; ch++) {
      const float *a = x + (i * c + ch) * hw;
      float mx = a[0];
      double sum = 0;
      for (long j = 0; j < hw; j++) {
        if (a[j] > mx) mx = a[j];
        sum += a[j];
      }
      double r = mx / (sum / hw + eps);
      acc += p == 2 ? r * r : pow(r, p);
    }
    out[i] = acc / c;
  }
}

static void nap_simd(const float *x, long n, long c, long hw, double eps, double p, double *out) {
  for (long i = 0; i < n; i++) {
    double acc = 0;
    for (long ch = 0; ch < c; ch++) {
      const float *a = x + (i * c + ch) * hw;
      float mx = a[0];
      double sum = 0;
#pragma omp simd reduction(max : mx) reduction(+ : sum)
      for (long j = 0; j < hw; j++) {
        mx = a[j] > mx ? a[j] : mx;
        sum += a[j];
      }
      double r = mx / (sum / hw + eps);
      acc += p == 2 ? r * r : pow(r, p);
    }
    out[i] = acc / c;
  }
}

static volatile double sink;

#if defined(__SSE2__)
static long chunk_floats = 65536;
static float *chunk_buf;

/* Σ_c r_c^p over nch channels of hw floats at a, with 128-bit SSE2: max in float32 lanes, sums in
   float64 lanes (cvtps2pd of each half), 16 floats per iteration into 4 accumulators, then 4 per
   iteration, the hw mod 4 tail scalar. */
static double reduce128(const float *a, long nch, long hw, double eps, double p) {
  double acc = 0;
  for (long ch = 0; ch < nch; ch++, a += hw) {
    __m128 mx = _mm_set1_ps(a[0]);
    __m128d s0 = _mm_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    long j = 0;
    for (; j + 16 <= hw; j += 16) {
      __m128 v0 = _mm_loadu_ps(a + j), v1 = _mm_loadu_ps(a + j + 4), v2 = _mm_loadu_ps(a + j + 8), v3 = _mm_loadu_ps(a + j + 12);
      mx = _mm_max_ps(mx, _mm_max_ps(_mm_max_ps(v0, v1), _mm_max_ps(v2, v3)));
      s0 = _mm_add_pd(s0, _mm_add_pd(_mm_cvtps_pd(v0), _mm_cvtps_pd(v1)));
      s1 = _mm_add_pd(s1, _mm_add_pd(_mm_cvtps_pd(_mm_movehl_ps(v0, v0)), _mm_cvtps_pd(_mm_movehl_ps(v1, v1))));
      s2 = _mm_add_pd(s2, _mm_add_pd(_mm_cvtps_pd(v2), _mm_cvtps_pd(v3)));
      s3 = _mm_add_pd(s3, _mm_add_pd(_mm_cvtps_pd(_mm_movehl_ps(v2, v2)), _mm_cvtps_pd(_mm_movehl_ps(v3, v3))));
    }
    for (; j + 4 <= hw; j += 4) {
      __m128 v0 = _mm_loadu_ps(a + j);
      mx = _mm_max_ps(mx, v0);
      s0 = _mm_add_pd(s0, _mm_cvtps_pd(v0));
      s1 = _mm_add_pd(s1, _mm_cvtps_pd(_mm_movehl_ps(v0, v0)));
    }
    float m4[4];
    double d2[2];
    _mm_storeu_ps(m4, mx);
    _mm_storeu_pd(d2, _mm_add_pd(_mm_add_pd(s0, s1), _mm_add_pd(s2, s3)));
    float mxs = m4[0];
    for (int k = 1; k < 4; k++) if (m4[k] > mxs) mxs = m4[k];
    double sum = d2[0] + d2[1];
    for (; j < hw; j++) {
      if (a[j] > mxs) mxs = a[j];
      sum += a[j];
    }
    double r = mxs / (sum / hw + eps);
    acc += p == 2 ? r * r : pow(r, p);
  }
  return acc;
}

static void nap_copy128(const float *x, long n, long c, long hw, double eps, double p, double *out) {
  long sample = c * hw;
  if (sample <= chunk_floats) {
    long per = chunk_floats / sample;
    for (long i0 = 0; i0 < n; i0 += per) {
      long m = n - i0 < per ? n - i0 : per;
      memcpy(chunk_buf, x + i0 * sample, m * sample * sizeof(float));
      for (long k = 0; k < m; k++) out[i0 + k] = reduce128(chunk_buf + k * sample, c, hw, eps, p) / c;
    }
  } else {
    long per = chunk_floats / hw > 0 ? chunk_floats / hw : 1;
    for (long i = 0; i < n; i++) {
      double acc = 0;
      for (long ch0 = 0; ch0 < c; ch0 += per) {
        long k = c - ch0 < per ? c - ch0 : per;
        memcpy(chunk_buf, x + i * sample + ch0 * hw, k * hw * sizeof(float));
        acc += reduce128(chunk_buf, k, hw, eps, p);
      }
      out[i] = acc / c;
    }
  }
}
#endif

static void sum_all(const float *x, long n, long c, long hw, double eps, double p, double *out) {
  (void)eps; (void)p; (void)out;
  long len = n * c * hw;
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (long j = 0; j < len; j++) s += x[j];
  sink += s;
}

static float *flush_buf;
static long flush_len;

/* Read flush_len floats of other memory: evicts the map from the caches. */
static void flush_caches(void) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (long j = 0; j < flush_len; j++) s += flush_buf[j];
  sink += s;
}

static double timed(kernel f, const float *x, long n, long c, long hw, double eps, double p, int reps, long seg, double *out) {
  long nseg = (n + seg - 1) / seg;
  double *best = malloc(nseg * sizeof(double));
  for (long s = 0; s < nseg; s++) best[s] = 1e30;
  f(x, n, c, hw, eps, p, out); /* warm-up */
  for (int r = 0; r < reps; r++) {
    for (long s = 0; s < nseg; s++) {
      long i0 = s * seg, m = n - i0 < seg ? n - i0 : seg;
      if (flush_len > 0) flush_caches();
      double t = now();
      f(x + i0 * c * hw, m, c, hw, eps, p, out + i0);
      t = now() - t;
      if (t < best[s]) best[s] = t;
    }
  }
  double total = 0;
  for (long s = 0; s < nseg; s++) total += best[s];
  free(best);
  return total;
}

int main(int argc, char **argv) {
  if (argc != 12 && argc != 13) {
    fprintf(stderr, "usage: nap_loop FILE OFFSET N C HW EPS P REPS SEG FLUSH_MB OUT.f64 [CHUNK]\n");
    return 2;
  }
  long offset = atol(argv[2]), n = atol(argv[3]), c = atol(argv[4]), hw = atol(argv[5]);
  double eps = atof(argv[6]), p = atof(argv[7]);
  int reps = atoi(argv[8]);
  long seg = atol(argv[9]);
  flush_len = atol(argv[10]) * 1000000L / 4;
  if (flush_len > 0) {
    flush_buf = malloc(flush_len * sizeof(float));
    for (long j = 0; j < flush_len; j++) flush_buf[j] = (float)(j & 1023);
  }
  if (n < 1 || c < 1 || hw < 1 || reps < 1 || seg < 1) {
    fprintf(stderr, "nap_loop: expected N, C, HW, REPS, SEG >= 1, found %ld %ld %ld %d %ld\n", n, c, hw, reps, seg);
    return 2;
  }
  long len = n * c * hw;
  float *x = malloc(len * sizeof(float));
  double *out = malloc(n * sizeof(double));
  double *out2 = malloc(n * sizeof(double));
  FILE *f = fopen(argv[1], "rb");
  if (!f || !x || fseek(f, offset, SEEK_SET) != 0 || fread(x, sizeof(float), len, f) != (size_t)len) {
    fprintf(stderr, "nap_loop: %s: expected %ld float32 values after byte %ld, could not read them\n", argv[1], len, offset);
    return 1;
  }
  fclose(f);

  printf("nap %.9f\n", timed(nap_plain, x, n, c, hw, eps, p, reps, seg, out));
  printf("nap-simd %.9f\n", timed(nap_simd, x, n, c, hw, eps, p, reps, seg, out2));
  double maxrel = 0;
  for (long i = 0; i < n; i++) {
    double d = fabs(out[i] - out2[i]) / fabs(out[i]);
    if (d > maxrel) maxrel = d;
  }
  printf("bw %.9f\n", timed(sum_all, x, n, c, hw, eps, p, reps, seg, out2));
  printf("simd-vs-plain-maxrel %.3g\n", maxrel);
#if defined(__SSE2__)
  if (argc == 13) chunk_floats = atol(argv[12]);
  chunk_buf = malloc((chunk_floats > hw ? chunk_floats : hw) * sizeof(float));
  printf("copy128 %.9f\n", timed(nap_copy128, x, n, c, hw, eps, p, reps, seg, out2));
  maxrel = 0;
  for (long i = 0; i < n; i++) {
    double d = fabs(out[i] - out2[i]) / fabs(out[i]);
    if (d > maxrel) maxrel = d;
  }
  printf("copy128-vs-plain-maxrel %.3g\n", maxrel);
#endif
  f = fopen(argv[11], "wb");
  if (!f || fwrite(out, sizeof(double), n, f) != (size_t)n) {
    fprintf(stderr, "nap_loop: %s: could not write %ld float64 scores\n", argv[11], n);
    return 1;
  }
  fclose(f);
  return 0;
}
