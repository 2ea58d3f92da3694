// A LatentDecoder on onnxruntime (the web build's wasm or webgpu provider, or the native Node
// build): one ONNX graph per output scale, built from the op list on first use, batches through
// the graph's symbolic batch dimension. Decodes run one at a time, in call order.
import type * as Ort from 'onnxruntime-web';
import { fail } from '../errors.js';
import type { AnyLatentInput, BackendKind, DecodeOptions, DecoderCapabilities, LatentSpace } from '../model/decoderTypes.js';
import { fewestBands, valueRows } from '../model/bands.js';
import { graphStages, lowerDecoder, skipForScale, type DecoderGraph, type Stage, type Value } from '../model/graph.js';
import { expectCpuLatent, prepareLatent, type Latent } from '../model/latent.js';
import type { ModelSpec } from '../model/registry.js';
import type { RawImage } from '../model/rgba.js';
import { DecoderSurface } from '../model/surface.js';
import type { DecoderWeights } from '../model/weights.js';
import { buildDecoderGraph, GRAPH_INPUT, GRAPH_OUTPUT } from './onnxGraph.js';

/** The onnxruntime API both builds share (onnxruntime-common). */
export type OrtModule = Pick<typeof Ort, 'InferenceSession' | 'Tensor'>;

/** What an OrtDecoder runs on: the module, its session options, and names for messages. */
export interface OrtRuntime {
  readonly ort: OrtModule;
  readonly backend: 'native' | 'wasm';
  /** `onnxruntime-web` or `onnxruntime-node`. */
  readonly library: string;
  readonly executionProvider: string;
  readonly numThreads: number;
  readonly sessionOptions: Ort.InferenceSession.SessionOptions;
  /** onnxruntime-web's proxy worker takes (detaches) input buffers: the caller's latent is copied first. */
  readonly transfersInput: boolean;
  /** Appended to a failed session's message (e.g. where the .wasm files must be served). */
  hint(error: string): string;
}

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** One call's input, prepared at call time: the latent in TAESD space and the upsamples to skip. */
interface OrtInput { readonly skip: number; readonly latent: Latent }

export class OrtDecoder extends DecoderSurface<OrtInput> {
  readonly backend: BackendKind;
  readonly model: ModelSpec;
  readonly capabilities: DecoderCapabilities;
  /** Sessions per output scale and stage (JSON of `[skip, stage]`, stage null for the whole graph), made on first use. */
  private sessions = new Map<string, Promise<Ort.InferenceSession>>();
  /** The lowered graph per output scale. */
  private graphs = new Map<number, DecoderGraph>();
  private bands = 0;

  private constructor(
    private readonly runtime: OrtRuntime,
    private readonly weights: DecoderWeights,
    private readonly latentSpace: LatentSpace,
    /** Largest activation decoded whole; larger images decode in row bands. */
    private readonly maxBytes: number,
  ) {
    super();
    this.backend = runtime.backend;
    this.model = weights.model;
    this.capabilities = { numThreads: runtime.numThreads, gpu: null, kernels: () => null };
  }

  /** A decoder with its full-size session started (so a broken runtime fails here, typed). */
  static async create(runtime: OrtRuntime, weights: DecoderWeights, latentSpace: LatentSpace, maxBytes: number): Promise<OrtDecoder> {
    if (!(Number.isFinite(maxBytes) && maxBytes >= 1 << 16)) fail('BAD_OPTION', `maxBufferBytes must be a number >= 64 KiB, got ${String(maxBytes)}`);
    const decoder = new OrtDecoder(runtime, weights, latentSpace, maxBytes);
    await decoder.session(0);
    return decoder;
  }

  get executionProvider(): string {
    return this.runtime.executionProvider;
  }

  get numThreads(): number {
    return this.runtime.numThreads;
  }

  /** How many row bands the last decode ran in (1 = whole). */
  get lastBandCount(): number {
    return this.bands;
  }

  outputSize(h: number, w: number, options?: DecodeOptions): { width: number; height: number } {
    const u = this.graph(skipForScale(this.weights, options?.scale)).upscale;
    return { width: w * u, height: h * u };
  }

