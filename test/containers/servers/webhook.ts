/**
 * A notification receiver inside a container of the monitoring network: keeps every POST body
 * (Alertmanager's Slack or webhook payloads) and lists them at GET /received. Run with
 * `node --import tsx test/containers/servers/webhook.ts` in the app image; port 5001.
 */
import { createServer } from 'node:http';

const received: { path: string; at: number; body: unknown }[] = [];

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/received') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // kept as text
    }
    received.push({ path: req.url ?? '', at: Date.now(), body });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
server.listen(5001, '0.0.0.0', () => console.log('webhook receiver on :5001'));

process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
