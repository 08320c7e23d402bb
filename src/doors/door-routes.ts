import type { DoorConfig } from '../config/schema.js';
import { createDriver, type DoorDriver } from './drivers/index.js';

export interface DoorRoute {
  config: DoorConfig;
  driver: DoorDriver;
}

/**
 * The doors a relay drives, built once per configuration and swapped whole on a reload: the
 * badge path reads one Map, never a half-updated one. Topics are exact (drivers name no
 * wildcards), so routing a device message is a lookup; one device topic can serve several
 * doors (a two-channel Shelly or Tasmota), each of which reads only its own channel.
 */
export class DoorRoutes {
  readonly byDoor: ReadonlyMap<string, DoorRoute>;
  readonly byTopic: ReadonlyMap<string, readonly DoorRoute[]>;

  constructor(doors: readonly DoorConfig[], ctx: { prefix: string; siteId: string; protocolVersion: 4 | 5 }) {
    const byDoor = new Map<string, DoorRoute>();
    const byTopic = new Map<string, DoorRoute[]>();
    for (const config of doors) {
      const route = { config, driver: createDriver({ door: config, ...ctx }) };
      byDoor.set(config.id, route);
      for (const topic of route.driver.topics) {
        const list = byTopic.get(topic);
        if (list) list.push(route);
        else byTopic.set(topic, [route]);
      }
    }
    this.byDoor = byDoor;
    this.byTopic = byTopic;
  }

  topics(): string[] {
    return [...this.byTopic.keys()];
  }

  /** Subscriptions to add and to drop when `next` replaces this. */
  diff(next: DoorRoutes): { subscribe: string[]; unsubscribe: string[] } {
    return {
      subscribe: next.topics().filter((t) => !this.byTopic.has(t)),
      unsubscribe: this.topics().filter((t) => !next.byTopic.has(t)),
    };
  }
}
