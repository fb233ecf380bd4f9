// The two parts of undici the crawl's fetcher uses, loaded by their own modules. undici's index
// also loads fetch, WebSocket, EventSource, the cache, the mock agent and the interceptors, which
// the crawl never touches: `require('undici')` took 105–114 ms on this machine where these two
// took 40–42 ms (node -e, three runs each, in a slow hour). The fetcher only dispatches, so it
// needs none of the methods the index adds to Dispatcher.prototype (request, stream, …).
import AgentClass from 'undici/lib/dispatcher/agent.js';
import ProxyAgentClass from 'undici/lib/dispatcher/proxy-agent.js';

export const Agent = AgentClass;
export const ProxyAgent = ProxyAgentClass;
export type Agent = InstanceType<typeof AgentClass>;
export type ProxyAgent = InstanceType<typeof ProxyAgentClass>;
