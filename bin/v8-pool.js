// V8 runs its optimising compiler and GC tasks on a pool of 4 threads, whatever the machine.
// A one-shot `owl crawl` spends a large share of its run warming up (every page path being
// compiled), and on a small machine those 4 threads take the cores from the crawl itself
// (measured on 2 cores: 5,000 pages in 0.97-1.03 s with a pool of 1, 1.04-1.22 s with 4; a
// bare crawl loop is not affected either way). So `owl crawl` runs in a child Node process
// with the pool sized to the cores left beside the main thread. The pool size can only be set
// when Node starts; an explicit --v8-pool-size (flag or NODE_OPTIONS) is respected. Long-running
// commands (serve, worker) stay the process the operator started.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const V8_DEFAULT_POOL = 4;

/** Background threads for V8 on a machine with `cores` CPUs: the cores beside the main thread. */
export function poolSizeFor(cores) {
  return Math.max(1, Math.min(V8_DEFAULT_POOL, cores - 1));
}

/**
 * Runs this `owl` invocation again in a child process with a sized V8 pool, when that applies.
 * Resolves false when the current process should go on itself; otherwise never resolves
 * before the child has ended, and exits with its code (or signal).
 */
export async function runWithSizedPool(argv = process.argv.slice(2)) {
  if (process.channel) {
    // Started with an IPC channel (the relaunch below, or a parent's fork()): when the parent goes
    // away, even by SIGKILL, the channel closes and the crawl stops as on SIGTERM, not as an orphan.
    process.channel.unref();
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
    return false;
  }
  const size = poolSizeFor(availableParallelism());
  const explicit = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => a.startsWith('--v8-pool-size'));
  if (argv[0] !== 'crawl' || explicit || size >= V8_DEFAULT_POOL) return false;

  const owl = fileURLToPath(new URL('./owl.js', import.meta.url));
  const child = spawn(process.execPath, [`--v8-pool-size=${size}`, ...process.execArgv, owl, ...argv], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
  // A terminal's Ctrl-C reaches the whole process group (the child too): forwarding SIGINT would
  // make it a second one, which ends the crawl at once. Other signals are meant for this process.
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  process.on('SIGINT', () => {});
  const [code, signal] = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, s) => resolve([c, s]));
  });
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
}
