/** The HTTP layer's view of Parley's one error type (defined in ../errors.ts, shared by every layer). */
export * from '../errors.js';
