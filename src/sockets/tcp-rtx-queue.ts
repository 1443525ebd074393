/**
 * The segments a socket sent and the peer has not acknowledged yet (tcp_rtx_queue, from snd_una
 * to snd_nxt), each with what tcp_clean_rtx_queue (net/ipv4/tcp_input.c) needs when an ACK
 * covers it: its last transmission time (skb_mstamp) and whether it was retransmitted by the
 * retransmission timer (TCPCB_RETRANS: Karn's rule takes no RTT sample from it). A tail loss
 * probe sends through __tcp_retransmit_skb, which moves the time but sets no TCPCB_RETRANS.
 */

export interface RtxSegment {
  readonly seq: number;
  readonly length: number;
  readonly fin: boolean;
  sentAt: number;
  retransmitted: boolean;
}

/** What an ACK acknowledged: how many segments, and the RTT sample tcp_clean_rtx_queue takes (null under Karn's rule). */
export interface RtxAcked {
  readonly segments: number;
  readonly rttNs: number | null;
}

/** The sequence space a segment takes: its bytes and a FIN's one. */
export function endSeq(s: RtxSegment): number {
  return (s.seq + s.length + (s.fin ? 1 : 0)) >>> 0;
}

export class RtxQueue {
  private readonly segments: RtxSegment[] = [];

  /** tp->packets_out: one per segment, natsim's segments being at most one MSS. */
  get packetsOut(): number {
    return this.segments.length;
  }

  /** tcp_rtx_queue_head: the oldest segment, what the retransmission timer sends again. */
  head(): RtxSegment | undefined {
    return this.segments[0];
  }

  /** skb_rb_last(&sk->tcp_rtx_queue): the newest segment, what a tail loss probe sends again. */
  tail(): RtxSegment | undefined {
    return this.segments[this.segments.length - 1];
  }

  push(seq: number, length: number, fin: boolean, now: number): void {
    this.segments.push({ seq, length, fin, sentAt: now, retransmitted: false });
  }

  /**
   * tcp_clean_rtx_queue: drop the segments `ack` covers entirely; the RTT sample is from the
   * oldest of them (first_ackt) unless any was retransmitted (FLAG_RETRANS_DATA_ACKED).
   */
  clean(ack: number, now: number): RtxAcked {
    let segments = 0;
    let firstSent: number | null = null;
    let retransAcked = false;
    while (this.segments.length > 0 && ((ack - endSeq(this.segments[0]!)) | 0) >= 0) {
      const s = this.segments.shift()!;
      segments++;
      if (s.retransmitted) retransAcked = true;
      else firstSent ??= s.sentAt;
    }
    return { segments, rttNs: firstSent !== null && !retransAcked ? now - firstSent : null };
  }

}
