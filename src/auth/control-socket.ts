/**
 * The embedded store's control socket: `owl serve` on SQLite owns the database file (an exclusive
 * lock), so `owl keys` run beside it asks the server through a Unix socket in the data folder
 * (`<dataDir>/owl.sock`, mode 0600: only the user that runs the service may connect, which is
 * the same user that could read the database file anyway). One JSON line each way.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ERRORS, isOwlError, OwlError, type ErrorCode } from '../errors.ts';
import type { Store } from '../store/types.ts';
import { createApiKey, revokeApiKey, type Actor } from './key-service.ts';

export type ControlRequest = { op: 'create'; spec: Record<string, unknown> } | { op: 'list' } | { op: 'revoke'; id: string };
type ControlAnswer = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

const LOCAL: Actor = { keyId: null, address: 'local' };
/** Longest request line read (a key spec is a few hundred bytes). */
const MAX_LINE = 16 * 1024;

export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, 'owl.sock');
}

/** What `owl keys` does, on a store it holds or the server's. */
export async function runControl(store: Store, req: ControlRequest): Promise<unknown> {
  switch (req.op) {
    case 'create':
      return createApiKey(store, req.spec, LOCAL);
    case 'list':
      return store.keys.list();
    case 'revoke':
      return revokeApiKey(store, req.id, LOCAL);
    default:
      throw new OwlError('VALIDATION', 'unknown control operation');
  }
}

/** Listens on `<dataDir>/owl.sock`; `onRevoke` runs after each revocation (the API forgets the keys it verified). Returns a close function. */
export async function startControlSocket(store: Store, dataDir: string, onRevoke: () => void = () => {}): Promise<() => Promise<void>> {
  const file = controlSocketPath(dataDir);
  // Our data-folder lock is held: a socket file left here belongs to a process that is gone.
  fs.rmSync(file, { force: true });
  const server = net.createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_LINE) return void socket.destroy();
      const nl = buffer.indexOf('\n');
      if (nl === -1) return;
      socket.removeAllListeners('data');
      let request: ControlRequest;
      try {
        request = JSON.parse(buffer.slice(0, nl)) as ControlRequest;
      } catch {
        return void socket.end(`${JSON.stringify({ ok: false, error: { code: 'VALIDATION', message: 'not JSON' } })}\n`);
      }
      runControl(store, request).then(
        (result) => {
          if (request.op === 'revoke') onRevoke();
          socket.end(`${JSON.stringify({ ok: true, result } satisfies ControlAnswer)}\n`);
        },
        (err: unknown) => {
          const error = isOwlError(err) ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: 'the server could not do it (see its log)' };
          socket.end(`${JSON.stringify({ ok: false, error } satisfies ControlAnswer)}\n`);
        },
      );
    });
  });
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  fs.chmodSync(file, 0o600);
  server.unref();
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      fs.rmSync(file, { force: true });
    });
}

/** Sends one request to a running server's control socket. */
export function callControlSocket(dataDir: string, req: ControlRequest, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(controlSocketPath(dataDir));
    let buffer = '';
    const timer = setTimeout(() => socket.destroy(new Error(`the server did not answer on ${controlSocketPath(dataDir)} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(req)}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        const answer = JSON.parse(buffer) as ControlAnswer;
        if (answer.ok) resolve(answer.result);
        else reject(new OwlError(Object.hasOwn(ERRORS, answer.error.code) ? (answer.error.code as ErrorCode) : 'INTERNAL', answer.error.message));
      } catch {
        reject(new Error(`the server's answer on ${controlSocketPath(dataDir)} is not JSON`));
      }
    });
  });
}
