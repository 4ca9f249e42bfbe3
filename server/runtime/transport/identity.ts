// A node's TLS identity: an EC P-256 key and a self-signed certificate.
// Certificates are never verified against a CA; what identifies a peer is the
// sha256 of its certificate's public key (SPKI), which survives re-issuing the
// certificate for the same key and cannot be claimed without the key.
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { IdentityError } from './errors.js';

const execFileAsync = promisify(execFile);

export interface Identity {
  /** PEM private key. */
  key: string;
  /** PEM self-signed certificate. */
  cert: string;
  /** sha256 hex of the certificate's SPKI; what peers see as `remoteFingerprint`. */
  fingerprint: string;
}

export interface GenerateIdentityOptions {
  commonName?: string;
  /** Validity in days; default 100 years, since nothing checks expiry. */
  days?: number;
  /** The openssl executable; default `openssl` from PATH. */
  openssl?: string;
}

/** sha256 (hex) of a certificate's SubjectPublicKeyInfo, from PEM text or DER bytes. */
export function spkiFingerprint(cert: string | Uint8Array): string {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(typeof cert === 'string' ? cert : Buffer.from(cert));
  } catch (err) {
    throw new IdentityError('not a valid X.509 certificate', { cause: err });
  }
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

/**
 * Makes a fresh key and self-signed certificate with the `openssl` CLI
 * (node:crypto makes keys but not X.509 certificates).
 */
export async function generateIdentity(options: GenerateIdentityOptions = {}): Promise<Identity> {
  const cn = options.commonName ?? 'lanspread';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(cn)) throw new IdentityError(`invalid common name "${cn}"`);
  const days = options.days ?? 36_500;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lanspread-identity-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    try {
      await execFileAsync(
        options.openssl ?? 'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          keyFile,
          '-out',
          certFile,
          '-days',
          String(days),
          '-subj',
          `/CN=${cn}`,
        ],
        { timeout: 30_000 },
      );
    } catch (err) {
      throw new IdentityError('openssl could not create a certificate (is openssl installed?)', { cause: err });
    }
    const [key, cert] = await Promise.all([readFile(keyFile, 'utf8'), readFile(certFile, 'utf8')]);
    return { key, cert, fingerprint: spkiFingerprint(cert) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads `key.pem`/`cert.pem` from `dir`; creates them (key mode 0600) when absent. */
export async function loadOrCreateIdentity(dir: string, options: GenerateIdentityOptions = {}): Promise<Identity> {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  try {
    const [key, cert] = await Promise.all([readFile(keyFile, 'utf8'), readFile(certFile, 'utf8')]);
    return { key, cert, fingerprint: spkiFingerprint(cert) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const identity = await generateIdentity(options);
  await mkdir(dir, { recursive: true });
  await writeFile(keyFile, identity.key, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  await writeFile(certFile, identity.cert);
  return identity;
}
