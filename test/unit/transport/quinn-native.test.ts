// The quinn native layer has the shape the transport is written against; if an
// upgrade changes it, this fails naming what changed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConnectionClosedError } from '../../../server/runtime/transport/errors.js';
import {
  QUINN_PACKAGE_VERSION,
  REQUIRED_MEMBERS,
  classifyNative,
  installedQuinnVersion,
  loadQuinn,
  missingMembers,
} from '../../../server/runtime/transport/quinn-native.js';

describe('quinn native layer', () => {
  it('is the pinned version, installed and declared exactly', () => {
    expect(installedQuinnVersion()).toBe(QUINN_PACKAGE_VERSION);
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies['@chainsafe/libp2p-quic']).toBe(QUINN_PACKAGE_VERSION);
  });

  it('has every class and method the transport calls', () => {
    const q = loadQuinn() as unknown as Record<string, unknown>;
    expect(missingMembers(q)).toEqual([]);
    for (const cls of Object.keys(REQUIRED_MEMBERS)) expect(typeof q[cls]).toBe('function');
  });

  it('names what a changed module lacks', () => {
    const real = loadQuinn() as unknown as Record<string, unknown>;
    class Stream {
      read(): void {}
    }
    const changed = { ...real, Stream, Client: undefined };
    expect(missingMembers(changed)).toEqual(expect.arrayContaining(['Client', 'Stream.write', 'Stream.stopRead']));
    expect(missingMembers({ ...real, SocketFamily: {} })).toEqual(['SocketFamily']);
  });

  it('reads quinn error wording into stable codes', () => {
    const cases: [string, string][] = [
      ['stream reset by peer: error 0', 'stream_reset'],
      ['sending stopped by peer: error 3', 'stream_stopped'],
      ['connection lost', 'connection_closed'],
      ['timed out', 'connection_closed'],
      ['closed by peer: 0', 'connection_closed'],
      ['something new', 'stream_failed'],
    ];
    for (const [message, code] of cases) expect(classifyNative(new Error(message), null).code).toBe(code);
    expect(classifyNative(new Error('sending stopped by peer: error 3', {}), null)).toMatchObject({ appCode: 3 });
    // Once the connection is closed, its reason wins over the stream's wording.
    const closed = new ConnectionClosedError('idle_timeout');
    expect(classifyNative(new Error('connection lost'), closed)).toBe(closed);
  });
});
