/**
 * The ipvsadm front-end: `ipvsadm -Sn` text and hand-written -A / -a lines become service specs
 * with ipvsadm's defaults, `ipvsadm -Ln` / `-Lnc` are printed byte for byte as ipvsadm 1.31
 * prints them, and every line ipvsadm or the kernel would refuse is an InputError with its place.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { formatIpvsConnections, formatIpvsList, type IpvsConnView } from '../../src/netfilter/ipvs/ipvsadm-list.js';
import { parseIpvsadmSave } from '../../src/netfilter/ipvs/ipvsadm-save.js';
import { newDest, type IpvsService, type IpvsServiceSpec, type Scheduler } from '../../src/netfilter/ipvs/service.js';
import { parseIpv4 } from '../../src/packet/ipv4-addr.js';

const ip = (text: string): number => parseIpv4(text)!;
const dummyScheduler: Scheduler = { schedule: () => null };
const running = (spec: IpvsServiceSpec): IpvsService => ({ spec, dests: spec.dests.map(newDest), scheduler: dummyScheduler });

function errorOf(text: string): { line?: number; col?: number; reason: string } {
  try {
    parseIpvsadmSave(text, 'ipvs.rules');
  } catch (e) {
    if (e instanceof InputError) return { line: e.place.line, col: e.place.col, reason: e.reason };
    throw e;
  }
  throw new Error('no error');
}

const SEED = ['ipvsadm -A -t 10.0.0.254:80 -s rr', 'ipvsadm -a -t 10.0.0.254:80 -r 192.168.122.249:8080 -m -w 1', ''].join('\n');

/** What `ipvsadm-save -n` prints for a small kube-proxy (IPVS mode) cluster, plus a fwmark service. */
const KUBE_PROXY_SAVE = `-A -t 10.96.0.1:443 -s rr
-a -t 10.96.0.1:443 -r 192.168.49.2:8443 -m -w 1
-A -t 10.96.0.10:53 -s rr
-a -t 10.96.0.10:53 -r 10.244.0.2:53 -m -w 1
-a -t 10.96.0.10:53 -r 10.244.0.3:53 -m -w 1
-A -t 10.96.0.10:9153 -s rr
-a -t 10.96.0.10:9153 -r 10.244.0.2:9153 -m -w 1
-a -t 10.96.0.10:9153 -r 10.244.0.3:9153 -m -w 1
-A -t 10.96.118.23:80 -s rr -p 10800
-a -t 10.96.118.23:80 -r 10.244.0.7:8080 -m -w 1
-a -t 10.96.118.23:80 -r 10.244.0.8:8080 -m -w 1
-A -u 10.96.0.10:53 -s rr
-a -u 10.96.0.10:53 -r 10.244.0.2:53 -m -w 1
-a -u 10.96.0.10:53 -r 10.244.0.3:53 -m -w 1
-A -f 100 -s rr
-a -f 100 -r 10.244.0.9:0 -m -w 1
`;

