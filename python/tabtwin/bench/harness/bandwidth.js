// Single-thread wasm read bandwidth, the bound on decoding (tabtwin.bench.bandwidth): a wasm module
// assembled here byte by byte (no assembler needed) sums a large buffer with v128 loads, 8 loads of 16
// bytes into 4 accumulators per step; the best of several passes over it is the figure.
import { publish } from "./common.js";

const MIB = 1 << 20;
const BUFFER_MIB = 256;  // far beyond any cache
const PASSES = 12;

const uleb = (n) => {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
};
const vector = (items) => [...uleb(items.length), ...items.flat()];
const section = (id, body) => [id, ...uleb(body.length), ...body];
const text = (s) => vector([...new TextEncoder().encode(s)]);

// (func (export "sum") (param $ptr i32) (param $len i32) (result i32)) over (memory (export "memory") PAGES)
function sumModule(pages) {
  const I32 = 0x7f;
  const V128 = 0x7b;
  const SIMD = 0xfd;
  const get = (i) => [0x20, i];
  const set = (i) => [0x21, i];
  const tee = (i) => [0x22, i];
  const v128Load = (offset) => [SIMD, 0x00, 4, ...uleb(offset)];  // align 2^4
  const i32x4Add = [SIMD, ...uleb(174)];
  const [PTR, LEN, END, ACC] = [0, 1, 2, 3];  // locals: the params, then end, then 4 v128 accumulators
  const STEP = 128;
  const loads = [];
  for (let k = 0; k < STEP / 16; k++) {
    const acc = ACC + (k % 4);
    loads.push(...get(acc), ...get(PTR), ...v128Load(16 * k), ...i32x4Add, ...set(acc));
  }
  const code = [
    ...get(PTR), ...get(LEN), 0x6a, ...set(END),                      // end = ptr + len
    0x03, 0x40,                                                        // loop
    ...loads,
    ...get(PTR), 0x41, 0x80, 0x01, 0x6a, ...tee(PTR),                  //   ptr += 128
    ...get(END), 0x49, 0x0d, 0x00,                                     //   br_if (ptr < end)
    0x0b,                                                              // end
    ...get(ACC), ...get(ACC + 1), ...i32x4Add, ...get(ACC + 2), ...i32x4Add, ...get(ACC + 3), ...i32x4Add,
    SIMD, 0x1b, 0x00,                                                  // i32x4.extract_lane 0
    0x0b,
  ];
  const body = [...vector([[1, I32], [4, V128]]), ...code];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([[0x60, ...vector([I32, I32]), ...vector([I32])]])),
    ...section(3, vector([0])),
    ...section(5, vector([[0x00, ...uleb(pages)]])),
    ...section(7, vector([[...text("sum"), 0x00, 0], [...text("memory"), 0x02, 0]])),
    ...section(10, vector([[...uleb(body.length), ...body]])),
  ]);
}

publish(async () => {
  const bytes = BUFFER_MIB * MIB;
  const { instance } = await WebAssembly.instantiate(sumModule(bytes / 65536));
  const { sum, memory } = instance.exports;
  new Uint32Array(memory.buffer).fill(1);  // touch every page: untouched ones would read as free zeros
  const expected = (bytes / 16) | 0;  // lane 0 of the sum: one 1 per 16 bytes
  const gbs = [];
  for (let pass = 0; pass <= PASSES; pass++) {
    const started = performance.now();
    const lane = sum(0, bytes);
    const elapsed = (performance.now() - started) / 1000;
    if (lane !== expected) throw new Error(`the sum module read ${lane}, not ${expected}`);
    if (pass > 0) gbs.push(bytes / elapsed / 1e9);  // pass 0 warms up (compiles, faults pages in)
  }
  return { buffer_mib: BUFFER_MIB, passes: PASSES, gb_s: gbs };
});
