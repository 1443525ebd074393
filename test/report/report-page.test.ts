/**
 * `natsim report` looked at in a browser, as a person would: the page is written by the CLI,
 * opened in headless chromium (which must be installed: each test fails without it, saying so), and its
 * DOM — after the page's script ran — must show the flows, the rules that matched (file:line),
 * the conntrack states and the counters of the run; a packet is selected with the keyboard
 * (Tab to its button, Enter) and its path through the hooks appears; and a screenshot is taken.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryStream, natsim, spawnNatsim, tempDir } from '../cli/helpers.js';
import { dumpDom, Page, requireChromium, screenshot } from './chromium.js';
import { reportCommand } from '../../src/cli/report.js';
import type { FindingsSource } from '../../src/report/html/findings.js';
import { LineCollector } from '../../src/trace/output.js';

const CLASH = 'fixtures/kernel/snat-fixed-port-clash';

async function report(dir: string, name: string, ...args: string[]): Promise<string> {
  const out = join(dir, `${name}.html`);
  const r = await natsim('report', ...args, '-o', out);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return out;
}

/** The visible text of the DOM chromium dumped, tags and entities gone. */
function text(dom: string): string {
  return dom
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&gt;/g, '>')
    .replace(/&lt;/g, '<')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

describe('natsim report in chromium', () => {
  let dir = '';
  beforeAll(() => {
    dir = tempDir();
  });

  it('is one file that fetches nothing', async () => {
    const page = readFileSync(await report(dir, 'icmp', 'fixtures/seeds/icmp-masquerade.yaml'), 'utf8');
    expect(page).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    expect(page).not.toMatch(/https?:\/\//);
  });

  it('shows the icmp-masquerade seed: its flow, the MASQUERADE rule and the NAT on the wire', async () => {
    requireChromium();
    const dom = dumpDom(await report(dir, 'icmp', 'fixtures/seeds/icmp-masquerade.yaml'));
    expect(dom).toContain('data-ready="true"');
    const t = text(dom);
    expect(t).toContain('Netfilter hooks of rt1');
    expect(t).toContain('Findings explain found nothing wrong.');
    expect(t).toContain('Flow 1: icmp 10.0.3.1 → 192.168.206.1');
    expect(t).toContain('fixtures/seeds/icmp-masquerade.yaml:18: ip saddr 10.0.3.0/24 oif "eth0" masquerade');
    // the echo request on each side of the node: masqueraded to eth0's address
    expect(t).toContain('eth1: 10.0.3.1 → 192.168.206.1 icmp type 8 id 10654');
    expect(t).toContain('eth0: 192.168.206.250 → 192.168.206.1 icmp type 8 id 10654');
    // and the reply, NAT undone
    expect(t).toContain('eth0: 192.168.206.1 → 192.168.206.250 icmp type 0 id 10654');
    expect(t).toContain('eth1: 192.168.206.1 → 10.0.3.1 icmp type 0 id 10654');
    expect(t).toMatch(/conntrack entry confirmed at 0\.000010 s/);
    // the script drew the first packet's path: the masquerade op rewrote its source
    expect(t).toMatch(/Selected packet Packet 1 at 0\.000010 s: flow 1, original direction, sent on eth0/);
    expect(t).toContain('after: 192.168.206.250 -> 192.168.206.1 protocol 1');
    expect(dom).toMatch(/<li data-op="4\/100\/nf_nat_ipv4_out" class="passed changed">/);
  });

  it('renders the same from the bundled CLI (bin/natsim.js) as from the build the other tests run', async () => {
    requireChromium();
    // the page's script is its functions' source text, which esbuild reprints in the bundle
    const bundled = join(dir, 'clash-bundled.html');
    const r = spawnNatsim('report', `${CLASH}/capture.pcap`, '--node', CLASH, '-o', bundled);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const fromBundle = dumpDom(bundled);
    expect(fromBundle).toContain('data-ready="true"');
    expect(text(fromBundle)).toBe(text(dumpDom(await report(dir, 'clash-built', `${CLASH}/capture.pcap`, '--node', CLASH))));
  });

  it('shows the kernel recording with a clash: the failed flow, its six drops at confirm, the states and the counters', async () => {
    requireChromium();
    const dom = dumpDom(await report(dir, 'clash', `${CLASH}/capture.pcap`, '--node', CLASH));
    expect(dom).toContain('data-ready="true"');
    const t = text(dom);
    expect(t).toContain('2 flows, 1 failed, 1 conntrack entries');
    expect(t).toContain('Flow 2: tcp 10.0.3.1:41001 → 192.168.206.1:8080 failed: 6 × insert clash; entry never confirmed');
    expect(t).toContain('Flow 1: tcp 10.0.3.1:41000 → 192.168.206.1:8080');
    expect(t).toContain(`${CLASH}/iptables-save.txt:7: -A POSTROUTING -d 192.168.206.1/32 -p tcp -m tcp --dport 8080 -j SNAT --to-source 192.168.206.250:40000`);
    expect(t.match(/dropped: insert clash with conntrack entry 1 \(reply tuple taken\) \(insert_failed\)/g)?.length).toBeGreaterThanOrEqual(6);
    expect(t).toMatch(/SYN_SENT at 0\.000035 s, SYN_RECV at 0\.000116 s, ESTABLISHED at 0\.000133 s, FIN_WAIT at 7\.128266 s, CLOSE_WAIT at 7\.131992 s/);
    // the winner's SNAT on the wire; the timeline's clash marks; the kernel's counters
    expect(t).toContain('eth0: 192.168.206.250:40000 → 192.168.206.1:8080 tcp [S]');
    expect(dom.match(/class="mark clash"/g)?.length).toBe(6);
    expect(dom).toMatch(/<td data-counter="insert_failed">6<\/td>/);
    expect(dom).toMatch(/<td data-counter="drop">6<\/td>/);
    // explain's finding comes first and links to the first packet that died
    expect(t).toContain('Findings problem: tcp 10.0.3.1:41001 -> 192.168.206.1:8080: NAT clash dropped at confirm');
    expect(dom).toMatch(/<a href="#pkt-4" data-pkt="4"[^>]*>tcp 10\.0\.3\.1:41001 → 192\.168\.206\.1:8080 at 0\.000238 s<\/a>/);
    // a failed flow's packet is selected first, and the op that dropped it is red
    expect(t).toMatch(/Selected packet Packet 4 at 0\.000238 s: flow 2, original direction, dropped: insert clash/);
    expect(dom).toMatch(/<li data-op="4\/2147483647\/nf_confirm" class="passed bad">/);
  });

  it('shows an IPv6 recording by its IPv6 addresses: bracketed with ports, ICMPv6 by type, findings linked', async () => {
    requireChromium();
    const IP6 = 'fixtures/kernel/ip6-masq-router';
    const dom = dumpDom(await report(dir, 'ip6', `${IP6}/capture.pcap`, '--node', IP6));
    expect(dom).toContain('data-ready="true"');
    const t = text(dom);
    expect(t).toContain('Flow 2: tcp [fd00:3::1]:43000 → [fd00:206::1]:80');
    expect(t).toContain('Flow 1: icmpv6 fd00:3::1 → fd00:206::1');
    // the SYN masqueraded out of eth0, and the echo with its id
    expect(t).toContain('[fd00:206::250]:43000 → [fd00:206::1]:80 tcp [S]');
    expect(t).toContain('fd00:206::250 → fd00:206::1 icmpv6 type 128 id 16962');
    expect(t).toContain('Findings');
    expect(dom).toMatch(/<a href="#pkt-\d+" data-pkt="\d+"[^>]*>udp \[fd00:3::1\]:40001 → \[fd00:206::1\]:9 at 3\.432707 s<\/a>/);
    // an IPv6 handle printed as IPv4 would read 0.0.0.N
    expect(t).not.toMatch(/\b0\.0\.0\.\d+/);
  });

  it('selects a packet with the keyboard: Tab to its button, Enter, and its path is drawn', async () => {
    requireChromium();
    const page = await Page.open(await report(dir, 'clash', `${CLASH}/capture.pcap`, '--node', CLASH));
    try {
      await page.until('document.body.dataset.ready === "true"');
      expect(await page.evaluate('document.body.dataset.selected')).toBe('4');
      // Tab until a packet button of flow 1 (the winner) has the focus, as a person would
      let focused: string | null = null;
      for (let i = 0; i < 100 && focused === null; i++) {
        await page.press('Tab');
        focused = await page.evaluate<string | null>('document.activeElement?.closest("#flow-1") ? document.activeElement.dataset.pkt ?? null : null');
      }
      expect(focused).not.toBeNull();
      await page.press('Enter');
      expect(await page.evaluate('document.body.dataset.selected')).toBe(focused);
      expect(await page.evaluate('document.getElementById("path-title").textContent')).toMatch(new RegExp(`^Packet ${focused} at 0\\.000035 s: flow 1, original direction, sent on eth0`));
      expect(await page.evaluate('document.querySelector("[data-op=\\"4/2147483647/nf_confirm\\"]").className')).toBe('passed');
      expect(await page.evaluate(`document.querySelector('tr[data-pkt="${focused}"]').getAttribute('aria-current')`)).toBe('true');
    } finally {
      await page.close();
    }
  });

  it("puts explain's findings first, linked to their packets: following a link selects the packet", async () => {
    requireChromium();
    const out = join(dir, 'findings.html');
    const clash = { proto: 'tcp', src: '10.0.3.1', sport: 41001, dst: '192.168.206.1', dport: 8080 };
    const source: FindingsSource = {
      runOptions: {},
      findings: (result) => [
        { severity: 'problem', title: `nat-clash on ${result.hosts[0]!.name}`, detail: 'SNAT to one port: the tuple is taken', packets: [{ flow: clash, time: 1_016_065_000 }, { flow: clash, time: 99e9 }] },
      ],
    };
    await reportCommand(`${CLASH}/capture.pcap`, { node: CLASH, quiet: true, output: out, stderr: new MemoryStream() }, new LineCollector(), source);
    const page = await Page.open(out);
    try {
      await page.until('document.body.dataset.ready === "true"');
      expect(await page.evaluate('document.querySelector("main > section").id')).toBe('findings');
      expect(await page.evaluate('document.querySelector("#findings strong").textContent')).toBe('problem: nat-clash on snat-fixed-port-clash');
      // the second packet of the finding is not on the page: its flow is linked instead
      expect(await page.evaluate('[...document.querySelectorAll("#findings a")].map((a) => a.getAttribute("href")).join(" ")')).toBe('#pkt-5 #flow-2');
      await page.evaluate('document.querySelector("#findings a").click()');
      expect(await page.evaluate('document.body.dataset.selected')).toBe('5');
      expect(await page.evaluate('document.getElementById("path-title").textContent')).toMatch(/^Packet 5 at 1\.016065 s: flow 2, original direction, dropped: insert clash/);
    } finally {
      await page.close();
    }
  });

  it('takes a screenshot of the page', async () => {
    requireChromium();
    const png = join(dir, 'report.png');
    screenshot(await report(dir, 'clash', `${CLASH}/capture.pcap`, '--node', CLASH), png, 1280, 1600);
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    // a blank page compresses to a few kilobytes; this one has diagrams and text
    expect(statSync(png).size).toBeGreaterThan(50_000);
  });
});
