/**
 * A webhook receiver for the tests: verifies every request with the `standardwebhooks` package
 * (the signing secret the test gave the webhook), answers 500 to the first `failFirst` attempts
 * of each `webhook-id`, and records what it saw per id.
 */
import { Webhook } from 'standardwebhooks';
import { sendBody, startHttpFixture, type HttpFixture } from '../fixtures/http-fixture.ts';

export interface Received {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export interface Receiver {
  fixture: HttpFixture;
  /** `http://127.0.0.1:PORT/hook`. */
  url: string;
  /** Attempts per webhook-id (verified or not). */
  attempts: Map<string, number>;
  /** 2xx answers per webhook-id: the deliveries it acknowledged. */
  acknowledged: Map<string, number>;
  /** The verified bodies it acknowledged, in arrival order. */
  events: Received[];
  /** Requests whose signature, headers or timestamp failed verification. */
  rejected: string[];
  /** Answer 500 to the first N attempts of every webhook-id (can be changed at any time). */
  failFirst: number;
  close(): Promise<void>;
}

export async function startReceiver(secret: string, failFirst = 0): Promise<Receiver> {
  const verifier = new Webhook(secret);
  const receiver: Omit<Receiver, 'fixture' | 'url' | 'close'> = { attempts: new Map(), acknowledged: new Map(), events: [], rejected: [], failFirst };
  const fixture = await startHttpFixture((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let event: Received;
      try {
        event = { id: headers['webhook-id']!, ...(verifier.verify(body, headers) as Omit<Received, 'id'>) };
      } catch (err) {
        receiver.rejected.push(`${headers['webhook-id']}: ${(err as Error).message}`);
        sendBody(res, 400, 'bad signature', { 'content-type': 'text/plain' });
        return;
      }
      const n = (receiver.attempts.get(event.id) ?? 0) + 1;
      receiver.attempts.set(event.id, n);
      if (n <= receiver.failFirst) {
        sendBody(res, 500, `not yet (attempt ${n})`, { 'content-type': 'text/plain' });
        return;
      }
      receiver.acknowledged.set(event.id, (receiver.acknowledged.get(event.id) ?? 0) + 1);
      receiver.events.push(event);
      sendBody(res, 204, '', {});
    });
  });
  return Object.assign(receiver, { fixture, url: `${fixture.url}/hook`, close: () => fixture.close() });
}
