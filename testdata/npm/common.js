'use strict';
// Shared helpers of the client scripts: configuration from the environment,
// a hard deadline, waiting for pushes, and the one JSON result line.
//
// Environment (set by cmd/chatbridge/npm_test.go; also usable by hand):
//   CHATBRIDGE_ADDR            host:port of a chatbridge serving TLS (--tls-cert/--tls-key)
//   NODE_EXTRA_CA_CERTS        that certificate (PEM), so Node verifies the server
//   CHATBRIDGE_AGENT_TOKEN     access token of agent 1 (the Web API caller)
//   CHATBRIDGE_AGENT2_TOKEN    access token of agent 2
//   CHATBRIDGE_ORGANIZATION_ID the organization id (reported; agent sockets do not need it)
//   CHATBRIDGE_NPM_TIMEOUT_MS  hard deadline of a script (default 20000)
//   CHATBRIDGE_NPM_WEB_ONLY=1  skip the realtime parts (server without RTM)
//   CHATBRIDGE_NPM_DEBUG=1     log every step to stderr

const env = (name, required = true) => {
  const v = process.env[name];
  if (required && !v) fail(`environment variable ${name} is not set`);
  return v || '';
};

const debugOn = !!process.env.CHATBRIDGE_NPM_DEBUG;
const steps = [];
const step = (what, detail) => {
  steps.push(what);
  if (debugOn) process.stderr.write(`[${new Date().toISOString()}] ${what}${detail === undefined ? '' : ' ' + describe(detail)}\n`);
};

let finished = false;
const result = { client: '', ok: false, steps };

// fail prints the result line with the reason and exits 1.
function fail(reason, extra) {
  if (finished) return;
  finished = true;
  result.ok = false;
  result.error = reason instanceof Error ? reason.stack || reason.message : typeof reason === 'string' ? reason : JSON.stringify(reason);
  if (extra) Object.assign(result, extra);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(1);
}

// succeed prints the result line and exits 0.
function succeed(extra) {
  if (finished) return;
  finished = true;
  result.ok = true;
  if (extra) Object.assign(result, extra);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

// start names the client, arms the hard deadline and catches stray errors.
function start(client) {
  result.client = client;
  const ms = +(process.env.CHATBRIDGE_NPM_TIMEOUT_MS || 20000);
  setTimeout(() => fail(`timed out after ${ms} ms; last step: ${steps[steps.length - 1] || 'none'}`), ms);
  process.on('unhandledRejection', (e) => fail(describe(e)));
  process.on('uncaughtException', (e) => fail(e));
}

// describe turns what the SDKs reject with (LiveChat error objects, RTM
// payloads, strings, Errors) into readable text.
function describe(e) {
  if (e instanceof Error) return e.stack || e.message;
  try {
    return JSON.stringify(e);
  } catch (_) {
    return String(e);
  }
}

// must runs an SDK call and fails with its name and the server's error.
async function must(what, promise) {
  step(what);
  try {
    const v = await promise;
    step(`${what}: ok`, v);
    return v;
  } catch (e) {
    fail(`${what} failed: ${describe(e)}`);
    return new Promise(() => {}); // fail exits; never resolves
  }
}

function check(cond, message, got) {
  if (!cond) fail(`${message}${got === undefined ? '' : '; got ' + describe(got)}`);
}

// Pushes is a recorder of push frames by action, with waiting for one that
// matches a predicate (received before or after the call).
class Pushes {
  constructor(name) {
    this.name = name;
    this.seen = [];
    this.waiters = [];
  }
  record(action, payload) {
    step(`${this.name} push ${action}`, payload);
    this.seen.push({ action, payload });
    for (const w of this.waiters.slice()) {
      if (w.action === action && w.pred(payload)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(payload);
      }
    }
  }
  wait(action, pred, what, ms = 8000) {
    step(`${this.name} waits for ${what}`);
    const got = this.seen.find((p) => p.action === action && pred(p.payload));
    if (got) return Promise.resolve(got.payload);
    return new Promise((resolve) => {
      const w = { action, pred, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        if (!this.waiters.includes(w)) return;
        fail(`${this.name} did not receive ${what} within ${ms} ms; pushes received: ${JSON.stringify(this.seen.map((p) => p.action))}`);
      }, ms);
    });
  }
  actions() {
    return this.seen.map((p) => p.action);
  }
}

module.exports = { env, step, fail, succeed, start, describe, must, check, Pushes, result };
