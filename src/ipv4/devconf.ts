/**
 * The per-device IPv4 conf values the receive path reads (net.ipv4.conf.DEV.KEY, struct
 * ipv4_devconf of each in_device), combined with conf.all as include/linux/inetdevice.h does:
 * rp_filter is the larger of the two (IN_DEV_RPFILTER = IN_DEV_MAXCONF), accept_local,
 * route_localnet, send_redirects and shared_media hold when either is set (IN_DEV_ACCEPT_LOCAL,
 * IN_DEV_NET_ROUTE_LOCALNET, IN_DEV_TX_REDIRECTS, IN_DEV_SHARED_MEDIA = IN_DEV_ORCONF). A
 * device's own value starts as ipv4_devconf_dflt gives a new device: send_redirects and
 * shared_media 1, the others 0 — so turning redirects off takes conf.all and the device (or
 * conf.default, whose write reaches every device not written before: devinet_copy_dflt_conf).
 */
import type { Sysctl } from '../host/sysctl.js';

export const DEV_CONF_KEYS = ['rp_filter', 'accept_local', 'route_localnet', 'send_redirects', 'shared_media'] as const;
export type DevConfKey = (typeof DEV_CONF_KEYS)[number];

/** ipv4_devconf_dflt's values: what a device has until one is set. */
export const DEV_CONF_DEFAULTS: Readonly<Record<DevConfKey, number>> = { rp_filter: 0, accept_local: 0, route_localnet: 0, send_redirects: 1, shared_media: 1 };

/**
 * A per-device name of a key above: `net.ipv4.conf.DEV.KEY`, in sysctl(8)'s dotted form (a dot
 * in the device's name written as a slash, as `sysctl -a` prints eth0.100's) or as a /proc path;
 * null for any other name, and for `all`, which the fixed table holds.
 */
export function devConfName(name: string): { readonly dev: string; readonly key: DevConfKey } | null {
  const m = /^net[./]ipv4[./]conf[./](.+)[./](rp_filter|accept_local|route_localnet|send_redirects|shared_media)$/.exec(name);
  if (!m || m[1] === 'all') return null;
  return { dev: m[1]!.replaceAll('/', '.'), key: m[2] as DevConfKey };
}

/** IN_DEV_RPFILTER: 0 off, 1 strict, 2 loose. */
export function inDevRpFilter(sysctl: Sysctl, dev: string): number {
  return Math.max(sysctl.n['net.ipv4.conf.all.rp_filter'], sysctl.devConf(dev).rp_filter);
}

/** IN_DEV_ACCEPT_LOCAL */
export function inDevAcceptLocal(sysctl: Sysctl, dev: string): boolean {
  return sysctl.n['net.ipv4.conf.all.accept_local'] !== 0 || sysctl.devConf(dev).accept_local !== 0;
}

/** IN_DEV_NET_ROUTE_LOCALNET */
export function inDevRouteLocalnet(sysctl: Sysctl, dev: string): boolean {
  return sysctl.n['net.ipv4.conf.all.route_localnet'] !== 0 || sysctl.devConf(dev).route_localnet !== 0;
}

/** IN_DEV_TX_REDIRECTS */
export function inDevTxRedirects(sysctl: Sysctl, dev: string): boolean {
  return sysctl.n['net.ipv4.conf.all.send_redirects'] !== 0 || sysctl.devConf(dev).send_redirects !== 0;
}

/** IN_DEV_SHARED_MEDIA */
export function inDevSharedMedia(sysctl: Sysctl, dev: string): boolean {
  return sysctl.n['net.ipv4.conf.all.shared_media'] !== 0 || sysctl.devConf(dev).shared_media !== 0;
}
