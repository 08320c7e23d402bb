
import type { Readable } from 'node:stream';
import type { ReaderConfig } from '../config/schema.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { HidReader, type HidBinding } from './hid/hid-reader.js';
import type { ReaderSource } from './reader.js';
import { SerialReader, type SerialBinding } from './serial-reader.js';
import { StreamLineReader } from './line-reader.js';

/** Hardware seams: tests inject MockBinding or a recorded HID device; production uses the defaults. */
export interface ReaderBindings {
  serial?: SerialBinding;
  hid?: HidBinding;
}

export interface ReaderFactoryDeps {
  onLine: (reader: ReaderConfig, line: string) => void;
  clock: Clock;
  logger: Logger;
  bindings: ReaderBindings;
  /** What a `stdin` reader reads: one stream for all, or one per reader (the demo's doors). */
  stdin: Readable | ((reader: ReaderConfig) => Readable);
}

export function createReaders(configs: readonly ReaderConfig[], deps: ReaderFactoryDeps): ReaderSource[] {
  return configs.map((config) => {
    const logger = deps.logger.child({ reader: config.id });
    const onLine = (line: string) => deps.onLine(config, line);
    switch (config.kind) {
      case 'serial':
        return new SerialReader({ config, onLine, clock: deps.clock, logger, binding: deps.bindings.serial });
      case 'hid':
        return new HidReader({ config, onLine, clock: deps.clock, logger, binding: deps.bindings.hid });
      case 'stdin': {
        const input = typeof deps.stdin === 'function' ? deps.stdin(config) : deps.stdin;
        return new StreamLineReader({ config, onLine, clock: deps.clock, logger, input });
      }
    }
  });
}
