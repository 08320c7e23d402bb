import type { IClientPublishOptions } from 'mqtt';
import { DoorAck, DoorState, messageExpirySec, PulseCommand, topics } from '../protocol.js';
import type { DoorDriver, DriverContext, DriverEvent, DriverMessage } from './driver.js';

/**
 * lintel's own firmware protocol (firmware-protocol/README.md). The one driver with a real
 * command expiry: every pulse carries `expiresAt`, and the firmware drops what arrives after
 * it. QoS 1, so the broker acknowledges it (the gateway still never replays it: NoReplayStore),
 * and on MQTT 5 the broker's message expiry as well. Acks name the command; the retained state
 * reports relay, contact sensor and firmware version.
 */
export class LintelDriver implements DoorDriver {
  readonly kind = 'lintel';
  readonly reports = { acks: 'command-id', relay: true, contact: true } as const;
  /** No backstop: the firmware's relock timer ends every pulse and the protocol has no OFF. */
  readonly behaviour = { state: 'whole', relayKnownOffline: true, pulseEnd: 'device', relockBackstop: false, refuseWhileOffline: false } as const;
  readonly topics: readonly string[];
  private readonly cmdTopic: string;
  private readonly stateTopic: string;
  private readonly ackTopic: string;
  private readonly options: IClientPublishOptions;
  private readonly fullExpirySec: number;

  constructor(private readonly ctx: DriverContext) {
    const t = topics(ctx.prefix, ctx.siteId);
    this.cmdTopic = t.cmd(ctx.door.id);
    this.stateTopic = t.state(ctx.door.id);
    this.ackTopic = t.ack(ctx.door.id);
    this.topics = [this.stateTopic, this.ackTopic];
    this.fullExpirySec = messageExpirySec(ctx.door.commandTtlMs);
    this.options = this.publishOptions(this.fullExpirySec);
  }

  unlock(commandId: string, readAt: number, leftMs: number): readonly DriverMessage[] {
    const { door } = this.ctx;
    const command = new PulseCommand(commandId, door.relay.channel, door.pulseMs, readAt, readAt + door.commandTtlMs);
    // The usual case (sent within a second of the read) shares one options object.
    const expiry = messageExpirySec(leftMs);
    const options = expiry === this.fullExpirySec ? this.options : this.publishOptions(expiry);
    return [{ topic: this.cmdTopic, payload: command.serialize(), options }];
  }

  private publishOptions(expirySec: number): IClientPublishOptions {
    return this.ctx.protocolVersion === 5 ? { qos: 1, retain: false, properties: { messageExpiryInterval: expirySec } } : { qos: 1, retain: false };
  }

  /** The protocol has no "lock now": the firmware's own relock timer ends every pulse. */
  relock(): null {
    return null;
  }

  handle(topic: string, payload: Buffer): DriverEvent[] {
    if (topic === this.stateTopic) {
      // A zero-length retained message is how a state is cleared (e.g. a door decommissioned).
      if (payload.length === 0) return [{ kind: 'cleared' }];
      const s = DoorState.parse(payload);
      return [{ kind: 'state', state: { online: s.online, relay: s.relay, contact: s.contact, fw: s.fw }, at: s.at }];
    }
    if (topic === this.ackTopic) return [{ kind: 'ack', ack: DoorAck.parse(payload) }];
    return [];
  }
}
