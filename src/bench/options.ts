/**
 * Command-line options of `npm run bench`. Kept to a hand-rolled parser: the bench must not
 * pull in anything beyond what natsim already depends on.
 */

export interface BenchOptions {
  /** Packets in the main capture (cases a–d). */
  readonly packets: number;
  /** Packets in the large capture of case (e); 0 skips the case. */
  readonly largePackets: number;
  /** Packets in case (o)'s capture, whose flows come ten times as fast; 0 skips the case. */
  readonly livePackets: number;
  /** Live entries for the conntrack table case (h). */
  readonly tableEntries: number;
  /** Runs per case; the median is reported. */
  readonly runs: number;
  readonly seed: number;
  /** Where the JSON results go. */
  readonly out: string;
  /** The cases to run, by letter (`--only b,k`); null runs every case. */
  readonly only: ReadonlySet<string> | null;
}

/**
 * The case letters `--only` takes: (a2) is a, (f) runs (g) on its capture, (h) is the table, (n)
 * the IPv6 and mixed workloads, (o) the capture holding many live flows, (p) the blocklists.
 */
const CASES = new Set(['a', 'b', 'c', 'd', 'e', 'f', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p']);

const USAGE = `usage: npm run bench -- [--packets N] [--quick | --smoke] [--runs N] [--seed N] [--out FILE]
  --packets N   packets in the workload capture (default 1000000)
  --quick       200000 packets, no 5,000,000-packet case and no case (o)
  --smoke       20000 packets, a 20000-entry table, no large capture: only proves that
                every case still runs (CI); its figures mean nothing
  --runs N      runs per case, median reported (default 3, at least 3)
  --seed N      workload seed (default 1)
  --only LIST   only these cases, by letter (e.g. --only j,k: explain and diff beside stats)
  --out FILE    JSON results (default bench-results.json)`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  let packets: number | null = null;
  let quick = false;
  let smoke = false;
  let runs = 3;
  let seed = 1;
  let out = 'bench-results.json';
  let only: Set<string> | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) fail(`${arg} needs a value`);
      return v;
    };
    if (arg === '--packets') packets = whole(arg, value(), 1);
    else if (arg === '--quick') quick = true;
    else if (arg === '--smoke') smoke = true;
    else if (arg === '--runs') runs = whole(arg, value(), 3);
    else if (arg === '--seed') seed = whole(arg, value(), 0);
    else if (arg === '--out') out = value();
    else if (arg === '--only') only = caseLetters(value());
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else fail(`unknown option ${arg}`);
  }
  return {
    packets: packets ?? (smoke ? 20_000 : quick ? 200_000 : 1_000_000),
    largePackets: quick || smoke ? 0 : 5_000_000,
    livePackets: quick ? 0 : smoke ? 20_000 : 4_000_000,
    tableEntries: smoke ? 20_000 : 1_000_000,
    runs,
    seed,
    out,
    only,
  };
}

function caseLetters(list: string): Set<string> {
  const letters = new Set(list.split(',').map((c) => c.trim()));
  for (const c of letters) if (!CASES.has(c)) fail(`--only: no case '${c}' (cases: ${[...CASES].join(',')})`);
  return letters;
}

function whole(name: string, value: string, min: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min) fail(`${name} expects a whole number ≥ ${min}, not '${value}'`);
  return Number(value);
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}