describe('parseIpvsadmSave', () => {
  it('reads the seed experiment’s two commands', () => {
    const [svc, ...rest] = parseIpvsadmSave(SEED, 'seed.sh');
    expect(rest).toEqual([]);
    expect(svc).toEqual({
      key: { kind: 'addr', protocol: 6, addr: ip('10.0.0.254'), port: 80 },
      scheduler: 'rr',
      flags: { fallback: false, port: false },
      persistent: null,
      netmask: 0xffffffff,
      onePacket: false,
      dests: [{ addr: ip('192.168.122.249'), port: 8080, method: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 }],
      place: { file: 'seed.sh', line: 1, col: 9 },
    });
  });

  it('reads a kube-proxy save: services, masq servers, a persistent service, a fwmark service', () => {
    const specs = parseIpvsadmSave(KUBE_PROXY_SAVE, 'ipvs.save');
    expect(specs.map((s) => s.key)).toEqual([
      { kind: 'addr', protocol: 6, addr: ip('10.96.0.1'), port: 443 },
      { kind: 'addr', protocol: 6, addr: ip('10.96.0.10'), port: 53 },
      { kind: 'addr', protocol: 6, addr: ip('10.96.0.10'), port: 9153 },
      { kind: 'addr', protocol: 6, addr: ip('10.96.118.23'), port: 80 },
      { kind: 'addr', protocol: 17, addr: ip('10.96.0.10'), port: 53 },
      { kind: 'fwmark', mark: 100 },
    ]);
    expect(specs.map((s) => s.persistent)).toEqual([null, null, null, 10800, null, null]);
    expect(specs.every((s) => s.scheduler === 'rr' && s.dests.every((d) => d.method === 'masq' && d.weight === 1))).toBe(true);
    expect(specs[3]!.dests.map((d) => [d.addr, d.port])).toEqual([[ip('10.244.0.7'), 8080], [ip('10.244.0.8'), 8080]]);
    expect(specs[5]!.dests).toEqual([{ addr: ip('10.244.0.9'), port: 0, method: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 }]);
  });

  it('takes ipvsadm’s defaults: wlc, direct routing with the service port, weight 1, -p 360', () => {
    const [svc] = parseIpvsadmSave('-A -t 10.0.0.1:80 -p\n-a -t 10.0.0.1:80 -r 10.0.1.1:8080\n-a -t 10.0.0.1:80 -r 10.0.1.2 -m\n', 'r');
    expect(svc!.scheduler).toBe('wlc');
    expect(svc!.persistent).toBe(360);
    expect(svc!.dests).toEqual([
      { addr: ip('10.0.1.1'), port: 80, method: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 },
      { addr: ip('10.0.1.2'), port: 80, method: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 },
    ]);
  });

  it('reads long options, clustered short ones, -M, -b, -o, thresholds, comments and blank lines', () => {
    const text = [
      '# hand-written',
      '',
      'ipvsadm --add-service --udp-service 10.0.0.1:53 --scheduler sh --sched-flags sh-fallback,sh-port --persistent=600 --netmask 255.255.255.0 --ops',
      '-au 10.0.0.1:53 --real-server 10.0.1.1:5353 --masquerading --weight 3 --u-threshold 100 --l-threshold 50  # a comment',
      '-Af 7 -s mh -b mh-port',
      '-a --fwmark-service 7 -r 10.0.1.2 --ipip -w0',
      '-A -t 10.0.0.2:443 -s wrr -b flag-1',
      '-a -t 10.0.0.2:443 -r 10.0.1.3:8443 --gatewaying',
    ].join('\n');
    const [udp, fwm, tcp] = parseIpvsadmSave(text, 'r');
    expect(udp).toMatchObject({ scheduler: 'sh', flags: { fallback: true, port: true }, persistent: 600, netmask: ip('255.255.255.0'), onePacket: true });
    expect(udp!.dests).toEqual([{ addr: ip('10.0.1.1'), port: 5353, method: 'masq', weight: 3, upperThreshold: 100, lowerThreshold: 50 }]);
    expect(fwm).toMatchObject({ key: { kind: 'fwmark', mark: 7 }, scheduler: 'mh', flags: { fallback: false, port: true } });
    expect(fwm!.dests).toEqual([{ addr: ip('10.0.1.2'), port: 0, method: 'tunnel', weight: 0, upperThreshold: 0, lowerThreshold: 0 }]);
    expect(tcp).toMatchObject({ scheduler: 'wrr', flags: { fallback: true, port: false } });
    expect(tcp!.dests[0]).toMatchObject({ port: 443, method: 'route' });
  });
});

