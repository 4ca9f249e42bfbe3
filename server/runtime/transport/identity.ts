// A node's identity is one Ed25519 key, made once in JavaScript (no external
// tool) and kept in the state dir. Its peer id is derived from the public key:
// the first 128 bits of SHA-256 of the raw 32-byte key, in hex. The QUIC
// handshake (libp2p TLS: a self-signed certificate carrying the key and a
// signature by it) proves the key to the other side, which derives the id
// itself, so no node can answer for an id that is not its own.
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromString } from '@libp2p/peer-id';
import { writeFileAtomic } from '../fs-util.js';
import { IdentityError } from './errors.js';

export interface Identity {
  /** Derived from the public key (hex, 32 characters). */
  readonly peerId: string;
  /** The private key in libp2p's protobuf encoding, which the QUIC layer takes. */
  readonly privateKeyProto: Uint8Array;
}

/** The key's file in the state dir. */
export const KEY_FILE = 'node-key';

/** Files of the identity scheme before keys were identities; removed on start. */
const OBSOLETE = ['peer-id', 'known-peers.json', 'identity'];

/** The peer id of a raw Ed25519 public key. */
export function peerIdFromPublicKey(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 32);
}

/** The peer id behind a libp2p peer id string (what the handshake proved), or null if it is not an Ed25519 key. */
export function peerIdFromLibp2p(libp2pId: string): string | null {
  try {
    const key = peerIdFromString(libp2pId).publicKey;
    if (key?.type !== 'Ed25519') return null;
    return peerIdFromPublicKey(key.raw);
  } catch {
    return null;
  }
}

function fromProtobuf(bytes: Uint8Array): Identity {
  const key = privateKeyFromProtobuf(bytes);
  if (key.type !== 'Ed25519') throw new IdentityError(`the key is ${key.type}, not Ed25519`);
  return { peerId: peerIdFromPublicKey(key.publicKey.raw), privateKeyProto: privateKeyToProtobuf(key) };
}

/** A fresh identity (not stored). */
export async function generateIdentity(): Promise<Identity> {
  return fromProtobuf(privateKeyToProtobuf(await generateKeyPair('Ed25519')));
}

/**
 * Reads `<stateDir>/node-key`, or makes and stores a new key (mode 0600) when
 * there is none. Files of the older identity scheme are removed, so a node
 * upgraded in place starts cleanly on its new identity.
 */
export async function loadOrCreateIdentity(stateDir: string): Promise<Identity> {
  const file = path.join(stateDir, KEY_FILE);
  let identity: Identity | null = null;
  try {
    identity = fromProtobuf(await readFile(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new IdentityError(`cannot read the node key ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (!identity) {
    identity = await generateIdentity();
    await mkdir(stateDir, { recursive: true });
    await writeFileAtomic(file, Buffer.from(identity.privateKeyProto), { mode: 0o600 });
    await chmod(file, 0o600);
  }
  await Promise.all(OBSOLETE.map((name) => rm(path.join(stateDir, name), { recursive: true, force: true })));
  return identity;
}
