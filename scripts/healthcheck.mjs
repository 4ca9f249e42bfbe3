#!/usr/bin/env node
// The container's health check: GET /api/health with the node's token (from
// LANSPREAD_TOKEN, else the one generated into the state dir). Exit 0 when the
// node answers ok. LANSPREAD_HEALTH_URL overrides the address (default port 7420).
import fs from 'node:fs';
import path from 'node:path';

const url = process.env.LANSPREAD_HEALTH_URL || 'http://127.0.0.1:7420/';
let token = process.env.LANSPREAD_TOKEN || '';
if (!token) {
  try {
    token = fs.readFileSync(path.join(process.env.LANSPREAD_STATE || '/state', 'api-token'), 'utf8').trim();
  } catch {
    // no token: a node on loopback needs none
  }
}
try {
  const res = await fetch(new URL('api/health', url), token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const body = await res.json();
  process.exit(res.ok && body.ok === true ? 0 : 1);
} catch {
  process.exit(1);
}
