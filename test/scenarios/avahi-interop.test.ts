// Interoperability with Avahi, the mDNS stack of most Linux desktops (SPEC
// section 4): Avahi's tools see our service, and we see a service Avahi
// publishes. Avahi runs on its own host (network namespace) with a private
// D-Bus system bus; nothing of the machine's own D-Bus or Avahi is used.
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetwork, type Host, type Network } from '../helpers/netns.js';
import { randomPeerId, startMdnsNode } from '../helpers/mdns-node.js';
import { requirePrerequisite, skipSuite, skipTest } from '../helpers/skip.js';
import { PROTO_VERSION } from '../../shared/wire.js';

const TOOLS = ['dbus-daemon', 'avahi-daemon', 'avahi-browse', 'avahi-publish', 'mount'];

function support(): { ok: boolean; reason?: string } {
  const netns = canUseNetns();
  if (!netns.ok) return netns;
  const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length) return { ok: false, reason: `missing ${missing.join(', ')} (Debian: apt-get install avahi-daemon avahi-utils dbus)` };
  return { ok: true };
}

const available = support();

/** One line of `avahi-browse -p -r`: `=;iface;IPv4;name;type;domain;host;address;port;"txt" "txt"`. */
interface Resolved {
  name: string;
  type: string;
  host: string;
  address: string;
  port: number;
  txt: string[];
}

/** Avahi's parsable output escapes bytes as `\DDD` (decimal) and other characters as `\c`. */
function unescapeAvahi(s: string): string {
  return s.replace(/\\(\d{3}|.)/g, (_, e: string) => (e.length === 3 ? String.fromCharCode(Number(e)) : e));
}

function parseResolved(stdout: string): Resolved[] {
  const out: Resolved[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('=;')) continue;
    const f = line.split(';');
    if (f.length < 10) continue;
    const txtField = f.slice(9).join(';');
    const txt = [...txtField.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => unescapeAvahi(m[1]!));
    out.push({ name: unescapeAvahi(f[3]!), type: f[4]!, host: f[6]!, address: f[7]!, port: Number(f[8]), txt });
  }
  return out;
}

function outputOf(child: ChildProcess): () => string {
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return () => text;
}

function waitForOutput(child: ChildProcess, output: () => string, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setInterval(check, 50);
    const deadline = Date.now() + timeoutMs;
    function check() {
      if (pattern.test(output())) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        clearInterval(timer);
        reject(
          new Error(
            `waited for ${pattern}: ${child.exitCode !== null ? `exited (${child.exitCode})` : 'timed out'}\n${output().slice(-3000)}`,
          ),
        );
      }
    }
  });
}

