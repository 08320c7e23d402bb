import { z } from 'zod';
import { ROLES } from '../console/operator.js';
import { checkLocations } from './location-rules.js';
import { checkModelReferences } from './model-references.js';
import { doorModelFields, modelSections, timeZoneSchema } from './model-schema.js';

/**
 * The one configuration schema. Every field has a default where a safe one exists, so a
 * minimal file is short; cross-references (reader → door, resource → door) are checked
 * here so a typo fails `lintel check-config` instead of silently locking a door. Every object
 * is strict: a misspelt key (`http.authtoken`) is an error, never a silently ignored setting
 * that leaves the page unauthenticated (load.ts words it "unknown key, did you mean …").
 */

const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." and "-" only (used in MQTT topics)');

export const CARD_FORMATS = [
  'decimal',
  'hex-msb',
  'hex-lsb',
  'wiegand26',
  'wiegand34',
  'wiegand37',
  'raw-bits',
] as const;
export type CardFormat = (typeof CARD_FORMATS)[number];

const terminator = z.enum(['lf', 'cr', 'crlf', 'tab']);

/**
 * How a door's relay is driven (src/doors/drivers/): lintel's own firmware protocol, or an
 * off-the-shelf MQTT relay a site already has. README "Door drivers" says what each guarantees.
 */
export const DOOR_DRIVERS = ['lintel', 'shelly-gen2', 'tasmota', 'zigbee2mqtt', 'esphome'] as const;
export type DoorDriverKind = (typeof DOOR_DRIVERS)[number];

/** A device's own MQTT topic: levels of anything but wildcards, no empty level, no leading "$". */
const deviceTopic = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^/#+$][^/#+]*(\/[^/#+]+)*$/, 'an MQTT topic without wildcards or empty levels');

const doorSchema = z.strictObject({
  id,
  name: z.string().min(1).max(128).optional(),
  driver: z.enum(DOOR_DRIVERS).default('lintel'),
  /**
   * The device's topic, for every driver but lintel: a Shelly's MQTT topic_prefix
   * ("shellyplus1-a8032ab12345"), a Tasmota's %topic% ("tasmota_4A2F1C"), a zigbee2mqtt
   * device's full topic ("zigbee2mqtt/front-door-relay": base topic and friendly name), or an
   * ESPHome switch's topic ("door-node/switch/door_strike": topic_prefix, switch, object id).
   */
  topic: deviceTopic.optional(),
  pulseMs: z.number().int().min(100).max(30_000).default(3000),
  relay: z
    .strictObject({
      /**
       * Relay output, counted from 1: the firmware's channel; Shelly switch id channel-1;
       * Tasmota Power<channel>; zigbee2mqtt `state` for 1, `state_l<channel>` above; ESPHome
       * names its switch in `topic`, so 1 only.
       */
      channel: z.number().int().min(1).max(64).default(1),
    })
    .default({ channel: 1 }),
  /** Unlock commands older than this are dropped by the firmware and the broker. */
  commandTtlMs: z.number().int().min(200).max(10_000).default(2000),
  /** Whether visitors with a valid checked-in visit may open this door. */
  visitors: z.boolean().default(false),
  /**
   * Contact-sensor alarms (doors/door-alarms.ts), for drivers that report a contact: held open
   * this long after the authorised opening ended, and forced open (opened with no pulse or hold).
   */
  alarms: z
    .strictObject({
      heldOpenSeconds: z.number().int().min(1).max(3600).default(30),
      forcedOpen: z.boolean().default(true),
    })
    .default({ heldOpenSeconds: 30, forcedOpen: true }),
  /** The location (locations[].id) the door is at; may be left out with no or one location. */
  location: id.optional(),
  ...doorModelFields, // mode, unlockSchedule, firstPersonIn (model-schema.ts)
});

const usbSelector = z
  .strictObject({
    vendorId: z.number().int().min(0).max(0xffff).optional(),
    productId: z.number().int().min(0).max(0xffff).optional(),
    serialNumber: z.string().min(1).optional(),
    path: z.string().min(1).optional(),
  })
  .refine((u) => u.path !== undefined || (u.vendorId !== undefined && u.productId !== undefined), {
    message: 'give either path, or vendorId and productId',
  });

const readerBase = {
  id,
  door: id,
  direction: z.enum(['in', 'out']).default('in'),
  cardFormat: z.enum(CARD_FORMATS).default('decimal'),
  /** What the reader produces: badge numbers, QR payloads, or either (classified per read). */
  payload: z.enum(['card', 'qr', 'auto']).default('card'),
  maxLineLength: z.number().int().min(8).max(4096).default(256),
};