describe('formatIpvsList (ipvsadm -Ln)', () => {
  it('prints the seed experiment’s table as ipvsadm did', () => {
    const lines = formatIpvsList(parseIpvsadmSave(SEED, 'seed.sh').map(running));
    // printf("%-10u\n") pads the last column: ipvsadm's lines end in blanks.
    expect(lines).toEqual([
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  10.0.0.254:80 rr',
      '  -> 192.168.122.249:8080         Masq    1      0          0         ',
    ]);
    expect(lines.map((l) => l.trimEnd()).join('\n')).toBe(`IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.0.0.254:80 rr
  -> 192.168.122.249:8080         Masq    1      0          0`);
  });

  it('sorts services and servers as ipvsadm does, whatever the creation order, and prints counters', () => {
    const services = parseIpvsadmSave(KUBE_PROXY_SAVE, 'ipvs.save').map(running).reverse();
    for (const s of services) s.dests.reverse();
    const dns = services.find((s) => s.spec.key.kind === 'addr' && s.spec.key.protocol === 6 && s.spec.key.port === 53)!;
    dns.dests[0]!.activeConns = 2;
    dns.dests[0]!.inactConns = 13;
    expect(formatIpvsList(services).map((l) => l.trimEnd())).toEqual([
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  10.96.0.1:443 rr',
      '  -> 192.168.49.2:8443            Masq    1      0          0',
      'TCP  10.96.0.10:53 rr',
      '  -> 10.244.0.2:53                Masq    1      0          0',
      '  -> 10.244.0.3:53                Masq    1      2          13',
      'TCP  10.96.0.10:9153 rr',
      '  -> 10.244.0.2:9153              Masq    1      0          0',
      '  -> 10.244.0.3:9153              Masq    1      0          0',
      'TCP  10.96.118.23:80 rr persistent 10800',
      '  -> 10.244.0.7:8080              Masq    1      0          0',
      '  -> 10.244.0.8:8080              Masq    1      0          0',
      'UDP  10.96.0.10:53 rr',
      '  -> 10.244.0.2:53                Masq    1      0          0',
      '  -> 10.244.0.3:53                Masq    1      0          0',
      'FWM  100 rr',
      '  -> 10.244.0.9:0                 Masq    1      0          0',
    ]);
  });

  it('prints scheduler flags, mask, ops and the Route and Tunnel methods', () => {
    const text = [
      '-A -u 10.0.0.1:53 -s sh -b sh-port,sh-fallback -p 600 -M 255.255.255.0 -o',
      '-a -u 10.0.0.1:53 -r 10.0.1.1 -g -w 5',
      '-A -t 10.0.0.1:80 -s wlc -b flag-2',
      '-a -t 10.0.0.1:80 -r 10.0.1.2 -i',
    ].join('\n');
    expect(formatIpvsList(parseIpvsadmSave(text, 'r').map(running)).slice(3).map((l) => l.trimEnd())).toEqual([
      'TCP  10.0.0.1:80 wlc (flag-2)',
      '  -> 10.0.1.2:80                  Tunnel  1      0          0',
      'UDP  10.0.0.1:53 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0 ops',
      '  -> 10.0.1.1:53                  Route   5      0          0',
    ]);
  });

  it('keeps libipvs’ wrapping comparator: 192.168.0.1 sorts before 10.0.0.1 (the difference overflows int)', () => {
    const text = '-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.1 -m\n-a -t 10.0.0.1:80 -r 192.168.0.1 -m\n';
    expect(formatIpvsList(parseIpvsadmSave(text, 'r').map(running)).slice(4).map((l) => l.trimEnd())).toEqual([
      '  -> 192.168.0.1:80               Masq    1      0          0',
      '  -> 10.0.1.1:80                  Masq    1      0          0',
    ]);
  });
});

describe('formatIpvsConnections (ipvsadm -Lnc)', () => {
  it('prints the header and one row per connection with mm:ss expiry', () => {
    const conn = (c: Partial<IpvsConnView>): IpvsConnView => ({
      protocol: 'TCP', expiresIn: 899, state: 'ESTABLISHED', caddr: ip('192.168.122.1'), cport: 40000,
      vaddr: ip('10.0.0.254'), vport: 80, daddr: ip('192.168.122.249'), dport: 8080, ...c,
    });
    expect(formatIpvsConnections([conn({}), conn({ expiresIn: 61, state: 'TIME_WAIT', caddr: ip('10.0.0.9'), cport: 5 }), conn({ protocol: 'UDP', expiresIn: 7, state: 'UDP', cport: 53, vport: 53, dport: 53 })])).toEqual([
      'IPVS connection entries',
      'pro expire state       source             virtual            destination',
      'TCP 14:59  ESTABLISHED 192.168.122.1:40000 10.0.0.254:80      192.168.122.249:8080',
      'TCP 01:01  TIME_WAIT   10.0.0.9:5         10.0.0.254:80      192.168.122.249:8080',
      'UDP 00:07  UDP         192.168.122.1:53   10.0.0.254:53      192.168.122.249:53',
    ]);
  });
});

