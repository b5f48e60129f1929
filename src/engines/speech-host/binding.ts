/** Whether the sherpa-onnx npm packages are installed, without loading the native addon. */
import { createRequire } from 'node:module';
import { ApiError } from '../../errors.js';

/** True when `sherpa-onnx-node` and its prebuilt Linux x64 addon resolve. */
export function hasSherpaBinding(): boolean {
  const require = createRequire(import.meta.url);
  try {
    require.resolve('sherpa-onnx-node');
    if (process.platform === 'linux' && process.arch === 'x64') require.resolve('sherpa-onnx-linux-x64/package.json');
    return true;
  } catch {
    return false;
  }
}

/** The `engine_unavailable` error for a missing binding. */
export function sherpaMissing(engine: string): ApiError {
  return ApiError.engineUnavailable(
    `The ${engine} engine needs the npm packages sherpa-onnx-node and its platform package (sherpa-onnx-linux-x64 on Linux x64): run \`npm ci\`.`,
  );
}
