;; nap.wat — WebAssembly SIMD kernel for NAP (src/methods/nap.ts is the reference and the fallback).
;;
;; For each of `nch` consecutive channels of `hw` float32 values at byte address `ptr`, one pass
;; computes   max_c = max of the channel,  sum_c = Σ of the channel (float64: each float32 lane is
;; promoted to float64 and summed per lane, 4 lanes → 4 float64 partial sums, + a scalar tail),
;; r_c = max_c / (sum_c · invHw + eps).
;; If `rout` ≠ 0, r_c is stored as float64 at rout + 8·c and the result is 0; otherwise the result
;; is Σ_c r_c² (the p = 2 case of S_NAP, divided by C in JS).
;; Negative values: a running minimum (v128 + scalar) over the whole call; only if it is < 0 are
;; the negatives of the region counted (SIMD compare) and added to the global `neg`.
;; NaN: a NaN value makes sum_c NaN, so r_c and the score are NaN, as in the JS kernel.
;; Max uses f32x4.pmax (one maxps on x64), i.e. `a < b ? b : a`.
;; Assembled by tools/wat-asm.mjs (tools/build-nap-wasm.mjs writes src/kernels/nap_wasm.ts).
(module
  (memory (export "memory") 2)
  (global $neg (export "neg") (mut i32) (i32.const 0))

  (func $nap_chunk (export "nap_chunk")
    (param $ptr i32) (param $nch i32) (param $hw i32) (param $invHw f64) (param $eps f64) (param $rout i32)
    (result f64)
    (local $p i32) (local $end i32) (local $vend i32) (local $stop i32)
    (local $mx v128) (local $mn v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $a v128) (local $b v128)
    (local $m f32) (local $lo f32) (local $x f32)
    (local $sum f64) (local $r f64) (local $acc f64)

    local.get $ptr local.set $p
    ;; stop = ptr + nch * hw * 4
    local.get $ptr local.get $nch local.get $hw i32.mul i32.const 2 i32.shl i32.add local.set $stop
    v128.const i32x4 0 0 0 0 local.set $mn
    f32.const 0 local.set $lo
    f64.const 0 local.set $acc

    block $done
      local.get $nch i32.const 1 i32.lt_s br_if $done
      loop $ch
        ;; end = p + hw*4 ; vend = end - 32 (last start of an 8-float block)
        local.get $p local.get $hw i32.const 2 i32.shl i32.add local.tee $end
        i32.const 32 i32.sub local.set $vend
        local.get $p f32.load local.tee $m f32x4.splat local.set $mx
        v128.const i32x4 0 0 0 0 local.tee $s0 local.tee $s1 local.tee $s2 local.set $s3

        ;; 8 floats per iteration: two vectors, four float64x2 accumulators
        block $b8
          local.get $p local.get $vend i32.gt_s br_if $b8
          loop $l8
            local.get $p v128.load local.set $a
            local.get $p v128.load offset=16 local.set $b
            local.get $mx local.get $a local.get $b f32x4.pmax f32x4.pmax local.set $mx
            local.get $mn local.get $a local.get $b f32x4.pmin f32x4.pmin local.set $mn
            local.get $s0 local.get $a f64x2.promote_low_f32x4 f64x2.add local.set $s0
            local.get $s1
            local.get $a local.get $a i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
            f64x2.promote_low_f32x4 f64x2.add local.set $s1
            local.get $s2 local.get $b f64x2.promote_low_f32x4 f64x2.add local.set $s2
            local.get $s3
            local.get $b local.get $b i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
            f64x2.promote_low_f32x4 f64x2.add local.set $s3
            local.get $p i32.const 32 i32.add local.tee $p
            local.get $vend i32.le_s br_if $l8
          end
        end

        ;; one more vector of 4 if it fits
        local.get $p i32.const 16 i32.add local.get $end i32.le_s
        if
          local.get $p v128.load local.set $a
          local.get $mx local.get $a f32x4.pmax local.set $mx
          local.get $mn local.get $a f32x4.pmin local.set $mn
          local.get $s0 local.get $a f64x2.promote_low_f32x4 f64x2.add local.set $s0
          local.get $s1
          local.get $a local.get $a i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
          f64x2.promote_low_f32x4 f64x2.add local.set $s1
          local.get $p i32.const 16 i32.add local.set $p
        end

        ;; horizontal max and sum
        local.get $mx
        local.get $mx local.get $mx i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
        f32x4.pmax local.tee $mx
        local.get $mx local.get $mx i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11
        f32x4.pmax f32x4.extract_lane 0 local.set $m
        local.get $s0 local.get $s1 f64x2.add local.get $s2 local.get $s3 f64x2.add f64x2.add local.tee $s0
        f64x2.extract_lane 0 local.get $s0 f64x2.extract_lane 1 f64.add local.set $sum

        ;; scalar tail (0..3 values)
        block $bt
          local.get $p local.get $end i32.ge_s br_if $bt
          loop $lt
            local.get $p f32.load local.set $x
            local.get $x local.get $m local.get $x local.get $m f32.gt select local.set $m
            local.get $x local.get $lo local.get $x local.get $lo f32.lt select local.set $lo
            local.get $sum local.get $x f64.promote_f32 f64.add local.set $sum
            local.get $p i32.const 4 i32.add local.tee $p
            local.get $end i32.lt_s br_if $lt
          end
        end

        ;; r = max / (sum * invHw + eps)
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

    ;; negatives: only counted when the running minimum is below zero
    local.get $mn
    local.get $mn local.get $mn i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
    f32x4.pmin local.tee $mn
    local.get $mn local.get $mn i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11
    f32x4.pmin f32x4.extract_lane 0
    local.get $lo
    f32.add ;; both are ≤ 0, so the sum is < 0 iff one of them is (NaN compares false)
    f32.const 0 f32.lt
    if
      global.get $neg
      local.get $ptr local.get $stop call $count_neg
      i32.add global.set $neg
    end
    local.get $acc
  )

  ;; Number of values < 0 among the float32 values in [start, stop).
  (func $count_neg (export "count_neg") (param $start i32) (param $stop i32) (result i32)
    (local $p i32) (local $cnt v128) (local $n i32)
    local.get $start local.set $p
    v128.const i32x4 0 0 0 0 local.set $cnt
    block $b4
      local.get $p i32.const 16 i32.add local.get $stop i32.gt_s br_if $b4
      loop $l4
        ;; lt gives -1 (all ones) per negative lane: subtracting counts it
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
