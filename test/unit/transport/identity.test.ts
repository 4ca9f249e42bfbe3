import { createHash, createPrivateKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import {
  KEY_FILE,
  generateIdentity,
  loadOrCreateIdentity,
  peerIdFromLibp2p,
  peerIdFromPublicKey,
} from '../../../server/runtime/transport/identity.js';
import { tempDir, exists } from '../../helpers/temp-dir.js';

describe('identity', () => {
  it('is an Ed25519 key whose peer id is the start of the SHA-256 of its public key', async () => {
    const id = await generateIdentity();
    const key = privateKeyFromProtobuf(id.privateKeyProto);
    expect(key.type).toBe('Ed25519');
    expect(id.peerId).toMatch(/^[0-9a-f]{32}$/);
    expect(id.peerId).toBe(createHash('sha256').update(key.publicKey.raw).digest('hex').slice(0, 32));
    // The key signs, and the signature checks with node's own crypto (no external tool involved).
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(key.raw.subarray(0, 32))]);
    const priv = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    const sig = sign(null, Buffer.from('hello'), priv);
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key.publicKey.raw)]);
    expect(verify(null, Buffer.from('hello'), { key: spki, format: 'der', type: 'spki' }, sig)).toBe(true);
  });

  it('gives every generated identity its own key and id', async () => {
    const [a, b] = await Promise.all([generateIdentity(), generateIdentity()]);
    expect(a.peerId).not.toBe(b.peerId);
  });

  it('derives the same id from the libp2p id the handshake proves, and none from a non-Ed25519 or malformed one', async () => {
    const id = await generateIdentity();
    const libp2pId = peerIdFromPrivateKey(privateKeyFromProtobuf(id.privateKeyProto)).toString();
    expect(peerIdFromLibp2p(libp2pId)).toBe(id.peerId);
    expect(peerIdFromLibp2p('not-a-peer-id')).toBeNull();
    // A secp256k1-style id (another key type) is not accepted as a node identity.
    expect(peerIdFromLibp2p('16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY')).toBeNull();
    expect(peerIdFromPublicKey(new Uint8Array(32))).toMatch(/^[0-9a-f]{32}$/);
  });

  it('creates the key once (mode 0600) and loads the same one afterwards', async () => {
    const dir = await tempDir();
    const first = await loadOrCreateIdentity(dir);
    const again = await loadOrCreateIdentity(dir);
    expect(again.peerId).toBe(first.peerId);
    expect((await stat(path.join(dir, KEY_FILE))).mode & 0o777).toBe(0o600);
  });

  it('starts cleanly on a state dir of the old scheme, removing its files', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'peer-id'), `${'ab'.repeat(16)}\n`);
    await writeFile(path.join(dir, 'known-peers.json'), '{"cd":"ef"}');
    await mkdir(path.join(dir, 'identity'));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await writeFile(path.join(dir, 'identity', 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const id = await loadOrCreateIdentity(dir);
    expect(id.peerId).not.toBe('ab'.repeat(16));
    for (const old of ['peer-id', 'known-peers.json', 'identity']) expect(await exists(path.join(dir, old))).toBe(false);
    expect((await loadOrCreateIdentity(dir)).peerId).toBe(id.peerId);
  });

  it('refuses a damaged key file with a clear, coded error instead of replacing the identity', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, KEY_FILE), 'garbage');
    await expect(loadOrCreateIdentity(dir)).rejects.toMatchObject({ code: 'identity_failed' });
    expect(await readFile(path.join(dir, KEY_FILE), 'utf8')).toBe('garbage');
  });
});
