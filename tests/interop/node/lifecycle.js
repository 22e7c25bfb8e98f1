// A runtime written in Node.js: stubs come from protos/ at run time (no generated code), the calls
// from @grpc/grpc-js. Driven by tests/interop/test_node_client.py, it reports each step as one JSON
// line on stdout and waits for the test's go-ahead on stdin where the test must observe something.
//
// usage: node lifecycle.js TARGET RUNTIME_ID ENDING
//   ENDING "cancel": destroy the heartbeat stream abruptly, wait for "deregister", deregister, exit 0
//   ENDING "hold":   keep beating until the test kills this process
"use strict";

const path = require("path");
const readline = require("readline");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const [target, runtimeId, ending] = process.argv.slice(2);
const PROTOS = path.resolve(__dirname, "..", "..", "..", "protos");

const definition = protoLoader.loadSync("agentregistry/v1/registry.proto", {
  includeDirs: [PROTOS],
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});
const { RegistryService } = grpc.loadPackageDefinition(definition).agentregistry.v1;
const client = new RegistryService(target, grpc.credentials.createInsecure());

const report = (step, details = {}) => process.stdout.write(`${JSON.stringify({ step, ...details })}\n`);
const call = (method, request) =>
  new Promise((resolve, reject) =>
    client[method](request, { deadline: Date.now() + 5000 }, (error, response) =>
      error ? reject(error) : resolve(response),
    ),
  );
const stdin = readline.createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();
const waitFor = async (word) => {
  const { value } = await lines.next();
  if (value !== word) throw new Error(`expected ${word} on stdin, got ${value}`);
};
const check = (ok, message) => {
  if (!ok) throw new Error(message);
};

// The card is A2A's; the registry's capability phrases and labels go beside it, in the request.
const CARDS = {
  [`${runtimeId}-translator`]: {
    card: { name: "translator", skills: [{ id: "fr", name: "French translation", tags: ["french"] }] },
    capabilities: ["Translation"],
    labels: { lang: "node" },
  },
  [`${runtimeId}-summarizer`]: { card: { name: "summarizer" }, capabilities: ["summarization", "translation review"] },
};
const AGENT_IDS = Object.keys(CARDS);

// Collects events from a Subscribe stream; `until(predicate)` resolves once one arrives that matches.
function subscribe(request) {
  const events = [];
  const waiters = [];
  const stream = client.Subscribe(request);
  stream.on("data", (message) => {
    if (message.kind !== "event") return;
    events.push(message.event);
    for (const waiter of waiters.splice(0)) waiter();
  });
  stream.on("error", () => {}); // the test cancels it on the way out
  const until = (predicate) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no matching event within 5 s")), 5000);
      const poll = () => {
        const found = events.find(predicate);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        } else waiters.push(poll);
      };
      poll();
    });
  return { events, until, cancel: () => stream.cancel() };
}

// One bidi stream for the runtime; `send` resolves with the ack of that message.
function heartbeatStream() {
  const stream = client.HeartbeatStream();
  const pending = new Map();
  let sequence = 0;
  stream.on("data", (ack) => pending.get(Number(ack.sequence))?.(ack));
  stream.on("error", () => {}); // ended by us (cancel) or by the test (kill)
  const send = (action) =>
    new Promise((resolve) => {
      sequence += 1;
      pending.set(sequence, resolve);
      stream.write({ sequence, ...action });
    });
  return { send, cancel: () => stream.cancel() };
}

async function main() {
  const registered = [];
  for (const agentId of AGENT_IDS) {
    const response = await call("RegisterAgent", { agent_id: agentId, runtime_id: runtimeId, ...CARDS[agentId] });
    check(response.created && response.agent.status === "AGENT_STATUS_ACTIVE", `registering ${agentId}`);
    registered.push(response);
  }
  report("registered", { agent_ids: AGENT_IDS, revision: registered[1].revision });

  try {
    await call("RegisterAgent", { agent_id: AGENT_IDS[0], runtime_id: "someone-else", card: { name: "x" } });
    throw new Error("another runtime took over an agent id");
  } catch (error) {
    check(error.code === grpc.status.ALREADY_EXISTS, `expected ALREADY_EXISTS, got ${error.code}`);
  }
  report("refused", { code: "ALREADY_EXISTS" });

  const found = await call("FindAgents", { capability: "TRANSLATION" });
  const matches = found.matches
    .filter((m) => AGENT_IDS.includes(m.agent.agent_id))
    .map((m) => ({ agent_id: m.agent.agent_id, matched: m.matched_capability, kind: m.match_kind }));
  report("found", { matches });

  const replay = subscribe({ runtime_id: runtimeId, from_revision: registered[0].revision - 1 });
  await replay.until((e) => e.type === "EVENT_TYPE_AGENT_REGISTERED" && e.agent_id === AGENT_IDS[1]);
  report("replayed", { types: replay.events.map((e) => e.type) });

  const beats = heartbeatStream();
  const bound = await beats.send({ bind: { runtime_id: runtimeId } });
  const beat = await beats.send({ beat: { status: "AGENT_STATUS_DEGRADED" } });
  await replay.until((e) => e.type === "EVENT_TYPE_AGENT_STATUS_CHANGED" && e.new_status === "AGENT_STATUS_DEGRADED");
  const again = await beats.send({ beat: { status: "AGENT_STATUS_ACTIVE" } });
  report("streaming", {
    bound_agents: bound.bound_agents,
    unknown: beat.unknown_agent_ids,
    heartbeat_timeout: Number(again.heartbeat_timeout.seconds) + again.heartbeat_timeout.nanos / 1e9,
  });

  if (ending === "hold") {
    setInterval(() => beats.send({ beat: {} }), 100);
    return;
  }
  await waitFor("destroy");
  beats.cancel();
  report("destroyed");
  await waitFor("deregister");
  for (const agentId of AGENT_IDS) await call("DeregisterAgent", { agent_id: agentId, runtime_id: runtimeId });
  await replay.until((e) => e.type === "EVENT_TYPE_RUNTIME_LEFT");
  try {
    await call("GetAgent", { agent_id: AGENT_IDS[0] });
    throw new Error("a deregistered agent is still there");
  } catch (error) {
    check(error.code === grpc.status.NOT_FOUND, `expected NOT_FOUND, got ${error.code}`);
  }
  report("deregistered", { types: replay.events.map((e) => e.type) });
  replay.cancel();
  client.close();
  stdin.close();
}

main().catch((error) => {
  report("failed", { error: String(error.stack || error) });
  process.exit(1);
});
