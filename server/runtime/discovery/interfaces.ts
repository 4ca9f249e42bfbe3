// Which IPv4 interfaces mDNS runs on. Each is listed with its netmask, because a
// packet is handled only by the socket whose subnet its source is on; an address
// whose netmask is unknown gets a /32, so it only ever matches itself.
import fs from 'node:fs';
import os from 'node:os';

export interface InterfaceAddress {
  address: string;
  netmask: string;
}

/** Up, multicast-capable, non-internal interfaces, first IPv4 address of each. */
export function multicastInterfaces(): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    const v4 = addrs?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4 && isUpAndMulticast(name)) out.push({ address: v4.address, netmask: v4.netmask });
  }
  return out;
}

/** IFF_UP and IFF_MULTICAST from sysfs on Linux; elsewhere (or unreadable) assumed. */
function isUpAndMulticast(name: string): boolean {
  if (process.platform !== 'linux') return true;
  try {
    const flags = Number.parseInt(fs.readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16);
    return Number.isNaN(flags) || ((flags & 0x1) !== 0 && (flags & 0x1000) !== 0);
  } catch {
    return true;
  }
}

/** Netmasks of given addresses from the system; an unknown one only matches itself. */
export function withNetmasks(addresses: string[]): InterfaceAddress[] {
  const all = Object.values(os.networkInterfaces()).flatMap((a) => a ?? []);
  return [...new Set(addresses)].map((address) => ({
    address,
    netmask: all.find((a) => a.address === address)?.netmask ?? '255.255.255.255',
  }));
}
