// Drive a node over its REST API, as a user's tools would.
import type { Game, Peer } from '../../shared/api.js';

export async function getJson<T>(base: string, path: string, token?: string): Promise<T> {
  const res = await fetch(new URL(path, base), token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function postJson(
  base: string,
  path: string,
  body: unknown = {},
  method = 'POST',
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(new URL(path, base), { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

export const peersOf = (node: { url: string }) => getJson<Peer[]>(node.url, '/api/peers');
export const gamesOf = (node: { url: string }) => getJson<Game[]>(node.url, '/api/games');
export const healthOf = (node: { url: string }) => getJson<{ peerId: string; name: string }>(node.url, '/api/health');
