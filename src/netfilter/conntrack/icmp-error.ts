/** ICMP types that are errors quoting another packet (icmp_is_err). */
export function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}
