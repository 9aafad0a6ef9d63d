/**
 * The programs a topology's namespaces run (`namespaces[].run: { peer, args, config }`), and
 * how a lab starts each one — or why it cannot, which `lab up` says and then goes on without
 * it:
 *
 * | peer | how |
 * | --- | --- |
 * | command | `ip netns exec NS ARGS…` (args[0] is the program) |
 * | iperf3, dnsmasq, sipp | `ip netns exec NS PROGRAM ARGS…` when installed; `config` becomes `--conf-file=` (dnsmasq) or `-sf` (sipp) |
 * | pppd, xl2tpd | our machines' kernels have no PPP/L2TP: a user-mode-linux guest runs them (../shared/peers/umlpeer.sh, roles pppoe-client and l2tp-lns) attached to the namespace's link; needs Debian's user-mode-linux |
 *
 * pppd's `user NAME` / `password SECRET` arguments become the guest's PPP_USER / PPP_PASS;
 * arguments of the form VAR=value are passed to umlpeer.sh as they are (see its README); the
 * guest lives for LIFETIME seconds (default here: a day).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Topology } from '../../controller/topology/schema.js';
import { haveCommand } from './sys.js';

type Namespace = Topology['namespaces'][number];

export type PeerPlan =
  | { readonly kind: 'process'; readonly netns: string; readonly name: string; readonly command: readonly string[] }
  | { readonly kind: 'uml'; readonly netns: string; readonly name: string; readonly script: string; readonly role: string; readonly attach: string; readonly vars: readonly string[] }
  | { readonly kind: 'skip'; readonly netns: string; readonly name: string; readonly reason: string };

export const UML_KERNEL = '/usr/bin/linux.uml';

/** ../shared/peers/umlpeer.sh beside the repository (NFVNODE_SHARED overrides ../shared). */
export function umlpeerScript(repoRoot: string): string {
  return path.join(process.env.NFVNODE_SHARED ?? path.resolve(repoRoot, '../shared'), 'peers', 'umlpeer.sh');
}

/** The interface a namespace's peer attaches to: its first link, or that link's VLAN sub-interface. */
export function attachInterface(ns: Namespace): string | undefined {
  const l = ns.links[0];
  if (!l) return undefined;
  return l.vlan !== undefined ? vlanIfname(l.veth, l.vlan) : l.veth;
}

/** Name of the VLAN sub-interface VETH.VID (shortened to Linux's 15 bytes if need be). */
export function vlanIfname(veth: string, vid: number): string {
  const suffix = `.${vid}`;
  return veth.slice(0, 15 - suffix.length) + suffix;
}

export function planPeer(ns: Namespace, topologyDir: string, repoRoot: string): PeerPlan | undefined {
  const run = ns.run;
  if (!run) return undefined;
  const base = { netns: ns.name, name: `${ns.name}/${run.peer}` };
  const config = run.config !== undefined ? path.resolve(topologyDir, run.config) : undefined;
  if (config !== undefined && !existsSync(config)) return { kind: 'skip', ...base, reason: `its config ${config} does not exist` };
  switch (run.peer) {
    case 'command': {
      if (!run.args.length) return { kind: 'skip', ...base, reason: 'peer command: args names no program' };
      if (!haveCommand(run.args[0])) return { kind: 'skip', ...base, reason: `${run.args[0]} is not installed` };
      return { kind: 'process', ...base, name: `${ns.name}/${path.basename(run.args[0])}`, command: run.args };
    }
    case 'iperf3': case 'dnsmasq': case 'sipp': {
      if (!haveCommand(run.peer)) return { kind: 'skip', ...base, reason: `${run.peer} is not installed (apt-get install ${run.peer})` };
      const extra = config === undefined ? [] : run.peer === 'dnsmasq' ? [`--conf-file=${config}`] : run.peer === 'sipp' ? ['-sf', config] : [];
      return { kind: 'process', ...base, command: [run.peer, ...run.args, ...extra] };
    }
    case 'pppd': case 'xl2tpd': {
      const script = umlpeerScript(repoRoot);
      const why = run.peer === 'pppd' ? 'pppd needs PPP in the kernel' : 'xl2tpd needs PPP/L2TP in the kernel';
      if (!existsSync(script)) return { kind: 'skip', ...base, reason: `${why}; the user-mode-linux peer ${script} is not there` };
      if (!existsSync(UML_KERNEL)) return { kind: 'skip', ...base, reason: `${why}; the user-mode-linux peer needs ${UML_KERNEL} (apt-get install user-mode-linux ppp pppoe xl2tpd)` };
      const attach = attachInterface(ns);
      if (!attach) return { kind: 'skip', ...base, reason: `${run.peer} needs a link in namespace ${ns.name}` };
      const vars = run.args.filter((a) => /^[A-Z][A-Z0-9_]*=/.test(a));
      const flag = (f: string) => { const i = run.args.indexOf(f); return i >= 0 ? run.args[i + 1] : undefined; };
      if (run.peer === 'pppd') {
        const user = flag('user'), pass = flag('password');
        if (user !== undefined) vars.push(`PPP_USER=${user}`);
        if (pass !== undefined) vars.push(`PPP_PASS=${pass}`);
        if (!vars.some((v) => v.startsWith('HOLD='))) vars.push('HOLD=86400');
      } else {
        const addr = ns.links[0].address;
        if (addr !== undefined && !vars.some((v) => v.startsWith('GUEST_IP='))) vars.push(`GUEST_IP=${addr}`);
      }
      if (!vars.some((v) => v.startsWith('LIFETIME='))) vars.push('LIFETIME=86400');
      if (!vars.some((v) => v.startsWith('UML_TIMEOUT='))) vars.push('UML_TIMEOUT=86460');
      return { kind: 'uml', ...base, script, role: run.peer === 'pppd' ? 'pppoe-client' : 'l2tp-lns', attach: `raw:${attach}`, vars };
    }
  }
}
