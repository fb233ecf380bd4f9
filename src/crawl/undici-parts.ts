// The parts of undici the crawl's fetcher uses, loaded by their own modules. undici's index also
// loads fetch, WebSocket, EventSource, the cache, the mock agent and the interceptors, which the
// crawl never touches: `require('undici')` took 108–113 ms on this machine where these took
// 46–48 ms (node -e, three runs each, in a slow hour).
import AgentClass from 'undici/lib/dispatcher/agent.js';
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import ProxyAgentClass from 'undici/lib/dispatcher/proxy-agent.js';
import api from 'undici/lib/api/index.js';

// What undici's index does on load: the request API (request, stream, pipeline, connect,
// upgrade) as methods of every dispatcher. ProxyAgent tunnels HTTPS with `connect()`.
Object.assign(Dispatcher.prototype, api);

export const Agent = AgentClass;
export const ProxyAgent = ProxyAgentClass;
export type Agent = InstanceType<typeof AgentClass>;
export type ProxyAgent = InstanceType<typeof ProxyAgentClass>;
