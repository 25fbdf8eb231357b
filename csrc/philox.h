// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), shared
// by the CPU and CUDA kernels so both draw the same numbers; server/ops/philox.py mirrors it.
// A draw is keyed by (seed, offset, row): key = seed, counter = (row, offset), so a decoding
// step that bumps `offset` gets a fresh, reproducible stream for every row.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define DRUMGRID_HD __host__ __device__ __forceinline__
#else
#define DRUMGRID_HD inline
#endif

namespace drumgrid {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

// Ten rounds over the counter c (in place) with the key (k0, k1).
DRUMGRID_HD void philox4x32_10(uint32_t c[4], uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    const uint64_t p0 = static_cast<uint64_t>(kPhiloxM0) * c[0];
    const uint64_t p1 = static_cast<uint64_t>(kPhiloxM1) * c[2];
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c[1] ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c[3] ^ k1;
    c[0] = n0;
    c[1] = static_cast<uint32_t>(p1);
    c[2] = n2;
    c[3] = static_cast<uint32_t>(p0);
  }
}

// One uniform double in [0, 1) with 53 random bits: the top 53 bits of (x0 << 32 | x1).
DRUMGRID_HD double philox_uniform(uint64_t seed, uint64_t offset, uint64_t row) {
  uint32_t c[4] = {static_cast<uint32_t>(row), static_cast<uint32_t>(row >> 32),
                   static_cast<uint32_t>(offset), static_cast<uint32_t>(offset >> 32)};
  philox4x32_10(c, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  const uint64_t bits = ((static_cast<uint64_t>(c[0]) << 32) | c[1]) >> 11;
  return static_cast<double>(bits) * 0x1.0p-53;
}

// A float32's bits mapped to a uint32 that sorts like the float (-0 folded into +0).
DRUMGRID_HD uint32_t ordered_key(uint32_t bits) {
  bits = bits == 0x80000000u ? 0u : bits;
  return bits ^ (static_cast<uint32_t>(static_cast<int32_t>(bits) >> 31) | 0x80000000u);
}

}  // namespace drumgrid

namespace drumgrid {

// Double multiply and add that nvcc may not fuse into an FMA (which would change the bits);
// the CPU build passes -ffp-contract=off for the same reason.
#if defined(__CUDA_ARCH__)
#define DRUMGRID_DMUL(a, b) __dmul_rn((a), (b))
#define DRUMGRID_DADD(a, b) __dadd_rn((a), (b))
#else
#define DRUMGRID_DMUL(a, b) ((a) * (b))
#define DRUMGRID_DADD(a, b) ((a) + (b))
#endif

DRUMGRID_HD uint64_t double_bits(double d) {
#if defined(__CUDA_ARCH__)
  return static_cast<uint64_t>(__double_as_longlong(d));
#else
  uint64_t u;
  __builtin_memcpy(&u, &d, sizeof u);
  return u;
#endif
}

DRUMGRID_HD double bits_double(uint64_t u) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(u));
#else
  double d;
  __builtin_memcpy(&d, &u, sizeof d);
  return d;
#endif
}

// exp(x) for x <= 0 in float64 from IEEE + - * only (no FMA, no libm), so that the CPU and
// CUDA kernels and the PyTorch reference (server/ops/reference.py: exp_nonpositive) compute
// the same bits. Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, a degree-13 Taylor
// polynomial (truncation < 1e-17) and an exact scale by 2^n. Below -708 (or NaN) it is 0.
// Branch-free so the CPU loops vectorise.
DRUMGRID_HD double exp_nonpositive(double x) {
  const double kInvLn2 = 1.4426950408889634;
  const double kLn2Hi = 0.693145751953125;  // 24 significant bits: n * kLn2Hi is exact
  const double kLn2Lo = 1.4286068202862268e-06;  // ln2 - kLn2Hi
  const double kRound = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  const bool live = x >= -708.0;
  const double xc = live ? x : -708.0;
  const double t = DRUMGRID_DADD(DRUMGRID_DMUL(xc, kInvLn2), kRound);  // kRound + n, exactly
  const double n = t - kRound;
  const double r = (xc - DRUMGRID_DMUL(n, kLn2Hi)) - DRUMGRID_DMUL(n, kLn2Lo);
  double p = 1.0 / 6227020800.0;  // 1/13!
  const double c[13] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                        1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,     1.0 / 120.0,
                        1.0 / 24.0,        1.0 / 6.0,        0.5,             1.0,
                        1.0};
  for (int j = 0; j < 13; ++j) p = DRUMGRID_DADD(DRUMGRID_DMUL(p, r), c[j]);
  // 2^n from the integer in t's low mantissa bits: n >= -1022 gives a normal exponent.
  const double scale = bits_double((double_bits(t) - 0x4338000000000000ull + 1023u) << 52);
  const double y = DRUMGRID_DMUL(p, scale);
  return live ? y : 0.0;
}

}  // namespace drumgrid
