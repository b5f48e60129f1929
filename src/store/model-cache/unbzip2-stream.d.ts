/** Types of `unbzip2-stream` 1.4.3 (MIT), which ships none: a transform stream from bzip2 to plain bytes. */
declare module 'unbzip2-stream' {
  import type { Duplex } from 'node:stream';
  /** A new decompressing stream. */
  function unbzip2Stream(): Duplex;
  export default unbzip2Stream;
}