  protected prepare(input: AnyLatentInput, options: DecodeOptions | undefined): OrtInput {
    const latent = prepareLatent(expectCpuLatent(input, this.backend), this.model, options?.latentSpace ?? this.latentSpace);
    return { skip: skipForScale(this.weights, options?.scale), latent };
  }

  protected release(): void {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    // Called once no decode runs: releasing a session mid-run is undefined in ort.
    for (const s of sessions) s.then((x) => x.release(), () => undefined).catch(() => undefined);
  }

  /** The session of one graph: the whole decoder (`stage` undefined) or one stage of it, per output scale. */
  private session(skip: number, stage?: number): Promise<Ort.InferenceSession> {
    const key = JSON.stringify([skip, stage ?? null]);
    let session = this.sessions.get(key);
    if (!session) {
      const { ort, library, executionProvider, sessionOptions } = this.runtime;
      const graph = this.graph(skip);
      const bytes = buildDecoderGraph(graph, stage === undefined ? undefined : graphStages(graph)[stage]);
      session = ort.InferenceSession.create(bytes, sessionOptions).catch((e: unknown) => {
        this.sessions.delete(key);
        return fail('IO', `${library} could not start a ${executionProvider} session for ${this.model.id}: ${errorMessage(e)}${this.runtime.hint(errorMessage(e))}`, { cause: e });
      });
      this.sessions.set(key, session);
    }
    return session;
  }

  private graph(skip: number): DecoderGraph {
    let graph = this.graphs.get(skip);
    if (!graph) this.graphs.set(skip, (graph = lowerDecoder(this.weights, { skipUpsamples: skip })));
    return graph;
  }

  /** Runs one session on `[n, c, h, w]` float32 and returns its output tensor's data and dims. */
  private async infer(session: Ort.InferenceSession, data: Float32Array, dims: readonly number[], what: string): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const input = new this.runtime.ort.Tensor('float32', this.runtime.transfersInput ? data.slice() : data, dims);
    let output: Ort.Tensor | undefined;
    try {
      output = (await session.run({ [GRAPH_INPUT]: input }))[GRAPH_OUTPUT];
    } catch (e) {
      fail('IO', `${this.runtime.library} failed to decode ${what} with ${this.model.id}: ${errorMessage(e)}`, { cause: e });
    }
    if (!output || !(output.data instanceof Float32Array)) fail('IO', `${this.runtime.library} returned no float32 ${GRAPH_OUTPUT}`);
    return { data: output.data, dims: output.dims };
  }

  protected async rawBatch({ skip, latent }: OrtInput): Promise<RawImage[]> {
    const { batch, channels, height, width } = latent;
    const what = `${batch > 1 ? `${batch} latents` : 'a latent'} of ${channels}x${height}x${width}`;
    const graph = this.graph(skip);
    const bands = bandHeight(graph, batch, height, width, this.maxBytes);
    const out = bands === null
      ? await this.infer(await this.session(skip), latent.data, [batch, channels, height, width], what)
      : await this.runBanded(skip, graph, latent, bands, what);
    const [, , H, W] = out.dims as [number, number, number, number];
    const per = 3 * H * W;
    this.bands = bands === null ? 1 : Math.ceil(H / bands);
    return Array.from({ length: batch }, (_, i) => ({ width: W, height: H, data: batch === 1 ? out.data : out.data.subarray(i * per, (i + 1) * per) }));
  }

  /**
   * A decode in output-row bands of `bandRows`: the latent-resolution stage runs whole, then each
   * band runs the later stages on row slices with exact halos (model/bands.ts), and its rows are
   * copied into the image. Equal to the unbanded decode (up to onnxruntime's summation order).
   */
  private async runBanded(skip: number, graph: DecoderGraph, latent: Latent, bandRows: number, what: string): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const { batch: n, channels, height: h, width: w } = latent;
    const stages = graphStages(graph);
    const sessions = await Promise.all(stages.map((_, i) => this.session(skip, i)));
    const first = await this.infer(sessions[0]!, latent.data, [n, channels, h, w], what);
    const U = graph.upscale, H = h * U, W = w * U;
    const image = new Float32Array(n * 3 * H * W);
    for (let r0 = 0; r0 < H; r0 += bandRows) {
      const r1 = Math.min(H, r0 + bandRows);
      let x: RowSlab = { data: first.data, c: first.dims[1]!, lo: 0, hi: h, w };
      for (const [i, slice] of stageSlices(graph, stages, h, r0, r1).entries()) {
        const input = sliceRows(x, n, slice.inLo, slice.inHi);
        const out = await this.infer(sessions[i + 1]!, input, [n, x.c, slice.inHi - slice.inLo, x.w], what);
        const [, c, , ow] = out.dims as [number, number, number, number];
        x = { data: sliceRows({ data: out.data, c, lo: 2 * slice.inLo, hi: 2 * slice.inHi, w: ow }, n, slice.outLo, slice.outHi), c, lo: slice.outLo, hi: slice.outHi, w: ow };
      }
      // x holds rows [r0, r1) of the image for every item and channel.
      for (let plane = 0; plane < n * 3; plane++) image.set(x.data.subarray(plane * (r1 - r0) * W, (plane + 1) * (r1 - r0) * W), (plane * H + r0) * W);
    }
    return { data: image, dims: [n, 3, H, W] };
  }
}

