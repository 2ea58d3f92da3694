// WebGPU instruments for the benchmark, in Node (Dawn) and in the page: GPU buffer memory, GPU time
// by timestamp queries, and the shim that lets onnxruntime-web's WebGPU builds run on Dawn in Node.

/**
 * Counts the bytes of live GPU buffers made through any device from now on (created, not yet
 * destroyed), and their peak: the GPU memory a backend holds, on any adapter. Buffers dropped
 * without destroy() stay counted.
 */
export function trackGpuBuffers(): { peakBytes(): number } {
  const sizes = new WeakMap<GPUBuffer, number>();
  let live = 0, peak = 0;
  const create = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
    const buffer = create.call(this, descriptor);
    sizes.set(buffer, descriptor.size);
    live += descriptor.size;
    peak = Math.max(peak, live);
    return buffer;
  };
  const destroy = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function (this: GPUBuffer) {
    live -= sizes.get(this) ?? 0;
    sizes.delete(this);
    return destroy.call(this);
  };
  return { peakBytes: () => peak };
}

/**
 * GPU time of the compute passes of each command buffer made on `device` (from the first pass's
 * start to the last one's end), by timestamp queries; the device needs `timestamp-query`. One
 * decode at a time: `lastMs` reads what the last submitted encoder measured.
 */
export function attachGpuTimer(device: GPUDevice): { lastMs(): Promise<number | null> } {
  const MAX_PASSES = 16;
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * MAX_PASSES, label: 'bench timer' });
  const resolve = device.createBuffer({ size: 16 * MAX_PASSES, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: 'bench timer resolve' });
  const read = device.createBuffer({ size: 16 * MAX_PASSES, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'bench timer read' });
  let lastPasses = 0;
  const createEncoder = device.createCommandEncoder.bind(device);
  device.createCommandEncoder = (descriptor?: GPUCommandEncoderDescriptor) => {
    const encoder = createEncoder(descriptor);
    const beginPass = encoder.beginComputePass.bind(encoder), finish = encoder.finish.bind(encoder);
    let passes = 0;
    encoder.beginComputePass = (pass?: GPUComputePassDescriptor) => {
      if (passes >= MAX_PASSES) return beginPass(pass);
      const at = 2 * passes++;
      return beginPass({ ...pass, timestampWrites: { querySet, beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 } });
    };
    encoder.finish = (d?: GPUCommandBufferDescriptor) => {
      if (passes > 0) {
        encoder.resolveQuerySet(querySet, 0, 2 * passes, resolve, 0);
        encoder.copyBufferToBuffer(resolve, 0, read, 0, 16 * passes);
        lastPasses = passes;
      }
      return finish(d);
    };
    return encoder;
  };
  return {
    async lastMs() {
      if (lastPasses === 0) return null;
      const n = lastPasses;
      lastPasses = 0;
      await read.mapAsync(GPUMapMode.READ, 0, 16 * n);
      const t = new BigInt64Array(read.getMappedRange(0, 16 * n).slice(0));
      read.unmap();
      return Number(t[2 * n - 1]! - t[0]!) / 1e6;
    },
  };
}

/**
 * onnxruntime-web's WebGPU builds hand `queue.writeBuffer` data that lives in their shared wasm
 * memory: the WebGPU build a view on a SharedArrayBuffer, the JSEP build the SharedArrayBuffer
 * itself. Browsers take both. Dawn's Node binding (`webgpu` 0.6) does not: the view crashes the
 * process (SIGSEGV) or fails with "Invalid argument", the buffer with "no overload matched for
 * writeBuffer". This copies such data into a plain ArrayBuffer first (one extra copy per upload).
 */
export function copySharedWrites(): void {
  const write = GPUQueue.prototype.writeBuffer;
  GPUQueue.prototype.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, offset: GPUSize64, data: BufferSource | SharedArrayBuffer, dataOffset?: GPUSize64, size?: GPUSize64) {
    if (data instanceof SharedArrayBuffer) {
      const from = dataOffset ?? 0, n = size ?? data.byteLength - from;
      return write.call(this, buffer, offset, new Uint8Array(data, from, n).slice(), 0, n);
    }
    if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
      const view = data as unknown as { length: number; slice(a: number, b: number): ArrayBufferView<ArrayBuffer> };
      const from = dataOffset ?? 0, n = size ?? view.length - from; // in elements, as writeBuffer counts them for typed arrays
      return write.call(this, buffer, offset, view.slice(from, from + n), 0, n);
    }
    return write.call(this, buffer, offset, data as BufferSource, dataOffset, size);
  } as GPUQueue['writeBuffer'];
}
