;; The ones-complement sum of bytes [start, end) of this module's memory (RFC 1071), 16 bytes a
;; turn in SIMD: packet/ones-sum-module.ts holds this module assembled (scripts/wasm.mjs) and
;; copies a packet into the memory before the call. The sum is taken over little-endian 16-bit
;; words, which RFC 1071 §2(B) allows (a ones-complement sum of byte-swapped words is the
;; byte-swapped sum), and swapped to the big-endian words' sum at the end.
(module
  ;; two pages: an IPv4 datagram (65,535 bytes) or an IPv6 one with its fixed header (65,575)
  (memory (export "memory") 2 2)
  (func (export "sum") (param $i i32) (param $end i32) (result i32)
    (local $lanes v128) (local $s i64)
    ;; eight words a turn, added pairwise into four 32-bit lanes: each lane gains at most
    ;; 2 × 0xffff a turn, so 8,192 turns (the whole memory) stay below 2^32
    (block $done
      (loop $vector
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
        (local.set $lanes
          (i32x4.add (local.get $lanes)
            (i32x4.extadd_pairwise_i16x8_u (v128.load align=1 (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vector)))
    (local.set $s
      (i64.add
        (i64.add
          (i64.extend_i32_u (i32x4.extract_lane 0 (local.get $lanes)))
          (i64.extend_i32_u (i32x4.extract_lane 1 (local.get $lanes))))
        (i64.add
          (i64.extend_i32_u (i32x4.extract_lane 2 (local.get $lanes)))
          (i64.extend_i32_u (i32x4.extract_lane 3 (local.get $lanes))))))
    ;; the last whole words
    (block $words
      (loop $word
        (br_if $words (i32.gt_u (i32.add (local.get $i) (i32.const 2)) (local.get $end)))
        (local.set $s (i64.add (local.get $s) (i64.load16_u align=1 (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $word)))
    ;; an odd length: the last byte is a big-endian word's high half, a little-endian one's low
    (if (i32.lt_u (local.get $i) (local.get $end))
      (then (local.set $s (i64.add (local.get $s) (i64.load8_u (local.get $i))))))
    ;; folded end-around to 16 bits (0 only for a sum of 0), then byte-swapped
    (block $folded
      (loop $fold
        (br_if $folded (i64.le_u (local.get $s) (i64.const 0xffff)))
        (local.set $s
          (i64.add (i64.and (local.get $s) (i64.const 0xffff)) (i64.shr_u (local.get $s) (i64.const 16))))
        (br $fold)))
    (i32.or
      (i32.and (i32.shl (i32.wrap_i64 (local.get $s)) (i32.const 8)) (i32.const 0xff00))
      (i32.shr_u (i32.wrap_i64 (local.get $s)) (i32.const 8)))))
