;; nap.wat — WebAssembly SIMD kernel for NAP (src/methods/nap.ts: napKernelJs is the reference and
;; the fallback). Assembled by tools/wat-asm.mjs; tools/build-nap-wasm.mjs writes src/kernels/nap_wasm.ts.
;;
;; nap_chunk(ptr, nch, hw, invHw, eps, rout) -> f64
;;   For each of the `nch` consecutive channels of `hw` float32 values at byte address `ptr`, one
;;   pass computes  max_c, sum_c (float64)  and  r_c = max_c / (sum_c · invHw + eps).
;;   rout ≠ 0: r_c is stored as float64 at rout + 8·c and the result is 0.
;;   rout = 0: the result is Σ_c r_c²  (the p = 2 case of S_NAP, divided by C in JS).
;;
;; Layout of the work (hw ≥ 4):
;;   * channels are taken in pairs (A, B), so that the end-of-channel work (horizontal max,
;;     horizontal sum, ratio, square) is done once for both in f32x4 / f64x2 lanes; an odd last
;;     channel is paired with itself and only lane 0 is kept;
;;   * hw < 64: A and B are reduced together, 8 floats of each per iteration (short channels: more
;;     independent work per iteration); hw ≥ 64: A, then B, each front to back, 16 floats per
;;     iteration (long channels: the sequential walk keeps the hardware prefetcher streaming when the
;;     map comes from RAM — interleaving two 0.8 KB streams at 14×14 halved the throughput);
;;   * then 8 / 4 more floats when hw mod 16 / mod 8 leaves them, and the last hw mod 4 values by an
;;     overlapping load of the channel's last 4 floats, masked for the sum (max does not mind
;;     seeing a value twice);
;;   * sums are exact float32 → float64 promotions, added per lane in float64: the result differs
;;     from the JS reference only by the order of the float64 additions. The pairs of floats are
;;     loaded as 64 bits and promoted (v128.load64_zero + f64x2.promote_low_f32x4, which V8 fuses
;;     into one vcvtps2pd with a memory operand);
;;   * max uses f32x4.pmax (`a < b ? b : a`, one maxps on x64). A NaN makes sum_c NaN, so r_c and
;;     the score are NaN, as in the JS kernel.
;;   hw < 4 goes to the scalar $nap_small.
;; Negative values: the bitwise OR of every value read is kept; only when its sign bit is set
;; (a negative value, −0 or a negative NaN) are the values < 0 of the region counted ($count_neg,
;; so −0 and NaN are not counted) and added to the i32 `neg` at byte 0 (JS resets it).
;;
;; nap_fast(ptr, nch, hw, invHw, eps, rout) -> f64: the same contract, faster on post-ReLU maps
;;   (every value finite and >= +0); it hands any other region to nap_chunk (see below). JS calls
;;   nap_fast first, nap_chunk once nap_fast has fallen back.
;; first_non_finite(start, stop) -> i32: the dump reader's finite check (not NAP).
(module
  (memory (export "memory") 2)
  ;; bytes [0, 4): the i32 count of negatives (`neg`), [4, 8): the `fell` flag; JS resets both

  (func $nap_chunk (export "nap_chunk")
    (param $ptr i32) (param $nch i32) (param $hw i32) (param $invHw f64) (param $eps f64) (param $rout i32)
    (result f64)
    (local $q i32) (local $hwB i32) (local $stop i32) (local $blk8 i32) (local $blk16 i32) (local $tailOff i32)
    (local $delta i32) (local $cur i32) (local $k i32) (local $qa i32) (local $qb i32) (local $qend i32) (local $last i32)
    (local $mask v128) (local $mx v128) (local $mxA v128) (local $sg v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $sA v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $t v128) (local $r2 v128) (local $accv v128)
    (local $acc f64)

    local.get $hw i32.const 4 i32.lt_s
    if
      local.get $ptr local.get $nch local.get $hw local.get $invHw local.get $eps local.get $rout
      call $nap_small
      return
    end
    local.get $nch i32.const 1 i32.lt_s
    if
      f64.const 0 return
    end

    local.get $hw i32.const 2 i32.shl local.set $hwB
    ;; bytes of a channel covered by the 8-float loop (hw < 64) and by the 16-float loop (hw >= 64)
    local.get $hw i32.const 3 i32.shr_u i32.const 5 i32.shl local.set $blk8
    local.get $hw i32.const 4 i32.shr_u i32.const 6 i32.shl local.set $blk16
    local.get $hwB i32.const 16 i32.sub local.set $tailOff
    ;; mask keeps the last (hw & 3) lanes: lane index > 3 - (hw & 3)
    v128.const i32x4 0 1 2 3
    i32.const 3 local.get $hw i32.const 3 i32.and i32.sub i32x4.splat
    i32x4.gt_s local.set $mask
    local.get $ptr local.get $nch local.get $hwB i32.mul i32.add local.set $stop
    v128.const i32x4 0 0 0 0 local.tee $sg local.set $accv
    f64.const 0 local.set $acc
    local.get $ptr local.set $q

    loop $pair
      ;; channel A at q, channel B at q + delta (delta = 0: A is the odd last channel, done twice)
      local.get $q local.get $hwB i32.add local.get $stop i32.lt_s
      if
        local.get $hwB local.set $delta
        i32.const 0 local.set $last
      else
        i32.const 0 local.set $delta
        i32.const 1 local.set $last
      end
      local.get $hw i32.const 64 i32.lt_s
      if
        ;; hw < 64: A and B interleaved, 8 floats of each per iteration (more independent work
        ;; per iteration; best for short channels)
        local.get $q v128.load local.set $mxA
        local.get $q local.get $delta i32.add v128.load local.set $mx
        v128.const i32x4 0 0 0 0 local.tee $sA local.tee $s2 local.tee $s0 local.set $s1
        local.get $q local.set $qa
        local.get $q local.get $blk8 i32.add local.set $qend

        ;; 8 floats of A and 8 of B per iteration
        block $b8
          local.get $blk8 i32.eqz br_if $b8
          loop $l8
            local.get $qa v128.load local.set $a0
            local.get $qa v128.load offset=16 local.set $a1
            local.get $qa local.get $delta i32.add local.tee $qb v128.load local.set $a2
            local.get $qb v128.load offset=16 local.set $a3
            local.get $mxA local.get $a0 local.get $a1 f32x4.pmax f32x4.pmax local.set $mxA
            local.get $mx local.get $a2 local.get $a3 f32x4.pmax f32x4.pmax local.set $mx
            local.get $sg
            local.get $a0 local.get $a1 v128.or local.get $a2 local.get $a3 v128.or v128.or
            v128.or local.set $sg
            ;; sums: each pair of floats is loaded again as 64 bits and promoted (V8 fuses
            ;; load64_zero + promote into one vcvtps2pd with a memory operand: no shuffles)
            local.get $sA
            local.get $qa v128.load64_zero f64x2.promote_low_f32x4
            local.get $qa v128.load64_zero offset=16 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add local.set $sA
            local.get $s2
            local.get $qa v128.load64_zero offset=8 f64x2.promote_low_f32x4
            local.get $qa v128.load64_zero offset=24 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add local.set $s2
            local.get $s0
            local.get $qb v128.load64_zero f64x2.promote_low_f32x4
            local.get $qb v128.load64_zero offset=16 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add local.set $s0
            local.get $s1
            local.get $qb v128.load64_zero offset=8 f64x2.promote_low_f32x4
            local.get $qb v128.load64_zero offset=24 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add local.set $s1
            local.get $qa i32.const 32 i32.add local.tee $qa
            local.get $qend i32.lt_s br_if $l8
          end
        end

        ;; one more vector if hw mod 8 >= 4
        local.get $hw i32.const 4 i32.and
        if
          local.get $qa v128.load local.set $a0
          local.get $qa local.get $delta i32.add v128.load local.set $a2
          local.get $mxA local.get $a0 f32x4.pmax local.set $mxA
          local.get $mx local.get $a2 f32x4.pmax local.set $mx
          local.get $sg local.get $a0 local.get $a2 v128.or v128.or local.set $sg
          local.get $sA local.get $a0 f64x2.promote_low_f32x4 f64x2.add local.set $sA
          local.get $s0 local.get $a2 f64x2.promote_low_f32x4 f64x2.add local.set $s0
          local.get $s2
          local.get $a0 local.get $a0 i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
          f64x2.add local.set $s2
          local.get $s1
          local.get $a2 local.get $a2 i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
          f64x2.add local.set $s1
        end

        ;; last hw mod 4 values: overlapping load of the channel's last 4 floats, masked for the sum
        local.get $hw i32.const 3 i32.and
        if
          local.get $q local.get $tailOff i32.add local.tee $qa v128.load local.set $a0
          local.get $qa local.get $delta i32.add v128.load local.set $a2
          local.get $mxA local.get $a0 f32x4.pmax local.set $mxA
          local.get $mx local.get $a2 f32x4.pmax local.set $mx
          local.get $sg local.get $a0 local.get $a2 v128.or v128.or local.set $sg
          local.get $a0 local.get $mask v128.and local.set $a0
          local.get $a2 local.get $mask v128.and local.set $a2
          local.get $sA local.get $a0 f64x2.promote_low_f32x4 f64x2.add local.set $sA
          local.get $s0 local.get $a2 f64x2.promote_low_f32x4 f64x2.add local.set $s0
          local.get $s2
          local.get $a0 local.get $a0 i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
          f64x2.add local.set $s2
          local.get $s1
          local.get $a2 local.get $a2 i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
          f64x2.add local.set $s1
        end

        ;; combine: A sums in $sA, B sums in $s0 (f64x2 per-lane partial sums); max B in $mx
        local.get $sA local.get $s2 f64x2.add local.set $sA
        local.get $s0 local.get $s1 f64x2.add local.set $s0
      else
        ;; hw >= 64: A then B, each read front to back, 16 floats per iteration (long channels:
        ;; a sequential walk keeps the hardware prefetcher going when the map comes from RAM)
        local.get $q local.set $cur
        i32.const 0 local.set $k

        ;; k = 0: channel A, k = 1: channel B. Each is read front to back (prefetch-friendly).
        loop $two
          local.get $cur v128.load local.set $mx
          v128.const i32x4 0 0 0 0 local.tee $s0 local.tee $s1 local.tee $s2 local.set $s3
          local.get $cur local.set $qa
          local.get $cur local.get $blk16 i32.add local.set $qend

          ;; 16 floats per iteration; the float64 sums use load64_zero + promote, which V8 fuses
          ;; into one vcvtps2pd with a memory operand (no shuffles)
          block $b16
            local.get $blk16 i32.eqz br_if $b16
            loop $l16
              local.get $qa v128.load local.set $a0
              local.get $qa v128.load offset=16 local.set $a1
              local.get $qa v128.load offset=32 local.set $a2
              local.get $qa v128.load offset=48 local.set $a3
              local.get $mx
              local.get $a0 local.get $a1 f32x4.pmax local.get $a2 local.get $a3 f32x4.pmax f32x4.pmax
              f32x4.pmax local.set $mx
              local.get $sg
              local.get $a0 local.get $a1 v128.or local.get $a2 local.get $a3 v128.or v128.or
              v128.or local.set $sg
              local.get $s0
              local.get $qa v128.load64_zero f64x2.promote_low_f32x4
              local.get $qa v128.load64_zero offset=16 f64x2.promote_low_f32x4 f64x2.add
              f64x2.add local.set $s0
              local.get $s1
              local.get $qa v128.load64_zero offset=8 f64x2.promote_low_f32x4
              local.get $qa v128.load64_zero offset=24 f64x2.promote_low_f32x4 f64x2.add
              f64x2.add local.set $s1
              local.get $s2
              local.get $qa v128.load64_zero offset=32 f64x2.promote_low_f32x4
              local.get $qa v128.load64_zero offset=48 f64x2.promote_low_f32x4 f64x2.add
              f64x2.add local.set $s2
              local.get $s3
              local.get $qa v128.load64_zero offset=40 f64x2.promote_low_f32x4
              local.get $qa v128.load64_zero offset=56 f64x2.promote_low_f32x4 f64x2.add
              f64x2.add local.set $s3
              local.get $qa i32.const 64 i32.add local.tee $qa
              local.get $qend i32.lt_s br_if $l16
            end
          end

          ;; 8 more floats if hw mod 16 >= 8
          local.get $hw i32.const 8 i32.and
          if
            local.get $qa v128.load local.set $a0
            local.get $qa v128.load offset=16 local.set $a1
            local.get $mx local.get $a0 local.get $a1 f32x4.pmax f32x4.pmax local.set $mx
            local.get $sg local.get $a0 local.get $a1 v128.or v128.or local.set $sg
            local.get $s0
            local.get $qa v128.load64_zero f64x2.promote_low_f32x4
            local.get $qa v128.load64_zero offset=16 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add local.set $s0
            local.get $s1
            local.get $qa v128.load64_zero offset=8 f64x2.promote_low_f32x4
            local.get $qa v128.load64_zero offset=24 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add local.set $s1
            local.get $qa i32.const 32 i32.add local.set $qa
          end

          ;; 4 more if hw mod 8 >= 4
          local.get $hw i32.const 4 i32.and
          if
            local.get $qa v128.load local.set $a0
            local.get $mx local.get $a0 f32x4.pmax local.set $mx
            local.get $sg local.get $a0 v128.or local.set $sg
            local.get $s2 local.get $qa v128.load64_zero f64x2.promote_low_f32x4 f64x2.add local.set $s2
            local.get $s3 local.get $qa v128.load64_zero offset=8 f64x2.promote_low_f32x4 f64x2.add local.set $s3
          end

          ;; last hw mod 4 values: overlapping load of the channel's last 4 floats, masked for the sum
          local.get $hw i32.const 3 i32.and
          if
            local.get $cur local.get $tailOff i32.add v128.load local.set $a0
            local.get $mx local.get $a0 f32x4.pmax local.set $mx
            local.get $sg local.get $a0 v128.or local.set $sg
            local.get $a0 local.get $mask v128.and local.set $a0
            local.get $s0 local.get $a0 f64x2.promote_low_f32x4 f64x2.add local.set $s0
            local.get $s1
            local.get $a0 local.get $a0 i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
            f64x2.add local.set $s1
          end

          ;; s0 = per-lane float64 sums of the channel (2 lanes)
          local.get $s0 local.get $s1 f64x2.add local.get $s2 local.get $s3 f64x2.add f64x2.add local.set $s0
          local.get $k i32.eqz
          if
            local.get $mx local.set $mxA
            local.get $s0 local.set $sA
            i32.const 1 local.set $k
            local.get $q local.get $delta i32.add local.set $cur
            br $two
          end
        end

      end

      ;; sums as f64x2 [sum_A, sum_B]
      local.get $sA local.get $s0 i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      local.get $sA local.get $s0 i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
      f64x2.add local.set $s0
      ;; maxes: t = [max(A0,A2), max(A1,A3), max(B0,B2), max(B1,B3)]
      local.get $mxA local.get $mx i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      local.get $mxA local.get $mx i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
      f32x4.pmax local.tee $t
      local.get $t local.get $t i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11
      f32x4.pmax local.tee $t
      ;; [max_A, max_B] as f64x2
      local.get $t i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11
      f64x2.promote_low_f32x4
      ;; r = max / (sum * invHw + eps)
      local.get $s0 local.get $invHw f64x2.splat f64x2.mul local.get $eps f64x2.splat f64x2.add
      f64x2.div local.set $r2

      local.get $rout
      if
        local.get $rout local.get $r2 f64x2.extract_lane 0 f64.store
        local.get $last i32.eqz
        if
          local.get $rout local.get $r2 f64x2.extract_lane 1 f64.store offset=8
        end
        local.get $rout i32.const 16 i32.add local.set $rout
      else
        local.get $r2 local.get $r2 f64x2.mul local.set $r2
        local.get $last
        if
          local.get $acc local.get $r2 f64x2.extract_lane 0 f64.add local.set $acc
        else
          local.get $accv local.get $r2 f64x2.add local.set $accv
        end
      end
      local.get $q local.get $hwB i32.const 1 i32.shl i32.add local.tee $q
      local.get $stop i32.lt_s br_if $pair
    end

    ;; negatives: only counted when some value had its sign bit set (negative, -0 or a negative NaN)
    local.get $sg v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000 v128.and v128.any_true
    if
      i32.const 0
      i32.const 0 i32.load
      local.get $ptr local.get $stop call $count_neg
      i32.add i32.store
    end
    local.get $acc
    local.get $accv f64x2.extract_lane 0 f64.add
    local.get $accv f64x2.extract_lane 1 f64.add
  )

  ;; nap_fast(ptr, nch, hw, invHw, eps, rout) -> f64: the same result as nap_chunk, faster, for maps
  ;; whose values are all finite and >= +0 (post-ReLU maps): $nap_quads for 4 <= hw <= 16,
  ;; $nap_pairs otherwise.
  ;; Both compare the float32 bit patterns as unsigned integers for the max (i32x4.max_u: for
  ;; +0 ... +inf the order of the bits is the order of the values), which also replaces the sign
  ;; tracking: a channel max with bits >= 0x7f800000 means that some value of the region was
  ;; negative (sign bit set, -0 included), inf or NaN; nap_chunk then redoes the region (and counts
  ;; its negatives) and the i32 `fell` at byte 4 is set to 1 (JS reads it and calls nap_chunk for
  ;; the rest of the map).
  ;; Why: the copy of a map into WASM memory and the reduction run one after the other, so the
  ;; reduction's speed on cached data counts in full (bench/results/nap.md).
  (func $nap_fast (export "nap_fast")
    (param $ptr i32) (param $nch i32) (param $hw i32) (param $invHw f64) (param $eps f64) (param $rout i32)
    (result f64)
    local.get $hw i32.const 4 i32.ge_s local.get $hw i32.const 16 i32.le_s i32.and
    if
      local.get $ptr local.get $nch local.get $hw local.get $invHw local.get $eps local.get $rout
      call $nap_quads
      return
    end
    local.get $ptr local.get $nch local.get $hw local.get $invHw local.get $eps local.get $rout
    call $nap_pairs
  )

  ;; $nap_pairs: nap_fast with the layout of the work of nap_chunk (channel pairs; hw < 64: the two
  ;; channels interleaved, hw >= 64: one after the other), the max and the fallback as described
  ;; above. It adds the same float64 values in the same order as nap_chunk: on the maps it accepts
  ;; its results are identical to nap_chunk's, bit for bit.
  (func $nap_pairs
    (param $ptr i32) (param $nch i32) (param $hw i32) (param $invHw f64) (param $eps f64) (param $rout i32)
    (result f64)
    (local $q i32) (local $hwB i32) (local $stop i32) (local $blk8 i32) (local $blk16 i32) (local $tailOff i32)
    (local $delta i32) (local $cur i32) (local $k i32) (local $qa i32) (local $qb i32) (local $qend i32) (local $last i32)
    (local $mask v128) (local $mx v128) (local $mxA v128) (local $hi v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $sA v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $t v128) (local $r2 v128) (local $accv v128)
    (local $acc f64) (local $rout0 i32)

    local.get $hw i32.const 4 i32.lt_s
    if
      local.get $ptr local.get $nch local.get $hw local.get $invHw local.get $eps local.get $rout
      call $nap_small
      return
    end
    local.get $nch i32.const 1 i32.lt_s
    if
      f64.const 0 return
    end

    local.get $hw i32.const 2 i32.shl local.set $hwB
    ;; bytes of a channel covered by the 8-float loop (hw < 64) and by the 16-float loop (hw >= 64)
    local.get $hw i32.const 3 i32.shr_u i32.const 5 i32.shl local.set $blk8
    local.get $hw i32.const 4 i32.shr_u i32.const 6 i32.shl local.set $blk16
    local.get $hwB i32.const 16 i32.sub local.set $tailOff
    ;; mask keeps the last (hw & 3) lanes: lane index > 3 - (hw & 3)
    v128.const i32x4 0 1 2 3
    i32.const 3 local.get $hw i32.const 3 i32.and i32.sub i32x4.splat
    i32x4.gt_s local.set $mask
    local.get $ptr local.get $nch local.get $hwB i32.mul i32.add local.set $stop
    v128.const i32x4 0 0 0 0 local.tee $hi local.set $accv
    f64.const 0 local.set $acc
    local.get $ptr local.set $q
    local.get $rout local.set $rout0

    loop $pair
      ;; channel A at q, channel B at q + delta (delta = 0: A is the odd last channel, done twice)
      local.get $q local.get $hwB i32.add local.get $stop i32.lt_s
      if
        local.get $hwB local.set $delta
        i32.const 0 local.set $last
      else
        i32.const 0 local.set $delta
        i32.const 1 local.set $last
      end
      local.get $hw i32.const 64 i32.lt_s
      if
        ;; hw < 64: A and B interleaved, 8 floats of each per iteration (more independent work
        ;; per iteration; best for short channels)
        v128.const i32x4 0 0 0 0 local.tee $mxA local.tee $mx
        local.tee $sA local.tee $s2 local.tee $s0 local.set $s1
        local.get $q local.set $qa
        local.get $q local.get $blk8 i32.add local.set $qend

        ;; 8 floats of A and 8 of B per iteration
        block $b8
          local.get $blk8 i32.eqz br_if $b8
          loop $l8
            local.get $qa v128.load local.set $a0
            local.get $qa v128.load offset=16 local.set $a1
            local.get $qa local.get $delta i32.add local.tee $qb v128.load local.set $a2
            local.get $qb v128.load offset=16 local.set $a3
            local.get $mxA local.get $a0 local.get $a1 i32x4.max_u i32x4.max_u local.set $mxA
            local.get $mx local.get $a2 local.get $a3 i32x4.max_u i32x4.max_u local.set $mx
            ;; sums: each pair of floats is loaded again as 64 bits and promoted (V8 fuses
            ;; load64_zero + promote into one vcvtps2pd with a memory operand: no shuffles)
            local.get $sA
            local.get $qa v128.load64_zero f64x2.promote_low_f32x4
            local.get $qa v128.load64_zero offset=16 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add local.set $sA
            local.get $s2
            local.get $qa v128.load64_zero offset=8 f64x2.promote_low_f32x4
            local.get $qa v128.load64_zero offset=24 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add local.set $s2
            local.get $s0
            local.get $qb v128.load64_zero f64x2.promote_low_f32x4
            local.get $qb v128.load64_zero offset=16 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add local.set $s0
            local.get $s1
            local.get $qb v128.load64_zero offset=8 f64x2.promote_low_f32x4
            local.get $qb v128.load64_zero offset=24 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add local.set $s1
            local.get $qa i32.const 32 i32.add local.tee $qa
            local.get $qend i32.lt_s br_if $l8
          end
        end

        ;; one more vector if hw mod 8 >= 4
        local.get $hw i32.const 4 i32.and
        if
          local.get $qa v128.load local.set $a0
          local.get $qa local.get $delta i32.add v128.load local.set $a2
          local.get $mxA local.get $a0 i32x4.max_u local.set $mxA
          local.get $mx local.get $a2 i32x4.max_u local.set $mx
          local.get $sA local.get $a0 f64x2.promote_low_f32x4 f64x2.add local.set $sA
          local.get $s0 local.get $a2 f64x2.promote_low_f32x4 f64x2.add local.set $s0
          local.get $s2
          local.get $a0 local.get $a0 i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
          f64x2.add local.set $s2
          local.get $s1
          local.get $a2 local.get $a2 i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
          f64x2.add local.set $s1
        end

        ;; last hw mod 4 values: overlapping load of the channel's last 4 floats, masked for the sum
        local.get $hw i32.const 3 i32.and
        if
          local.get $q local.get $tailOff i32.add local.tee $qa v128.load local.set $a0
          local.get $qa local.get $delta i32.add v128.load local.set $a2
          local.get $mxA local.get $a0 i32x4.max_u local.set $mxA
          local.get $mx local.get $a2 i32x4.max_u local.set $mx
          local.get $a0 local.get $mask v128.and local.set $a0
          local.get $a2 local.get $mask v128.and local.set $a2
          local.get $sA local.get $a0 f64x2.promote_low_f32x4 f64x2.add local.set $sA
          local.get $s0 local.get $a2 f64x2.promote_low_f32x4 f64x2.add local.set $s0
          local.get $s2
          local.get $a0 local.get $a0 i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
          f64x2.add local.set $s2
          local.get $s1
          local.get $a2 local.get $a2 i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
          f64x2.add local.set $s1
        end

        ;; combine: A sums in $sA, B sums in $s0 (f64x2 per-lane partial sums); max B in $mx
        local.get $sA local.get $s2 f64x2.add local.set $sA
        local.get $s0 local.get $s1 f64x2.add local.set $s0
      else
        ;; hw >= 64: A then B, each read front to back, 16 floats per iteration (long channels:
        ;; a sequential walk keeps the hardware prefetcher going when the map comes from RAM)
        local.get $q local.set $cur
        i32.const 0 local.set $k

        ;; k = 0: channel A, k = 1: channel B. Each is read front to back (prefetch-friendly).
        loop $two
          v128.const i32x4 0 0 0 0 local.tee $mx local.tee $s0 local.tee $s1 local.tee $s2 local.set $s3
          local.get $cur local.set $qa
          local.get $cur local.get $blk16 i32.add local.set $qend

          ;; 16 floats per iteration; the float64 sums use load64_zero + promote, which V8 fuses
          ;; into one vcvtps2pd with a memory operand (no shuffles)
          block $b16
            local.get $blk16 i32.eqz br_if $b16
            loop $l16
              local.get $qa v128.load local.set $a0
              local.get $qa v128.load offset=16 local.set $a1
              local.get $qa v128.load offset=32 local.set $a2
              local.get $qa v128.load offset=48 local.set $a3
              local.get $mx
              local.get $a0 local.get $a1 i32x4.max_u local.get $a2 local.get $a3 i32x4.max_u i32x4.max_u
              i32x4.max_u local.set $mx
              local.get $s0
              local.get $qa v128.load64_zero f64x2.promote_low_f32x4
              local.get $qa v128.load64_zero offset=16 f64x2.promote_low_f32x4 f64x2.add
              f64x2.add local.set $s0
              local.get $s1
              local.get $qa v128.load64_zero offset=8 f64x2.promote_low_f32x4
              local.get $qa v128.load64_zero offset=24 f64x2.promote_low_f32x4 f64x2.add
              f64x2.add local.set $s1
              local.get $s2
              local.get $qa v128.load64_zero offset=32 f64x2.promote_low_f32x4
              local.get $qa v128.load64_zero offset=48 f64x2.promote_low_f32x4 f64x2.add
              f64x2.add local.set $s2
              local.get $s3
              local.get $qa v128.load64_zero offset=40 f64x2.promote_low_f32x4
              local.get $qa v128.load64_zero offset=56 f64x2.promote_low_f32x4 f64x2.add
              f64x2.add local.set $s3
              local.get $qa i32.const 64 i32.add local.tee $qa
              local.get $qend i32.lt_s br_if $l16
            end
          end

          ;; 8 more floats if hw mod 16 >= 8
          local.get $hw i32.const 8 i32.and
          if
            local.get $qa v128.load local.set $a0
            local.get $qa v128.load offset=16 local.set $a1
            local.get $mx local.get $a0 local.get $a1 i32x4.max_u i32x4.max_u local.set $mx
            local.get $s0
            local.get $qa v128.load64_zero f64x2.promote_low_f32x4
            local.get $qa v128.load64_zero offset=16 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add local.set $s0
            local.get $s1
            local.get $qa v128.load64_zero offset=8 f64x2.promote_low_f32x4
            local.get $qa v128.load64_zero offset=24 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add local.set $s1
            local.get $qa i32.const 32 i32.add local.set $qa
          end

          ;; 4 more if hw mod 8 >= 4
          local.get $hw i32.const 4 i32.and
          if
            local.get $qa v128.load local.set $a0
            local.get $mx local.get $a0 i32x4.max_u local.set $mx
            local.get $s2 local.get $qa v128.load64_zero f64x2.promote_low_f32x4 f64x2.add local.set $s2
            local.get $s3 local.get $qa v128.load64_zero offset=8 f64x2.promote_low_f32x4 f64x2.add local.set $s3
          end

          ;; last hw mod 4 values: overlapping load of the channel's last 4 floats, masked for the sum
          local.get $hw i32.const 3 i32.and
          if
            local.get $cur local.get $tailOff i32.add v128.load local.set $a0
            local.get $mx local.get $a0 i32x4.max_u local.set $mx
            local.get $a0 local.get $mask v128.and local.set $a0
            local.get $s0 local.get $a0 f64x2.promote_low_f32x4 f64x2.add local.set $s0
            local.get $s1
            local.get $a0 local.get $a0 i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
            f64x2.add local.set $s1
          end

          ;; s0 = per-lane float64 sums of the channel (2 lanes)
          local.get $s0 local.get $s1 f64x2.add local.get $s2 local.get $s3 f64x2.add f64x2.add local.set $s0
          local.get $k i32.eqz
          if
            local.get $mx local.set $mxA
            local.get $s0 local.set $sA
            i32.const 1 local.set $k
            local.get $q local.get $delta i32.add local.set $cur
            br $two
          end
        end

      end

      ;; sums as f64x2 [sum_A, sum_B]
      local.get $sA local.get $s0 i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      local.get $sA local.get $s0 i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
      f64x2.add local.set $s0
      ;; maxes: t = [max(A0,A2), max(A1,A3), max(B0,B2), max(B1,B3)]
      local.get $mxA local.get $mx i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      local.get $mxA local.get $mx i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
      i32x4.max_u local.tee $t
      local.get $t local.get $t i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11
      i32x4.max_u local.tee $t
      local.get $hi i32x4.max_u local.set $hi
      local.get $t
      ;; [max_A, max_B] as f64x2
      local.get $t i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11
      f64x2.promote_low_f32x4
      ;; r = max / (sum * invHw + eps)
      local.get $s0 local.get $invHw f64x2.splat f64x2.mul local.get $eps f64x2.splat f64x2.add
      f64x2.div local.set $r2

      local.get $rout
      if
        local.get $rout local.get $r2 f64x2.extract_lane 0 f64.store
        local.get $last i32.eqz
        if
          local.get $rout local.get $r2 f64x2.extract_lane 1 f64.store offset=8
        end
        local.get $rout i32.const 16 i32.add local.set $rout
      else
        local.get $r2 local.get $r2 f64x2.mul local.set $r2
        local.get $last
        if
          local.get $acc local.get $r2 f64x2.extract_lane 0 f64.add local.set $acc
        else
          local.get $accv local.get $r2 f64x2.add local.set $accv
        end
      end
      local.get $q local.get $hwB i32.const 1 i32.shl i32.add local.tee $q
      local.get $stop i32.lt_s br_if $pair
    end

    ;; a channel max with bits >= 0x7f800000 (some value negative, -0, inf or NaN): the exact kernel
    ;; redoes the region (it counts the negatives) and `fell` tells JS
    local.get $hi v128.const i32x4 0x7f7fffff 0x7f7fffff 0x7f7fffff 0x7f7fffff i32x4.gt_u v128.any_true
    if
      i32.const 4 i32.const 1 i32.store
      local.get $ptr local.get $nch local.get $hw local.get $invHw local.get $eps local.get $rout0
      call $nap_chunk
      return
    end
    local.get $acc
    local.get $accv f64x2.extract_lane 0 f64.add
    local.get $accv f64x2.extract_lane 1 f64.add
  )

  ;; $nap_quads: nap_fast for short channels (4 <= hw <= 16), four channels at a time (A, B, C, D,
  ;; 8 floats of each per iteration), so that the end-of-channel work (horizontal max and sum,
  ;; ratio, square) is shared by four channels in the lanes; one float64 accumulator per channel.
  ;; The first nch - nch mod 4 channels; the last nch mod 4 go to $nap_pairs. Sums in another order
  ;; than nap_chunk's (relative differences ~1e-16).
  (func $nap_quads
    (param $ptr i32) (param $nch i32) (param $hw i32) (param $invHw f64) (param $eps f64) (param $rout i32)
    (result f64)
    (local $q i32) (local $hwB i32) (local $stop4 i32) (local $blk8 i32) (local $tailOff i32)
    (local $qa i32) (local $qb i32) (local $qc i32) (local $qd i32) (local $qend i32)
    (local $mask v128) (local $mA v128) (local $mB v128) (local $mC v128) (local $mD v128)
    (local $sA v128) (local $sB v128) (local $sC v128) (local $sD v128)
    (local $a v128) (local $t v128) (local $u v128) (local $hi v128) (local $accv v128) (local $r v128) (local $rout0 i32)
    local.get $hw i32.const 2 i32.shl local.set $hwB
    local.get $hw i32.const 3 i32.shr_u i32.const 5 i32.shl local.set $blk8
    local.get $hwB i32.const 16 i32.sub local.set $tailOff
    v128.const i32x4 0 1 2 3
    i32.const 3 local.get $hw i32.const 3 i32.and i32.sub i32x4.splat
    i32x4.gt_s local.set $mask
    local.get $ptr local.get $nch i32.const -4 i32.and local.get $hwB i32.mul i32.add local.set $stop4
    v128.const i32x4 0 0 0 0 local.tee $hi local.set $accv
    local.get $ptr local.set $q
    local.get $rout local.set $rout0
    block $done
      local.get $q local.get $stop4 i32.ge_u br_if $done
      loop $grp
        v128.const i32x4 0 0 0 0 local.tee $mA local.tee $mB local.tee $mC local.tee $mD
        local.tee $sA local.tee $sB local.tee $sC local.set $sD
        local.get $q local.set $qa
        local.get $q local.get $blk8 i32.add local.set $qend
        block $b8
          local.get $blk8 i32.eqz br_if $b8
          loop $l8
            local.get $qa local.get $hwB i32.add local.set $qb
            local.get $qb local.get $hwB i32.add local.set $qc
            local.get $qc local.get $hwB i32.add local.set $qd
            local.get $mA local.get $qa v128.load local.get $qa v128.load offset=16 i32x4.max_u i32x4.max_u local.set $mA
            local.get $mB local.get $qb v128.load local.get $qb v128.load offset=16 i32x4.max_u i32x4.max_u local.set $mB
            local.get $mC local.get $qc v128.load local.get $qc v128.load offset=16 i32x4.max_u i32x4.max_u local.set $mC
            local.get $mD local.get $qd v128.load local.get $qd v128.load offset=16 i32x4.max_u i32x4.max_u local.set $mD
            local.get $sA
            local.get $qa v128.load64_zero f64x2.promote_low_f32x4 local.get $qa v128.load64_zero offset=8 f64x2.promote_low_f32x4 f64x2.add
            local.get $qa v128.load64_zero offset=16 f64x2.promote_low_f32x4 local.get $qa v128.load64_zero offset=24 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add f64x2.add local.set $sA
            local.get $sB
            local.get $qb v128.load64_zero f64x2.promote_low_f32x4 local.get $qb v128.load64_zero offset=8 f64x2.promote_low_f32x4 f64x2.add
            local.get $qb v128.load64_zero offset=16 f64x2.promote_low_f32x4 local.get $qb v128.load64_zero offset=24 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add f64x2.add local.set $sB
            local.get $sC
            local.get $qc v128.load64_zero f64x2.promote_low_f32x4 local.get $qc v128.load64_zero offset=8 f64x2.promote_low_f32x4 f64x2.add
            local.get $qc v128.load64_zero offset=16 f64x2.promote_low_f32x4 local.get $qc v128.load64_zero offset=24 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add f64x2.add local.set $sC
            local.get $sD
            local.get $qd v128.load64_zero f64x2.promote_low_f32x4 local.get $qd v128.load64_zero offset=8 f64x2.promote_low_f32x4 f64x2.add
            local.get $qd v128.load64_zero offset=16 f64x2.promote_low_f32x4 local.get $qd v128.load64_zero offset=24 f64x2.promote_low_f32x4 f64x2.add
            f64x2.add f64x2.add local.set $sD
            local.get $qa i32.const 32 i32.add local.tee $qa
            local.get $qend i32.lt_u br_if $l8
          end
        end
        local.get $qa local.get $hwB i32.add local.set $qb
        local.get $qb local.get $hwB i32.add local.set $qc
        local.get $qc local.get $hwB i32.add local.set $qd
        ;; 4 more floats per channel when hw mod 8 >= 4
        local.get $hw i32.const 4 i32.and
        if
          local.get $mA local.get $qa v128.load i32x4.max_u local.set $mA
          local.get $mB local.get $qb v128.load i32x4.max_u local.set $mB
          local.get $mC local.get $qc v128.load i32x4.max_u local.set $mC
          local.get $mD local.get $qd v128.load i32x4.max_u local.set $mD
          local.get $sA local.get $qa v128.load64_zero f64x2.promote_low_f32x4 local.get $qa v128.load64_zero offset=8 f64x2.promote_low_f32x4 f64x2.add f64x2.add local.set $sA
          local.get $sB local.get $qb v128.load64_zero f64x2.promote_low_f32x4 local.get $qb v128.load64_zero offset=8 f64x2.promote_low_f32x4 f64x2.add f64x2.add local.set $sB
          local.get $sC local.get $qc v128.load64_zero f64x2.promote_low_f32x4 local.get $qc v128.load64_zero offset=8 f64x2.promote_low_f32x4 f64x2.add f64x2.add local.set $sC
          local.get $sD local.get $qd v128.load64_zero f64x2.promote_low_f32x4 local.get $qd v128.load64_zero offset=8 f64x2.promote_low_f32x4 f64x2.add f64x2.add local.set $sD
        end
        ;; last hw mod 4 values: the channel's last 4 floats, masked for the sum
        local.get $hw i32.const 3 i32.and
        if
          local.get $q local.get $tailOff i32.add local.set $qa
          local.get $qa local.get $hwB i32.add local.set $qb
          local.get $qb local.get $hwB i32.add local.set $qc
          local.get $qc local.get $hwB i32.add local.set $qd
          local.get $qa v128.load local.set $a
          local.get $mA local.get $a i32x4.max_u local.set $mA
          local.get $a local.get $mask v128.and local.tee $a f64x2.promote_low_f32x4
          local.get $a local.get $a i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
          f64x2.add local.get $sA f64x2.add local.set $sA
          local.get $qb v128.load local.set $a
          local.get $mB local.get $a i32x4.max_u local.set $mB
          local.get $a local.get $mask v128.and local.tee $a f64x2.promote_low_f32x4
          local.get $a local.get $a i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
          f64x2.add local.get $sB f64x2.add local.set $sB
          local.get $qc v128.load local.set $a
          local.get $mC local.get $a i32x4.max_u local.set $mC
          local.get $a local.get $mask v128.and local.tee $a f64x2.promote_low_f32x4
          local.get $a local.get $a i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
          f64x2.add local.get $sC f64x2.add local.set $sC
          local.get $qd v128.load local.set $a
          local.get $mD local.get $a i32x4.max_u local.set $mD
          local.get $a local.get $mask v128.and local.tee $a f64x2.promote_low_f32x4
          local.get $a local.get $a i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
          f64x2.add local.get $sD f64x2.add local.set $sD
        end
        ;; maxes: [mA, mB, mC, mD]
        local.get $mA local.get $mB i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        local.get $mA local.get $mB i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
        i32x4.max_u local.set $t
        local.get $mC local.get $mD i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        local.get $mC local.get $mD i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
        i32x4.max_u local.set $u
        local.get $t local.get $u i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
        local.get $t local.get $u i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31
        i32x4.max_u local.tee $t
        local.get $hi i32x4.max_u local.set $hi
        ;; r = max / (sum * invHw + eps) for A, B then C, D
        local.get $t f64x2.promote_low_f32x4
        local.get $sA local.get $sB i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        local.get $sA local.get $sB i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
        f64x2.add local.get $invHw f64x2.splat f64x2.mul local.get $eps f64x2.splat f64x2.add
        f64x2.div local.set $r
        local.get $t local.get $t i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 f64x2.promote_low_f32x4
        local.get $sC local.get $sD i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        local.get $sC local.get $sD i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31
        f64x2.add local.get $invHw f64x2.splat f64x2.mul local.get $eps f64x2.splat f64x2.add
        f64x2.div local.set $u
        local.get $rout
        if
          local.get $rout local.get $r v128.store
          local.get $rout local.get $u v128.store offset=16
          local.get $rout i32.const 32 i32.add local.set $rout
        else
          local.get $accv local.get $r local.get $r f64x2.mul f64x2.add local.get $u local.get $u f64x2.mul f64x2.add local.set $accv
        end
        local.get $q local.get $hwB i32.const 2 i32.shl i32.add local.tee $q
        local.get $stop4 i32.lt_u br_if $grp
      end
    end
    local.get $hi v128.const i32x4 0x7f7fffff 0x7f7fffff 0x7f7fffff 0x7f7fffff i32x4.gt_u v128.any_true
    if
      i32.const 4 i32.const 1 i32.store
      local.get $ptr local.get $nch local.get $hw local.get $invHw local.get $eps local.get $rout0
      call $nap_chunk
      return
    end
    local.get $accv f64x2.extract_lane 0 local.get $accv f64x2.extract_lane 1 f64.add
    local.get $nch i32.const 3 i32.and
    if (result f64)
      local.get $q local.get $nch i32.const 3 i32.and local.get $hw local.get $invHw local.get $eps local.get $rout
      call $nap_pairs
    else
      f64.const 0
    end
    f64.add
  )

  ;; The same for hw < 4 (e.g. 1×1 maps): scalar, one channel at a time.
  (func $nap_small
    (param $ptr i32) (param $nch i32) (param $hw i32) (param $invHw f64) (param $eps f64) (param $rout i32)
    (result f64)
    (local $p i32) (local $end i32) (local $stop i32)
    (local $m f32) (local $lo f32) (local $x f32)
    (local $sum f64) (local $r f64) (local $acc f64)
    local.get $ptr local.set $p
    local.get $ptr local.get $nch local.get $hw i32.mul i32.const 2 i32.shl i32.add local.set $stop
    f32.const 0 local.set $lo
    f64.const 0 local.set $acc
    block $done
      local.get $nch i32.const 1 i32.lt_s br_if $done
      local.get $hw i32.const 1 i32.lt_s br_if $done
      loop $ch
        local.get $p local.get $hw i32.const 2 i32.shl i32.add local.set $end
        local.get $p f32.load local.set $m
        f64.const 0 local.set $sum
        loop $l
          local.get $p f32.load local.set $x
          local.get $x local.get $m local.get $x local.get $m f32.gt select local.set $m
          local.get $x local.get $lo local.get $x local.get $lo f32.lt select local.set $lo
          local.get $sum local.get $x f64.promote_f32 f64.add local.set $sum
          local.get $p i32.const 4 i32.add local.tee $p
          local.get $end i32.lt_s br_if $l
        end
        local.get $m f64.promote_f32
        local.get $sum local.get $invHw f64.mul local.get $eps f64.add
        f64.div local.set $r
        local.get $rout
        if
          local.get $rout local.get $r f64.store
          local.get $rout i32.const 8 i32.add local.set $rout
        else
          local.get $acc local.get $r local.get $r f64.mul f64.add local.set $acc
        end
        local.get $p local.get $stop i32.lt_s br_if $ch
      end
    end
    local.get $lo f32.const 0 f32.lt
    if
      i32.const 0
      i32.const 0 i32.load
      local.get $ptr local.get $stop call $count_neg
      i32.add i32.store
    end
    local.get $acc
  )

  ;; first_non_finite(start, stop) -> i32: byte address of the first float32 in [start, stop) that is
  ;; NaN or ±inf (exponent bits all ones), or -1 if there is none. 16 floats per iteration: the
  ;; exponent bits of each value compared with 0x7f800000, the four masks OR-ed; a block with a hit
  ;; is scanned again value by value. Not part of NAP: the dump reader's finite check
  ;; (`firstNonFiniteWasm` in nap_simd.ts).
  (func $first_non_finite (export "first_non_finite") (param $start i32) (param $stop i32) (result i32)
    (local $p i32) (local $e v128)
    v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000 local.set $e
    local.get $start local.set $p
    block $b16
      loop $l16
        local.get $p i32.const 64 i32.add local.get $stop i32.gt_u br_if $b16
        local.get $p v128.load local.get $e v128.and local.get $e i32x4.eq
        local.get $p v128.load offset=16 local.get $e v128.and local.get $e i32x4.eq v128.or
        local.get $p v128.load offset=32 local.get $e v128.and local.get $e i32x4.eq v128.or
        local.get $p v128.load offset=48 local.get $e v128.and local.get $e i32x4.eq v128.or
        v128.any_true br_if $b16
        local.get $p i32.const 64 i32.add local.set $p
        br $l16
      end
    end
    ;; from p (a block with a hit, or the last < 16 values): one value at a time
    block $none
      loop $l1
        local.get $p local.get $stop i32.ge_u br_if $none
        local.get $p i32.load i32.const 0x7f800000 i32.and i32.const 0x7f800000 i32.eq
        if
          local.get $p return
        end
        local.get $p i32.const 4 i32.add local.set $p
        br $l1
      end
    end
    i32.const -1
  )

  ;; Number of values < 0 among the float32 values in [start, stop).
  (func $count_neg (export "count_neg") (param $start i32) (param $stop i32) (result i32)
    (local $p i32) (local $cnt v128) (local $n i32)
    local.get $start local.set $p
    v128.const i32x4 0 0 0 0 local.set $cnt
    block $b4
      local.get $p i32.const 16 i32.add local.get $stop i32.gt_s br_if $b4
      loop $l4
        ;; f32x4.lt gives -1 (all ones) per negative lane: subtracting it counts the lane
        local.get $cnt
        local.get $p v128.load v128.const f32x4 0 0 0 0 f32x4.lt
        i32x4.sub local.set $cnt
        local.get $p i32.const 16 i32.add local.tee $p
        i32.const 16 i32.add local.get $stop i32.le_s br_if $l4
      end
    end
    local.get $cnt i32x4.extract_lane 0 local.get $cnt i32x4.extract_lane 1 i32.add
    local.get $cnt i32x4.extract_lane 2 i32.add local.get $cnt i32x4.extract_lane 3 i32.add
    local.set $n
    block $bt
      local.get $p local.get $stop i32.ge_s br_if $bt
      loop $lt
        local.get $n local.get $p f32.load f32.const 0 f32.lt i32.add local.set $n
        local.get $p i32.const 4 i32.add local.tee $p
        local.get $stop i32.lt_s br_if $lt
      end
    end
    local.get $n
  )
)
