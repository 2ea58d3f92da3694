// A LatentDecoder on onnxruntime (the web build's wasm or webgpu provider, or the native Node
// build): one ONNX graph per output scale, built from the op list on first use, batches through
// the graph's symbolic batch dimension. Decodes run one at a time, in call order.
import type * as Ort from 'onnxruntime-web';
import { fail } from '../errors.js';
import type { AnyLatentInput, BackendKind, DecodeOptions, LatentDecoder, LatentSpace, RawImage, RgbaImage } from '../model/decoder.js';
import { lowerDecoder, skipForScale } from '../model/graph.js';
import { expectCpuLatent, expectSingle, prepareLatent, type Latent } from '../model/latent.js';
import type { ModelSpec } from '../model/registry.js';
import type { DecoderWeights } from '../model/weights.js';
import { buildDecoderGraph, GRAPH_INPUT, GRAPH_OUTPUT } from './onnxGraph.js';
import { rawToRgba } from './rgba.js';

/** The onnxruntime API both builds share (onnxruntime-common). */
export type OrtModule = Pick<typeof Ort, 'InferenceSession' | 'Tensor'>;

/** What an OrtDecoder runs on: the module, its session options, and names for messages. */
export interface OrtRuntime {
  readonly ort: OrtModule;
  readonly backend: BackendKind;
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

export class OrtDecoder implements LatentDecoder {
  readonly backend: BackendKind;
  readonly model: ModelSpec;
  /** Sessions per number of skipped upsamples, made on first use. */
  private sessions = new Map<number, Promise<Ort.InferenceSession>>();
  private destroyed = false;
  /** The last queued decode; the next one starts after it settles. */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly runtime: OrtRuntime,
    private readonly weights: DecoderWeights,
    private readonly latentSpace: LatentSpace,
  ) {
    this.backend = runtime.backend;
    this.model = weights.model;
  }

  /** A decoder with its full-size session started (so a broken runtime fails here, typed). */
  static async create(runtime: OrtRuntime, weights: DecoderWeights, latentSpace: LatentSpace): Promise<OrtDecoder> {
    const decoder = new OrtDecoder(runtime, weights, latentSpace);
    await decoder.session(0);
    return decoder;
  }

  get executionProvider(): string {
    return this.runtime.executionProvider;
  }

  get numThreads(): number {
    return this.runtime.numThreads;
  }

  async decode(latent: AnyLatentInput, options?: DecodeOptions): Promise<RgbaImage> {
    expectSingle(latent);
    return rawToRgba((await this.decodeRawBatch(latent, options))[0]!);
  }

  async decodeRaw(latent: AnyLatentInput, options?: DecodeOptions): Promise<RawImage> {
    expectSingle(latent);
    return (await this.decodeRawBatch(latent, options))[0]!;
  }

  async decodeBatch(latent: AnyLatentInput, options?: DecodeOptions): Promise<RgbaImage[]> {
    return (await this.decodeRawBatch(latent, options)).map(rawToRgba);
  }

  // Runs synchronously up to the return, so the queue keeps call order.
  decodeRawBatch(input: AnyLatentInput, options?: DecodeOptions): Promise<RawImage[]> {
    if (this.destroyed) return Promise.reject(this.gone());
    try {
      const latent = prepareLatent(expectCpuLatent(input, this.backend), this.model, options?.latentSpace ?? this.latentSpace);
      const skip = skipForScale(this.weights, options?.scale);
      const result = this.tail.then(() => this.run(skip, latent));
      this.tail = result.catch(() => undefined);
      return result;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    // After the queued decodes: releasing a session mid-run is undefined in ort.
    this.tail = this.tail.then(() => Promise.all(sessions.map((s) => s.then((x) => x.release(), () => undefined)))).catch(() => undefined);
  }

  private gone(): Error {
    try {
      return fail('DESTROYED', `the ${this.model.id} ${this.runtime.executionProvider} decoder was destroyed`);
    } catch (e) {
      return e as Error;
    }
  }

  private session(skip: number): Promise<Ort.InferenceSession> {
    let session = this.sessions.get(skip);
    if (!session) {
      const { ort, library, executionProvider, sessionOptions } = this.runtime;
      session = ort.InferenceSession.create(buildDecoderGraph(lowerDecoder(this.weights, { skipUpsamples: skip })), sessionOptions).catch((e: unknown) => {
        this.sessions.delete(skip);
        return fail('IO', `${library} could not start a ${executionProvider} session for ${this.model.id}: ${errorMessage(e)}${this.runtime.hint(errorMessage(e))}`, e);
      });
      this.sessions.set(skip, session);
    }
    return session;
  }

  private async run(skip: number, latent: Latent): Promise<RawImage[]> {
    if (this.destroyed) throw this.gone();
    const { batch, channels, height, width } = latent;
    const session = await this.session(skip);
    const data = this.runtime.transfersInput ? latent.data.slice() : latent.data;
    const input = new this.runtime.ort.Tensor('float32', data, [batch, channels, height, width]);
    let output: Ort.Tensor | undefined;
    try {
      output = (await session.run({ [GRAPH_INPUT]: input }))[GRAPH_OUTPUT];
    } catch (e) {
      fail('IO', `${this.runtime.library} failed to decode ${batch > 1 ? `${batch} latents` : 'a latent'} of ${channels}x${height}x${width} with ${this.model.id}: ${errorMessage(e)}`, e);
    }
    if (!output || !(output.data instanceof Float32Array)) fail('IO', `${this.runtime.library} returned no float32 ${GRAPH_OUTPUT}`);
    const [, , H, W] = output.dims as [number, number, number, number];
    const per = 3 * H * W;
    const all = output.data;
    return Array.from({ length: batch }, (_, i) => ({ width: W, height: H, data: batch === 1 ? all : all.subarray(i * per, (i + 1) * per) }));
  }
}
