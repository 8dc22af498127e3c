// Just enough of the protobuf wire format to edit an ONNX ModelProto without a schema: a message
// is read as a list of raw fields (number, wire type, bytes); untouched fields are written back
// byte for byte, so everything this tool does not understand survives the edit unchanged.

export interface WireField {
  readonly field: number;
  /** 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. */
  readonly wire: number;
  /** The whole field as encoded (tag + payload). */
  readonly raw: Uint8Array;
  /** Payload: the bytes of a length-delimited field, else the value bytes. */
  readonly payload: Uint8Array;
  /** Varint value (wire 0), as a bigint. */
  readonly varint: bigint;
}

export function readVarint(buf: Uint8Array, at: number): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  let i = at;
  while (true) {
    if (i >= buf.length) throw new RangeError('protobuf: truncated varint');
    const b = buf[i++] as number;
    value |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7n;
    if (shift > 63n) throw new RangeError('protobuf: varint too long');
  }
  return { value, next: i };
}

export function parseFields(buf: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let i = 0;
  while (i < buf.length) {
    const start = i;
    const tag = readVarint(buf, i);
    i = tag.next;
    const field = Number(tag.value >> 3n);
    const wire = Number(tag.value & 7n);
    let payload: Uint8Array;
    let varint = 0n;
    if (wire === 0) {
      const v = readVarint(buf, i);
      payload = buf.subarray(i, v.next);
      varint = v.value;
      i = v.next;
    } else if (wire === 1) {
      payload = buf.subarray(i, i + 8);
      i += 8;
    } else if (wire === 2) {
      const len = readVarint(buf, i);
      const n = Number(len.value);
      payload = buf.subarray(len.next, len.next + n);
      i = len.next + n;
    } else if (wire === 5) {
      payload = buf.subarray(i, i + 4);
      i += 4;
    } else {
      throw new RangeError(`protobuf: unsupported wire type ${wire} at byte ${start}`);
    }
    if (i > buf.length) throw new RangeError('protobuf: truncated field');
    fields.push({ field, wire, raw: buf.subarray(start, i), payload, varint });
  }
  return fields;
}

export function encodeVarint(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return Uint8Array.from(out);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A length-delimited field: bytes, string or embedded message. */
export function lenField(field: number, payload: Uint8Array | string): Uint8Array {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return concat([encodeVarint((field << 3) | 2), encodeVarint(bytes.length), bytes]);
}

export function varintField(field: number, value: number | bigint): Uint8Array {
  return concat([encodeVarint(field << 3), encodeVarint(value)]);
}

export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** The payloads of every occurrence of `field` as strings (repeated string fields). */
export function strings(fields: readonly WireField[], field: number): string[] {
  return fields.filter((f) => f.field === field && f.wire === 2).map((f) => text(f.payload));
}

export function firstString(fields: readonly WireField[], field: number): string | undefined {
  return strings(fields, field)[0];
}

/** Values of a repeated int64 field, packed or not. */
export function int64s(fields: readonly WireField[], field: number): bigint[] {
  const out: bigint[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.wire === 0) out.push(f.varint);
    else if (f.wire === 2) {
      let i = 0;
      while (i < f.payload.length) {
        const v = readVarint(f.payload, i);
        out.push(BigInt.asIntN(64, v.value));
        i = v.next;
      }
    }
  }
  return out;
}
