// A bump allocator that hands out typed-array views, each 64-byte aligned, over one
// buffer. The engine replays the same sequence of allocations in every thread over the
// same shared buffer, so every thread sees every tensor at the same offset without
// sending a table around. With no buffer each view is a private array of its own (the
// predict workspace); `Arena.measuring()` hands out empty views and only counts bytes, so
// a plan of any size is sized without allocating it.

export class Arena {
  private cursor: number;
  private measureOnly = false;
  constructor(private readonly buffer: ArrayBufferLike | undefined, start = 0) {
    this.cursor = align64(start);
  }
  /** An arena that allocates nothing: its views are empty, `used` is what the sequence would take. */
  static measuring(): Arena {
    const arena = new Arena(undefined);
    arena.measureOnly = true;
    return arena;
  }
  /** Bytes used so far (the end of the last allocation). */
  get used(): number {
    return this.cursor;
  }
  f32(length: number): Float32Array {
    return this.take(length, 4, (b, o, n = length) => new Float32Array(b, o, n), () => new Float32Array(length));
  }
  f64(length: number): Float64Array {
    return this.take(length, 8, (b, o, n = length) => new Float64Array(b, o, n), () => new Float64Array(length));
  }
  i32(length: number): Int32Array {
    return this.take(length, 4, (b, o, n = length) => new Int32Array(b, o, n), () => new Int32Array(length));
  }
  u8(length: number): Uint8Array {
    return this.take(length, 1, (b, o, n = length) => new Uint8Array(b, o, n), () => new Uint8Array(length));
  }
  private take<T>(length: number, bytesPer: number, make: (b: ArrayBufferLike, o: number, n?: number) => T, measure: () => T): T {
    const offset = this.cursor;
    this.cursor = align64(offset + length * bytesPer);
    if (this.measureOnly) return make(EMPTY, 0, 0);
    if (!this.buffer) return measure();
    return make(this.buffer, offset);
  }
}

const EMPTY = new ArrayBuffer(0);

export function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}
