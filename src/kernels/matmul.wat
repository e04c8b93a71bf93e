;; matmul.wat — the WebAssembly SIMD128 kernels for the three products of a dense layer,
;; plus the bias column sum, the weight transpose and the optimizer update (fused with the
;; transpose for a block of units' weights). Compiled by build_wasm.ts into
;; matmul_wasm.generated.ts; wasm.ts is the typed wrapper that turns views into pointers.
;;
;; Every pointer and stride is in bytes. All products go through one strided GEMM,
;;   C[m, n] = Σ_r A[m, r] · B[r, n]      A[m, r] at a + m·sam + r·sar,
;;                                        B[r, n] at b + r·ldb + 4n,  C[m, n] at c + m·ldc + 4n,
;; which covers forward (A = x, B = wt), dW (A = doutᵀ, B = x) and dX (A = dout, B = w)
;; without copying: only A's strides differ, and A is only ever read one scalar at a time.
;;
;; Bits: the kernel contract (kernel.ts) fixes each element's sum as sequential over r,
;; product rounded before the add. So lanes run across output columns n, never across r;
;; f32x4.mul then f32x4.add, never a fused or relaxed multiply-add (those round once, or
;; differently per CPU). Each accumulator starts at +0 (wasm zero-initialises locals), as
;; the scalar definition does, and the bias is added once after the last product.
;;
;; Tile 4 rows × 8 columns: 8 accumulators + 2 B vectors + 1 splat + 1 product = 12 live
;; v128 values, within the 16 xmm registers V8 has on x64 (some reserved). Tiles that need
;; more (3×12, 5×8, 6×8) measured 25–33 GFLOP/s, and unrolling the r loop fell to ~37,
;; against 55–63 for this plain loop on the MLP shapes (Zen 5). Unrolling loses because
;; V8 (TurboFan) issues every load of the loop body first, in effect order, and the
;; arithmetic after: two steps' 12 loaded vectors + 8 accumulators spill (seen in
;; --print-wasm-code; on a Xeon, 2× and 4× unrolled bodies ran 0.78–0.80× this loop).
;; Each step is 6 loads for 8 mul + 8 add, so the SIMD multiply and add ports bound it
;; while the operands come from L1: B is read in place (a K×8 panel stays in cache across
;; the row blocks). What is left to trim is the integer work around them: the loop ends on
;; a pointer compare (no counter), and when A's four rows are adjacent floats (dW) one
;; pointer with constant offsets replaces four (bench/matmul_ab.ts: 1.02–1.03×).
;;
;; dW's A (doutᵀ) is the one operand read across rows: a 16-unit panel is 64 bytes from each
;; of K rows of dout, OUT·4 bytes apart. With OUT a multiple of 256 (1024-, 2048-byte
;; strides) those K lines fall into 2–4 of L1's 64 sets, so the panel is evicted before the
;; next column strip reuses it and every step waits on L2. So gemm packs A when its rows are
;; adjacent (sam = 4), 16 rows at a time, into the caller's scratch (per thread): K rows of 64
;; contiguous bytes, then runs the strips on the packed panel. K past 256 rows goes in chunks of
;; 256 (16 KB of scratch), outermost, so every group reuses the chunk's rows of B from L2 (at
;; K = 512, IN = 784 the whole of B is 1.6 MB and came from L3 once per group); a later chunk's
;; tiles start from the sums in C (mode 3: the same sequential sum, stored and reloaded as the
;; float32 it is). Only where the
;; panel is reused enough to pay for the copy (M ≥ 8, N ≥ 64, K ≥ 64: wasm.ts PACK_MIN_*,
;; which size the engine's scratch), and the sums are the
;; same sums (A's values, read from elsewhere), so bits never change. bench/matmul_ab.ts, fastest
;; samples (Xeon, model 207): dW 80 → 96 % of the ceiling at 128×784×256, 78 → 94 % at 256³,
;; 66 → 85 % at 512³; in chunks, 69 → 91 % at 512×784×256 (medians). No scratch, or too little
;; for a chunk, runs unpacked.

;; The ReLU epilogue (mode, per gemm call) works on the finished accumulators of a tile,
;; after the bias and around the stores, so it costs a few vector ops per tile and nothing
;; in the r loop. E is an M×N matrix laid out like C, at a fixed byte distance ed from it:
;;   mode 1 (forward): C = z as before, then E = z > 0 ? z : +0;
;;   mode 2 (dX):      C = E > 0 ? acc : +0, E being the layer below's pre-activations.
;; Both are v128.and with an f32x4.gt-against-zero mask, never f32x4.max/pmax: the mask is
;; false for NaN, -0 and +0, so those give +0 bits exactly as the JS `z > 0 ? z : 0` does
;; (f32x4.max returns NaN for NaN; f32x4.pmax(-0, 0) is -0). The sums are untouched, so C's bits
;; in mode 1 and the unmasked lanes in mode 2 equal mode 0's. In mode 1 E is stored after
;; C, so E may be C itself (C then ends as relu(z)), but must not partly overlap it.

;; Edges keep the same per-element order, so they change speed, never bits:
;;   rows past the last multiple of 4 use 1-row kernels;
;;   columns past the last multiple of 8 use one 4-wide tile, then, if 1–3 columns remain
;;   and N >= 4, a 4-wide tile shifted left to end at N (it recomputes and rewrites a few
;;   columns with identical bits, and never reads or writes outside the matrices; so in
;;   mode 2, E must not overlap C, or the recomputed columns would read masked values);
;;   N < 4 runs scalar.
;; Loads and stores are unaligned-safe (wasm allows any alignment; hints say 4).

(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Micro-kernels: one tile of C at c (row stride ldc), A's first row at a, B's first
  ;; column at b, K reduction steps. bias is the address of the tile's first bias entry,
  ;; or -1 for none (no float lives at an odd address). The tile of E is at c + ed (same
  ;; row stride); mode 0 never touches it.
  (func $k4x8 (param $c i32) (param $ldc i32) (param $a i32) (param $sam i32) (param $sar i32)
        (param $b i32) (param $ldb i32) (param $K i32) (param $bias i32) (param $ed i32) (param $mode i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $e i32) (local $bEnd i32)
    (local.set $p0 (local.get $a))
    ;; mode 3 (a later chunk of K): the sums so far are in C; carry on from them.
    (if (i32.eq (local.get $mode) (i32.const 3))
      (then
        (local.set $e (local.get $c))
        (local.set $c00 (v128.load align=4 (local.get $e)))
        (local.set $c01 (v128.load offset=16 align=4 (local.get $e)))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (local.set $c10 (v128.load align=4 (local.get $e)))
        (local.set $c11 (v128.load offset=16 align=4 (local.get $e)))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (local.set $c20 (v128.load align=4 (local.get $e)))
        (local.set $c21 (v128.load offset=16 align=4 (local.get $e)))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (local.set $c30 (v128.load align=4 (local.get $e)))
        (local.set $c31 (v128.load offset=16 align=4 (local.get $e)))))
    (local.set $p1 (i32.add (local.get $p0) (local.get $sam)))
    (local.set $p2 (i32.add (local.get $p1) (local.get $sam)))
    (local.set $p3 (i32.add (local.get $p2) (local.get $sam)))
    ;; The loop ends when b reaches bEnd: one add and compare per step, no separate counter.
    (local.set $bEnd (i32.add (local.get $b) (i32.mul (local.get $K) (local.get $ldb))))
    (block $done
      (br_if $done (i32.eqz (local.get $K)))
      (if (i32.eq (local.get $sam) (i32.const 4))
        (then
          ;; A's four rows are adjacent floats (dW: A = doutᵀ): one pointer, constant offsets.
          (loop $step4
            (local.set $b0 (v128.load align=4 (local.get $b)))
            (local.set $b1 (v128.load offset=16 align=4 (local.get $b)))
            (local.set $s (v128.load32_splat (local.get $p0)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
            (local.set $s (v128.load32_splat offset=4 (local.get $p0)))
            (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
            (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
            (local.set $s (v128.load32_splat offset=8 (local.get $p0)))
            (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
            (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
            (local.set $s (v128.load32_splat offset=12 (local.get $p0)))
            (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
            (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
            (local.set $p0 (i32.add (local.get $p0) (local.get $sar)))
            (br_if $step4 (i32.ne (local.tee $b (i32.add (local.get $b) (local.get $ldb))) (local.get $bEnd)))))
        (else
          (loop $step
            (local.set $b0 (v128.load align=4 (local.get $b)))
            (local.set $b1 (v128.load offset=16 align=4 (local.get $b)))
            (local.set $s (v128.load32_splat (local.get $p0)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
            (local.set $s (v128.load32_splat (local.get $p1)))
            (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
            (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
            (local.set $s (v128.load32_splat (local.get $p2)))
            (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
            (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
            (local.set $s (v128.load32_splat (local.get $p3)))
            (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
            (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
            (local.set $p0 (i32.add (local.get $p0) (local.get $sar)))
            (local.set $p1 (i32.add (local.get $p1) (local.get $sar)))
            (local.set $p2 (i32.add (local.get $p2) (local.get $sar)))
            (local.set $p3 (i32.add (local.get $p3) (local.get $sar)))
            (br_if $step (i32.ne (local.tee $b (i32.add (local.get $b) (local.get $ldb))) (local.get $bEnd)))))))
    (if (i32.ne (local.get $bias) (i32.const -1))
      (then
        (local.set $b0 (v128.load align=4 (local.get $bias)))
        (local.set $b1 (v128.load offset=16 align=4 (local.get $bias)))
        (local.set $c00 (f32x4.add (local.get $c00) (local.get $b0)))
        (local.set $c01 (f32x4.add (local.get $c01) (local.get $b1)))
        (local.set $c10 (f32x4.add (local.get $c10) (local.get $b0)))
        (local.set $c11 (f32x4.add (local.get $c11) (local.get $b1)))
        (local.set $c20 (f32x4.add (local.get $c20) (local.get $b0)))
        (local.set $c21 (f32x4.add (local.get $c21) (local.get $b1)))
        (local.set $c30 (f32x4.add (local.get $c30) (local.get $b0)))
        (local.set $c31 (f32x4.add (local.get $c31) (local.get $b1)))
      ))
    (if (i32.eq (local.get $mode) (i32.const 2))
      (then
        (local.set $e (i32.add (local.get $c) (local.get $ed)))
        (local.set $c00 (v128.and (local.get $c00) (f32x4.gt (v128.load align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
        (local.set $c01 (v128.and (local.get $c01) (f32x4.gt (v128.load offset=16 align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (local.set $c10 (v128.and (local.get $c10) (f32x4.gt (v128.load align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
        (local.set $c11 (v128.and (local.get $c11) (f32x4.gt (v128.load offset=16 align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (local.set $c20 (v128.and (local.get $c20) (f32x4.gt (v128.load align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
        (local.set $c21 (v128.and (local.get $c21) (f32x4.gt (v128.load offset=16 align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (local.set $c30 (v128.and (local.get $c30) (f32x4.gt (v128.load align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
        (local.set $c31 (v128.and (local.get $c31) (f32x4.gt (v128.load offset=16 align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
      ))
    (local.set $p0 (local.get $c))
    (v128.store align=4 (local.get $p0) (local.get $c00))
    (v128.store offset=16 align=4 (local.get $p0) (local.get $c01))
    (local.set $p0 (i32.add (local.get $p0) (local.get $ldc)))
    (v128.store align=4 (local.get $p0) (local.get $c10))
    (v128.store offset=16 align=4 (local.get $p0) (local.get $c11))
    (local.set $p0 (i32.add (local.get $p0) (local.get $ldc)))
    (v128.store align=4 (local.get $p0) (local.get $c20))
    (v128.store offset=16 align=4 (local.get $p0) (local.get $c21))
    (local.set $p0 (i32.add (local.get $p0) (local.get $ldc)))
    (v128.store align=4 (local.get $p0) (local.get $c30))
    (v128.store offset=16 align=4 (local.get $p0) (local.get $c31))
    (if (i32.eq (local.get $mode) (i32.const 1))
      (then
        (local.set $e (i32.add (local.get $c) (local.get $ed)))
        (v128.store align=4 (local.get $e) (v128.and (local.get $c00) (f32x4.gt (local.get $c00) (v128.const i32x4 0 0 0 0))))
        (v128.store offset=16 align=4 (local.get $e) (v128.and (local.get $c01) (f32x4.gt (local.get $c01) (v128.const i32x4 0 0 0 0))))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (v128.store align=4 (local.get $e) (v128.and (local.get $c10) (f32x4.gt (local.get $c10) (v128.const i32x4 0 0 0 0))))
        (v128.store offset=16 align=4 (local.get $e) (v128.and (local.get $c11) (f32x4.gt (local.get $c11) (v128.const i32x4 0 0 0 0))))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (v128.store align=4 (local.get $e) (v128.and (local.get $c20) (f32x4.gt (local.get $c20) (v128.const i32x4 0 0 0 0))))
        (v128.store offset=16 align=4 (local.get $e) (v128.and (local.get $c21) (f32x4.gt (local.get $c21) (v128.const i32x4 0 0 0 0))))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (v128.store align=4 (local.get $e) (v128.and (local.get $c30) (f32x4.gt (local.get $c30) (v128.const i32x4 0 0 0 0))))
        (v128.store offset=16 align=4 (local.get $e) (v128.and (local.get $c31) (f32x4.gt (local.get $c31) (v128.const i32x4 0 0 0 0))))
      ))
  )

  (func $k4x4 (param $c i32) (param $ldc i32) (param $a i32) (param $sam i32) (param $sar i32)
        (param $b i32) (param $ldb i32) (param $K i32) (param $bias i32) (param $ed i32) (param $mode i32)
    (local $c00 v128) (local $c10 v128) (local $c20 v128) (local $c30 v128)
    (local $b0 v128) (local $s v128)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $e i32)
    (local.set $p0 (local.get $a))
    (if (i32.eq (local.get $mode) (i32.const 3))
      (then
        (local.set $e (local.get $c))
        (local.set $c00 (v128.load align=4 (local.get $e)))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (local.set $c10 (v128.load align=4 (local.get $e)))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (local.set $c20 (v128.load align=4 (local.get $e)))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (local.set $c30 (v128.load align=4 (local.get $e)))))
    (local.set $p1 (i32.add (local.get $p0) (local.get $sam)))
    (local.set $p2 (i32.add (local.get $p1) (local.get $sam)))
    (local.set $p3 (i32.add (local.get $p2) (local.get $sam)))
    (block $done
      (br_if $done (i32.eqz (local.get $K)))
      (loop $step
        (local.set $b0 (v128.load align=4 (local.get $b)))
        (local.set $s (v128.load32_splat (local.get $p0)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $s (v128.load32_splat (local.get $p1)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $s (v128.load32_splat (local.get $p2)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $s (v128.load32_splat (local.get $p3)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $p0 (i32.add (local.get $p0) (local.get $sar)))
        (local.set $p1 (i32.add (local.get $p1) (local.get $sar)))
        (local.set $p2 (i32.add (local.get $p2) (local.get $sar)))
        (local.set $p3 (i32.add (local.get $p3) (local.get $sar)))
        (local.set $b (i32.add (local.get $b) (local.get $ldb)))
        (br_if $step (local.tee $K (i32.sub (local.get $K) (i32.const 1))))))
    (if (i32.ne (local.get $bias) (i32.const -1))
      (then
        (local.set $b0 (v128.load align=4 (local.get $bias)))
        (local.set $c00 (f32x4.add (local.get $c00) (local.get $b0)))
        (local.set $c10 (f32x4.add (local.get $c10) (local.get $b0)))
        (local.set $c20 (f32x4.add (local.get $c20) (local.get $b0)))
        (local.set $c30 (f32x4.add (local.get $c30) (local.get $b0)))
      ))
    (if (i32.eq (local.get $mode) (i32.const 2))
      (then
        (local.set $e (i32.add (local.get $c) (local.get $ed)))
        (local.set $c00 (v128.and (local.get $c00) (f32x4.gt (v128.load align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (local.set $c10 (v128.and (local.get $c10) (f32x4.gt (v128.load align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (local.set $c20 (v128.and (local.get $c20) (f32x4.gt (v128.load align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (local.set $c30 (v128.and (local.get $c30) (f32x4.gt (v128.load align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
      ))
    (local.set $p0 (local.get $c))
    (v128.store align=4 (local.get $p0) (local.get $c00))
    (local.set $p0 (i32.add (local.get $p0) (local.get $ldc)))
    (v128.store align=4 (local.get $p0) (local.get $c10))
    (local.set $p0 (i32.add (local.get $p0) (local.get $ldc)))
    (v128.store align=4 (local.get $p0) (local.get $c20))
    (local.set $p0 (i32.add (local.get $p0) (local.get $ldc)))
    (v128.store align=4 (local.get $p0) (local.get $c30))
    (if (i32.eq (local.get $mode) (i32.const 1))
      (then
        (local.set $e (i32.add (local.get $c) (local.get $ed)))
        (v128.store align=4 (local.get $e) (v128.and (local.get $c00) (f32x4.gt (local.get $c00) (v128.const i32x4 0 0 0 0))))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (v128.store align=4 (local.get $e) (v128.and (local.get $c10) (f32x4.gt (local.get $c10) (v128.const i32x4 0 0 0 0))))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (v128.store align=4 (local.get $e) (v128.and (local.get $c20) (f32x4.gt (local.get $c20) (v128.const i32x4 0 0 0 0))))
        (local.set $e (i32.add (local.get $e) (local.get $ldc)))
        (v128.store align=4 (local.get $e) (v128.and (local.get $c30) (f32x4.gt (local.get $c30) (v128.const i32x4 0 0 0 0))))
      ))
  )

  (func $k1x8 (param $c i32) (param $ldc i32) (param $a i32) (param $sam i32) (param $sar i32)
        (param $b i32) (param $ldb i32) (param $K i32) (param $bias i32) (param $ed i32) (param $mode i32)
    (local $c00 v128) (local $c01 v128)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local $p0 i32) (local $e i32)
    (local.set $p0 (local.get $a))
    (if (i32.eq (local.get $mode) (i32.const 3))
      (then
        (local.set $c00 (v128.load align=4 (local.get $c)))
        (local.set $c01 (v128.load offset=16 align=4 (local.get $c)))))
    (block $done
      (br_if $done (i32.eqz (local.get $K)))
      (loop $step
        (local.set $b0 (v128.load align=4 (local.get $b)))
        (local.set $b1 (v128.load offset=16 align=4 (local.get $b)))
        (local.set $s (v128.load32_splat (local.get $p0)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
        (local.set $p0 (i32.add (local.get $p0) (local.get $sar)))
        (local.set $b (i32.add (local.get $b) (local.get $ldb)))
        (br_if $step (local.tee $K (i32.sub (local.get $K) (i32.const 1))))))
    (if (i32.ne (local.get $bias) (i32.const -1))
      (then
        (local.set $b0 (v128.load align=4 (local.get $bias)))
        (local.set $b1 (v128.load offset=16 align=4 (local.get $bias)))
        (local.set $c00 (f32x4.add (local.get $c00) (local.get $b0)))
        (local.set $c01 (f32x4.add (local.get $c01) (local.get $b1)))
      ))
    (if (i32.eq (local.get $mode) (i32.const 2))
      (then
        (local.set $e (i32.add (local.get $c) (local.get $ed)))
        (local.set $c00 (v128.and (local.get $c00) (f32x4.gt (v128.load align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
        (local.set $c01 (v128.and (local.get $c01) (f32x4.gt (v128.load offset=16 align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
      ))
    (v128.store align=4 (local.get $c) (local.get $c00))
    (v128.store offset=16 align=4 (local.get $c) (local.get $c01))
    (if (i32.eq (local.get $mode) (i32.const 1))
      (then
        (local.set $e (i32.add (local.get $c) (local.get $ed)))
        (v128.store align=4 (local.get $e) (v128.and (local.get $c00) (f32x4.gt (local.get $c00) (v128.const i32x4 0 0 0 0))))
        (v128.store offset=16 align=4 (local.get $e) (v128.and (local.get $c01) (f32x4.gt (local.get $c01) (v128.const i32x4 0 0 0 0))))
      ))
  )

  (func $k1x4 (param $c i32) (param $ldc i32) (param $a i32) (param $sam i32) (param $sar i32)
        (param $b i32) (param $ldb i32) (param $K i32) (param $bias i32) (param $ed i32) (param $mode i32)
    (local $c00 v128)
    (local $b0 v128) (local $s v128)
    (local $p0 i32) (local $e i32)
    (local.set $p0 (local.get $a))
    (if (i32.eq (local.get $mode) (i32.const 3))
      (then (local.set $c00 (v128.load align=4 (local.get $c)))))
    (block $done
      (br_if $done (i32.eqz (local.get $K)))
      (loop $step
        (local.set $b0 (v128.load align=4 (local.get $b)))
        (local.set $s (v128.load32_splat (local.get $p0)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
        (local.set $p0 (i32.add (local.get $p0) (local.get $sar)))
        (local.set $b (i32.add (local.get $b) (local.get $ldb)))
        (br_if $step (local.tee $K (i32.sub (local.get $K) (i32.const 1))))))
    (if (i32.ne (local.get $bias) (i32.const -1))
      (then
        (local.set $b0 (v128.load align=4 (local.get $bias)))
        (local.set $c00 (f32x4.add (local.get $c00) (local.get $b0)))
      ))
    (if (i32.eq (local.get $mode) (i32.const 2))
      (then
        (local.set $e (i32.add (local.get $c) (local.get $ed)))
        (local.set $c00 (v128.and (local.get $c00) (f32x4.gt (v128.load align=4 (local.get $e)) (v128.const i32x4 0 0 0 0))))
      ))
    (v128.store align=4 (local.get $c) (local.get $c00))
    (if (i32.eq (local.get $mode) (i32.const 1))
      (then
        (local.set $e (i32.add (local.get $c) (local.get $ed)))
        (v128.store align=4 (local.get $e) (v128.and (local.get $c00) (f32x4.gt (local.get $c00) (v128.const i32x4 0 0 0 0))))
      ))
  )

  ;; The scalar kernel for matrices narrower than 4 columns: one element of C.
  (func $k1x1 (param $c i32) (param $a i32) (param $sar i32) (param $b i32) (param $ldb i32)
        (param $K i32) (param $bias i32) (param $ed i32) (param $mode i32)
    (local $acc f32)
    (if (i32.eq (local.get $mode) (i32.const 3))
      (then (local.set $acc (f32.load (local.get $c)))))
    (block $done
      (br_if $done (i32.eqz (local.get $K)))
      (loop $step
        (local.set $acc (f32.add (local.get $acc) (f32.mul (f32.load (local.get $a)) (f32.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (local.get $sar)))
        (local.set $b (i32.add (local.get $b) (local.get $ldb)))
        (br_if $step (local.tee $K (i32.sub (local.get $K) (i32.const 1))))))
    (if (i32.ne (local.get $bias) (i32.const -1))
      (then (local.set $acc (f32.add (local.get $acc) (f32.load (local.get $bias))))))
    ;; select, not f32.max, for the same NaN and -0 rule as the vector kernels
    (if (i32.eq (local.get $mode) (i32.const 2))
      (then (local.set $acc (select (local.get $acc) (f32.const 0)
                                    (f32.gt (f32.load (i32.add (local.get $c) (local.get $ed))) (f32.const 0))))))
    (f32.store (local.get $c) (local.get $acc))
    (if (i32.eq (local.get $mode) (i32.const 1))
      (then (f32.store (i32.add (local.get $c) (local.get $ed))
                       (select (local.get $acc) (f32.const 0) (f32.gt (local.get $acc) (f32.const 0))))))
  )

  ;; All M rows of one column block of width w (8, 4 or 1); c, b and bias already point
  ;; at the block's first column (ed and mode pass through: see gemm). Row blocks run
  ;; innermost so the K×w panel of B stays in cache while A streams past it.
  (func $column (param $c i32) (param $ldc i32) (param $a i32) (param $sam i32) (param $sar i32)
        (param $b i32) (param $ldb i32) (param $M i32) (param $K i32) (param $bias i32) (param $w i32)
        (param $ed i32) (param $mode i32)
    (local $ldc4 i32) (local $sam4 i32)
    (if (i32.ne (local.get $w) (i32.const 1))
      (then
        (local.set $ldc4 (i32.shl (local.get $ldc) (i32.const 2)))
        (local.set $sam4 (i32.shl (local.get $sam) (i32.const 2)))
        (block $done
          (loop $rows
            (br_if $done (i32.lt_u (local.get $M) (i32.const 4)))
            (if (i32.eq (local.get $w) (i32.const 8))
              (then (call $k4x8 (local.get $c) (local.get $ldc) (local.get $a) (local.get $sam) (local.get $sar)
                                (local.get $b) (local.get $ldb) (local.get $K) (local.get $bias)
                                (local.get $ed) (local.get $mode)))
              (else (call $k4x4 (local.get $c) (local.get $ldc) (local.get $a) (local.get $sam) (local.get $sar)
                                (local.get $b) (local.get $ldb) (local.get $K) (local.get $bias)
                                (local.get $ed) (local.get $mode))))
            (local.set $c (i32.add (local.get $c) (local.get $ldc4)))
            (local.set $a (i32.add (local.get $a) (local.get $sam4)))
            (local.set $M (i32.sub (local.get $M) (i32.const 4)))
            (br $rows)))))
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (local.get $M)))
        (if (i32.eq (local.get $w) (i32.const 8))
          (then (call $k1x8 (local.get $c) (local.get $ldc) (local.get $a) (local.get $sam) (local.get $sar)
                            (local.get $b) (local.get $ldb) (local.get $K) (local.get $bias)
                            (local.get $ed) (local.get $mode)))
          (else
            (if (i32.eq (local.get $w) (i32.const 4))
              (then (call $k1x4 (local.get $c) (local.get $ldc) (local.get $a) (local.get $sam) (local.get $sar)
                                (local.get $b) (local.get $ldb) (local.get $K) (local.get $bias)
                                (local.get $ed) (local.get $mode)))
              (else (call $k1x1 (local.get $c) (local.get $a) (local.get $sar)
                                (local.get $b) (local.get $ldb) (local.get $K) (local.get $bias)
                                (local.get $ed) (local.get $mode))))))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (local.set $a (i32.add (local.get $a) (local.get $sam)))
        (local.set $M (i32.sub (local.get $M) (i32.const 1)))
        (br $rows)))
  )

  ;; bias + bytes, keeping -1 (no bias) as -1.
  (func $biasAt (param $bias i32) (param $bytes i32) (result i32)
    (select (i32.const -1) (i32.add (local.get $bias) (local.get $bytes))
            (i32.eq (local.get $bias) (i32.const -1)))
  )

  ;; C (M×N) = A (M×K) · B (K×N) [+ bias (N)], written, with the epilogue `mode` on E, the
  ;; M×N matrix at e laid out like C (row stride ldc): 0 none (e unused), 1 E = relu(C),
  ;; 2 C = E > 0 ? C : +0. See the header for the layout. scratch: scratchBytes bytes the
  ;; kernel may overwrite (0 bytes: none), where A is packed when its rows are adjacent.
  (func (export "gemm") (param $c i32) (param $ldc i32) (param $a i32) (param $sam i32) (param $sar i32)
        (param $b i32) (param $ldb i32) (param $M i32) (param $N i32) (param $K i32) (param $bias i32)
        (param $e i32) (param $mode i32) (param $scratch i32) (param $scratchBytes i32)
    (local $g i32) (local $rows i32) (local $cg i32) (local $k0 i32) (local $kc i32) (local $full i32) (local $n4 i32)
    (local $chunkMode i32)
    (local.set $kc (select (local.get $K) (i32.const 256) (i32.le_u (local.get $K) (i32.const 256))))
    (if (i32.and
          (i32.and (i32.and (i32.eq (local.get $sam) (i32.const 4)) (i32.ge_u (local.get $M) (i32.const 8)))
                   (i32.and (i32.ge_u (local.get $N) (i32.const 64)) (i32.ge_u (local.get $K) (i32.const 64))))
          (i32.and (i32.le_u (local.get $kc) (i32.shr_u (local.get $scratchBytes) (i32.const 6)))
                   ;; more than one chunk: each later chunk starts from C (mode 3), so no bias or epilogue
                   (i32.or (i32.le_u (local.get $K) (i32.const 256))
                           (i32.and (i32.eq (local.get $bias) (i32.const -1)) (i32.eqz (local.get $mode))))))
      (then
        ;; Groups of 16 rows (the last may have 4, 8 or 12); the last M mod 4 rows run unpacked.
        (local.set $full (i32.and (local.get $M) (i32.const -4)))
        (local.set $n4 (i32.and (local.get $N) (i32.const -4)))
        ;; Chunks of K outermost: all groups run on one chunk of B's rows while it is in cache
        ;; (for K = 512 and IN = 784, B is 1.6 MB: re-read for every group, it came from L3).
        (loop $chunks
          (local.set $kc (select (i32.const 256) (i32.sub (local.get $K) (local.get $k0))
                                 (i32.ge_u (i32.sub (local.get $K) (local.get $k0)) (i32.const 256))))
          (local.set $chunkMode (select (i32.const 0) (i32.const 3) (i32.eqz (local.get $k0))))
          (local.set $g (i32.const 0))
          (block $groupsDone
            (loop $groups
              (br_if $groupsDone (i32.ge_u (local.get $g) (local.get $full)))
              (local.set $rows (select (i32.const 16) (i32.sub (local.get $full) (local.get $g))
                                       (i32.ge_u (i32.sub (local.get $full) (local.get $g)) (i32.const 16))))
              (local.set $cg (i32.add (local.get $c) (i32.mul (local.get $g) (local.get $ldc))))
              (call $packRows (local.get $scratch)
                              (i32.add (i32.add (local.get $a) (i32.shl (local.get $g) (i32.const 2))) (i32.mul (local.get $k0) (local.get $sar)))
                              (local.get $sar) (local.get $kc) (i32.shl (local.get $rows) (i32.const 2)))
              (if (i32.le_u (local.get $K) (i32.const 256))
                (then
                  ;; One chunk: the whole product, bias and epilogue included.
                  (call $strips (local.get $cg) (local.get $ldc) (local.get $scratch) (i32.const 4) (i32.shl (local.get $rows) (i32.const 2))
                                (local.get $b) (local.get $ldb) (local.get $rows) (local.get $N) (local.get $K) (local.get $bias)
                                (i32.add (local.get $e) (i32.mul (local.get $g) (local.get $ldc))) (local.get $mode)))
                (else
                  ;; Columns past the last multiple of 4 run as their own (scalar) strips: the shifted
                  ;; last tile would add a chunk twice to the columns it recomputes.
                  (call $strips (local.get $cg) (local.get $ldc) (local.get $scratch) (i32.const 4) (i32.shl (local.get $rows) (i32.const 2))
                                (i32.add (local.get $b) (i32.mul (local.get $k0) (local.get $ldb))) (local.get $ldb)
                                (local.get $rows) (local.get $n4) (local.get $kc) (i32.const -1) (i32.const 0) (local.get $chunkMode))
                  (if (i32.lt_u (local.get $n4) (local.get $N))
                    (then
                      (call $strips (i32.add (local.get $cg) (i32.shl (local.get $n4) (i32.const 2))) (local.get $ldc)
                                    (local.get $scratch) (i32.const 4) (i32.shl (local.get $rows) (i32.const 2))
                                    (i32.add (i32.add (local.get $b) (i32.mul (local.get $k0) (local.get $ldb))) (i32.shl (local.get $n4) (i32.const 2)))
                                    (local.get $ldb) (local.get $rows) (i32.sub (local.get $N) (local.get $n4)) (local.get $kc)
                                    (i32.const -1) (i32.const 0) (local.get $chunkMode))))))
              (local.set $g (i32.add (local.get $g) (local.get $rows)))
              (br $groups)))
          (br_if $chunks (i32.lt_u (local.tee $k0 (i32.add (local.get $k0) (i32.const 256))) (local.get $K))))
        (if (i32.lt_u (local.get $full) (local.get $M))
          (then
            (call $strips (i32.add (local.get $c) (i32.mul (local.get $full) (local.get $ldc))) (local.get $ldc)
                          (i32.add (local.get $a) (i32.shl (local.get $full) (i32.const 2))) (local.get $sam) (local.get $sar)
                          (local.get $b) (local.get $ldb) (i32.sub (local.get $M) (local.get $full)) (local.get $N) (local.get $K) (local.get $bias)
                          (i32.add (local.get $e) (i32.mul (local.get $full) (local.get $ldc))) (local.get $mode))))
        (return)))
    (call $strips (local.get $c) (local.get $ldc) (local.get $a) (local.get $sam) (local.get $sar)
                  (local.get $b) (local.get $ldb) (local.get $M) (local.get $N) (local.get $K) (local.get $bias)
                  (local.get $e) (local.get $mode))
  )

  ;; K rows of rowBytes (16, 32, 48 or 64) bytes, sar apart at src, packed contiguously at dst.
  (func $packRows (param $dst i32) (param $src i32) (param $sar i32) (param $K i32) (param $rowBytes i32)
    (local $end i32) (local $q i32)
    (local.set $end (i32.add (local.get $dst) (i32.mul (local.get $K) (local.get $rowBytes))))
    (loop $pack
      (local.set $q (i32.const 0))
      (loop $quad
        (v128.store align=4 (i32.add (local.get $dst) (local.get $q)) (v128.load align=4 (i32.add (local.get $src) (local.get $q))))
        (br_if $quad (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 16))) (local.get $rowBytes))))
      (local.set $src (i32.add (local.get $src) (local.get $sar)))
      (br_if $pack (i32.lt_u (local.tee $dst (i32.add (local.get $dst) (local.get $rowBytes))) (local.get $end))))
  )

  ;; gemm on A as given (no packing): every column strip of C, each strip row block by row block.
  (func $strips (param $c i32) (param $ldc i32) (param $a i32) (param $sam i32) (param $sar i32)
        (param $b i32) (param $ldb i32) (param $M i32) (param $N i32) (param $K i32) (param $bias i32)
        (param $e i32) (param $mode i32)
    (local $n4 i32) (local $ed i32)
    ;; E[m, n] is at C[m, n]'s address + ed, in every tile.
    (local.set $ed (i32.sub (local.get $e) (local.get $c)))
    (if (i32.lt_u (local.get $N) (i32.const 4))
      (then
        (block $done
          (loop $cols
            (br_if $done (i32.ge_u (local.get $n4) (i32.shl (local.get $N) (i32.const 2))))
            (call $column (i32.add (local.get $c) (local.get $n4)) (local.get $ldc) (local.get $a)
                          (local.get $sam) (local.get $sar) (i32.add (local.get $b) (local.get $n4))
                          (local.get $ldb) (local.get $M) (local.get $K)
                          (call $biasAt (local.get $bias) (local.get $n4)) (i32.const 1)
                          (local.get $ed) (local.get $mode))
            (local.set $n4 (i32.add (local.get $n4) (i32.const 4)))
            (br $cols)))
        (return)))
    ;; n4 is the byte offset of the next column, so the tests compare against 4·N.
    (block $done
      (loop $cols
        (br_if $done (i32.gt_u (i32.add (local.get $n4) (i32.const 32)) (i32.shl (local.get $N) (i32.const 2))))
        (call $column (i32.add (local.get $c) (local.get $n4)) (local.get $ldc) (local.get $a)
                      (local.get $sam) (local.get $sar) (i32.add (local.get $b) (local.get $n4))
                      (local.get $ldb) (local.get $M) (local.get $K)
                      (call $biasAt (local.get $bias) (local.get $n4)) (i32.const 8)
                      (local.get $ed) (local.get $mode))
        (local.set $n4 (i32.add (local.get $n4) (i32.const 32)))
        (br $cols)))
    (if (i32.le_u (i32.add (local.get $n4) (i32.const 16)) (i32.shl (local.get $N) (i32.const 2)))
      (then
        (call $column (i32.add (local.get $c) (local.get $n4)) (local.get $ldc) (local.get $a)
                      (local.get $sam) (local.get $sar) (i32.add (local.get $b) (local.get $n4))
                      (local.get $ldb) (local.get $M) (local.get $K)
                      (call $biasAt (local.get $bias) (local.get $n4)) (i32.const 4)
                      (local.get $ed) (local.get $mode))
        (local.set $n4 (i32.add (local.get $n4) (i32.const 16)))))
    (if (i32.lt_u (local.get $n4) (i32.shl (local.get $N) (i32.const 2)))
      (then
        (local.set $n4 (i32.shl (i32.sub (local.get $N) (i32.const 4)) (i32.const 2)))
        (call $column (i32.add (local.get $c) (local.get $n4)) (local.get $ldc) (local.get $a)
                      (local.get $sam) (local.get $sar) (i32.add (local.get $b) (local.get $n4))
                      (local.get $ldb) (local.get $M) (local.get $K)
                      (call $biasAt (local.get $bias) (local.get $n4)) (i32.const 4)
                      (local.get $ed) (local.get $mode))))
  )

  ;; out[n] = Σ_m d[m, n] for n in [0, N), d's rows ldd bytes apart: the bias gradient.
  ;; Sequential over m from +0, four columns per vector; the same shifted last tile as gemm.
  (func $sum4 (param $out i32) (param $p i32) (param $ldd i32) (param $M i32)
    (local $acc v128)
    (block $done
      (br_if $done (i32.eqz (local.get $M)))
      (loop $step
        (local.set $acc (f32x4.add (local.get $acc) (v128.load align=4 (local.get $p))))
        (local.set $p (i32.add (local.get $p) (local.get $ldd)))
        (br_if $step (local.tee $M (i32.sub (local.get $M) (i32.const 1))))))
    (v128.store align=4 (local.get $out) (local.get $acc))
  )
  (func $sum1 (param $out i32) (param $p i32) (param $ldd i32) (param $M i32)
    (local $acc f32)
    (block $done
      (br_if $done (i32.eqz (local.get $M)))
      (loop $step
        (local.set $acc (f32.add (local.get $acc) (f32.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (local.get $ldd)))
        (br_if $step (local.tee $M (i32.sub (local.get $M) (i32.const 1))))))
    (f32.store (local.get $out) (local.get $acc))
  )
  (func (export "colsum") (param $out i32) (param $d i32) (param $ldd i32) (param $M i32) (param $N i32)
    (local $n4 i32) (local $end i32)
    (local.set $end (i32.shl (local.get $N) (i32.const 2)))
    (if (i32.lt_u (local.get $N) (i32.const 4))
      (then
        (block $done
          (loop $cols
            (br_if $done (i32.ge_u (local.get $n4) (local.get $end)))
            (call $sum1 (i32.add (local.get $out) (local.get $n4)) (i32.add (local.get $d) (local.get $n4))
                        (local.get $ldd) (local.get $M))
            (local.set $n4 (i32.add (local.get $n4) (i32.const 4)))
            (br $cols)))
        (return)))
    (block $done
      (loop $cols
        (br_if $done (i32.gt_u (i32.add (local.get $n4) (i32.const 16)) (local.get $end)))
        (call $sum4 (i32.add (local.get $out) (local.get $n4)) (i32.add (local.get $d) (local.get $n4))
                    (local.get $ldd) (local.get $M))
        (local.set $n4 (i32.add (local.get $n4) (i32.const 16)))
        (br $cols)))
    (if (i32.lt_u (local.get $n4) (local.get $end))
      (then
        (local.set $n4 (i32.sub (local.get $end) (i32.const 16)))
        (call $sum4 (i32.add (local.get $out) (local.get $n4)) (i32.add (local.get $d) (local.get $n4))
                    (local.get $ldd) (local.get $M))))
  )

  ;; Copy count 32-bit words from contiguous src to dst, dst advancing by step bytes.
  ;; Integer loads and stores, so every bit pattern (NaN payloads included) is kept.
  (func $copyStrided (param $dst i32) (param $src i32) (param $count i32) (param $step i32)
    (block $done
      (br_if $done (i32.eqz (local.get $count)))
      (loop $next
        (i32.store (local.get $dst) (i32.load (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (local.get $step)))
        (br_if $next (local.tee $count (i32.sub (local.get $count) (i32.const 1))))))
  )

  ;; wt[k, j] = w[j, k] for units j in [j0, j1), all k: w is (OUT, IN), wt is (IN, OUT).
  ;; 4×4 blocks: four rows of w are loaded as vectors and shuffled into four rows of wt.
  ;; The blocks go 16 k's at a time across all the units: wt's rows are OUT floats apart
  ;; (often a power of two, so they crowd a few cache sets), and sweeping the units over
  ;; just 16 of them keeps those lines in L1 until they are written in full.
  (func $transpose (export "transpose") (param $wt i32) (param $w i32) (param $IN i32) (param $OUT i32)
        (param $j0 i32) (param $j1 i32)
    (local $ldw i32) (local $ldt i32) (local $in4 i32) (local $j4 i32) (local $k0 i32) (local $kend i32)
    (local $j i32) (local $k i32) (local $src i32) (local $dst i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t0 v128) (local $t1 v128)
    (local.set $ldw (i32.shl (local.get $IN) (i32.const 2)))
    (local.set $ldt (i32.shl (local.get $OUT) (i32.const 2)))
    (local.set $in4 (i32.and (local.get $IN) (i32.const -4)))
    (local.set $j4 (i32.add (local.get $j0) (i32.and (i32.sub (local.get $j1) (local.get $j0)) (i32.const -4))))
    (block $kdone
      (loop $kblocks
        (br_if $kdone (i32.ge_u (local.get $k0) (local.get $in4)))
        (local.set $kend (select (local.get $in4) (i32.add (local.get $k0) (i32.const 16))
                                 (i32.gt_u (i32.add (local.get $k0) (i32.const 16)) (local.get $in4))))
        (local.set $j (local.get $j0))
        (block $jdone
          (loop $units
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $j4)))
            (local.set $src (i32.add (i32.add (local.get $w) (i32.mul (local.get $j) (local.get $ldw)))
                                     (i32.shl (local.get $k0) (i32.const 2))))
            (local.set $dst (i32.add (i32.add (local.get $wt) (i32.mul (local.get $k0) (local.get $ldt)))
                                     (i32.shl (local.get $j) (i32.const 2))))
            (local.set $k (local.get $k0))
            (loop $block
              (local.set $r0 (v128.load align=4 (local.get $src)))
              (local.set $r1 (v128.load align=4 (i32.add (local.get $src) (local.get $ldw))))
              (local.set $r2 (v128.load align=4 (i32.add (local.get $src) (i32.shl (local.get $ldw) (i32.const 1)))))
              (local.set $r3 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $ldw) (i32.const 3)))))
              ;; r0 = [a0 a1 a2 a3] … r3 = [d0 d1 d2 d3] → t0 = [a0 b0 a1 b1], t1 = [c0 d0 c1 d1]
              (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
              (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
              (v128.store align=4 (local.get $dst)
                (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
              (v128.store align=4 (i32.add (local.get $dst) (local.get $ldt))
                (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
              ;; t0 = [a2 b2 a3 b3], t1 = [c2 d2 c3 d3]
              (local.set $t0 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
              (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
              (v128.store align=4 (i32.add (local.get $dst) (i32.shl (local.get $ldt) (i32.const 1)))
                (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
              (v128.store align=4 (i32.add (local.get $dst) (i32.mul (local.get $ldt) (i32.const 3)))
                (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
              (local.set $src (i32.add (local.get $src) (i32.const 16)))
              (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $ldt) (i32.const 2))))
              (br_if $block (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 4))) (local.get $kend))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $units)))
        (local.set $k0 (i32.add (local.get $k0) (i32.const 16)))
        (br $kblocks)))
    ;; What the blocks left: the last IN % 4 columns of units [j0, j4), and units [j4, j1) whole.
    (local.set $j (local.get $j0))
    (block $done
      (loop $rest
        (br_if $done (i32.ge_u (local.get $j) (local.get $j1)))
        (local.set $k (select (local.get $in4) (i32.const 0) (i32.lt_u (local.get $j) (local.get $j4))))
        (call $copyStrided
          (i32.add (i32.add (local.get $wt) (i32.mul (local.get $k) (local.get $ldt))) (i32.shl (local.get $j) (i32.const 2)))
          (i32.add (i32.add (local.get $w) (i32.mul (local.get $j) (local.get $ldw))) (i32.shl (local.get $k) (i32.const 2)))
          (i32.sub (local.get $IN) (local.get $k)) (local.get $ldt))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $rest)))
  )

  ;; The optimizer update of n floats from p (optim/optimizers.ts, applyRule: its formulas;
  ;; kernel.ts, UpdateRule: the kind and the constants), in f64x2 lanes so that every rounding
  ;; is the one the TypeScript loop makes: each float32 is promoted exactly, the same double
  ;; operations run in the same order, and the one rounding to float32 is on each store
  ;; (f32x4.demote_f64x2_zero rounds to nearest, as a Float32Array store does), so js and
  ;; wasm give the same bits. Not float32 per operation in f32x4 lanes (twice the elements
  ;; per op): that misses the optimizer tests' float64 reference by up to 40 float32 ulps
  ;; where a step lands next to zero (optimizers.ts). g, m and v are the gradient and the
  ;; rule's state buffers at the same offsets as p (m: momentum's buf, Adam's m, RMSprop's v;
  ;; v: Adam's v; pointers a kind does not use are never read). Kinds: 0 sgd, 1 momentum,
  ;; 2 nesterov, 3 adam (adamw: wd = 0 and shrink = 1 − lr·wd; one division and one square root
  ;; per element, see applyRule), 4 rmsprop. One loop per kind,
  ;; four floats (two pairs, constant offsets) per iteration, so that the kind's branch, the
  ;; pointer updates and V8's loop check are paid once per four floats, not per element.
  ;; A momentum buffer b is used unrounded in p's update, as the JS loop uses its local.
  (func $update (export "update") (param $kind i32) (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
        (param $lr f64) (param $s f64) (param $wd f64) (param $shrink f64) (param $eps f64) (param $d1 f64) (param $g1 f64) (param $d2 f64) (param $g2 f64) (param $step f64) (param $r f64)
    (local $end4 i32) (local $vP v128) (local $vG v128) (local $vB v128) (local $vV v128) (local $xP f64) (local $xG f64) (local $xB f64) (local $xV f64)
    (local $Klr v128) (local $Ks v128) (local $Kwd v128) (local $Kshrink v128) (local $Keps v128) (local $Kd1 v128) (local $Kg1 v128) (local $Kd2 v128) (local $Kg2 v128) (local $Kstep v128) (local $Kr v128)
    (local.set $Klr (f64x2.splat (local.get $lr)))
    (local.set $Ks (f64x2.splat (local.get $s)))
    (local.set $Kwd (f64x2.splat (local.get $wd)))
    (local.set $Kshrink (f64x2.splat (local.get $shrink)))
    (local.set $Keps (f64x2.splat (local.get $eps)))
    (local.set $Kd1 (f64x2.splat (local.get $d1)))
    (local.set $Kg1 (f64x2.splat (local.get $g1)))
    (local.set $Kd2 (f64x2.splat (local.get $d2)))
    (local.set $Kg2 (f64x2.splat (local.get $g2)))
    (local.set $Kstep (f64x2.splat (local.get $step)))
    (local.set $Kr (f64x2.splat (local.get $r)))
    ;; p advances to end4 four floats at a time, then one pair if n & 2, then one float if n & 1.
    (local.set $end4 (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    ;; sgd with no weight decay and no clipping scale (wd = 0, s = 1: plain SGD, the default):
    ;; p − lr·g, skipping g·1 (exact) and + 0·p (adds nothing to a finite p; applyRule skips it
    ;; too, as PyTorch does when weight_decay is 0). A third fewer double operations.
    (if (i32.and (i32.eq (local.get $kind) (i32.const 0))
                 (i32.and (f64.eq (local.get $wd) (f64.const 0)) (f64.eq (local.get $s) (f64.const 1))))
      (then
        (block $plainDone
          (br_if $plainDone (i32.eq (local.get $p) (local.get $end4)))
          (loop $plain
            (v128.store64_lane align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub
              (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $p)))
              (f64x2.mul (local.get $Klr) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $g)))))))
            (v128.store64_lane offset=8 align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub
              (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $p)))
              (f64x2.mul (local.get $Klr) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $g)))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (br_if $plain (i32.ne (local.get $p) (local.get $end4)))))
        (if (i32.and (local.get $n) (i32.const 2))
          (then
            (v128.store64_lane align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub
              (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $p)))
              (f64x2.mul (local.get $Klr) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $g)))))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (local.set $g (i32.add (local.get $g) (i32.const 8)))))
        (if (i32.and (local.get $n) (i32.const 1))
          (then
            (f32.store (local.get $p) (f32.demote_f64 (f64.sub (f64.promote_f32 (f32.load (local.get $p)))
              (f64.mul (local.get $lr) (f64.promote_f32 (f32.load (local.get $g)))))))))
        (return)))
    (if (i32.eq (local.get $kind) (i32.const 0))  ;; sgd
      (then
        (block $sgdDone
          (br_if $sgdDone (i32.eq (local.get $p) (local.get $end4)))
          (loop $sgd
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (v128.store64_lane align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $vP) (f64x2.mul (local.get $Klr) (local.get $vG)))))
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (v128.store64_lane offset=8 align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $vP) (f64x2.mul (local.get $Klr) (local.get $vG)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (br_if $sgd (i32.ne (local.get $p) (local.get $end4)))))
        (if (i32.and (local.get $n) (i32.const 2))
          (then
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (v128.store64_lane align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $vP) (f64x2.mul (local.get $Klr) (local.get $vG)))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (local.set $g (i32.add (local.get $g) (i32.const 8)))
            ))
        (if (i32.and (local.get $n) (i32.const 1))
          (then
            (local.set $xP (f64.promote_f32 (f32.load (local.get $p))))
            (local.set $xG (f64.add (f64.mul (f64.promote_f32 (f32.load (local.get $g))) (local.get $s)) (f64.mul (local.get $wd) (local.get $xP))))
            (f32.store (local.get $p) (f32.demote_f64 (f64.sub (local.get $xP) (f64.mul (local.get $lr) (local.get $xG)))))
            ))
        (return)))
    (if (i32.eq (local.get $kind) (i32.const 1))  ;; momentum
      (then
        (block $momentumDone
          (br_if $momentumDone (i32.eq (local.get $p) (local.get $end4)))
          (loop $momentum
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (local.set $vB (f64x2.add (f64x2.mul (local.get $Kd1) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $m)))) (local.get $vG)))
            (v128.store64_lane align=4 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $vB)))
            (v128.store64_lane align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $vP) (f64x2.mul (local.get $Klr) (local.get $vB)))))
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (local.set $vB (f64x2.add (f64x2.mul (local.get $Kd1) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $m)))) (local.get $vG)))
            (v128.store64_lane offset=8 align=4 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $vB)))
            (v128.store64_lane offset=8 align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $vP) (f64x2.mul (local.get $Klr) (local.get $vB)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (local.set $m (i32.add (local.get $m) (i32.const 16)))
            (br_if $momentum (i32.ne (local.get $p) (local.get $end4)))))
        (if (i32.and (local.get $n) (i32.const 2))
          (then
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (local.set $vB (f64x2.add (f64x2.mul (local.get $Kd1) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $m)))) (local.get $vG)))
            (v128.store64_lane align=4 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $vB)))
            (v128.store64_lane align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $vP) (f64x2.mul (local.get $Klr) (local.get $vB)))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (local.set $g (i32.add (local.get $g) (i32.const 8)))
            (local.set $m (i32.add (local.get $m) (i32.const 8)))
            ))
        (if (i32.and (local.get $n) (i32.const 1))
          (then
            (local.set $xP (f64.promote_f32 (f32.load (local.get $p))))
            (local.set $xG (f64.add (f64.mul (f64.promote_f32 (f32.load (local.get $g))) (local.get $s)) (f64.mul (local.get $wd) (local.get $xP))))
            (local.set $xB (f64.add (f64.mul (local.get $d1) (f64.promote_f32 (f32.load (local.get $m)))) (local.get $xG)))
            (f32.store (local.get $m) (f32.demote_f64 (local.get $xB)))
            (f32.store (local.get $p) (f32.demote_f64 (f64.sub (local.get $xP) (f64.mul (local.get $lr) (local.get $xB)))))
            ))
        (return)))
    (if (i32.eq (local.get $kind) (i32.const 2))  ;; nesterov
      (then
        (block $nesterovDone
          (br_if $nesterovDone (i32.eq (local.get $p) (local.get $end4)))
          (loop $nesterov
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (local.set $vB (f64x2.add (f64x2.mul (local.get $Kd1) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $m)))) (local.get $vG)))
            (v128.store64_lane align=4 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $vB)))
            (v128.store64_lane align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $vP) (f64x2.mul (local.get $Klr) (f64x2.add (local.get $vG) (f64x2.mul (local.get $Kd1) (local.get $vB)))))))
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (local.set $vB (f64x2.add (f64x2.mul (local.get $Kd1) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $m)))) (local.get $vG)))
            (v128.store64_lane offset=8 align=4 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $vB)))
            (v128.store64_lane offset=8 align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $vP) (f64x2.mul (local.get $Klr) (f64x2.add (local.get $vG) (f64x2.mul (local.get $Kd1) (local.get $vB)))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (local.set $m (i32.add (local.get $m) (i32.const 16)))
            (br_if $nesterov (i32.ne (local.get $p) (local.get $end4)))))
        (if (i32.and (local.get $n) (i32.const 2))
          (then
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (local.set $vB (f64x2.add (f64x2.mul (local.get $Kd1) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $m)))) (local.get $vG)))
            (v128.store64_lane align=4 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $vB)))
            (v128.store64_lane align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $vP) (f64x2.mul (local.get $Klr) (f64x2.add (local.get $vG) (f64x2.mul (local.get $Kd1) (local.get $vB)))))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (local.set $g (i32.add (local.get $g) (i32.const 8)))
            (local.set $m (i32.add (local.get $m) (i32.const 8)))
            ))
        (if (i32.and (local.get $n) (i32.const 1))
          (then
            (local.set $xP (f64.promote_f32 (f32.load (local.get $p))))
            (local.set $xG (f64.add (f64.mul (f64.promote_f32 (f32.load (local.get $g))) (local.get $s)) (f64.mul (local.get $wd) (local.get $xP))))
            (local.set $xB (f64.add (f64.mul (local.get $d1) (f64.promote_f32 (f32.load (local.get $m)))) (local.get $xG)))
            (f32.store (local.get $m) (f32.demote_f64 (local.get $xB)))
            (f32.store (local.get $p) (f32.demote_f64 (f64.sub (local.get $xP) (f64.mul (local.get $lr) (f64.add (local.get $xG) (f64.mul (local.get $d1) (local.get $xB)))))))
            ))
        (return)))
    (if (i32.eq (local.get $kind) (i32.const 3))  ;; adam
      (then
        (block $adamDone
          (br_if $adamDone (i32.eq (local.get $p) (local.get $end4)))
          (loop $adam
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (local.set $vB (f64x2.add (f64x2.mul (local.get $Kd1) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $m)))) (f64x2.mul (local.get $Kg1) (local.get $vG))))
            (local.set $vV (f64x2.add (f64x2.mul (local.get $Kd2) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $v)))) (f64x2.mul (f64x2.mul (local.get $Kg2) (local.get $vG)) (local.get $vG))))
            (v128.store64_lane align=4 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $vB)))
            (v128.store64_lane align=4 0 (local.get $v) (f32x4.demote_f64x2_zero (local.get $vV)))
            (v128.store64_lane align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.mul (local.get $vP) (local.get $Kshrink)) (f64x2.div (f64x2.mul (local.get $Kstep) (local.get $vB)) (f64x2.add (f64x2.mul (f64x2.sqrt (local.get $vV)) (local.get $Kr)) (local.get $Keps))))))
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (local.set $vB (f64x2.add (f64x2.mul (local.get $Kd1) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $m)))) (f64x2.mul (local.get $Kg1) (local.get $vG))))
            (local.set $vV (f64x2.add (f64x2.mul (local.get $Kd2) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $v)))) (f64x2.mul (f64x2.mul (local.get $Kg2) (local.get $vG)) (local.get $vG))))
            (v128.store64_lane offset=8 align=4 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $vB)))
            (v128.store64_lane offset=8 align=4 0 (local.get $v) (f32x4.demote_f64x2_zero (local.get $vV)))
            (v128.store64_lane offset=8 align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.mul (local.get $vP) (local.get $Kshrink)) (f64x2.div (f64x2.mul (local.get $Kstep) (local.get $vB)) (f64x2.add (f64x2.mul (f64x2.sqrt (local.get $vV)) (local.get $Kr)) (local.get $Keps))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (local.set $m (i32.add (local.get $m) (i32.const 16)))
            (local.set $v (i32.add (local.get $v) (i32.const 16)))
            (br_if $adam (i32.ne (local.get $p) (local.get $end4)))))
        (if (i32.and (local.get $n) (i32.const 2))
          (then
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (local.set $vB (f64x2.add (f64x2.mul (local.get $Kd1) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $m)))) (f64x2.mul (local.get $Kg1) (local.get $vG))))
            (local.set $vV (f64x2.add (f64x2.mul (local.get $Kd2) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $v)))) (f64x2.mul (f64x2.mul (local.get $Kg2) (local.get $vG)) (local.get $vG))))
            (v128.store64_lane align=4 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $vB)))
            (v128.store64_lane align=4 0 (local.get $v) (f32x4.demote_f64x2_zero (local.get $vV)))
            (v128.store64_lane align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.mul (local.get $vP) (local.get $Kshrink)) (f64x2.div (f64x2.mul (local.get $Kstep) (local.get $vB)) (f64x2.add (f64x2.mul (f64x2.sqrt (local.get $vV)) (local.get $Kr)) (local.get $Keps))))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (local.set $g (i32.add (local.get $g) (i32.const 8)))
            (local.set $m (i32.add (local.get $m) (i32.const 8)))
            (local.set $v (i32.add (local.get $v) (i32.const 8)))
            ))
        (if (i32.and (local.get $n) (i32.const 1))
          (then
            (local.set $xP (f64.promote_f32 (f32.load (local.get $p))))
            (local.set $xG (f64.add (f64.mul (f64.promote_f32 (f32.load (local.get $g))) (local.get $s)) (f64.mul (local.get $wd) (local.get $xP))))
            (local.set $xB (f64.add (f64.mul (local.get $d1) (f64.promote_f32 (f32.load (local.get $m)))) (f64.mul (local.get $g1) (local.get $xG))))
            (local.set $xV (f64.add (f64.mul (local.get $d2) (f64.promote_f32 (f32.load (local.get $v)))) (f64.mul (f64.mul (local.get $g2) (local.get $xG)) (local.get $xG))))
            (f32.store (local.get $m) (f32.demote_f64 (local.get $xB)))
            (f32.store (local.get $v) (f32.demote_f64 (local.get $xV)))
            (f32.store (local.get $p) (f32.demote_f64 (f64.sub (f64.mul (local.get $xP) (local.get $shrink)) (f64.div (f64.mul (local.get $step) (local.get $xB)) (f64.add (f64.mul (f64.sqrt (local.get $xV)) (local.get $r)) (local.get $eps))))))
            ))
        (return)))
    (if (i32.eq (local.get $kind) (i32.const 4))  ;; rmsprop
      (then
        (block $rmspropDone
          (br_if $rmspropDone (i32.eq (local.get $p) (local.get $end4)))
          (loop $rmsprop
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (local.set $vV (f64x2.add (f64x2.mul (local.get $Kd1) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $m)))) (f64x2.mul (f64x2.mul (local.get $Kg1) (local.get $vG)) (local.get $vG))))
            (v128.store64_lane align=4 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $vV)))
            (v128.store64_lane align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $vP) (f64x2.div (f64x2.mul (local.get $Klr) (local.get $vG)) (f64x2.add (f64x2.sqrt (local.get $vV)) (local.get $Keps))))))
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (local.set $vV (f64x2.add (f64x2.mul (local.get $Kd1) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $m)))) (f64x2.mul (f64x2.mul (local.get $Kg1) (local.get $vG)) (local.get $vG))))
            (v128.store64_lane offset=8 align=4 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $vV)))
            (v128.store64_lane offset=8 align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $vP) (f64x2.div (f64x2.mul (local.get $Klr) (local.get $vG)) (f64x2.add (f64x2.sqrt (local.get $vV)) (local.get $Keps))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (local.set $m (i32.add (local.get $m) (i32.const 16)))
            (br_if $rmsprop (i32.ne (local.get $p) (local.get $end4)))))
        (if (i32.and (local.get $n) (i32.const 2))
          (then
            (local.set $vP (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $p))))
            (local.set $vG (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $g))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $vP))))
            (local.set $vV (f64x2.add (f64x2.mul (local.get $Kd1) (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $m)))) (f64x2.mul (f64x2.mul (local.get $Kg1) (local.get $vG)) (local.get $vG))))
            (v128.store64_lane align=4 0 (local.get $m) (f32x4.demote_f64x2_zero (local.get $vV)))
            (v128.store64_lane align=4 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.sub (local.get $vP) (f64x2.div (f64x2.mul (local.get $Klr) (local.get $vG)) (f64x2.add (f64x2.sqrt (local.get $vV)) (local.get $Keps))))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (local.set $g (i32.add (local.get $g) (i32.const 8)))
            (local.set $m (i32.add (local.get $m) (i32.const 8)))
            ))
        (if (i32.and (local.get $n) (i32.const 1))
          (then
            (local.set $xP (f64.promote_f32 (f32.load (local.get $p))))
            (local.set $xG (f64.add (f64.mul (f64.promote_f32 (f32.load (local.get $g))) (local.get $s)) (f64.mul (local.get $wd) (local.get $xP))))
            (local.set $xV (f64.add (f64.mul (local.get $d1) (f64.promote_f32 (f32.load (local.get $m)))) (f64.mul (f64.mul (local.get $g1) (local.get $xG)) (local.get $xG))))
            (f32.store (local.get $m) (f32.demote_f64 (local.get $xV)))
            (f32.store (local.get $p) (f32.demote_f64 (f64.sub (local.get $xP) (f64.div (f64.mul (local.get $lr) (local.get $xG)) (f64.add (f64.sqrt (local.get $xV)) (local.get $eps))))))
            ))
        (return)))
  )


  ;; The update of the weights of units [j0, j1) — rows j0..j1-1 of w (OUT, IN), contiguous,
  ;; with g, m and v the same tensor in the other buffers — and then the refresh of those
  ;; units' columns of wt (IN, OUT), in the same call: the block's weights are still in this
  ;; core's cache (a 16-unit block of a 784-input layer is 50 KB) when they are transposed.
  (func (export "updateUnits") (param $kind i32) (param $w i32) (param $g i32) (param $m i32) (param $v i32)
        (param $wt i32) (param $IN i32) (param $OUT i32) (param $j0 i32) (param $j1 i32)
        (param $lr f64) (param $s f64) (param $wd f64) (param $shrink f64) (param $eps f64) (param $d1 f64) (param $g1 f64) (param $d2 f64) (param $g2 f64) (param $step f64) (param $r f64)
    (local $off i32)
    (local.set $off (i32.shl (i32.mul (local.get $j0) (local.get $IN)) (i32.const 2)))
    (call $update (local.get $kind)
      (i32.add (local.get $w) (local.get $off)) (i32.add (local.get $g) (local.get $off))
      (i32.add (local.get $m) (local.get $off)) (i32.add (local.get $v) (local.get $off))
      (i32.mul (i32.sub (local.get $j1) (local.get $j0)) (local.get $IN))
      (local.get $lr) (local.get $s) (local.get $wd) (local.get $shrink) (local.get $eps) (local.get $d1) (local.get $g1) (local.get $d2) (local.get $g2) (local.get $step) (local.get $r))
    (call $transpose (local.get $wt) (local.get $w) (local.get $IN) (local.get $OUT) (local.get $j0) (local.get $j1))
  )

  ;; SGD on the weights of units [j0, j1) where they live transposed: wt (IN, OUT) is
  ;; the layer's authoritative copy and w (OUT, IN) is not read or written; g is the gradient
  ;; in w's layout. Per element, the SGD branch of $update to the bit (promote, the same
  ;; double operations in the same order, one rounding on the store):
  ;;   wt[k, j] = f32(p − lr·(g[j, k]·s + wd·p)),  p = wt[k, j].
  ;; For the first layer, whose w is never needed during training (no dX is computed for it):
  ;; it saves writing w and then its transpose each step, the bytes that bound the update.
  ;; Tiles of 4 units × 4 inputs: four rows of g loaded as vectors and transposed in
  ;; registers (as $transpose does) to line up with four rows of wt; 16 inputs at a time
  ;; across the units, so wt's lines (OUT floats apart) stay in L1 until all their units are done.
  (func $sgdT1 (param $pt i32) (param $pg i32) (param $lr f64) (param $s f64) (param $wd f64)
    (local $x f64)
    (local.set $x (f64.promote_f32 (f32.load (local.get $pt))))
    (if (i32.and (f64.eq (local.get $wd) (f64.const 0)) (f64.eq (local.get $s) (f64.const 1)))
      (then
        (f32.store (local.get $pt) (f32.demote_f64 (f64.sub (local.get $x) (f64.mul (local.get $lr) (f64.promote_f32 (f32.load (local.get $pg)))))))
        (return)))
    (f32.store (local.get $pt) (f32.demote_f64 (f64.sub (local.get $x)
      (f64.mul (local.get $lr) (f64.add (f64.mul (f64.promote_f32 (f32.load (local.get $pg))) (local.get $s)) (f64.mul (local.get $wd) (local.get $x)))))))
  )
  (func (export "sgdUnitsT") (param $wt i32) (param $g i32) (param $IN i32) (param $OUT i32) (param $j0 i32) (param $j1 i32)
        (param $lr f64) (param $s f64) (param $wd f64)
    (local $ldw i32) (local $ldt i32) (local $in4 i32) (local $j4 i32) (local $k0 i32) (local $kend i32)
    (local $j i32) (local $k i32) (local $src i32) (local $dst i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $Klr v128) (local $Ks v128) (local $Kwd v128) (local $p v128) (local $plain i32)
    ;; wd = 0 and s = 1: p − lr·g, as $update's plain-SGD loop (and applyRule) computes it.
    (local.set $plain (i32.and (f64.eq (local.get $wd) (f64.const 0)) (f64.eq (local.get $s) (f64.const 1))))
    (local.set $Klr (f64x2.splat (local.get $lr)))
    (local.set $Ks (f64x2.splat (local.get $s)))
    (local.set $Kwd (f64x2.splat (local.get $wd)))
    (local.set $ldw (i32.shl (local.get $IN) (i32.const 2)))
    (local.set $ldt (i32.shl (local.get $OUT) (i32.const 2)))
    (local.set $in4 (i32.and (local.get $IN) (i32.const -4)))
    (local.set $j4 (i32.add (local.get $j0) (i32.and (i32.sub (local.get $j1) (local.get $j0)) (i32.const -4))))
    (block $kdone
      (loop $kblocks
        (br_if $kdone (i32.ge_u (local.get $k0) (local.get $in4)))
        (local.set $kend (select (local.get $in4) (i32.add (local.get $k0) (i32.const 16))
                                 (i32.gt_u (i32.add (local.get $k0) (i32.const 16)) (local.get $in4))))
        (local.set $j (local.get $j0))
        (block $jdone
          (loop $units
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $j4)))
            (local.set $src (i32.add (i32.add (local.get $g) (i32.mul (local.get $j) (local.get $ldw)))
                                     (i32.shl (local.get $k0) (i32.const 2))))
            (local.set $dst (i32.add (i32.add (local.get $wt) (i32.mul (local.get $k0) (local.get $ldt)))
                                     (i32.shl (local.get $j) (i32.const 2))))
            (local.set $k (local.get $k0))
            (loop $block
              ;; r0 = g[j, k..k+3] … r3 = g[j+3, k..k+3]. t0 = [g[j,k] g[j+1,k] g[j,k+1] g[j+1,k+1]], t1 the same
              ;; for units j+2, j+3; t2, t3 for inputs k+2, k+3. Each low half is the gradient pair of two
              ;; adjacent units in one row of wt; a high half is moved down first. wt is read and written
              ;; as pairs (load64_zero, store64_lane), so no shuffle goes into it.
              (local.set $r0 (v128.load align=4 (local.get $src)))
              (local.set $r1 (v128.load align=4 (i32.add (local.get $src) (local.get $ldw))))
              (local.set $r2 (v128.load align=4 (i32.add (local.get $src) (i32.shl (local.get $ldw) (i32.const 1)))))
              (local.set $r3 (v128.load align=4 (i32.add (local.get $src) (i32.mul (local.get $ldw) (i32.const 3)))))
              (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
              (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
              (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
              (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
              (if (local.get $plain)
                (then
                  (v128.store64_lane align=4 0 (local.get $dst) (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $dst))) (f64x2.mul (local.get $Klr) (f64x2.promote_low_f32x4 (local.get $t0))))))
                  (v128.store64_lane offset=8 align=4 0 (local.get $dst) (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $dst))) (f64x2.mul (local.get $Klr) (f64x2.promote_low_f32x4 (local.get $t1))))))
                  (v128.store64_lane align=4 0 (i32.add (local.get $dst) (local.get $ldt)) (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (i32.add (local.get $dst) (local.get $ldt)))) (f64x2.mul (local.get $Klr) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $t0) (local.get $t0)))))))
                  (v128.store64_lane offset=8 align=4 0 (i32.add (local.get $dst) (local.get $ldt)) (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (i32.add (local.get $dst) (local.get $ldt)))) (f64x2.mul (local.get $Klr) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $t1) (local.get $t1)))))))
                  (v128.store64_lane align=4 0 (i32.add (local.get $dst) (i32.shl (local.get $ldt) (i32.const 1))) (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (i32.add (local.get $dst) (i32.shl (local.get $ldt) (i32.const 1))))) (f64x2.mul (local.get $Klr) (f64x2.promote_low_f32x4 (local.get $t2))))))
                  (v128.store64_lane offset=8 align=4 0 (i32.add (local.get $dst) (i32.shl (local.get $ldt) (i32.const 1))) (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (i32.add (local.get $dst) (i32.shl (local.get $ldt) (i32.const 1))))) (f64x2.mul (local.get $Klr) (f64x2.promote_low_f32x4 (local.get $t3))))))
                  (v128.store64_lane align=4 0 (i32.add (local.get $dst) (i32.mul (local.get $ldt) (i32.const 3))) (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (i32.add (local.get $dst) (i32.mul (local.get $ldt) (i32.const 3))))) (f64x2.mul (local.get $Klr) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $t2) (local.get $t2)))))))
                  (v128.store64_lane offset=8 align=4 0 (i32.add (local.get $dst) (i32.mul (local.get $ldt) (i32.const 3))) (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (i32.add (local.get $dst) (i32.mul (local.get $ldt) (i32.const 3))))) (f64x2.mul (local.get $Klr) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $t3) (local.get $t3))))))))
                (else
                  (v128.store64_lane align=4 0 (local.get $dst) (f32x4.demote_f64x2_zero (f64x2.sub (local.tee $p (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $dst)))) (f64x2.mul (local.get $Klr) (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (local.get $t0)) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $p)))))))
                  (v128.store64_lane offset=8 align=4 0 (local.get $dst) (f32x4.demote_f64x2_zero (f64x2.sub (local.tee $p (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $dst)))) (f64x2.mul (local.get $Klr) (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (local.get $t1)) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $p)))))))
                  (v128.store64_lane align=4 0 (i32.add (local.get $dst) (local.get $ldt)) (f32x4.demote_f64x2_zero (f64x2.sub (local.tee $p (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (i32.add (local.get $dst) (local.get $ldt))))) (f64x2.mul (local.get $Klr) (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $t0) (local.get $t0))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $p)))))))
                  (v128.store64_lane offset=8 align=4 0 (i32.add (local.get $dst) (local.get $ldt)) (f32x4.demote_f64x2_zero (f64x2.sub (local.tee $p (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (i32.add (local.get $dst) (local.get $ldt))))) (f64x2.mul (local.get $Klr) (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $t1) (local.get $t1))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $p)))))))
                  (v128.store64_lane align=4 0 (i32.add (local.get $dst) (i32.shl (local.get $ldt) (i32.const 1))) (f32x4.demote_f64x2_zero (f64x2.sub (local.tee $p (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (i32.add (local.get $dst) (i32.shl (local.get $ldt) (i32.const 1)))))) (f64x2.mul (local.get $Klr) (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (local.get $t2)) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $p)))))))
                  (v128.store64_lane offset=8 align=4 0 (i32.add (local.get $dst) (i32.shl (local.get $ldt) (i32.const 1))) (f32x4.demote_f64x2_zero (f64x2.sub (local.tee $p (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (i32.add (local.get $dst) (i32.shl (local.get $ldt) (i32.const 1)))))) (f64x2.mul (local.get $Klr) (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (local.get $t3)) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $p)))))))
                  (v128.store64_lane align=4 0 (i32.add (local.get $dst) (i32.mul (local.get $ldt) (i32.const 3))) (f32x4.demote_f64x2_zero (f64x2.sub (local.tee $p (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (i32.add (local.get $dst) (i32.mul (local.get $ldt) (i32.const 3)))))) (f64x2.mul (local.get $Klr) (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $t2) (local.get $t2))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $p)))))))
                  (v128.store64_lane offset=8 align=4 0 (i32.add (local.get $dst) (i32.mul (local.get $ldt) (i32.const 3))) (f32x4.demote_f64x2_zero (f64x2.sub (local.tee $p (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (i32.add (local.get $dst) (i32.mul (local.get $ldt) (i32.const 3)))))) (f64x2.mul (local.get $Klr) (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $t3) (local.get $t3))) (local.get $Ks)) (f64x2.mul (local.get $Kwd) (local.get $p)))))))))
              (local.set $src (i32.add (local.get $src) (i32.const 16)))
              (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $ldt) (i32.const 2))))
              (br_if $block (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 4))) (local.get $kend))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $units)))
        (local.set $k0 (i32.add (local.get $k0) (i32.const 16)))
        (br $kblocks)))
    ;; What the tiles left: the last IN % 4 inputs of units [j0, j4), and units [j4, j1) whole.
    (local.set $j (local.get $j0))
    (block $done
      (loop $rest
        (br_if $done (i32.ge_u (local.get $j) (local.get $j1)))
        (local.set $k (select (local.get $in4) (i32.const 0) (i32.lt_u (local.get $j) (local.get $j4))))
        (local.set $src (i32.add (i32.add (local.get $g) (i32.mul (local.get $j) (local.get $ldw))) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $dst (i32.add (i32.add (local.get $wt) (i32.mul (local.get $k) (local.get $ldt))) (i32.shl (local.get $j) (i32.const 2))))
        (block $kd
          (loop $ks
            (br_if $kd (i32.ge_u (local.get $k) (local.get $IN)))
            (call $sgdT1 (local.get $dst) (local.get $src) (local.get $lr) (local.get $s) (local.get $wd))
            (local.set $src (i32.add (local.get $src) (i32.const 4)))
            (local.set $dst (i32.add (local.get $dst) (local.get $ldt)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $ks)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $rest)))
  )
)
