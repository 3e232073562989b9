// A msgpack-rpc client in Node.js with @msgpack/msgpack, written from the
// protocol reference (docs/protocol.md) alone. It runs a fixed script of
// calls against CATALYTIC_SOCKET and prints what it saw as one JSON object.
"use strict";
const net = require("net");
const { encode, Decoder } = require("@msgpack/msgpack");

const socketPath = process.env.CATALYTIC_SOCKET;
const withExample = process.env.WITH_EXAMPLE === "1";

class RpcClient {
  constructor(path) {
    this.sock = net.createConnection(path);
    this.nextId = 1;
    this.pending = new Map();
    this.order = [];          // msgids in the order their answers arrived
    this.progress = [];       // progress notifications received
    this.orphans = [];        // responses whose msgid is nil
    this.decoder = new Decoder();
    this.closed = new Promise((resolve) => this.sock.on("close", resolve));
    this.reader = this.read();
  }

  async read() {
    for await (const msg of this.decoder.decodeStream(this.sock)) {
      if (msg[0] === 1) {
        const [, msgid, error, result] = msg;
        if (msgid === null) { this.orphans.push(error); continue; }
        this.order.push(msgid);
        const waiter = this.pending.get(msgid);
        this.pending.delete(msgid);
        if (waiter) waiter({ error, result });
      } else if (msg[0] === 2 && msg[1] === "progress") {
        this.progress.push(msg[2][0]);
      }
    }
  }

  send(message) { this.sock.write(encode(message)); }

  request(method, params) {
    const id = this.nextId++;
    const answer = new Promise((resolve) => this.pending.set(id, resolve));
    this.send([0, id, method, params === undefined ? [] : [params]]);
    return { id, answer };
  }

  call(method, params) { return this.request(method, params).answer; }

  notify(method, params) { this.send([2, method, params === undefined ? [] : [params]]); }

  close() { this.sock.end(); }
}

const code = (reply) => (reply.error ? reply.error.code : null);

async function main() {
  const c = new RpcClient(socketPath);
  const out = {};
  const hello = await c.call("system.hello");
  out.protocol = hello.result.protocol;
  out.hasPing = "system.ping" in hello.result.methods;

  // 50 requests written back to back before any answer is read.
  const replies = await Promise.all(
    Array.from({ length: 50 }, (_, i) => c.call("system.ping", { payload: i })));
  out.pipelined = replies.map((r) => r.result);

  const bin = await c.call("system.ping", { payload: new Uint8Array([0, 255, 1]) });
  out.binIsBytes = bin.result instanceof Uint8Array;
  out.bin = Array.from(bin.result);
  out.pong = (await c.call("system.ping")).result;

  out.unknownMethod = code(await c.call("nosuch.method", {}));
  out.unknownParam = code(await c.call("system.ping", { bogus: 1 }));
  out.wrongType = code(await c.call("system.cancel", { id: "seven" }));
  // params must be an array holding one map; a bare map is refused with the msgid.
  const bare = c.nextId++;
  const bareAnswer = new Promise((resolve) => c.pending.set(bare, resolve));
  c.send([0, bare, "system.ping", { payload: 1 }]);
  out.bareMapParams = code(await bareAnswer);
  // A request whose msgid is not an integer is answered with a nil msgid.
  c.send([0, "seven", "system.ping", []]);
  out.afterBadMsgid = (await c.call("system.ping", { payload: "ok" })).result;
  out.orphanCodes = c.orphans.map((e) => e.code);

  if (withExample) {
    // Answers come out of order: a slow call first, a quick one after it.
    const slow = c.request("example.sleep", { seconds: 0.5 });
    const quick = c.request("system.ping", { payload: "quick" });
    await Promise.all([slow.answer, quick.answer]);
    out.quickBeforeSlow = c.order.indexOf(quick.id) < c.order.indexOf(slow.id);

    out.deadline = code(await c.call("example.sleep", { seconds: 30, deadline_ms: 100 }));

    const victim = c.request("example.sleep", { seconds: 30 });
    const cancel = await c.call("system.cancel", { id: victim.id });
    out.cancelResult = cancel.result;
    out.cancelledCode = code(await victim.answer);

    const victim2 = c.request("example.sleep", { seconds: 30 });
    c.notify("system.cancel", { id: victim2.id });
    out.cancelledByNotification = code(await victim2.answer);
  }

  out.finalPing = (await c.call("system.ping", { payload: "bye" })).result;
  c.close();
  await c.closed;
  process.stdout.write(JSON.stringify(out) + "\n");
}

const timer = setTimeout(() => { console.error("timed out"); process.exit(2); }, 60000);
main().then(() => clearTimeout(timer), (err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
