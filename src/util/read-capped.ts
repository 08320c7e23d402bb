/**
 * Reads a request's or response's body up to `max` bytes and never buffers more, however large
 * the body claims to be or turns out to be: a declared `content-length` over the cap is refused
 * before a byte is read, and a body that grows past it is cancelled (the peer is hung up on).
 * null when the cap was passed. Shared by the webhook (bodies from the network) and the platform
 * client (answers from the network): both would otherwise let one peer grow the process.
 */
export async function readCapped(message: Request | Response, max: number): Promise<Buffer | null> {
  const declared = Number(message.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) return null;
  if (!message.body) return Buffer.alloc(0);
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
