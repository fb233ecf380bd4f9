/**
 * The fixture site (test/fixtures/site-server.ts) inside a container of the project network:
 * the site listens on the container's loopback, this forwards 0.0.0.0:8080 to it. Run with
 * `node --import tsx test/containers/servers/site.ts` in the app image.
 */
import { createServer, connect } from 'node:net';
import { URL } from 'node:url';
import { startFixtureSite } from '../../fixtures/site-server.ts';

const site = await startFixtureSite({ graphSize: Number(process.env.GRAPH_SIZE ?? 30), linksPerPage: 4 });
const { hostname, port } = new URL(site.url);
const forwarder = createServer((client) => {
  const upstream = connect(Number(port), hostname);
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
forwarder.listen(8080, '0.0.0.0', () => console.log(`fixture site on :8080 (${site.url})`));

process.once('SIGTERM', () => {
  forwarder.close();
  void site.close().then(() => process.exit(0));
});
