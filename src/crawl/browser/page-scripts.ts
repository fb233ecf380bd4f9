/**
 * Code that runs inside the page. Kept as plain JavaScript source so no transpiler helper (tsx
 * injects `__name` into functions) ever ends up in the browser.
 *
 * The tracker tells "the page is still busy" from "the page is done" without fixed sleeps: it
 * counts pending short timers (setTimeout up to TRACKED_TIMER_MAX_MS, how late content is usually
 * scheduled), in-flight fetch/XHR and DOM mutations. A page that settles at once costs no wait; a
 * page that inserts links 500 ms later is waited for exactly that long; one that keeps polling is
 * cut off by the caller's bound.
 */

/** setTimeout delays above this are not waited for (tickers, session keep-alives, ads). */
export const TRACKED_TIMER_MAX_MS = 2_000;

export const TRACKER_SCRIPT = `(() => {
  if (window.__owlTracker) return;
  const origSetTimeout = window.setTimeout.bind(window);
  const origClearTimeout = window.clearTimeout.bind(window);
  const st = { timers: new Set(), requests: 0, lastChange: performance.now(), sleep: (ms) => new Promise((r) => origSetTimeout(r, ms)) };
  Object.defineProperty(window, '__owlTracker', { value: st, enumerable: false });
  const touch = () => { st.lastChange = performance.now(); };
  window.setTimeout = function (handler, delay, ...rest) {
    if (typeof handler !== 'function' || Number(delay) > ${TRACKED_TIMER_MAX_MS}) return origSetTimeout(handler, delay, ...rest);
    const id = origSetTimeout(function (...args) { st.timers.delete(id); touch(); return handler.apply(this, args); }, delay, ...rest);
    st.timers.add(id);
    return id;
  };
  window.clearTimeout = function (id) { st.timers.delete(id); return origClearTimeout(id); };
  const origFetch = window.fetch;
  if (typeof origFetch === 'function') {
    window.fetch = function (...args) {
      st.requests++;
      const done = () => { st.requests--; touch(); };
      const p = origFetch.apply(this, args);
      p.then(done, done);
      return p;
    };
  }
  const origSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    st.requests++;
    this.addEventListener('loadend', () => { st.requests--; touch(); }, { once: true });
    return origSend.apply(this, args);
  };
  new MutationObserver(touch).observe(document, { childList: true, subtree: true, attributes: true, characterData: true });
})();`;

export interface SettleOptions {
  /** The DOM and network must have been still for this long. */
  quietMs: number;
  /** When the page has no link yet, stillness must last this long instead (late links). */
  noLinkQuietMs: number;
  /** Upper bound of the whole settle-and-scroll step. */
  maxMs: number;
  /** Scrolls to the bottom at most this many times while the page keeps growing. */
  maxScrolls: number;
}

export interface PageSnapshot {
  html: string;
  title: string;
  /** Absolute hrefs as the browser resolved them (`a[href]`, `area[href]`). */
  hrefs: string[];
  /** `src` of every iframe in the DOM (a frame whose load failed still names its vendor here). */
  iframeSrcs: string[];
  scrolls: number;
}

/** Expression for `page.evaluate`: waits until the page is still, scrolls, then reads the DOM. */
export function settleAndSnapshotScript(o: SettleOptions): string {
  return `(async (o) => {
  const st = window.__owlTracker;
  const sleep = st ? st.sleep : (ms) => new Promise((r) => setTimeout(r, ms));
  const deadline = performance.now() + o.maxMs;
  const hasLink = () => document.querySelector('a[href], area[href]') !== null;
  const settle = async () => {
    while (performance.now() < deadline) {
      const busy = document.readyState !== 'complete' || (st && (st.timers.size > 0 || st.requests > 0));
      const still = st ? performance.now() - st.lastChange : Infinity;
      if (!busy && still >= (hasLink() ? o.quietMs : o.noLinkQuietMs)) return;
      await sleep(20);
    }
  };
  await settle();
  let scrolls = 0;
  const root = () => document.scrollingElement || document.documentElement;
  while (scrolls < o.maxScrolls && performance.now() < deadline) {
    const before = root().scrollHeight;
    if (before <= window.innerHeight + 1 && window.scrollY === 0 && scrolls === 0) break;
    window.scrollTo(0, before);
    scrolls++;
    if (st) st.lastChange = performance.now();
    await settle();
    if (root().scrollHeight <= before) break;
  }
  const hrefs = [];
  for (const a of document.querySelectorAll('a[href], area[href]')) if (typeof a.href === 'string') hrefs.push(a.href);
  const iframeSrcs = [];
  for (const f of document.querySelectorAll('iframe[src]')) if (f.src) iframeSrcs.push(f.src);
  return { html: document.documentElement ? document.documentElement.outerHTML : '', title: document.title, hrefs, iframeSrcs, scrolls };
})(${JSON.stringify(o)})`;
}