describe.skipIf(skipSuite(available, 'Avahi interop'))('Avahi interoperability', () => {
  beforeAll(() => requirePrerequisite(available, 'Avahi interop'));

  let net: Network | undefined;
  let ours: Host;
  let avahiHost: Host;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let daemon: Promise<string | undefined> | undefined;

  /** Start dbus-daemon and avahi-daemon on the Avahi host once; resolves with why not, if they could not start. */
  function startAvahi(): Promise<string | undefined> {
    daemon ??= (async () => {
      try {
        const dbus = avahiHost.spawn(
          'dbus-daemon',
          [`--config-file=${path.join(dir, 'dbus.conf')}`, '--nofork', '--nopidfile', '--print-address'],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        await waitForOutput(dbus, outputOf(dbus), /unix:path=/, 10_000);
        // avahi-daemon keeps its pid file and socket in /run/avahi-daemon, and refuses to
        // start when another daemon's pid file is there. `ip netns exec` gives every
        // command its own mount namespace, so a tmpfs on /run is this daemon's alone.
        const script =
          'mount -t tmpfs tmpfs /run && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits --no-proc-title --debug -f "$1"';
        const avahi = avahiHost.spawn('sh', ['-c', script, 'sh', path.join(dir, 'avahi-daemon.conf')], {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        await waitForOutput(avahi, outputOf(avahi), /Server startup complete/, 15_000);
        return undefined;
      } catch (err) {
        const why = `Avahi could not be started here: ${(err as Error).message}`;
        console.warn(why);
        return why;
      }
    })();
    return daemon;
  }

  beforeAll(async () => {
    net = await createNetwork(2, { teardown: 'manual' });
    [ours, avahiHost] = net.hosts as [Host, Host];
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lanspread-avahi-'));
    const bus = path.join(dir, 'system_bus_socket');
    await fs.writeFile(
      path.join(dir, 'dbus.conf'),
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${bus}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
  <includedir>/usr/share/dbus-1/system.d</includedir>
</busconfig>
`,
    );
    await fs.writeFile(
      path.join(dir, 'avahi-daemon.conf'),
      [
        '[server]',
        'host-name=lsavahi',
        'use-ipv4=yes',
        'use-ipv6=no',
        `allow-interfaces=${avahiHost.interfaces[0]!.name}`,
        'enable-dbus=yes',
        '[wide-area]',
        'enable-wide-area=no',
        '[publish]',
        'publish-hinfo=no',
        'publish-workstation=no',
        '',
      ].join('\n'),
    );
    env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${bus}` };
  });

  afterAll(async () => {
    await net?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('avahi-browse lists our service with its port and TXT id', async (ctx) => {
    // Our node first, its announcements over before Avahi starts: Avahi learns of it only by asking.
    const node = await startMdnsNode(ours, { name: 'interop node' });
    await new Promise((r) => setTimeout(r, 1_500));
    const unavailable = await startAvahi();
    if (unavailable) skipTest(ctx, unavailable);
    let found: Resolved | undefined;
    let last = '';
    const deadline = Date.now() + 10_000;
    while (!found && Date.now() < deadline) {
      const r = await avahiHost.exec('avahi-browse', ['-rpt', '_lanspread._udp'], { env, timeoutMs: 8_000 });
      last = r.stdout + r.stderr;
      found = parseResolved(r.stdout).find((s) => s.name === node.peerId);
    }
    expect(found, `avahi-browse output:\n${last}`).toBeDefined();
    expect(found).toMatchObject({ type: '_lanspread._udp', port: node.port, address: ours.address });
    expect(found!.host).toBe(`lanspread-${node.peerId}.local`);
    expect(found!.txt).toEqual(expect.arrayContaining([`id=${node.peerId}`, `proto=${PROTO_VERSION}`, 'name=interop node']));
  });

  it('a service published with avahi-publish is discovered, and its withdrawal expires it', async (ctx) => {
    const unavailable = await startAvahi();
    if (unavailable) skipTest(ctx, unavailable);
    const id = randomPeerId();
    const port = 40_000 + Math.floor(Math.random() * 20_000);
    const publisher = avahiHost.spawn(
      'avahi-publish',
      ['-s', `published-${id.slice(0, 8)}`, '_lanspread._udp', String(port), `id=${id}`, 'proto=1', 'name=x'],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    await waitForOutput(publisher, outputOf(publisher), /Established under name/, 10_000);
    // Avahi announces a new service at about 0, 1 and 3 s. Our node starts after that,
    // so it can only find the service by asking.
    await new Promise((r) => setTimeout(r, 4_000));
    const node = await startMdnsNode(ours);
    const peer = await node.waitForPeer(id, 5_000);
    expect(peer).toMatchObject({ peerId: id, port, name: 'x', proto: '1', host: avahiHost.address, interfaceAddress: ours.address });
    // avahi-publish withdraws its records (goodbye, TTL 0) when it ends.
    publisher.kill('SIGTERM');
    await node.waitForExpired(id, 5_000);
  });

  it('on the same host as avahi-daemon, both share port 5353 and see each other', async (ctx) => {
    const unavailable = await startAvahi();
    if (unavailable) skipTest(ctx, unavailable);
    const id = randomPeerId();
    const publisher = avahiHost.spawn(
      'avahi-publish',
      ['-s', `beside-${id.slice(0, 8)}`, '_lanspread._udp', '4444', `id=${id}`, 'proto=1'],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    await waitForOutput(publisher, outputOf(publisher), /Established under name/, 10_000);
    const node = await startMdnsNode(avahiHost);
    expect(await node.waitForPeer(id, 5_000)).toMatchObject({ port: 4444, host: avahiHost.address });
    let found: Resolved | undefined;
    const deadline = Date.now() + 8_000;
    while (!found && Date.now() < deadline) {
      const r = await avahiHost.exec('avahi-browse', ['-rpt', '_lanspread._udp'], { env, timeoutMs: 8_000 });
      found = parseResolved(r.stdout).find((x) => x.name === node.peerId);
    }
    expect(found).toMatchObject({ port: node.port, address: avahiHost.address });
    publisher.kill('SIGTERM');
  });
});