const serialReader = z.strictObject({
  ...readerBase,
  kind: z.literal('serial'),
  /** Prefer a stable /dev/serial/by-id/... path: ttyUSB numbering changes across reboots. */
  path: z.string().min(1),
  baudRate: z.number().int().positive().default(9600),
  terminator: terminator.default('crlf'),
});

const hidReader = z.strictObject({
  ...readerBase,
  kind: z.literal('hid'),
  usb: usbSelector,
  terminator: z.enum(['enter', 'tab']).default('enter'),
  /** Set when the device numbers its reports: the keyboard report's id, first byte of each report. */
  reportId: z.number().int().min(1).max(255).optional(),
});

const stdinReader = z.strictObject({ ...readerBase, kind: z.literal('stdin') });

const readerSchema = z.discriminatedUnion('kind', [serialReader, hidReader, stdinReader]);

const graceMinutes = z.number().int().min(0).max(24 * 60);

const resourceSchema = z.strictObject({
  id: z.string().min(1).max(128),
  doors: z.array(id).default([]), // with accessGroups' zones' doors: config/access-model.ts resourceDoors
  accessGroups: z.array(id).optional(),
  graceBeforeMinutes: graceMinutes.optional(),
  graceAfterMinutes: graceMinutes.optional(),
  /** The location whose platform account books it (locations[].id); see doors[].location. */
  location: id.optional(),
});

const secretValue = z.string().min(1);

const MQTT_COMMAND_DEFAULTS = { enabled: false, actor: 'mqtt', role: 'operator' as const };

/**
 * Operator commands over MQTT (events/command-bridge.ts). Off by default: whoever may publish
 * on `<prefix>/<site>/bridge/request/#` acts as `actor` with `role`, so the broker's ACL is the
 * only gate (firmware-protocol/events.md has a Mosquitto ACL for it).
 */
const mqttCommandsSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Audited as `mqtt:<actor>` (console/operator.ts actorLabel). */
    actor: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only').default('mqtt'),
    role: z.enum(ROLES).default('operator'),
  })
  .default(MQTT_COMMAND_DEFAULTS);

