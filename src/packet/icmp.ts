/** ICMP types and codes (include/uapi/linux/icmp.h): one definition for every module. */
export const ICMP_ECHOREPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETERPROB = 12;
export const ICMP_TIMESTAMP = 13;
export const ICMP_TIMESTAMPREPLY = 14;

/** Codes for ICMP_DEST_UNREACH. */
export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PORT_UNREACH = 3;
export const ICMP_FRAG_NEEDED = 4;
/** Communication administratively prohibited (a prohibit route). */
export const ICMP_PKT_FILTERED = 13;

/** Codes for ICMP_REDIRECT. */
export const ICMP_REDIR_HOST = 1;

/** Codes for ICMP_TIME_EXCEEDED. */
export const ICMP_EXC_TTL = 0;
