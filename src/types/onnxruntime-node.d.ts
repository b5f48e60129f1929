/**
 * onnxruntime-node 1.16.3 (pinned: the last release without an install script that downloads CUDA
 * libraries) ships its JavaScript without declarations; its API is onnxruntime-common's.
 */
declare module 'onnxruntime-node' {
  export * from 'onnxruntime-common';
}
