// Storage buffers reused by size across a video decode's runs and chunks, which make the same
// sizes over and over (creating them cost an H200 decode more than half its time). Idle buffers
// are kept up to twice the most ever in use at once, the least recently given back going first.

const ALIGN = 256;

export class BufferPool {
  private readonly idle = new Map<number, GPUBuffer[]>();
  private readonly taken = new WeakSet<GPUBuffer>();
  private idleBytes = 0;
  private inUseBytes = 0;
  private peakBytes = 0;

  constructor(private readonly device: GPUDevice, private readonly usage: GPUBufferUsageFlags = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST) {}

  /** A buffer of at least `bytes` (contents undefined: a reused one holds what it last held). */
  take(label: string, bytes: number): GPUBuffer {
    const size = Math.ceil(Math.max(16, bytes) / ALIGN) * ALIGN;
    let b = this.idle.get(size)?.pop();
    if (b) this.idleBytes -= size;
    else b = this.device.createBuffer({ label, size, usage: this.usage });
    this.taken.add(b);
    this.inUseBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.inUseBytes);
    return b;
  }

  /** Gives a buffer back once no later work will read it (work already submitted may: the queue orders it first). Others are destroyed. */
  give(b: GPUBuffer): void {
    if (!this.taken.delete(b)) return b.destroy();
    this.inUseBytes -= b.size;
    const same = this.idle.get(b.size) ?? [];
    this.idle.delete(b.size); // re-inserted last: the map's order is least recently given back first
    this.idle.set(b.size, [...same, b]);
    this.idleBytes += b.size;
    for (const [size, list] of this.idle) {
      if (this.idleBytes <= 2 * this.peakBytes) break;
      list.splice(0).forEach((x) => { x.destroy(); this.idleBytes -= size; });
      this.idle.delete(size);
    }
  }

  /** Destroys the idle buffers (those in use stay their holders'). */
  clear(): void {
    for (const list of this.idle.values()) list.forEach((b) => b.destroy());
    this.idle.clear();
    this.idleBytes = 0;
  }
}
