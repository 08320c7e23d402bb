import type { GatewayStatus } from '../http/status.js';
import { AccessPart } from './access-part.js';
import { AlarmsPart } from './alarms-part.js';
import { ApiPart } from './api-part.js';
import { BackgroundPart } from './background-part.js';
import { DecisionsPart } from './decisions-part.js';
import { DoorHoldPart } from './door-hold-part.js';
import { EventsPart } from './events-part.js';
import { FilesPart } from './files-part.js';
import { HttpPart } from './http-part.js';
import { IndexPart } from './index-part.js';
import type { Part } from './part.js';
import { ReadersPart, type ReaderInputs } from './readers-part.js';
import { BrokerPart, RelayPart } from './relay-part.js';
import { ConsolePart } from './console-part.js';
import { CheckpointerPart, StorePart } from './store-part.js';
import { UpstreamPart } from './upstream-part.js';

/** The parts the gateway itself reads (its public fields and the reloader delegate to them). */
export interface CoreParts {
  files: FilesPart;
  store: StorePart;
  access: AccessPart;
  index: IndexPart;
  broker: BrokerPart;
  relay: RelayPart;
  doorHold: DoorHoldPart;
  alarms: AlarmsPart;
  upstream: UpstreamPart;
  decisions: DecisionsPart;
  /** MQTT events, commands, HA discovery: runs commands through the console's OperatorActions; setAlarms() gives it the door alarms. */
  events: EventsPart;
  http: HttpPart;
  console: ConsolePart;
}

export interface GatewayParts {
  core: CoreParts;
  /** Started in this order, stopped in reverse. */
  list: Part[];
}

/**
 * The one list. Local decisions never wait for the network: the store and index come first
 * (the checkpointer between them: WAL checkpoints run while a large index loads),
 * MQTT and the platform may be down, the readers come late so no badge is read before the
 * gateway can decide on it, and the timers last. A new part (the API, the console, OSDP, the
 * estate link, door hold) is one entry here, after the parts it is constructed with; with
 * routes, before `http`.
 */
export function gatewayParts(inputs: ReaderInputs & { status: () => GatewayStatus }): GatewayParts {
  const files = new FilesPart();
  const store = new StorePart();
  const access = new AccessPart();
  const index = new IndexPart(store, access);
  const broker = new BrokerPart();
  const relay = new RelayPart(files, broker);
  const doorHold = new DoorHoldPart(relay, access);
  const alarms = new AlarmsPart(relay, doorHold);
  const upstream = new UpstreamPart(files, store);
  const decisions = new DecisionsPart(store, index, relay, upstream, access);
  const api = new ApiPart(files, store);
  const console = new ConsolePart({ store, access, relay, doorHold, upstream, decisions, api, status: inputs.status });
  console.useAlarms(() => alarms.alarms());
  // After the console, whose OperatorActions every MQTT command runs through.
  const events = new EventsPart(files, broker, relay, decisions, () => console.actions);
  events.useAlarms(() => alarms.alarms());
  const http = new HttpPart(files, upstream, inputs.status, store);
  const core = { files, store, access, index, broker, relay, doorHold, alarms, upstream, decisions, events, http, console };
  return {
    core,
    list: [
      files,
      store,
      new CheckpointerPart(store),
      access,
      index,
      broker,
      relay,
      doorHold,
      alarms,
      upstream,
      decisions,
      api,
      console,
      events,
      http,
      new ReadersPart(store, decisions, inputs),
      // The reload's writer is told like the API's: its reload goes on once the index has the commit.
      new BackgroundPart(files, store, index, upstream, [api, { onCommitted: (listener, waitApplied) => store.site.reloadWrites.onCommitted(listener, waitApplied) }]),
    ],
  };
}
