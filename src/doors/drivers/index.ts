import type { DoorDriver, DriverContext } from './driver.js';
import { EsphomeDriver } from './esphome.js';
import { LintelDriver } from './lintel-driver.js';
import { ShellyGen2Driver } from './shelly-gen2.js';
import { TasmotaDriver } from './tasmota.js';
import { Zigbee2MqttDriver } from './zigbee2mqtt.js';

export type { DoorDriver, DriverBehaviour, DriverContext, DriverEvent, DriverMessage, DriverReports } from './driver.js';

/** The driver a door's config names (config/schema.ts DOOR_DRIVERS). */
export function createDriver(ctx: DriverContext): DoorDriver {
  switch (ctx.door.driver) {
    case 'lintel':
      return new LintelDriver(ctx);
    case 'shelly-gen2':
      return new ShellyGen2Driver(ctx);
    case 'tasmota':
      return new TasmotaDriver(ctx);
    case 'zigbee2mqtt':
      return new Zigbee2MqttDriver(ctx);
    case 'esphome':
      return new EsphomeDriver(ctx);
  }
}
