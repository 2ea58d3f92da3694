// The TAEHV stages on onnxruntime (native or WASM): one session per stage and preview setting, made
// on first use from the op list; runs go one at a time, in call order.
import type * as Ort from 'onnxruntime-web';
import { fail } from '../errors.js';
import type { VideoGraph, VideoStage } from '../model/videoGraph.js';
import type { VideoStageRunner } from '../model/videoSession.js';
import { errorMessage, type OrtRuntime } from './ort.js';
import { buildVideoStageGraph, STAGE_INPUT, STAGE_OUTPUT, stateIn, stateOut } from './videoOnnxGraph.js';

export class OrtVideoRunner implements VideoStageRunner {
  private readonly sessions = new Map<string, Promise<Ort.InferenceSession>>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly runtime: OrtRuntime) {}

  private session(graph: VideoGraph, key: string, index: number, stage: VideoStage): Promise<Ort.InferenceSession> {
    const id = `${key}:${index}`;
    let session = this.sessions.get(id);
    if (!session) {
      const { ort, library, executionProvider, sessionOptions } = this.runtime;
      // Each session with an arena keeps its peak for good, so only native's output stage has one:
      // its runs allocate the largest maps, which without it fault in fresh pages every run.
      const arena = this.runtime.backend === 'native' && stage.output.id === graph.output.id;
      session = ort.InferenceSession.create(buildVideoStageGraph(graph, stage), { ...sessionOptions, enableCpuMemArena: arena, enableMemPattern: arena }).catch((e: unknown) => {
        this.sessions.delete(id);
        return fail('IO', `${library} could not start a ${executionProvider} session for ${graph.weights.model.id}: ${errorMessage(e)}${this.runtime.hint(errorMessage(e))}`, { cause: e });
      });
      this.sessions.set(id, session);
    }
    return session;
  }

  zeroState(channels: number, height: number, width: number): Float32Array {
    return new Float32Array(channels * height * width);
  }

  runStage(graph: VideoGraph, key: string, index: number, stage: VideoStage, input: Float32Array, dims: readonly number[], states: readonly Float32Array[]): Promise<{ data: Float32Array; dims: readonly number[]; states: Float32Array[] }> {
    const run = this.tail.then(async () => {
      const session = await this.session(graph, key, index, stage);
      const { ort, transfersInput, library } = this.runtime;
      const tensor = (data: Float32Array, d: readonly number[]) => new ort.Tensor('float32', transfersInput ? data.slice() : data, d);
      const feeds: Record<string, Ort.Tensor> = { [STAGE_INPUT]: tensor(input, dims) };
      const [, , h, w] = dims as [number, number, number, number];
      const scale = 2 ** -stage.input.level;
      stage.states.forEach((s, k) => {
        const v = graph.states[s]!;
        const f = 2 ** v.level * scale;
        feeds[stateIn(s)] = tensor(states[k]!, [1, v.channels, h * f, w * f]);
      });
      let out: Ort.InferenceSession.OnnxValueMapType;
      try {
        out = await session.run(feeds);
      } catch (e) {
        fail('IO', `${library} failed to decode ${dims[0]} frame(s) with ${graph.weights.model.id}: ${errorMessage(e)}`, { cause: e });
      }
      const y = out[STAGE_OUTPUT];
      if (!y || !(y.data instanceof Float32Array)) fail('IO', `${library} returned no float32 ${STAGE_OUTPUT}`);
      return { data: y.data, dims: y.dims, states: stage.states.map((s) => out[stateOut(s)]!.data as Float32Array) };
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  release(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    const done = this.tail.then(() => Promise.all(sessions.map((s) => s.then((x) => x.release(), () => undefined)))).then(() => undefined);
    this.tail = done.catch(() => undefined);
    return done;
  }
}
