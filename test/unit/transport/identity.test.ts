import { X509Certificate, createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateIdentity, loadOrCreateIdentity, spkiFingerprint } from '../../../server/runtime/transport/identity.js';
import { devIdentity } from './helpers.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('identity', () => {
  it('generates a P-256 key with a matching self-signed certificate', async () => {
    const id = await generateIdentity({ commonName: 'node-a' });
    const x509 = new X509Certificate(id.cert);
    expect(x509.subject).toBe('CN=node-a');
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(x509.checkPrivateKey(createPrivateKey(id.key))).toBe(true);
    expect(id.fingerprint).toBe(spkiFingerprint(id.cert));
    // The fingerprint is of the key itself, whatever certificate carries it.
    const spki = createPublicKey(createPrivateKey(id.key)).export({ type: 'spki', format: 'der' });
    expect(id.fingerprint).toBe(createHash('sha256').update(spki).digest('hex'));
    expect(id.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives every generated identity its own key', async () => {
    const [a, b] = await Promise.all([generateIdentity(), generateIdentity()]);
    expect(a.fingerprint).not.toBe(b.fingerprint);
  });

  it('fingerprints the public key, so PEM and DER of one certificate agree', () => {
    const { cert } = devIdentity();
    expect(spkiFingerprint(new X509Certificate(cert).raw)).toBe(spkiFingerprint(cert));
    expect(() => spkiFingerprint('not a certificate')).toThrow(expect.objectContaining({ code: 'identity_failed' }));
  });

  it('creates an identity once and loads the same one afterwards', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lanspread-test-identity-'));
    dirs.push(dir);
    const first = await loadOrCreateIdentity(path.join(dir, 'tls'));
    const again = await loadOrCreateIdentity(path.join(dir, 'tls'));
    expect(again.fingerprint).toBe(first.fingerprint);
    expect((await stat(path.join(dir, 'tls', 'key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('ships a development certificate: EC P-256, CN=lanspread, valid for years', () => {
    const { key, cert } = devIdentity();
    const x509 = new X509Certificate(cert);
    expect(x509.subject).toBe('CN=lanspread');
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(x509.checkPrivateKey(createPrivateKey(key))).toBe(true);
    const tenYears = 10 * 365 * 24 * 3600 * 1000;
    expect(new Date(x509.validTo).getTime() - Date.now()).toBeGreaterThan(tenYears);
  });
});
