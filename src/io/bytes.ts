// Float32 tensors as little-endian bytes, one after another: the data layout ONNX
// raw_data, the TF.js weights file and safetensors all use, whatever the host's order.

export function float32LittleEndian(tensors: readonly Float32Array[]): Uint8Array {
  const total = tensors.reduce((n, t) => n + t.length, 0);
  const bytes = new Uint8Array(total * 4);
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const t of tensors) for (let i = 0; i < t.length; i++, at += 4) view.setFloat32(at, t[i]!, true);
  return bytes;
}
