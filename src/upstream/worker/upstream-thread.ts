import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import { createLogger } from '../../util/log.js';
import { lowerOwnPriority } from '../../util/priority.js';
import { UpstreamSync } from '../upstream-sync.js';
import { openUpstreamThreadStore } from './thread-store.js';
import { STATUS_EVERY_MS, type CallbackRequest, type FromThread, type ThreadInit, type ToThread } from './protocol.js';

/*
 * The booking-platform link's own thread. Under load (200 signed callbacks/s, each followed by
 * a daily-list fetch and its apply) this work took over half of the main thread and its
 * garbage made every scavenge slower, and the badge path queued behind both (issue 9, load
 * profile c). Here it has its own event loop, heap and SQLite connection: it may wait for a
 * lock (busy_timeout) and allocate freely, and the main thread learns of its commits through
 * change_log, the same way as of any other process's, told at once by a 'committed' message.
 */

if (!parentPort) throw new Error('upstream-thread.js runs as a worker thread only');
const port = parentPort;
const init = workerData as ThreadInit;
const post = (msg: FromThread) => port.postMessage(msg);

const logger = createLogger(init.logLevel, { write: (line: string) => post({ type: 'log', line }) });

// This thread yields the CPU to the badge path (util/priority.ts): a callback may wait a little
// longer under load; a swipe does not.
const refused = lowerOwnPriority();
if (refused !== null) logger.debug({ err: refused }, 'could not lower the upstream thread priority');
const { config } = init;
const store = openUpstreamThreadStore(config);

// Commits coalesced per macrotask: an applied daily list is one message, not one per person.
let commitPending = false;
store.onCommit(() => {
  if (commitPending) return;
  commitPending = true;
  setImmediate(() => {
    commitPending = false;
    post({ type: 'committed' });
  });
});

const sync = new UpstreamSync({
  config: config.upstream!,
  grace: { beforeMin: config.access.graceBeforeMinutes, afterMin: config.access.graceAfterMinutes },
  resources: config.resources,
  store,
  clock: systemClock,
  logger,
  token: init.token,
  countFailure: (task) => post({ type: 'failure', task }),
  ...(init.location ? { location: init.location } : {}),
});
const webhook = sync.webhookApp();

async function answer(req: CallbackRequest): Promise<void> {
  try {
    const res = await webhook.request('/', { method: 'POST', headers: req.headers, body: req.body });
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => (headers[name] = value));
    post({ type: 'answer', id: req.id, status: res.status, headers, body: await res.text() });
  } catch (err) {
    logger.error({ err: errorMessage(err) }, 'callback handling failed');
    post({ type: 'answer', id: req.id, status: 500, headers: { 'content-type': 'application/json' }, body: '{"error":"internal error"}' });
  }
}

let statusTimer: NodeJS.Timeout | null = null;
let stopping = false;

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (statusTimer) clearInterval(statusTimer);
  try {
    await sync.stop();
  } finally {
    // Whatever sync.stop threw (the caller logs it), the connection closes and the thread ends.
    try {
      store.close();
    } finally {
      port.close(); // the thread ends: the host waits for its exit
    }
  }
}

/** Neither task may reject unseen: in a worker that would end the thread with the error. */
const logFailure = (what: string) => (err: unknown) => logger.error({ err: errorMessage(err) }, what);

port.on('message', (msg: ToThread) => {
  if (stopping) return;
  switch (msg.type) {
    case 'callback':
      answer(msg).catch(logFailure('callback answer could not be sent'));
      break;
    case 'token':
      sync.setToken(msg.token);
      break;
    case 'mapping':
      sync.mappingChanged(msg.changed, msg.resources).catch((err: unknown) => {
        post({ type: 'failure', task: 'reload-resubscribe' });
        logger.error({ err: errorMessage(err) }, 'resubscribe after a mapping change failed');
      });
      break;
    case 'reconcile': {
      const id = msg.id;
      sync.reconcileNow().then(
        (report) => post({ type: 'reconciled', id, report, error: null }),
        (err: unknown) => post({ type: 'reconciled', id, report: null, error: errorMessage(err) }),
      );
      break;
    }
    case 'log-level':
      logger.level = msg.level;
      break;
    case 'stop':
      stop().catch(logFailure('upstream stop failed'));
      break;
  }
});

const sendStatus = () => post({ type: 'status', status: sync.status() });
statusTimer = setInterval(sendStatus, STATUS_EVERY_MS);
await sync.start();
sendStatus();
