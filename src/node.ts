// Node entry: everything in the browser entry, plus what needs the file system.
export * from './index.js';
export * from './progress/fileSink.js';
export * from './progress/readJob.js';
