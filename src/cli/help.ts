/**
 * The text `natsim COMMAND --help` shows after the options: what a user needs to run the
 * command without the README — exit codes, NO_COLOR, the scenario format's essentials and the
 * files of a node snapshot. Each block is written once and added where it applies.
 */
import type { Command } from 'commander';
import { SNAPSHOT_FILES } from './snapshot.js';

export const EXIT_CODES_HELP = `Exit codes: 0 done, 1 a check or verification found differences (lint: problems found),
2 bad input or usage (one line 'natsim: FILE:LINE:COL: reason' on stderr), 70 a bug in natsim.`;

export const COLOR_HELP = 'Colour only on a terminal; NO_COLOR=1 (any non-empty value) or --no-color turns it off.';

export const SCENARIO_HELP = `A scenario (.yaml; README "Inputs", examples in fixtures/seeds):
  natsim: 1                      format version
  seed: 1, cpus: 1, kernel: "6.18", until: 30s
  hosts:
    rt1:
      interfaces: { eth0: { addr: [10.0.0.1/24], link: wan, index: 2, mac: 02:00:00:00:00:01 } }
      routes: [default via 10.0.0.254]           ip route syntax
      sysctl: { net.ipv4.ip_forward: 1 }
      ruleset: |  (nft or iptables-save text)    or ruleset-file: FILE
      ipsets: / ipsets-file:  (ipset save)        ipvs: / ipvs-file:  (ipvsadm -Sn)
  trace: [rt1]                   hosts whose hooks are traced
  run:
    - { at: 0s, on: pc1, do: ping 10.0.0.1 count 1 interval 1s }
  Actions: ping ADDR [count N] [interval T] [id N] | tcp listen PORT [reply BYTES] [hold T] |
    tcp connect ADDR:PORT [from [ADDR]:PORT] [send BYTES] [hold T] | udp listen PORT [echo] |
    udp send ADDR:PORT [from PORT] [count N] [interval T] [bytes N]
    ADDR:PORT is 10.0.0.1:80, or [fd00::1]:80 for IPv6.
  Times (at, until, hold, interval, --until): 2m, 1.5s, 500ms, 10us, or a bare number of seconds.
A capture x.pcap takes its host from --node DIR, --scenario FILE, x.yaml beside it, or the
node snapshot folder it is in.`;

export const NODE_HELP = `A node snapshot (--node DIR, written by 'natsim snapshot DIR') holds:
${SNAPSHOT_FILES.map((f) => `  ${f.file.padEnd(26)}${f.command}${f.optional ? ' (optional)' : ''}`).join('\n')}
  ip-addr.json is the one a replay cannot do without; with both nft-ruleset.txt and
  iptables-save.txt, natsim reads one and says which.`;

/** Adds the blocks to the end of cmd's --help, in the order given. */
export function helpAfter(cmd: Command, ...blocks: string[]): Command {
  return cmd.addHelpText('after', `\n${blocks.join('\n\n')}`);
}
