/** The Chromium processes started by this test process (never anyone else's), read from /proc. */
import fs from 'node:fs';

export interface ChromiumProcess {
  pid: number;
  /** `--type=` of the process (`renderer`, `gpu-process`, `zygote` …), null for the browser itself. */
  type: string | null;
}

function parentOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; fields resume after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

export function chromiumDescendants(root: number = process.pid): ChromiumProcess[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const ppid = parentOf(pid);
    if (ppid !== null) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: ChromiumProcess[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    stack.push(...(children.get(pid) ?? []));
    let argv: string[];
    try {
      // Chromium's child processes rewrite their title: one space-separated string, not NUL-separated.
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/\0| (?=--)/);
    } catch {
      continue;
    }
    if (!/chrom/i.test(argv[0] ?? '')) continue;
    const type = argv.find((a) => a.startsWith('--type='))?.slice('--type='.length) ?? null;
    out.push({ pid, type });
  }
  return out;
}

/** SIGKILLs this process's Chromium processes of one type (null: the browser processes). */
export function killChromium(type: string | null): number {
  let n = 0;
  for (const p of chromiumDescendants()) {
    if (p.type !== type) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
      n++;
    } catch {
      // already gone
    }
  }
  return n;
}
