// The public API is deliberate: the entries export exactly the names the README lists.
import { describe, expect, it } from 'vitest';
import * as browser from '../src/index.js';
import * as node from '../src/node.js';

const BROWSER = [
  'CallbackSink', 'MODEL_IDS', 'MemorySink', 'OpfsSink', 'ProgressWriter', 'TaesdError', 'contactSheet', 'createDecoder',
  'decodeImage', 'downscale', 'encodeApng', 'encodeImage', 'encodeJpeg', 'encodePng', 'encodeSafetensors', 'gather',
  'getModel', 'isTaesdError', 'latentFromFile', 'loadStateDict', 'packFlux2', 'parseNpy', 'parseSafetensors', 'pollProgress',
  'runProgressJob', 'toBase64', 'toDataUrl', 'unpackFlux2',
];

describe('public API', () => {
  it('taesd-web exports exactly its listed runtime names', () => {
    expect(Object.keys(browser).sort()).toEqual([...BROWSER].sort());
  });

  it('taesd-web/node adds FileSink and readJobSteps', () => {
    expect(Object.keys(node).sort()).toEqual([...BROWSER, 'FileSink', 'readJobSteps'].sort());
  });

  it('model ids are typed and checked at run time', async () => {
    expect(browser.MODEL_IDS).toEqual(['taesd', 'taesdxl', 'taesd3', 'taef1', 'taef2', 'taesana']);
    expect(() => browser.getModel('taesd4')).toThrow(expect.objectContaining({ code: 'MODEL_UNKNOWN' }));
    await expect(browser.createDecoder({ model: 'nope' as never, backend: 'linear' })).rejects.toMatchObject({ code: 'MODEL_UNKNOWN' });
  });
});
