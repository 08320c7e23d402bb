import { z } from 'zod';
import { DoorAck, ProtocolError } from '../protocol.js';
import { deviceText, parseDeviceJson } from './device-json.js';
import { deviceCommandOptions, TIMED_DEVICE, seconds, type DoorDriver, type DriverContext, type DriverEvent, type DriverMessage } from './driver.js';

/*
 * Shelly Gen2+ (Plus, Pro, Gen3) over MQTT, from Shelly's API docs:
 * - RPC over MQTT (shelly-api-docs.shelly.cloud/gen2/General/RPCProtocol and
 *   .../ComponentsAndServices/Mqtt): a request frame {id, src, method, params} published to
 *   `<topic_prefix>/rpc`; the response frame {id, src, dst, result | error} comes back on
 *   `<src>/rpc`.
 * - Switch.Set (.../ComponentsAndServices/Switch): params {id, on, toggle_after}; toggle_after
 *   is the flip-back timer in seconds, run by the device; the result is {was_on}.
 * - Notifications (.../General/Notifications): NotifyStatus frames on `<topic_prefix>/events/rpc`
 *   with params {ts, "switch:<id>": {output, ...}} (the rpc_ntf setting, on by default), and
 *   the whole component status on `<topic_prefix>/status/switch:<id>` (status_ntf, off by default).
 * - `<topic_prefix>/online`: "true", or "false" as the device's retained last will.
 *
 * Late unlocks: a Shelly has no command expiry. The gateway sends Switch.Set only while its own
 * broker link is up (DoorRelay.pulse), at QoS 0 and not retained (driver.ts), so no broker
 * keeps it for a device that is away; and every ON carries toggle_after = pulseMs, so an ON that
 * does arrive late still switches itself off after pulseMs, on the device, without the gateway.
 * Acks are real: the RPC response names our command id.
 */

const rpcResponse = z.looseObject({
  id: z.union([z.string(), z.number()]),
  result: z.looseObject({ was_on: z.boolean().optional() }).optional(),
  error: z.looseObject({ code: z.number(), message: z.string().max(512).optional() }).optional(),
});
const switchStatus = z.looseObject({ output: z.boolean().optional() });
const notification = z.looseObject({ method: z.string(), params: z.record(z.string(), z.unknown()).optional() });

export class ShellyGen2Driver implements DoorDriver {
  readonly kind = 'shelly-gen2';
  readonly reports = { acks: 'command-id', relay: true, contact: false } as const;
  readonly behaviour = TIMED_DEVICE;
  readonly topics: readonly string[];
  private readonly rpcTopic: string;
  private readonly replyTopic: string;
  private readonly eventsTopic: string;
  private readonly statusTopic: string;
  private readonly onlineTopic: string;
  /** Request frames name this as their source: replies for this door come to `<src>/rpc`. */
  private readonly src: string;
  private readonly component: string;
  private readonly switchId: number;

  constructor(private readonly ctx: DriverContext) {
    const device = ctx.door.topic ?? '';
    this.switchId = ctx.door.relay.channel - 1;
    this.component = `switch:${this.switchId}`;
    this.src = `${ctx.prefix}/${ctx.siteId}/doors/${ctx.door.id}/shelly`;
    this.rpcTopic = `${device}/rpc`;
    this.replyTopic = `${this.src}/rpc`;
    this.eventsTopic = `${device}/events/rpc`;
    this.statusTopic = `${device}/status/${this.component}`;
    this.onlineTopic = `${device}/online`;
    this.topics = [this.replyTopic, this.eventsTopic, this.statusTopic, this.onlineTopic];
  }

  unlock(commandId: string, _readAt: number, leftMs: number): readonly DriverMessage[] {
    const params = { id: this.switchId, on: true, toggle_after: seconds(this.ctx.door.pulseMs, 1) };
    return [this.request(commandId, params, leftMs)];
  }

  relock(): readonly DriverMessage[] {
    return [this.request(`relock-${this.ctx.door.id}`, { id: this.switchId, on: false })];
  }

  handle(topic: string, payload: Buffer, now: number): DriverEvent[] {
    if (topic === this.onlineTopic) {
      const word = deviceText(payload, 'shelly online');
      if (word !== 'true' && word !== 'false') throw new ProtocolError('schema', `shelly online: "${word}" is neither true nor false`);
      return [{ kind: 'state', state: { online: word === 'true' } }];
    }
    if (topic === this.replyTopic) {
      const r = parseDeviceJson(rpcResponse, payload, 'shelly rpc response');
      const id = String(r.id);
      if (id.startsWith('relock-')) return [];
      const ack = r.error
        ? new DoorAck(id, 'rejected', now, `shelly error ${r.error.code}${r.error.message ? `: ${r.error.message.slice(0, 96)}` : ''}`)
        : new DoorAck(id, 'executed', now);
      return [{ kind: 'ack', ack }];
    }
    if (topic === this.statusTopic) return this.output(parseDeviceJson(switchStatus, payload, 'shelly switch status'));
    if (topic === this.eventsTopic) {
      const n = parseDeviceJson(notification, payload, 'shelly notification');
      if (n.method !== 'NotifyStatus' || !n.params || !(this.component in n.params)) return [];
      const s = switchStatus.safeParse(n.params[this.component]);
      if (!s.success) throw new ProtocolError('schema', `shelly NotifyStatus: ${this.component} is not a switch status`);
      return this.output(s.data);
    }
    return [];
  }

  /** An output of true is an energised relay: a door wired fail-secure is then unlocked. */
  private output(s: z.infer<typeof switchStatus>): DriverEvent[] {
    if (s.output === undefined) return [];
    return [{ kind: 'state', state: { online: true, relay: s.output ? 'unlocked' : 'locked' } }];
  }

  private request(id: string, params: Record<string, unknown>, leftMs?: number): DriverMessage {
    const frame = { id, src: this.src, method: 'Switch.Set', params };
    return { topic: this.rpcTopic, payload: JSON.stringify(frame), options: deviceCommandOptions(this.ctx, leftMs) };
  }
}
