/**
 * The delayed ACK of a FIN, as Linux sends it. tcp_fin (net/ipv4/tcp_input.c) schedules an ACK
 * (inet_csk_schedule_ack) and, in ESTABLISHED, moves to CLOSE_WAIT and enters pingpong mode
 * (inet_csk_enter_pingpong_mode); tcp_in_quickack_mode is false in pingpong mode, so
 * __tcp_ack_snd_check does not send the ACK but arms the delack timer (tcp_send_delayed_ack,
 * net/ipv4/tcp_output.c) icsk_ack.ato jiffies ahead.
 *
 * icsk_ack.ato is 0 until the socket's first data: a listener's child copies the listener's
 * zeroed icsk_ack (tcp_create_openreq_child sets no ato), and tcp_event_data_recv sets
 * TCP_ATO_MIN on the first data segment ("initialize delayed ACK engine"). tcp_send_delayed_ack
 * keeps an ato of at most TCP_DELACK_MIN as it is (both HZ/25) and caps it by icsk_delack_max
 * (TCP_DELACK_MAX, HZ/5). The timer wheel never fires early: calc_index (kernel/time/timer.c)
 * rounds the expiry up by one jiffy, so the ACK leaves on the tick after ato jiffies, between
 * ato and ato + 1 jiffy after the FIN.
 *
 * fixtures/kernel/tcp-fin-delack (6.18, HZ 250) measured it: 43.8 ms after a FIN that followed
 * data (42.1 ms in tcp-lifecycle), 7.0 ms after a FIN on a connection without data; repeated
 * runs of the script gave 41.9-46.4 ms and 0.8-3.2 ms (the softirq's latency on a shared machine
 * comes on top of the tick).
 *
 * What is not modelled: the delayed ACK of data. natsim's sockets ACK data at once, as a new
 * connection's quickack mode does (tcp_incr_quickack from the first data); ato's adaptation to
 * the arrival intervals (tcp_event_data_recv), the srtt bound and the ACK of every second full
 * segment (__tcp_ack_snd_check) only matter to a delayed data ACK.
 */
import { HZ, jiffiesAt, jiffyStart } from '../netfilter/rules/jiffies.js';

/** TCP_ATO_MIN (HZ/25, 40 ms): the ato of a socket that has received data. */
export const TCP_ATO_MIN = HZ / 25;

/** The time the delack timer armed at `now` with `ato` jiffies runs (tcp_send_delayed_ack, calc_index's round-up). */
export function delackTimerAt(now: number, ato: number): number {
  return jiffyStart(jiffiesAt(now) + ato + 1);
}
