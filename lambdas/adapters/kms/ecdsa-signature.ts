/**
 * KMS returns ECDSA signatures DER-encoded (SEQUENCE { INTEGER r, INTEGER s }); JOSE wants the
 * two integers as fixed-width big-endian octets, concatenated (RFC 7518 §3.4).
 */
export function derToJose(der: Uint8Array, size = 32): Buffer {
  const fail = () => new Error('malformed DER ECDSA signature');
  let offset = 0;
  const byte = () => {
    if (offset >= der.length) throw fail();
    return der[offset++] as number;
  };
  const length = () => {
    const first = byte();
    if (first < 0x80) return first;
    if (first !== 0x81) throw fail();
    return byte();
  };
  if (byte() !== 0x30) throw fail();
  if (length() !== der.length - offset) throw fail();
  const integer = () => {
    if (byte() !== 0x02) throw fail();
    const len = length();
    if (len < 1 || offset + len > der.length) throw fail();
    let value = der.subarray(offset, offset + len);
    offset += len;
    while (value.length > size && value[0] === 0) value = value.subarray(1);
    if (value.length > size) throw fail();
    const out = Buffer.alloc(size);
    out.set(value, size - value.length);
    return out;
  };
  const r = integer();
  const s = integer();
  if (offset !== der.length) throw fail();
  return Buffer.concat([r, s]);
}
