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
 * Timing (the same for every contender of bench/nap.ts): the map is cut into segments of SEG
 * samples (SEG = N: the whole map); after one warm-up pass, REPS passes are timed segment by
 * segment, each after reading FLUSH_MB of other memory (so the segment comes from RAM, not from
 * the cache; 0: no flush), and the time is the sum over segments of each segment's best time.
 * Build: cc -O3 -march=native -fopenmp-simd -o nap_loop nap_loop.c -lm
 * Usage: nap_loop FILE OFFSET N C HW EPS P REPS SEG FLUSH_MB OUT.f64   (OFFSET: bytes to skip, e.g. the .npy header)
 * Prints one line per loop: "<name> <seconds>", and "simd-vs-plain-maxrel <x>"; writes the nap
 * scores (float64, N) to OUT.f64.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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
  if (argc != 12) {
    fprintf(stderr, "usage: nap_loop FILE OFFSET N C HW EPS P REPS SEG FLUSH_MB OUT.f64\n");
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
  printf("bw %.9f\n", timed(sum_all, x, n, c, hw, eps, p, reps, seg, out2));

  double maxrel = 0;
  for (long i = 0; i < n; i++) {
    double d = fabs(out[i] - out2[i]) / fabs(out[i]);
    if (d > maxrel) maxrel = d;
  }
  printf("simd-vs-plain-maxrel %.3g\n", maxrel);
  f = fopen(argv[11], "wb");
  if (!f || fwrite(out, sizeof(double), n, f) != (size_t)n) {
    fprintf(stderr, "nap_loop: %s: could not write %ld float64 scores\n", argv[11], n);
    return 1;
  }
  fclose(f);
  return 0;
}
