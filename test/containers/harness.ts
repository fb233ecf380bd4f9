/**
 * Building blocks of the container tests (stacks.e2e.ts): commands with captured output and a
 * time limit, `make` with the compose variables, podman's CLI, and the containers of a compose
 * project. Everything runs against the podman service named by DOCKER_HOST (mk/containers.mk).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunResult {
  code: number | null;
  /** stdout and stderr as they came. */
  output: string;
  stdout: string;
}

/** Runs a command to its end (or kills it after `timeoutMs`) and returns its exit code and merged output. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    const stdout: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => {
      chunks.push(c);
      stdout.push(c);
    });
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    timer.unref();
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: Buffer.concat(chunks).toString('utf8'), stdout: Buffer.concat(stdout).toString('utf8') });
    });
  });
}

/** Like run, but throws with the command's output when it does not exit 0; returns the output (stdout alone with `stdoutOnly`). */
export async function runOk(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; stdoutOnly?: boolean } = {}): Promise<string> {
  const result = await run(cmd, args, opts);
  if (result.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.code}:\n${result.output.slice(-4000)}`);
  return opts.stdoutOnly ? result.stdout : result.output;
}

/** podman's CLI; its stdout (podman logs warnings on stderr). */
export const podman = (...args: string[]): Promise<string> => runOk('podman', args, { timeoutMs: 60_000, stdoutOnly: true });

export interface ComposeContainer {
  id: string;
  name: string;
  service: string;
  state: string;
  /** Published ports as `hostIp:hostPort->containerPort/proto`. */
  ports: string[];
}

interface PsEntry {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string> | null;
  Ports: { host_ip: string; host_port: number; container_port: number; protocol: string }[] | null;
}

/** The containers (running or not) of a compose project, by compose's labels. */
export async function composeContainers(project: string): Promise<ComposeContainer[]> {
  const out = await podman('ps', '--all', '--format', 'json', '--filter', `label=com.docker.compose.project=${project}`);
  const entries = JSON.parse(out || '[]') as PsEntry[];
  return entries.map((e) => ({
    id: e.Id,
    name: e.Names[0] ?? e.Id,
    service: e.Labels?.['com.docker.compose.service'] ?? '',
    state: e.State,
    ports: (e.Ports ?? []).map((p) => `${p.host_ip}:${p.host_port}->${p.container_port}/${p.protocol}`),
  }));
}

/** The IPv4 gateway of a podman network: the host's own address on that bridge. */
export async function networkGateway(network: string): Promise<string> {
  const out = await podman('network', 'inspect', network, '--format', '{{range .Subnets}}{{.Gateway}} {{end}}');
  const gateway = out.trim().split(/\s+/).find((g) => /^\d+\.\d+\.\d+\.\d+$/.test(g));
  if (!gateway) throw new Error(`network ${network} has no IPv4 gateway: ${out}`);
  return gateway;
}

/** Milliseconds since `start`, as seconds with one decimal, for the step timings the test prints. */
export const seconds = (start: number): string => ((Date.now() - start) / 1000).toFixed(1);
