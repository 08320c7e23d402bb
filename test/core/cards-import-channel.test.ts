import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchReceiver, BatchSender, CHANNEL_BYTES, CHANNEL_WINDOW, markParserGone, markWriterGone } from '../../src/cli/cards-import-channel.js';
import type { CardStreamMessage } from '../../src/store/card-batches.js';

/*
 * The import's two threads meet on a real MessageChannel and a shared counter
 * (src/cli/cards-import-channel.ts). Here both ends are on one thread: the writer must come
 * back with a failure, not sleep, once the parser is gone, and the parser must stop once the
 * writer is done. (Both threads at work: test/e2e/cards-import-worker.test.ts.)
 */

const end: CardStreamMessage = { end: { problems: [], groupsColumn: false, people: 0, cardRows: 0, staffGrants: 0, memberships: 0 } };

describe('the import channel', () => {
  const channels: MessageChannel[] = [];
  const open = () => {
    const channel = new MessageChannel();
    channels.push(channel);
    const shared = new SharedArrayBuffer(CHANNEL_BYTES);
    return { shared, sender: new BatchSender(channel.port1, shared), receiver: new BatchReceiver(channel.port2, shared) };
  };
  afterEach(() => {
    for (const c of channels.splice(0)) c.port1.close();
  });

  it('hands the messages over in order, then a failure once the parser is gone with nothing more sent', () => {
    const { shared, sender, receiver } = open();
    expect(sender.send({ failed: { message: 'first' } })).toBe(true);
    expect(sender.send(end)).toBe(true);
    markParserGone(shared);
    expect(receiver.next()).toEqual({ failed: { message: 'first' } });
    expect(receiver.next()).toEqual(end); // what was sent before it went is still taken
    expect(receiver.next()).toEqual({ failed: { message: 'the import’s parsing thread ended without an answer' } });
  });

  it('the parser is told to stop once the writer is done, whether it closed or its thread died', () => {
    const a = open();
    a.receiver.close();
    expect(a.sender.send(end)).toBe(false);
    const b = open();
    markWriterGone(b.shared);
    expect(b.sender.send(end)).toBe(false);
  });

  it('a parser CHANNEL_WINDOW batches ahead goes on as soon as the writer takes one', () => {
    const { sender, receiver } = open();
    for (let k = 0; k < CHANNEL_WINDOW; k++) expect(sender.send({ failed: { message: String(k) } })).toBe(true);
    // One more would wait for the writer (on this one thread: forever), so the writer takes one first.
    expect(receiver.next()).toEqual({ failed: { message: '0' } });
    expect(sender.send({ failed: { message: String(CHANNEL_WINDOW) } })).toBe(true);
    for (let k = 1; k <= CHANNEL_WINDOW; k++) expect(receiver.next()).toEqual({ failed: { message: String(k) } });
  });
});
