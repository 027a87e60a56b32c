"""xoshiro128** seeded by splitmix32, identical to src/math/random.ts: the one Python copy the
golden scripts under tools/ share (golden_metrics.py, golden_corruptions.py)."""
import numpy as np

M32 = 0xFFFFFFFF


class Xoshiro128:
    """xoshiro128** seeded by splitmix32, identical to src/math/random.ts."""

    def __init__(self, seed):
        st = seed & M32
        s = []
        for _ in range(4):
            st = (st + 0x9E3779B9) & M32
            z = st
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
            z ^= z >> 16
            s.append(z)
        self.s = s

    def next_uint32(self):
        s = self.s
        r = (s[1] * 5) & M32
        result = ((((r << 7) | (r >> 25)) & M32) * 9) & M32
        t = (s[1] << 9) & M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = ((s[3] << 11) | (s[3] >> 21)) & M32
        return result

    def next_double(self):
        hi = self.next_uint32() >> 5
        lo = self.next_uint32() >> 6
        return (hi * 67108864 + lo) / 9007199254740992

    def next_int(self, n):
        return int(np.floor(self.next_double() * n))

    def uniform(self):
        return self.next_double()

    def uniforms(self, n):
        return np.array([self.uniform() for _ in range(n)], dtype=np.float64)
