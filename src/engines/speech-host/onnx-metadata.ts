/**
 * Reads an ONNX file's `metadata_props` (ModelProto field 14) without loading the model: the
 * top-level protobuf fields are walked with a few small reads, and the graph (field 7, nearly the
 * whole file) is skipped by its length. A 650 MB encoder is checked in milliseconds.
 *
 * Why: sherpa-onnx reads the metadata it needs while loading and calls `exit(-1)` when a key is
 * missing. Checking here first turns a dead process into a clear `engine_unavailable` that names
 * the file and the key.
 */
import fs from 'node:fs/promises';

/** Metadata of one ONNX model: key → value, as stored (ONNX values are strings). */
export type OnnxMetadata = ReadonlyMap<string, string>;

/** The file is not an ONNX model (or is truncated). */
export class OnnxFormatError extends Error {
  constructor(file: string, what: string) {
    super(`${file} is not a readable ONNX model (${what})`);
    this.name = 'OnnxFormatError';
  }
}

const MODEL_FIELD_METADATA = 14;
/** Top-level ModelProto fields are few; a file needing more than this is not an ONNX model. */
const MAX_TOP_LEVEL_FIELDS = 10_000;
/** Metadata entries beyond this size are refused (real ones are < 100 KB: vocabularies, CMVN vectors). */
const MAX_ENTRY_BYTES = 16 * 1024 * 1024;

/** Reads the metadata of the ONNX model in `file`. */
export async function readOnnxMetadata(file: string): Promise<OnnxMetadata> {
  const handle = await fs.open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const metadata = new Map<string, string>();
    const head = Buffer.alloc(20);
    let pos = 0;
    for (let fields = 0; pos < size; fields++) {
      if (fields > MAX_TOP_LEVEL_FIELDS) throw new OnnxFormatError(file, 'too many top-level fields');
      const { bytesRead } = await handle.read(head, 0, head.length, pos);
      const [tag, tagLength] = readVarint(head, 0, bytesRead, file);
      const field = Number(tag >> 3n);
      const wire = Number(tag & 7n);
      let at = tagLength;
      if (wire === 0) {
        at += readVarint(head, at, bytesRead, file)[1];
        pos += at;
      } else if (wire === 1) {
        pos += at + 8;
      } else if (wire === 5) {
        pos += at + 4;
      } else if (wire === 2) {
        const [length, lengthBytes] = readVarint(head, at, bytesRead, file);
        at += lengthBytes;
        const n = Number(length);
        if (pos + at + n > size) throw new OnnxFormatError(file, 'a field runs past the end of the file');
        if (field === MODEL_FIELD_METADATA) {
          if (n > MAX_ENTRY_BYTES) throw new OnnxFormatError(file, 'a metadata entry is implausibly large');
          const entry = Buffer.alloc(n);
          await handle.read(entry, 0, n, pos + at);
          const [key, value] = readStringPair(entry, file);
          metadata.set(key, value);
        }
        pos += at + n;
      } else {
        throw new OnnxFormatError(file, `unexpected wire type ${wire}`);
      }
      if (pos > size) throw new OnnxFormatError(file, 'truncated');
    }
    return metadata;
  } finally {
    await handle.close();
  }
}

/** A StringStringEntryProto: key = field 1, value = field 2. */
function readStringPair(buf: Buffer, file: string): [string, string] {
  let key = '';
  let value = '';
  let pos = 0;
  while (pos < buf.length) {
    const [tag, tagLength] = readVarint(buf, pos, buf.length, file);
    pos += tagLength;
    if (Number(tag & 7n) !== 2) throw new OnnxFormatError(file, 'malformed metadata entry');
    const [length, lengthBytes] = readVarint(buf, pos, buf.length, file);
    pos += lengthBytes;
    const text = buf.toString('utf8', pos, pos + Number(length));
    pos += Number(length);
    if (tag >> 3n === 1n) key = text;
    else if (tag >> 3n === 2n) value = text;
  }
  return [key, value];
}

/** A protobuf varint at `offset`: [value, bytes used]. */
function readVarint(buf: Buffer, offset: number, end: number, file: string): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let i = offset; i < end && i < offset + 10; i++) {
    const byte = buf[i]!;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, i - offset + 1];
    shift += 7n;
  }
  throw new OnnxFormatError(file, 'bad varint');
}
