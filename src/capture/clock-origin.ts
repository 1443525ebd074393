/**
 * The wall-clock time of virtual time 0: a capture's first record (so that what natsim writes
 * or stamps — `conntrack -E -o timestamp`, --write-pcap — carries the capture's own times), or
 * the epoch itself for a scenario, whose clock starts at 0.
 */
export class ClockOrigin {
  private sec = 0;
  private nsec = 0;

  /** Set by a replay from its first record, before anything is stamped. */
  setFirstRecord(sec: number, nsec: number): void {
    this.sec = sec;
    this.nsec = nsec;
  }

  /** Virtual nanoseconds since the first record of a record at sec.nsec, exactly (no float ns since 1970). */
  since(sec: number, nsec: number): number {
    return (sec - this.sec) * 1e9 + (nsec - this.nsec);
  }

  /** Wall-clock seconds and nanoseconds of virtual time `time` (ns). */
  wall(time: number): { sec: number; nsec: number } {
    const ns = this.nsec + Math.round(time);
    const carry = Math.floor(ns / 1e9);
    return { sec: this.sec + carry, nsec: ns - carry * 1e9 };
  }
}
