// taesd-web/node: everything in the browser entry, plus what needs the file system.
export * from './index.js';
export { FileSink, type FileSinkOptions } from './progress/fileSink.js';
export { readJobSteps, type JobFolder } from './progress/readJob.js';