/** Home Assistant MQTT discovery (events/ha-discovery.ts): retained configs under `prefix`. */
const homeAssistantSchema = z
  .strictObject({
    discovery: z.boolean().default(false),
    /** HA's discovery prefix (its MQTT integration's `discovery_prefix`). */
    prefix: z.string().min(1).max(64).regex(/^[^#+]+$/, 'no MQTT wildcards').default('homeassistant'),
  })
  .default({ discovery: false, prefix: 'homeassistant' });

const mqttSchema = z
  .strictObject({
    /** `embedded` starts an in-process broker (demo, or a single-box site). */
    url: z.string().min(1).default('embedded'),
    embeddedPort: z.number().int().min(0).max(65535).default(1883),
    username: z.string().optional(),
    password: secretValue.optional(),
    passwordFile: z.string().optional(),
    clientId: z.string().min(1).max(128).optional(),
    topicPrefix: z.string().min(1).max(64).regex(/^[^#+]+$/, 'no MQTT wildcards').default('lintel'),
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
    keepaliveSec: z.number().int().min(5).max(600).default(30),
    tls: z
      .strictObject({
        caFile: z.string().optional(),
        certFile: z.string().optional(),
        keyFile: z.string().optional(),
        rejectUnauthorized: z.boolean().default(true),
      })
      .optional(),
    commands: mqttCommandsSchema,
  })
  .default({ url: 'embedded', embeddedPort: 1883, topicPrefix: 'lintel', protocolVersion: 5, keepaliveSec: 30, commands: MQTT_COMMAND_DEFAULTS });

const upstreamSchema = z.strictObject({
  baseUrl: z.url(),
  token: secretValue.optional(),
  tokenFile: z.string().optional(),
  /** Public URL the platform calls back; must route to this gateway's /webhooks/offision. */
  callbackUrl: z.url(),
  reconcileIntervalSec: z.number().int().min(10).max(86_400).default(300),
  requestTimeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  // At most half the spec's 7-day subscription lifetime (MAX_RENEW_BEFORE_SEC): more would be cut
  // to half-life even on a full-length subscription (docs/upstream.md, "Subscription renewal").
  renewBeforeSec: z.number().int().min(60).max(302_400).default(86_400),
  maxCallbackBytes: z.number().int().min(256).max(1_048_576).default(16_384),
});

/**
 * One location of a gateway that serves several (config/locations.ts): its own platform account
 * and, through doors[].location and resources[].location, its own doors and resources.
 * Disconnected: its link does not run and nothing new is granted there; `keep` leaves access
 * already granted until it ends, `revoke` deletes it at start (README "Locations").
 */
const locationSchema = z.strictObject({
  id,
  name: z.string().min(1).max(128).optional(),
  upstream: upstreamSchema.optional(),
  connection: z.enum(['connected', 'disconnected']).default('connected'),
  onDisconnect: z.enum(['keep', 'revoke']).default('keep'),
});

const visitorsSchema = z
  .strictObject({
    /** What a visit that is `expected` (not yet checked in) gets at a reception gate. */
    expectedPolicy: z.enum(['deny', 'allow-at-reception']).default('deny'),
    receptionDoors: z.array(id).default([]),
    /** When the platform cannot be reached. */
    offlinePolicy: z.enum(['deny', 'allow-cached-checked-in']).default('deny'),
    verifyTimeoutMs: z.number().int().min(100).max(10_000).default(2000),
    deviceId: z.string().min(1).max(128).optional(),
  })
  .default({ expectedPolicy: 'deny', receptionDoors: [], offlinePolicy: 'deny', verifyTimeoutMs: 2000 });

const qrSchema = z
  .strictObject({
    /** File holding the gateway's token key; created with mode 0600 if missing. */
    keyFile: z.string().optional(),
    ttlSeconds: z.number().int().min(10).max(86_400).default(300),
  })
  .default({ ttlSeconds: 300 });

const CARD_GUESS_DEFAULTS = { maxFailures: 10, windowSec: 10, lockoutSec: 30 };

const bruteForceSchema = z
  .strictObject({
    maxFailures: z.number().int().min(1).max(1000).default(5),
    windowSec: z.number().int().min(1).max(3600).default(60),
    lockoutSec: z.number().int().min(1).max(86_400).default(60),
    /**
     * Card reads: unknown, malformed or bad-parity reads on one reader. A card sweep is fast
     * (a reader emulator sends hundreds of frames a second), so the window is short.
     */
    cards: z
      .strictObject({
        maxFailures: z.number().int().min(1).max(1000).default(10),
        windowSec: z.number().int().min(1).max(3600).default(10),
        lockoutSec: z.number().int().min(1).max(86_400).default(30),
      })
      .default(CARD_GUESS_DEFAULTS),
  })
  .default({ maxFailures: 5, windowSec: 60, lockoutSec: 60, cards: CARD_GUESS_DEFAULTS });

const auditSchema = z
  .strictObject({
    /** Audit rows older than this are exported to dataDir/audit-archive/ and pruned; 0 keeps them forever. */
    retentionDays: z.number().int().min(0).max(36_500).default(365),
    /** Denied decisions per reader, reason and person per second written row by row; the rest are counted into one row. */
    floodRowsPerSecond: z.number().int().min(1).max(10_000).default(10),
    /**
     * Audit rows kept in memory while the store cannot take them (another process holds the
     * write lock, a full disk). ~200 bytes each: 100,000 is ~20 MB and, at 500 reads/s, over
     * three minutes of a held lock. Past it rows are dropped and counted.
     */
    maxQueuedRows: z.number().int().min(1000).max(10_000_000).default(100_000),
  })
  .default({ retentionDays: 365, floodRowsPerSecond: 10, maxQueuedRows: 100_000 });

export const configSchema = z
  .strictObject({
    site: z.strictObject({ id, name: z.string().max(128).optional(), timeZone: timeZoneSchema }),
    dataDir: z.string().min(1).default('./data'),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** auto: journal lines (`<N>` priority, message first) when stderr is the journal, else JSON (README "Logs"). */
        format: z.enum(['auto', 'json', 'journal']).default('auto'),
      })
      .default({ level: 'info', format: 'auto' }),
    http: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /** Bearer token for /api and the status page when bound beyond loopback. */
        authToken: secretValue.optional(),
        authTokenFile: z.string().optional(),
        /**
         * Names (no port) the gateway answers to besides loopback and `host`: a reverse proxy's
         * or DNS name. Any other Host header is refused (DNS rebinding).
         */
        allowedHosts: z.array(z.string().min(1).max(253).regex(/^[A-Za-z0-9.:[\]-]+$/, 'a host name or IP literal, no port')).default([]),
        /** Cap on every request body (the webhook has its own: upstream.maxCallbackBytes). */
        maxBodyBytes: z.number().int().min(256).max(16_777_216).default(65_536),
        /** The gateway serves HTTPS itself with this PEM certificate (chain) and key. A non-loopback host needs this or behindTlsProxy. */
        tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
        /** A TLS reverse proxy on this host terminates HTTPS (README "Security"): a non-loopback bind without tls is allowed, and the client address is the proxy's X-Forwarded-For hop. */
        behindTlsProxy: z.boolean().default(false),
      })
      .default({ host: '127.0.0.1', port: 8080, allowedHosts: [], maxBodyBytes: 65_536, behindTlsProxy: false }),
    mqtt: mqttSchema,
    homeAssistant: homeAssistantSchema,
    access: z
      .strictObject({ graceBeforeMinutes: graceMinutes.default(30), graceAfterMinutes: graceMinutes.default(30) })
      .default({ graceBeforeMinutes: 30, graceAfterMinutes: 30 }),
    doors: z.array(doorSchema).min(1),
    readers: z.array(readerSchema).default([]),
    resources: z.array(resourceSchema).default([]),
    upstream: upstreamSchema.optional(),
    locations: z.array(locationSchema).min(1).optional(),
    visitors: visitorsSchema,
    qr: qrSchema,
    bruteForce: bruteForceSchema,
    audit: auditSchema,
    ...modelSections,
  })
  .superRefine((cfg, ctx) => {
    const doors = new Set<string>();
    const devices = new Map<string, string>();
    cfg.doors.forEach((d, i) => {
      if (doors.has(d.id)) ctx.addIssue({ code: 'custom', path: ['doors', i, 'id'], message: `duplicate door id "${d.id}"` });
      doors.add(d.id);
      if (d.driver === 'lintel' && d.topic !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['doors', i, 'topic'], message: 'the lintel driver has its topics from mqtt.topicPrefix and the door id; remove topic' });
      }
      if (d.driver !== 'lintel' && d.topic === undefined) {
        ctx.addIssue({ code: 'custom', path: ['doors', i, 'topic'], message: `the ${d.driver} driver needs the device's topic` });
      }
      if (d.driver === 'esphome' && d.topic !== undefined) {
        if (!/^.+\/switch\/[^/]+$/.test(d.topic)) ctx.addIssue({ code: 'custom', path: ['doors', i, 'topic'], message: 'an esphome topic is <topic_prefix>/switch/<object_id>' });
        if (d.relay.channel !== 1) ctx.addIssue({ code: 'custom', path: ['doors', i, 'relay', 'channel'], message: 'an esphome switch is named by its topic; channel must be 1' });
      }
      // Two doors on one output would unlock each other.
      const output = d.topic === undefined ? null : `${d.driver} ${d.topic} ${d.relay.channel}`;
      if (output !== null) {
        const other = devices.get(output);
        if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['doors', i, 'relay', 'channel'], message: `door "${other}" drives the same output` });
        devices.set(output, d.id);
      }
    });
    const readers = new Set<string>();
    cfg.readers.forEach((r, i) => {
      if (readers.has(r.id)) ctx.addIssue({ code: 'custom', path: ['readers', i, 'id'], message: `duplicate reader id "${r.id}"` });
      readers.add(r.id);
      if (!doors.has(r.door)) ctx.addIssue({ code: 'custom', path: ['readers', i, 'door'], message: `unknown door "${r.door}"` });
    });
    const resources = new Set<string>();
    cfg.resources.forEach((res, i) => {
      if (resources.has(res.id)) ctx.addIssue({ code: 'custom', path: ['resources', i, 'id'], message: `duplicate resource id "${res.id}"` });
      resources.add(res.id);
      res.doors.forEach((d, j) => {
        if (!doors.has(d)) ctx.addIssue({ code: 'custom', path: ['resources', i, 'doors', j], message: `unknown door "${d}"` });
      });
    });
    cfg.visitors.receptionDoors.forEach((d, i) => {
      if (!doors.has(d)) ctx.addIssue({ code: 'custom', path: ['visitors', 'receptionDoors', i], message: `unknown door "${d}"` });
    });
    checkModelReferences(cfg, ctx);
    if (cfg.upstream && !cfg.upstream.token && !cfg.upstream.tokenFile) {
      ctx.addIssue({ code: 'custom', path: ['upstream', 'token'], message: 'give token or tokenFile' });
    }
    checkLocations(cfg, ctx);
  });

export type Config = z.infer<typeof configSchema>;
export type LocationConfig = NonNullable<Config['locations']>[number];
export type DoorConfig = Config['doors'][number];
export type ReaderConfig = Config['readers'][number];
export type ResourceConfig = Config['resources'][number];
export type UpstreamConfig = NonNullable<Config['upstream']>;
export type VisitorsConfig = Config['visitors'];
