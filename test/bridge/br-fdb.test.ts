/**
 * The bridge's forwarding database (br_fdb.c): learning a source on its port, moving it,
 * leaving local addresses alone, and ageing out after ageing_time (has_expired).
 */
import { describe, expect, it } from 'vitest';
import { Fdb, isValidEther } from '../../src/bridge/br-fdb.js';
import { Bridge, DEFAULT_PORT_FLAGS } from '../../src/bridge/bridge.js';
import { NetDevice } from '../../src/host/device.js';

const mac = (last: number): Uint8Array => new Uint8Array([0x02, 0, 0, 0, 0, last]);

function bridge(ageing = 300e9) {
  const br = new Bridge(new NetDevice(3, 'br0', null, mac(0xb0)), ageing);
  const p1 = br.addPort(new NetDevice(4, 'veth1', 'l1', mac(0xa1)), DEFAULT_PORT_FLAGS);
  const p2 = br.addPort(new NetDevice(5, 'veth2', 'l2', mac(0xa2)), DEFAULT_PORT_FLAGS);
  return { br, p1, p2 };
}

describe('br_fdb', () => {
  it('holds the bridge and its ports as local, static entries (fdb_add_local)', () => {
    const { br, p1 } = bridge();
    expect(br.fdb.find(mac(0xb0), 0)).toMatchObject({ local: true, static: true, port: null });
    expect(br.fdb.find(mac(0xa1), 1e15)).toMatchObject({ local: true, port: p1 });
  });

  it('learns a source on its port, refreshes it there, and moves it when it shows on another (br_fdb_update)', () => {
    const { br, p1, p2 } = bridge();
    expect(br.fdb.find(mac(1), 0)).toBeNull();
    expect(br.fdb.update(p1, mac(1), 10)).toBe('learned');
    expect(br.fdb.find(mac(1), 20)).toMatchObject({ port: p1, local: false, updated: 10 });
    expect(br.fdb.update(p1, mac(1), 30)).toBe('refreshed');
    expect(br.fdb.find(mac(1), 40)!.updated).toBe(30);
    expect(br.fdb.update(p2, mac(1), 50)).toBe('moved');
    expect(br.fdb.find(mac(1), 60)!.port).toBe(p2);
  });

  it('leaves a local address alone when a frame comes in with it as source', () => {
    const { br, p2 } = bridge();
    expect(br.fdb.update(p2, mac(0xa1), 10)).toBe('own-address');
    expect(br.fdb.find(mac(0xa1), 10)!.port!.dev.name).toBe('veth1');
  });

  it('ages a learned entry out ageing_time after its last refresh, never a local one (has_expired)', () => {
    const { br, p1 } = bridge(5e9);
    br.fdb.update(p1, mac(1), 1e9);
    expect(br.fdb.find(mac(1), 6e9 - 1)).not.toBeNull();
    expect(br.fdb.find(mac(1), 6e9)).toBeNull();
    br.fdb.update(p1, mac(1), 7e9);
    expect(br.fdb.find(mac(1), 11e9)).not.toBeNull();
    expect(br.fdb.find(mac(1), 12e9)).toBeNull();
    for (const local of [0xb0, 0xa1, 0xa2]) expect(br.fdb.find(mac(local), 1e15)).not.toBeNull();
  });

  it('takes an expired entry over as new, on whatever port the frame came in by', () => {
    const fdb = new Fdb(1e9);
    const { p1, p2 } = bridge();
    fdb.update(p1, mac(1), 0);
    expect(fdb.update(p2, mac(1), 2e9)).toBe('learned');
    expect(fdb.find(mac(1), 2e9)!.port).toBe(p2);
  });

  it('refuses group and all-zero sources (is_valid_ether_addr)', () => {
    expect(isValidEther(mac(1))).toBe(true);
    expect(isValidEther(new Uint8Array([1, 0, 0x5e, 0, 0, 1]))).toBe(false);
    expect(isValidEther(new Uint8Array(6))).toBe(false);
  });
});
