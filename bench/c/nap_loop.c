/*
 * nap_loop.c — C reference loops for the NAP benchmark (bench/nap.ts).
 *
 * Reads a raw float32 N×C×H×W feature map (the same bytes every contender reads) and times, best of
 * `reps` after one warm-up run:
 *   nap       plain single pass per channel: max and sum (double accumulator), then
 *             S = (1/C) Σ_c (max / (sum/HW + eps))^p — scalar C, as a compiler sees plain code
 *             (gcc does not vectorise a float reduction without reassociation).
 *   nap-simd  the same pass with `#pragma omp simd reduction(max:..) reduction(+:..)` (float→double
 *             per lane), i.e. what C does when allowed to vectorise the reduction.
 *   bw        sum of all floats (vectorised): the memory-bandwidth limit of reading the map once.
 * Build: cc -O3 -march=native -fopenmp-simd -o nap_loop nap_loop.c -lm
 * Usage: nap_loop FILE OFFSET N C HW EPS P REPS OUT.f64   (OFFSET: bytes to skip, e.g. the .npy header)
 * Prints one line per mode: "<mode> <best seconds>"; writes the nap scores (float64, N) to OUT.
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

static double sum_all(const float *x, long len) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (long j = 0; j < len; j++) s += x[j];
  return s;
}

int main(int argc, char **argv) {
  if (argc != 10) {
    fprintf(stderr, "usage: nap_loop FILE OFFSET N C HW EPS P REPS OUT.f64\n");
    return 2;
  }
  long offset = atol(argv[2]), n = atol(argv[3]), c = atol(argv[4]), hw = atol(argv[5]);
  double eps = atof(argv[6]), p = atof(argv[7]);
  int reps = atoi(argv[8]);
  long len = n * c * hw;
  float *x = malloc(len * sizeof(float));
  double *out = malloc(n * sizeof(double));
  double *out2 = malloc(n * sizeof(double));
  FILE *f = fopen(argv[1], "rb");
  if (!f || !x || fseek(f, offset, SEEK_SET) != 0 || fread(x, sizeof(float), len, f) != (size_t)len) {
    fprintf(stderr, "nap_loop: %s: expected %ld float32 values, could not read them\n", argv[1], len);
    return 1;
  }
  fclose(f);
  double best, t, sink = 0;

  best = 1e30;
  for (int r = 0; r <= reps; r++) {
    t = now();
    nap_plain(x, n, c, hw, eps, p, out);
    t = now() - t;
    if (r > 0 && t < best) best = t;
  }
  printf("nap %.9f\n", best);

  best = 1e30;
  for (int r = 0; r <= reps; r++) {
    t = now();
    nap_simd(x, n, c, hw, eps, p, out2);
    t = now() - t;
    if (r > 0 && t < best) best = t;
  }
  printf("nap-simd %.9f\n", best);

  best = 1e30;
  for (int r = 0; r <= reps; r++) {
    t = now();
    sink += sum_all(x, len);
    t = now() - t;
    if (r > 0 && t < best) best = t;
  }
  printf("bw %.9f\n", best);

  double maxrel = 0;
  for (long i = 0; i < n; i++) {
    double d = fabs(out[i] - out2[i]) / fabs(out[i]);
    if (d > maxrel) maxrel = d;
  }
  printf("simd-vs-plain-maxrel %.3g\nsink %g\n", maxrel, sink);
  f = fopen(argv[9], "wb");
  if (!f || fwrite(out, sizeof(double), n, f) != (size_t)n) {
    fprintf(stderr, "nap_loop: %s: could not write %ld float64 scores\n", argv[9], n);
    return 1;
  }
  fclose(f);
  return 0;
}
