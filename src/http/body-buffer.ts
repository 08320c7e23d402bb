import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/*
 * A request body read straight from node's IncomingMessage into one Buffer, under a cap, and
 * handed to Hono's body cache. Through the fetch API every small PUT paid for a full undici
 * Request, an AbortController, a web ReadableStream over the socket and undici's body reader:
 * in the provisioning bench's profile that was a sixth of the main thread's time per request,
 * on the thread that also decides every badge read. The bytes are the same either way.
 */

/** What @hono/node-server puts in `c.env`; absent under `app.request()` (tests without a socket). */
type NodeIncoming = IncomingMessage & { rawBody?: Buffer };
type NodeBindings = { incoming?: NodeIncoming };
/** What Hono keeps there at run time: promises (its BodyCache type says plain values). */
type BodyPromises = { arrayBuffer?: Promise<ArrayBuffer>; text?: Promise<string> };

/** The media types Hono's json validator reads (validator.ts jsonRegex). */
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;
/** Decodes as the fetch API's text() does: UTF-8, a leading BOM dropped, bad bytes as U+FFFD. */
const utf8 = new TextDecoder('utf-8');

export type BufferedBody = { ok: true } | { ok: false; reason: 'too_large' | 'incomplete' };

/** The node request under `c`, when there is one whose body nobody has started reading. */
export function freshIncoming(c: Context): NodeIncoming | undefined {
  const incoming = (c.env as NodeBindings | undefined)?.incoming;
  if (incoming === undefined || typeof incoming.on !== 'function' || 'rawBody' in incoming) return undefined;
  if (incoming.readableEnded || incoming.readableFlowing !== null) return undefined;
  return incoming;
}

/** Reads the whole body, refusing at the first byte past `maxBytes` (the rest is left unread); bufferBody and http/v1-forward.ts. */
export function readCapped(incoming: IncomingMessage, maxBytes: number): Promise<Buffer | 'too_large' | 'incomplete'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (out: Buffer | 'too_large' | 'incomplete') => {
      incoming.off('data', onData).off('end', onEnd).off('error', onFail).off('close', onFail);
      resolve(out);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        incoming.pause();
        return settle('too_large');
      }
      chunks.push(chunk);
    };
    const onEnd = () => settle(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    // The client went away mid-body: nothing to answer with, nothing to apply.
    const onFail = () => settle('incomplete');
    incoming.on('data', onData).on('end', onEnd).on('error', onFail).on('close', onFail);
  });
}

/**
 * Buffers the body of `incoming` and puts it where Hono and node-server look first: the body
 * cache (arrayBuffer, and text for JSON: what c.req.json() and the validator read) and
 * `rawBody`, from which node-server builds c.req.raw's stream if anything still asks for it.
 */
export async function bufferBody(c: Context, incoming: NodeIncoming, maxBytes: number): Promise<BufferedBody> {
  const body = await readCapped(incoming, maxBytes);
  if (typeof body === 'string') return { ok: false, reason: body };
  incoming.rawBody = body;
  // An ArrayBuffer of exactly the body: a small Buffer is a view into node's shared pool.
  const bytes = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? (body.buffer as ArrayBuffer) : body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
  const cache = c.req.bodyCache as BodyPromises;
  cache.arrayBuffer = Promise.resolve(bytes as ArrayBuffer);
  const type = (incoming.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (JSON_TYPE.test(type)) cache.text = Promise.resolve(utf8.decode(body));
  return { ok: true };
}
