/**
 * A capture's record times as the replay's virtual clock: nanoseconds since the first record.
 * A record past what the clock holds exactly (2^53 ns, about 104 days) is refused with its
 * number. A record stamped earlier than the one before it (captures merged from several
 * interfaces, a clock step) is replayed in the capture's order, as the kernel saw the packets,
 * at the time of the one before it — so no time is negative and no reply precedes its request —
 * and the first such record is warned about once.
 */
import type { CaptureRecord } from '../capture/record.js';
import type { ClockOrigin } from '../capture/clock-origin.js';
import { InputError } from '../errors.js';
import { CLOCK_LIMIT_TEXT, MAX_CLOCK_NS } from '../sim/duration.js';

export class RecordClock {
  private last = 0;
  private started = false;
  private warned = false;

  constructor(
    private readonly file: string,
    private readonly origin: ClockOrigin,
    private readonly warn: (line: string) => void,
  ) {}

  /** The record's virtual time (ns). */
  at(r: CaptureRecord): number {
    if (!this.started) {
      this.origin.setFirstRecord(r.sec, r.nsec);
      this.started = true;
    }
    const since = this.origin.since(r.sec, r.nsec);
    if (since > MAX_CLOCK_NS) throw new InputError({ file: this.file, record: r.index, offset: r.offset }, `${(since / 86400e9).toFixed(1)} days after the first record: ${CLOCK_LIMIT_TEXT}; split the capture (editcap -A / -B)`);
    if (since >= this.last) return (this.last = since);
    if (!this.warned) {
      this.warned = true;
      this.warn(`${this.file}: record ${r.index}: time goes back ${((this.last - since) / 1e9).toFixed(6)} s; replaying in the capture's order, each record at no earlier time than the one before`);
    }
    return this.last;
  }
}
