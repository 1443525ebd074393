/**
 * Where nf_tables puts a packet's transport header: nft_set_pktinfo_ipv4 / nft_set_pktinfo_ipv6
 * (include/net/netfilter/nf_tables_ipv4.h, nf_tables_ipv6.h) set NFT_PKTINFO_L4PROTO with the
 * protocol and thoff when the network header checks out, and nft_set_pktinfo_unspec leaves both
 * unset otherwise. `data` starts at the network header (skb_network_offset 0 at the hooks).
 */
import { ipv6FindTransport } from '../../ipv6/exthdrs-core.js';
import { NFPROTO_IPV6, type NfProto } from './model.js';

export interface NftL4 {
  /** pkt->tprot */
  readonly proto: number;
  /** nft_thoff(pkt) */
  readonly thoff: number;
}

export function nftL4(data: Uint8Array, nfproto: NfProto): NftL4 | null {
  return nfproto === NFPROTO_IPV6 ? ipv6L4(data) : ipv4L4(data);
}

/** __nft_set_pktinfo_ipv4_validate: version 4, ihl ≥ 5, tot_len within the packet and past the header. */
function ipv4L4(d: Uint8Array): NftL4 | null {
  if (d.length < 20 || d[0]! >> 4 !== 4 || (d[0]! & 0x0f) < 5) return null;
  const thoff = (d[0]! & 0x0f) * 4;
  const len = (d[2]! << 8) | d[3]!;
  if (d.length < len || len < thoff) return null;
  return { proto: d[9]!, thoff };
}

/** __nft_set_pktinfo_ipv6_validate: version 6, payload_len within the packet, then ipv6_find_hdr. */
function ipv6L4(d: Uint8Array): NftL4 | null {
  if (d.length < 40 || d[0]! >> 4 !== 6 || ((d[4]! << 8) | d[5]!) + 40 > d.length) return null;
  const found = ipv6FindTransport(d);
  return found && { proto: found.proto, thoff: found.offset };
}