/** Planar `[n, c, hi - lo, w]` data holding absolute rows [lo, hi) of a feature map. */
interface RowSlab { readonly data: Float32Array; readonly c: number; readonly lo: number; readonly hi: number; readonly w: number }

/** Absolute rows [lo, hi) of `x`, as planar `[n, c, hi - lo, w]`. */
function sliceRows(x: RowSlab, n: number, lo: number, hi: number): Float32Array {
  const rows = x.hi - x.lo, keep = hi - lo;
  if (lo === x.lo && hi === x.hi) return x.data;
  const out = new Float32Array(n * x.c * keep * x.w);
  for (let plane = 0; plane < n * x.c; plane++) {
    const from = (plane * rows + (lo - x.lo)) * x.w;
    out.set(x.data.subarray(from, from + keep * x.w), plane * keep * x.w);
  }
  return out;
}

/** Rows each stage after the first reads (its input value's) and keeps (its output value's) for output rows [r0, r1). */
function stageSlices(graph: DecoderGraph, stages: readonly Stage[], h: number, r0: number, r1: number): { inLo: number; inHi: number; outLo: number; outHi: number }[] {
  const need = valueRows(graph, h, r0, r1);
  return stages.slice(1).map((stage) => {
    const input = need.get(stage.input.id)!, output = need.get(stage.output.id)!;
    return { inLo: input.lo, inHi: input.hi, outLo: output.lo, outHi: output.hi };
  });
}

/**
 * Output rows per band so no activation of a band exceeds `maxBytes` (whole-stage halos
 * included), or null when the whole image fits. The latent-resolution stage always runs whole.
 */
export function bandHeight(graph: DecoderGraph, n: number, h: number, w: number, maxBytes: number): number | null {
  const widest = (lo: number, hi: number, value: Value) => n * value.channels * (hi - lo) * (w << value.level) * 4;
  const stages = graphStages(graph);
  const U = graph.upscale, H = h * U;
  const fits = (rows: number) => {
    if (rows === H) return Math.max(...graph.ops.map((op) => widest(0, h << op.out.level, op.out))) <= maxBytes;
    let most = 0;
    for (let r0 = 0; r0 < H; r0 += rows) {
      stageSlices(graph, stages, h, r0, Math.min(H, r0 + rows)).forEach((slice, i) => {
        // A stage's activations span its input slice, upsampled.
        for (const op of stages[i + 1]!.ops) most = Math.max(most, widest(2 * slice.inLo, 2 * slice.inHi, op.out));
      });
    }
    return most <= maxBytes;
  };
  const rows = fewestBands(H, U, fits);
  // One latent row per band is as small as bands go, even where it does not fit.
  return rows === H ? null : (rows ?? U);
}
