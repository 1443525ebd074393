/**
 * Reads `ipvsadm -Sn` / `ipvsadm-save -n` output, and the same -A / -a lines written by hand,
 * into IPVS service specs. Each line is one ipvsadm command as `ipvsadm -R` replays it: options
 * are read as parse_options() reads them (ipvsadm 1.31, popt), checked as generic_opt_check()
 * and process_options() check them, then applied as the kernel applies IP_VS_SO_SET_ADD /
 * ADDDEST (ip_vs_ctl.c), so a line the real tools refuse is refused here with ipvsadm's words.
 */
import { InputError, type SourcePlace } from '../../errors.js';
import { parseIpv4 } from '../../packet/ipv4-addr.js';
import { SCHEDULER_NAMES, type ForwardMethod, type IpvsDestSpec, type IpvsServiceSpec, type SchedFlags, type SchedulerName, type ServiceKey } from './service.js';

/** ipvsadm.c DEF_SCHED. */
const DEF_SCHED: SchedulerName = 'wlc';
/** libipvs.h IPVS_SVC_PERSISTENT_TIMEOUT (6*60): -p without a value. The man page's "300" is wrong. */
const DEF_PERSISTENT_TIMEOUT = 360;
/** ipvsadm.c MAX_TIMEOUT (31 days). */
const MAX_TIMEOUT = 86400 * 31;
const INT_MAX = 0x7fffffff;

type Command = 'add-service' | 'add-server';