describe('refusals', () => {
  const cases: [string, string, number, number, string][] = [
    ['unknown option', '-A -t 10.0.0.1:80 --foo', 1, 19, '--foo: unknown option'],
    ['unknown short option', '-A -t 10.0.0.1:80 -Q', 1, 19, '-Q: unknown option'],
    ['unmodelled option', '-A -t 10.0.0.1:80 --pe sip', 1, 19, 'ipvsadm option --pe is not modelled by natsim'],
    ['another command', '-D -t 10.0.0.1:80', 1, 1, '--delete-service: natsim reads only the -A and -a lines of an ipvsadm-save table'],
    ['no command first', '-t 10.0.0.1:80 -A', 1, 1, "expected a command first: -A (--add-service) or -a (--add-server), found '-t'"],
    ['two commands', '-A -a -t 10.0.0.1:80', 1, 4, 'multiple commands specified'],
    ['missing argument', '-A -t 10.0.0.1:80 -s', 1, 21, '-s: missing argument'],
    ['stray argument', '-A -t 10.0.0.1:80 rr', 1, 19, 'unexpected argument rr'],
    ['unknown scheduler', '-A -t 10.0.0.1:80 -s lblc', 1, 22, "Scheduler or persistence engine not found ('lblc': natsim has rr, wrr, lc, wlc, sh, dh, mh)"],
    ['server of an undefined service', '-A -t 10.0.0.1:80\n-a -t 10.0.0.1:81 -r 10.0.1.1', 2, 7, 'Service not defined'],
    ['duplicate service', '-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80 -s rr', 2, 7, 'Service already exists'],
    ['duplicate fwmark service', '-A -f 1\n-A -f 1', 2, 7, 'Service already exists'],
    // Direct routing keeps the service port, so both servers are 10.0.1.1:80.
    ['duplicate server', '-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.1:8080 -g\n-a -t 10.0.0.1:80 -r 10.0.1.1:9090', 3, 22, 'Destination already exists'],
    ['bad address', '-A -t 10.0.0.300:80', 1, 7, "illegal virtual server address[:port] specified ('10.0.0.300:80': not an IPv4 address; natsim resolves no host names)"],
    ['bad port', '-A -t 10.0.0.1:http', 1, 7, "illegal virtual server address[:port] specified ('10.0.0.1:http': natsim takes a port number 0-65535, not a service name)"],
    ['bad real server', '-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.1:65536', 2, 22, "illegal real server address[:port] specified ('10.0.1.1:65536': natsim takes a port number 0-65535, not a service name)"],
    ['bad weight', '-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.1 -w 65536', 2, 34, 'illegal weight specified'],
    ['bad threshold', '-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.1 -x -1', 2, 34, 'illegal u_threshold specified'],
    ['thresholds the wrong way round', '-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.1 -x 5 -y 10', 2, 36, 'Numerical result out of range (the lower threshold is higher than the upper threshold)'],
    ['bad fwmark', '-A -f 0', 1, 7, "invalid fwmark value `0' specified"],
    ['bad timeout', '-A -t 10.0.0.1:80 -p 0', 1, 22, "invalid timeout value `0' specified"],
    ['bad netmask', '-A -t 10.0.0.1:80 -p -M 24', 1, 25, "illegal virtual server persistent mask specified ('24': natsim reads a netmask as A.B.C.D)"],
    ['IPv6 address', '-A -t [2001:db8::1]:80', 1, 7, 'IPv6 is not supported by natsim'],
    ['bare IPv6 address', '-A -t 2001:db8::1', 1, 7, 'IPv6 is not supported by natsim'],
    ['-6', '-A -f 1 -6', 1, 9, 'IPv6 is not supported by natsim'],
    ['option given twice', '-A -t 10.0.0.1:80 -u 10.0.0.1:53', 1, 19, "multiple 'service-address' options specified"],
    ['missing real server', '-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -m', 2, 1, "You need to supply the 'real-server' option for the 'add-server' command"],
    ['option of the other command', '-A -t 10.0.0.1:80 -w 2', 1, 19, "Illegal 'weight' option with the 'add-service' command"],
    ['zero port', '-A -t 10.0.0.1', 1, 7, 'Zero port specified for non-persistent service'],
    ['one-packet on TCP', '-A -t 10.0.0.1:80 -o', 1, 19, 'One-Packet Scheduling is only for UDP virtual services'],
    ['flag of another scheduler', '-A -t 10.0.0.1:80 -s rr -b flag-1,sh-port', 1, 35, "incompatible scheduler flag `sh-port'"],
    ['unknown flag', '-A -t 10.0.0.1:80 -b fast', 1, 22, "invalid scheduler flag `fast'"],
  ];
  it.each(cases)('%s', (_name, text, line, col, reason) => {
    expect(errorOf(text)).toEqual({ line, col, reason });
  });

  it('never crashes: any line is read or refused with an InputError that has a line and column', () => {
    const word = fc.constantFrom('-A', '-a', '-t', '-u', '-f', '-r', '-s', 'rr', '-p', '-M', '-b', 'sh-port', '-m', '-g', '-w', '-x', '-y', '-o', '10.0.0.1:80', '10.0.0.1', '7', '0', '-6', '--weight=3', '-At', '#', 'ipvsadm', '::');
    fc.assert(
      fc.property(fc.array(fc.array(word, { maxLength: 8 }).map((ws) => ws.join(' ')), { maxLength: 4 }), (lines) => {
        try {
          parseIpvsadmSave(lines.join('\n'), 'fuzz');
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
          expect((e as InputError).place.line).toBeGreaterThanOrEqual(1);
          expect((e as InputError).place.col).toBeGreaterThanOrEqual(1);
        }
      }),
    );
  });
});
