// Browser-safe progress API. FileSink (fileSink.ts) and readJobSteps (readJob.ts) are Node-only.
export * from './callbackSink.js';
export * from './gather.js';
export * from './memorySink.js';
export * from './names.js';
export * from './opfsSink.js';
export * from './options.js';
export * from './poll.js';
export * from './record.js';
export * from './run.js';
export * from './sink.js';
export * from './stepFiles.js';
export * from './writer.js';
