// Test hosts for the swarm: network namespaces whose links are all limited to
// one rate with `tc tbf` on both ends of every veth (test/helpers/netns.ts).
// Scenario ids H1–H2 in docs/SCENARIOS.md. A TCP flood between hosts
// (test/helpers/flood.mjs) must measure the set rate, whoever sends to whom.
// Needs root, `ip netns` and `tc`; skipped with the reason otherwise (a failure
// under LANSPREAD_TEST_STRICT=1).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { canRateLimit, createNetwork, type Host } from '../helpers/netns.js';
import { requirePrerequisite, skipSuite } from '../helpers/skip.js';

const support = canRateLimit();
const FLOOD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'flood.mjs');
const PORT = 5201;
const SECONDS = 2.5;
/** measured after TCP has ramped up, and before the senders stop */
const WINDOW = { fromMs: 600, toMs: 2_200 };

interface Sample {
  ms: number;
  bytes: number;
}

/** Start a sink on `host`; its samples fill `samples` as they come. */
async function sink(host: Host): Promise<{ samples: Sample[]; stop(): Promise<unknown> }> {
  const child = host.spawn(process.execPath, [FLOOD, 'sink', String(PORT)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const samples: Sample[] = [];
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = JSON.parse(buf.slice(0, nl)) as Sample & { ready?: boolean };
        buf = buf.slice(nl + 1);
        if (line.ready) resolve();
        else samples.push(line);
      }
    });
    child.once('exit', (code) => reject(new Error(`sink on ${host.name} exited with ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { samples, stop: () => (child.kill('SIGKILL'), exited) };
}

/** Flood every target from `host` for SECONDS; resolves when the sender has exited. */
function flood(host: Host, targets: Host[]): Promise<void> {
  const child = host.spawn(process.execPath, [FLOOD, 'send', String(SECONDS), ...targets.map((t) => `${t.address}:${PORT}`)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sender on ${host.name}: ${code} ${err}`)))),
  );
}

/** Mbit/s a sink received over WINDOW, counted from its first byte. */
function received(samples: Sample[]): number {
  const first = samples.find((s) => s.bytes > 0);
  if (!first) throw new Error('the sink received nothing');
  const at = (ms: number) => {
    const s = samples.find((x) => x.ms >= first.ms + ms);
    if (!s) throw new Error(`no sample ${ms} ms after the first byte`);
    return s;
  };
  const [a, b] = [at(WINDOW.fromMs), at(WINDOW.toMs)];
  return ((b.bytes - a.bytes) * 8) / ((b.ms - a.ms) * 1000);
}

/** Run the floods (sender → its targets) together; Mbit/s each receiving host got. */
async function measure(floods: [Host, Host[]][]): Promise<number[]> {
  const receivers = [...new Set(floods.flatMap(([, to]) => to))];
  const sinks = await Promise.all(receivers.map(sink));
  try {
    await Promise.all(floods.map(([from, to]) => flood(from, to)));
    return sinks.map((s) => received(s.samples));
  } finally {
    await Promise.all(sinks.map((s) => s.stop()));
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Within ±20 % of the set rate: TCP's goodput is ~95 % of the wire rate tbf counts. */
function expectRate(mbit: number, set: number): void {
  expect(mbit).toBeGreaterThan(set * 0.8);
  expect(mbit).toBeLessThan(set * 1.2);
}

describe.skipIf(skipSuite(support, 'rate-limited test hosts'))('test hosts with rate-limited links (tc tbf on both veth ends)', () => {
  beforeAll(() => requirePrerequisite(support, 'rate-limited test hosts'));

  it('H1: at 40 Mbit/s one flow, two flows into one host and two flows out of one host each total the rate', async () => {
    const net = await createNetwork(3, { rate: { mbit: 40 } });
    const [a, b, c] = net.hosts as [Host, Host, Host];
    const one = await measure([[a, [b]]]);
    expectRate(one[0]!, 40);
    // two senders, one receiver: only the bridge end of the receiver's veth limits this
    const into = await measure([
      [a, [b]],
      [c, [b]],
    ]);
    expectRate(sum(into), 40);
    // one sender, two receivers: only the host end of the sender's veth limits this
    const out = await measure([[a, [b, c]]]);
    expect(out).toHaveLength(2);
    expectRate(sum(out), 40);
  });

  it('H2: at 10 Mbit/s the same flow measures 10 Mbit/s, not 40', async () => {
    const net = await createNetwork(2, { rate: { mbit: 10 } });
    const [a, b] = net.hosts as [Host, Host];
    const [mbit] = await measure([[a, [b]]]);
    expectRate(mbit!, 10);
  });
});
