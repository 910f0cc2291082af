import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * What dockerd changes on the host when it starts and runs containers: IP forwarding, the
 * iptables rules of its chains (both families), and the bridges and veth pairs it adds. Taken
 * before the daemon starts, put back after it stopped.
 */
export interface HostNetwork {
  forwarding: Record<string, string>;
  iptables: { v4: string; v6: string };
  links: string[];
}

const FORWARDING = ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv6/conf/all/forwarding'];
const TABLES = ['filter', 'nat', 'mangle', 'raw'];
const BUILTIN: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
};

const run = (command: string, args: string[]) => execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function readForwarding(): Record<string, string> {
  return Object.fromEntries(FORWARDING.map((path) => [path, readFileSync(path, 'utf8').trim()]));
}

function saveRules(family: 'v4' | 'v6'): string {
  return run(family === 'v4' ? 'iptables-save' : 'ip6tables-save', []);
}

function linkNames(): string[] {
  return run('ip', ['-o', 'link', 'show'])
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => Boolean(name))
    .sort();
}

/** The rules without iptables-save's comments and packet counters, for comparing two saves. */
export function comparableRules(saved: string): string {
  return saved
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.replace(/\s\[\d+:\d+\]$/, ''))
    .join('\n');
}

export function snapshotHostNetwork(): HostNetwork {
  return { forwarding: readForwarding(), iptables: { v4: saveRules('v4'), v6: saveRules('v6') }, links: linkNames() };
}

function hasNft(): boolean {
  try {
    return run('iptables', ['--version']).includes('nf_tables') && Boolean(run('nft', ['--version']));
  } catch {
    return false;
  }
}

function tablesIn(saved: string): Set<string> {
  return new Set([...saved.matchAll(/^\*(\w+)$/gm)].map((match) => match[1]!));
}

function restoreRules(family: 'v4' | 'v6', before: string): void {
  const tool = family === 'v4' ? 'iptables' : 'ip6tables';
  const had = tablesIn(before);
  // A table the first save had is put back whole; one it did not have goes back to empty, open.
  if (had.size > 0) execFileSync(`${tool}-restore`, [], { input: before, stdio: ['pipe', 'ignore', 'pipe'] });
  const now = tablesIn(saveRules(family));
  for (const table of TABLES) {
    if (had.has(table) || !now.has(table)) continue;
    // iptables-nft keeps its tables in nftables: nft can remove one whole, as it was before.
    if (hasNft()) {
      run('nft', ['delete', 'table', family === 'v4' ? 'ip' : 'ip6', table]);
      continue;
    }
    run(tool, ['-t', table, '-F']);
    run(tool, ['-t', table, '-X']);
    for (const chain of BUILTIN[table]!) run(tool, ['-t', table, '-P', chain, 'ACCEPT']);
  }
}

/** Puts back what `before` recorded; returns what still differs (nothing, when all went well). */
export function restoreHostNetwork(before: HostNetwork): string[] {
  const problems: string[] = [];
  for (const name of linkNames()) {
    if (before.links.includes(name)) continue;
    // Bridges and veth ends dockerd made; a veth's peer goes with it.
    try {
      run('ip', ['link', 'delete', name]);
    } catch (error) {
      if (linkNames().includes(name)) problems.push(`link ${name} could not be removed: ${(error as Error).message.trim()}`);
    }
  }
  for (const family of ['v4', 'v6'] as const) {
    try {
      restoreRules(family, before.iptables[family]);
    } catch (error) {
      problems.push(`${family === 'v4' ? 'iptables' : 'ip6tables'} could not be restored: ${(error as Error).message.trim()}`);
    }
  }
  for (const [path, value] of Object.entries(before.forwarding)) {
    try {
      if (readFileSync(path, 'utf8').trim() !== value) writeFileSync(path, `${value}\n`);
    } catch (error) {
      problems.push(`${path} could not be set back to ${value}: ${(error as Error).message}`);
    }
  }
  return [...problems, ...differences(before, snapshotHostNetwork())];
}

/** What differs between two snapshots, said per item ("" tables that appeared empty and open count as unchanged). */
export function differences(before: HostNetwork, after: HostNetwork): string[] {
  const found: string[] = [];
  for (const [path, value] of Object.entries(before.forwarding)) {
    if (after.forwarding[path] !== value) found.push(`${path} is ${after.forwarding[path]}, was ${value}`);
  }
  const added = after.links.filter((name) => !before.links.includes(name));
  if (added.length > 0) found.push(`links left behind: ${added.join(', ')}`);
  for (const family of ['v4', 'v6'] as const) {
    const was = openEmptyTablesRemoved(comparableRules(before.iptables[family]));
    const is = openEmptyTablesRemoved(comparableRules(after.iptables[family]));
    if (was !== is) found.push(`${family === 'v4' ? 'iptables' : 'ip6tables'} rules differ from before:\n${is}`);
  }
  return found;
}

/** A table with only its built-in chains, all ACCEPT, and no rule is the same as no table. */
function openEmptyTablesRemoved(rules: string): string {
  const blocks = rules.split(/(?=^\*)/m).filter((block) => block.trim());
  return blocks
    .filter((block) => {
      const lines = block.split('\n').filter((line) => line.trim());
      const body = lines.slice(1).filter((line) => line !== 'COMMIT');
      return !body.every((line) => /^:\S+ ACCEPT$/.test(line.trim()));
    })
    .join('')
    .trim();
}
