// A bump allocator that hands out typed-array views, each 64-byte aligned, over one
// buffer. The engine replays the same sequence of allocations in every thread over the
// same shared buffer, so every thread sees every tensor at the same offset without
// sending a table around. Run once with no buffer to measure the size needed.

export class Arena {
  private cursor: number;
  constructor(private readonly buffer: ArrayBufferLike | undefined, start = 0) {
    this.cursor = align64(start);
  }
  /** Bytes used so far (the end of the last allocation). */
  get used(): number {
    return this.cursor;
  }
  f32(length: number): Float32Array {
    return this.take(length, 4, (b, o) => new Float32Array(b, o, length), () => new Float32Array(length));
  }
  f64(length: number): Float64Array {
    return this.take(length, 8, (b, o) => new Float64Array(b, o, length), () => new Float64Array(length));
  }
  i32(length: number): Int32Array {
    return this.take(length, 4, (b, o) => new Int32Array(b, o, length), () => new Int32Array(length));
  }
  u8(length: number): Uint8Array {
    return this.take(length, 1, (b, o) => new Uint8Array(b, o, length), () => new Uint8Array(length));
  }
  private take<T>(length: number, bytesPer: number, make: (b: ArrayBufferLike, o: number) => T, measure: () => T): T {
    const offset = this.cursor;
    this.cursor = align64(offset + length * bytesPer);
    if (!this.buffer) return measure();
    return make(this.buffer, offset);
  }
}

export function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}