/** ipvsadm.c optnames[]: the option classes set_option() counts and generic_opt_check() checks, in OPTC_ order. */
const OPT_CLASSES = ['service-address', 'scheduler', 'persistent', 'netmask', 'real-server', 'forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'ops', 'sched-flags'] as const;
type OptClass = (typeof OPT_CLASSES)[number];

/** ipvsadm.c commands_v_options[] rows ADD and ADDSRV: '+' compulsory, ' ' optional, others illegal. */
const COMMAND_OPTIONS: Readonly<Record<Command, { readonly required: readonly OptClass[]; readonly optional: readonly OptClass[] }>> = {
  'add-service': { required: ['service-address'], optional: ['scheduler', 'persistent', 'netmask', 'ops', 'sched-flags'] },
  'add-server': { required: ['service-address', 'real-server'], optional: ['forwarding-method', 'weight', 'u-threshold', 'l-threshold'] },
};

type ArgKind = 'none' | 'required' | 'optional';

interface OptionDef {
  readonly long: string;
  readonly short: string | null;
  readonly arg: ArgKind;
  /** The command it selects, or the class set_option() records it under (null: -6). */
  readonly command?: Command;
  readonly cls?: OptClass;
}

/** parse_options() options_table[], the entries natsim reads. */
const OPTIONS: readonly OptionDef[] = [
  { long: 'add-service', short: 'A', arg: 'none', command: 'add-service' },
  { long: 'add-server', short: 'a', arg: 'none', command: 'add-server' },
  { long: 'tcp-service', short: 't', arg: 'required', cls: 'service-address' },
  { long: 'udp-service', short: 'u', arg: 'required', cls: 'service-address' },
  { long: 'fwmark-service', short: 'f', arg: 'required', cls: 'service-address' },
  { long: 'scheduler', short: 's', arg: 'required', cls: 'scheduler' },
  { long: 'persistent', short: 'p', arg: 'optional', cls: 'persistent' },
  { long: 'netmask', short: 'M', arg: 'required', cls: 'netmask' },
  { long: 'real-server', short: 'r', arg: 'required', cls: 'real-server' },
  { long: 'masquerading', short: 'm', arg: 'none', cls: 'forwarding-method' },
  { long: 'ipip', short: 'i', arg: 'none', cls: 'forwarding-method' },
  { long: 'gatewaying', short: 'g', arg: 'none', cls: 'forwarding-method' },
  { long: 'weight', short: 'w', arg: 'required', cls: 'weight' },
  { long: 'u-threshold', short: 'x', arg: 'required', cls: 'u-threshold' },
  { long: 'l-threshold', short: 'y', arg: 'required', cls: 'l-threshold' },
  { long: 'ops', short: 'o', arg: 'none', cls: 'ops' },
  { long: 'sched-flags', short: 'b', arg: 'required', cls: 'sched-flags' },
  { long: 'ipv6', short: '6', arg: 'none' },
];

/** The other ipvsadm commands, by short letter and by long name: real, but not lines of a saved table. */
const OTHER_SHORT_COMMANDS: Readonly<Record<string, string>> = {
  E: 'edit-service', D: 'delete-service', C: 'clear', L: 'list', l: 'list', Z: 'zero', e: 'edit-server', d: 'delete-server', R: 'restore', S: 'save', h: 'help', v: 'version',
};
const OTHER_LONG_COMMANDS = [...Object.values(OTHER_SHORT_COMMANDS), 'set', 'start-daemon', 'stop-daemon'];

/** Options ipvsadm has for a service or server that natsim does not model. */
const UNMODELLED_OPTIONS = ['sctp-service', 'pe', 'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];

const FORWARD_METHODS: Readonly<Record<string, ForwardMethod>> = { m: 'masq', i: 'tunnel', g: 'route' };

interface Word {
  readonly text: string;
  readonly col: number;
}

/** One option as popt hands it over: its definition, where it was written and its argument. */
interface Opt {
  readonly def: OptionDef;
  readonly at: Word;
  readonly value: Word | null;
}

/** A service address as parse_service() reads it: port null when none was written. */
interface AddrPort {
  readonly addr: number;
  readonly port: number | null;
}

type Fail = (col: number, reason: string) => never;

/** struct ipvs_command_entry, as far as -A and -a fill it. */
interface CommandEntry {
  readonly command: Command;
  readonly commandWord: Word;
  readonly seen: Map<OptClass, Word>;
  service: { readonly key: ServiceKey; readonly at: Word } | null;
  scheduler: Word | null;
  persistent: number | null;
  netmask: number;
  onePacket: boolean;
  schedFlags: Word | null;
  flags: SchedFlags;
  dest: { readonly addr: number; readonly port: number; readonly at: Word } | null;
  method: ForwardMethod;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
}

type MutableService = Omit<IpvsServiceSpec, 'dests'> & { readonly dests: IpvsDestSpec[] };

export function parseIpvsadmSave(text: string, file: string): IpvsServiceSpec[] {
  const services: MutableService[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const words = splitWords(lines[i]!);
    if (words[0]?.text === 'ipvsadm') words.shift();
    if (words.length === 0) continue;
    const place = (col: number): SourcePlace => ({ file, line: i + 1, col });
    const fail: Fail = (col, reason) => {
      throw new InputError(place(col), reason);
    };
    const entry = readCommand(words, fail, lines[i]!.length + 1);
    if (entry.command === 'add-service') addService(services, entry, place(entry.commandWord.col), fail);
    else addDest(services, entry, fail);
  }
  return services;
}

/** Splits on blanks as config_stream_read() does; a word starting with '#' ends the line. */
function splitWords(line: string): Word[] {
  const words: Word[] = [];
  for (const m of line.matchAll(/[^ \t\r]+/g)) {
    if (m[0].startsWith('#')) break;
    words.push({ text: m[0], col: m.index + 1 });
  }
  return words;
}

/** parse_options() and the checks of process_options() that come before the kernel is asked. */
function readCommand(words: readonly Word[], fail: Fail, endCol: number): CommandEntry {
  const opts = readOptions(words, fail, endCol);
  const first = opts[0]!;
  if (!first.def.command) fail(first.at.col, `expected a command first: -A (--add-service) or -a (--add-server), found '${first.at.text}'`);
  const entry: CommandEntry = {
    command: first.def.command!, commandWord: first.at, seen: new Map(), service: null, scheduler: null, persistent: null,
    netmask: 0xffffffff, onePacket: false, schedFlags: null, flags: { fallback: false, port: false }, dest: null, method: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0,
  };
  for (const opt of opts.slice(1)) applyOption(entry, opt, fail);
  checkOptions(entry, fail);
  return entry;
}

/** popt: long options (--name, --name=value), clustered short ones (-At, -p300), their arguments. */
function readOptions(words: readonly Word[], fail: Fail, endCol: number): Opt[] {
  const opts: Opt[] = [];
  let w = 0;
  // POPT_ARGFLAG_OPTIONAL (-p): the next word is the argument unless it is an option.
  const nextValue = (def: OptionDef, at: Word): Word | null => {
    const next = words[w];
    if (def.arg === 'optional' && (next === undefined || next.text.startsWith('-'))) return null;
    if (next === undefined) return fail(endCol, `${at.text}: missing argument`);
    w++;
    return next;
  };
  while (w < words.length) {
    const word = words[w++]!;
    if (word.text.startsWith('--')) {
      const eq = word.text.indexOf('=');
      const name = word.text.slice(2, eq < 0 ? undefined : eq);
      const def = lookupOption(name, null, word, fail);
      const at: Word = { text: `--${name}`, col: word.col };
      if (def.arg === 'none' && eq >= 0) fail(word.col + eq, `--${name}: option does not take an argument`);
      const value = eq >= 0 ? { text: word.text.slice(eq + 1), col: word.col + eq + 1 } : def.arg === 'none' ? null : nextValue(def, at);
      opts.push({ def, at, value });
    } else if (word.text.startsWith('-') && word.text.length > 1) {
      for (let c = 1; c < word.text.length; c++) {
        // The first letter is placed at its '-', a later one of a cluster (-At) at itself.
        const at: Word = { text: `-${word.text[c]}`, col: c === 1 ? word.col : word.col + c };
        const def = lookupOption(null, word.text[c]!, at, fail);
        const rest = word.text.slice(c + 1);
        if (def.arg === 'none') {
          opts.push({ def, at, value: null });
          continue;
        }
        opts.push({ def, at, value: rest !== '' ? { text: rest, col: word.col + c + 1 } : nextValue(def, at) });
        break;
      }
    } else {
      fail(word.col, opts.length === 0 ? `expected a command first: -A (--add-service) or -a (--add-server), found '${word.text}'` : `unexpected argument ${word.text}`);
    }
  }
  return opts;
}

function lookupOption(long: string | null, short: string | null, at: Word, fail: Fail): OptionDef {
  const def = OPTIONS.find((d) => (long !== null ? d.long === long : d.short === short));
  if (def) return def;
  const other = long !== null ? (OTHER_LONG_COMMANDS.includes(long) ? long : undefined) : OTHER_SHORT_COMMANDS[short!];
  if (other !== undefined) return fail(at.col, `--${other}: natsim reads only the -A and -a lines of an ipvsadm-save table`);
  if (long !== null && UNMODELLED_OPTIONS.includes(long)) return fail(at.col, `ipvsadm option --${long} is not modelled by natsim`);
  return fail(at.col, `${at.text}: unknown option`);
}

/** The body of parse_options()' option loop for one option. */
function applyOption(entry: CommandEntry, opt: Opt, fail: Fail): void {
  const { def, at } = opt;
  if (def.command) fail(at.col, 'multiple commands specified');
  // The one option without a class is -6 (an IPv6 fwmark service).
  if (!def.cls) return fail(at.col, 'IPv6 is not supported by natsim');
  // set_option(): every option class once.
  if (entry.seen.has(def.cls)) fail(at.col, `multiple '${def.cls}' options specified`);
  entry.seen.set(def.cls, at);
  const value = opt.value;
  switch (def.short) {
    case 't':
    case 'u': {
      const svc = parseService(value!, 'virtual server', fail);
      entry.service = { key: { kind: 'addr', protocol: def.short === 't' ? 6 : 17, addr: svc.addr, port: svc.port ?? 0 }, at: value! };
      break;
    }
    case 'f':
      entry.service = { key: { kind: 'fwmark', mark: parseFwmark(value!, fail) }, at: value! };
      break;
    case 's':
      entry.scheduler = value;
      break;
    case 'p':
      entry.persistent = value === null ? DEF_PERSISTENT_TIMEOUT : parseTimeout(value, fail);
      break;
    case 'M':
      entry.netmask = parseIpv4(value!.text) ?? fail(value!.col, `illegal virtual server persistent mask specified ('${value!.text}': natsim reads a netmask as A.B.C.D)`);
      break;
    case 'r': {
      const dest = parseService(value!, 'real server', fail);
      // "copy vport to dport if not specified": the service port as far as it is known here.
      entry.dest = { addr: dest.addr, port: dest.port ?? servicePort(entry), at: value! };
      break;
    }
    case 'm':
    case 'i':
    case 'g':
      entry.method = FORWARD_METHODS[def.short]!;
      break;
    case 'w':
      entry.weight = stringToNumber(value!.text, 0, 65535) ?? fail(value!.col, 'illegal weight specified');
      break;
    case 'x':
      entry.upperThreshold = stringToNumber(value!.text, 0, INT_MAX) ?? fail(value!.col, 'illegal u_threshold specified');
      break;
    case 'y':
      entry.lowerThreshold = stringToNumber(value!.text, 0, INT_MAX) ?? fail(value!.col, 'illegal l_threshold specified');
      break;
    case 'o':
      entry.onePacket = true;
      break;
    case 'b':
      entry.schedFlags = value;
      break;
  }
}

function servicePort(entry: CommandEntry): number {
  return entry.service?.key.kind === 'addr' ? entry.service.key.port : 0;
}

/** ipvsadm.c string_to_number(): strtol() over the whole word, within [min, max]. */
function stringToNumber(text: string, min: number, max: number): number | null {
  if (!/^[+-]?\d+$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

/** ipvsadm.c parse_timeout(). */
function parseTimeout(value: Word, fail: Fail): number {
  return stringToNumber(value.text, 1, MAX_TIMEOUT) ?? fail(value.col, `invalid timeout value \`${value.text}' specified`);
}

/** ipvsadm.c parse_fwmark(): 1 .. UINT_MAX. */
function parseFwmark(value: Word, fail: Fail): number {
  return stringToNumber(value.text, 1, 0xffffffff) ?? fail(value.col, `invalid fwmark value \`${value.text}' specified`);
}

/**
 * ipvsadm.c parse_service(): ADDR[:PORT] where ipvsadm also takes [IPv6]:PORT, host names
 * and service names. natsim takes IPv4 dotted quads and numeric ports only.
 */
function parseService(value: Word, what: string, fail: Fail): AddrPort {
  const text = value.text;
  const illegal = (why: string): never => fail(value.col, `illegal ${what} address[:port] specified ('${text}': ${why})`);
  if (text.startsWith('[') || text.split(':').length > 2) return fail(value.col, 'IPv6 is not supported by natsim');
  if (/^\d+$/.test(text)) illegal('a number is not an address');
  const colon = text.lastIndexOf(':');
  const addrText = colon < 0 ? text : text.slice(0, colon);
  const addr = parseIpv4(addrText) ?? illegal('not an IPv4 address; natsim resolves no host names');
  if (colon < 0) return { addr, port: null };
  const port = stringToNumber(text.slice(colon + 1), 0, 65535) ?? illegal('natsim takes a port number 0-65535, not a service name');
  return { addr, port };
}

/**
 * The end of parse_options() (sched flags), generic_opt_check() and process_options()' checks
 * for -A (zero port, one-packet) and -a (a direct-routing or tunnel server keeps the service port).
 */
function checkOptions(entry: CommandEntry, fail: Fail): void {
  if (entry.schedFlags) entry.flags = parseSchedFlags(entry.scheduler?.text ?? DEF_SCHED, entry.schedFlags, fail);
  const legal = COMMAND_OPTIONS[entry.command];
  for (const cls of OPT_CLASSES) {
    const at = entry.seen.get(cls);
    if (!at && legal.required.includes(cls)) fail(entry.commandWord.col, `You need to supply the '${cls}' option for the '${entry.command}' command`);
    if (at && !legal.required.includes(cls) && !legal.optional.includes(cls)) fail(at.col, `Illegal '${cls}' option with the '${entry.command}' command`);
  }
  const key = entry.service!.key;
  if (entry.command === 'add-service') {
    if (key.kind === 'addr' && key.port === 0 && entry.persistent === null) fail(entry.service!.at.col, 'Zero port specified for non-persistent service');
    if (entry.onePacket && key.kind === 'addr' && key.protocol !== 17) fail(entry.seen.get('ops')!.col, 'One-Packet Scheduling is only for UDP virtual services');
  } else if (key.kind === 'addr' && entry.method !== 'masq') {
    entry.dest = { ...entry.dest!, port: key.port };
  }
}

/** ipvsadm.c parse_sched_flags(): the names are checked against the scheduler they belong to. */
function parseSchedFlags(sched: string, value: Word, fail: Fail): SchedFlags {
  let fallback = false;
  let port = false;
  let col = value.col;
  for (const flag of value.text.split(',')) {
    const named = /^(sh|mh)-(fallback|port)$/.exec(flag);
    if (named && named[1] !== sched) fail(col, `incompatible scheduler flag \`${flag}'`);
    // IP_VS_SVC_F_SCHED1 is sh-/mh-fallback, SCHED2 sh-/mh-port (ip_vs.h).
    if (flag === 'flag-1' || named?.[2] === 'fallback') fallback = true;
    else if (flag === 'flag-2' || named?.[2] === 'port') port = true;
    else if (flag === 'flag-3') fail(col, 'scheduler flag flag-3 is not modelled by natsim');
    else if (flag !== '') fail(col, `invalid scheduler flag \`${flag}'`);
    col += flag.length + 1;
  }
  return { fallback, port };
}

function sameKey(a: ServiceKey, b: ServiceKey): boolean {
  if (a.kind === 'fwmark') return b.kind === 'fwmark' && a.mark === b.mark;
  return b.kind === 'addr' && a.protocol === b.protocol && a.addr === b.addr && a.port === b.port;
}

/** IP_VS_SO_SET_ADD: EEXIST for a service that exists, then ip_vs_add_service()'s scheduler lookup (ENOENT). */
function addService(services: MutableService[], entry: CommandEntry, place: SourcePlace, fail: Fail): void {
  const svc = entry.service!;
  if (services.some((s) => sameKey(s.key, svc.key))) fail(svc.at.col, 'Service already exists');
  const schedText = entry.scheduler?.text ?? DEF_SCHED;
  const scheduler = SCHEDULER_NAMES.find((n) => n === schedText) ?? fail(entry.scheduler!.col, `Scheduler or persistence engine not found ('${schedText}': natsim has ${SCHEDULER_NAMES.join(', ')})`);
  services.push({ key: svc.key, scheduler, flags: entry.flags, persistent: entry.persistent, netmask: entry.netmask, onePacket: entry.onePacket, dests: [], place });
}

/** IP_VS_SO_SET_ADDDEST: ESRCH without the service, then ip_vs_add_dest(): ERANGE for l > u thresholds, EEXIST. */
function addDest(services: MutableService[], entry: CommandEntry, fail: Fail): void {
  const svc = entry.service!;
  const dest = entry.dest!;
  const service = services.find((s) => sameKey(s.key, svc.key)) ?? fail(svc.at.col, 'Service not defined');
  if (entry.lowerThreshold > entry.upperThreshold) fail(entry.seen.get('l-threshold')!.col, 'Numerical result out of range (the lower threshold is higher than the upper threshold)');
  if (service.dests.some((d) => d.addr === dest.addr && d.port === dest.port)) fail(dest.at.col, 'Destination already exists');
  service.dests.push({
    addr: dest.addr, port: dest.port, method: entry.method, weight: entry.weight, upperThreshold: entry.upperThreshold, lowerThreshold: entry.lowerThreshold,
  });
}
