import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CAPTCHA_VENDORS, SCAN_LIMIT, detectBlock, detectBlockInDom, parseRetryAfter } from '../../src/crawl/block-detect.ts';

const lorem =
  'The committee met on Tuesday to review the harbour redevelopment plan. Residents raised concerns about traffic, ' +
  'parking and the loss of the old fish market, while the council argued that the new ferry terminal would bring jobs. ';

function nav(n: number): string {
  return Array.from({ length: n }, (_, i) => `<li><a href="/section/${i}">Section ${i}</a></li>`).join('');
}

function article(title: string, paragraphs: string[], extraHead = '', extraBody = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>${extraHead}</head><body>
<header><nav><ul>${nav(30)}</ul></nav></header>
<main><article><h1>${title}</h1>${paragraphs.map((p) => `<p>${p}</p>`).join('\n')}</article></main>
${extraBody}<footer><p>&copy; 2026 Example Media</p></footer></body></html>`;
}

const POSITIVE: Array<{ name: string; status: number; headers?: Record<string, string>; body: string | null; vendor: string }> = [
  {
    name: 'Cloudflare managed challenge (403, cf-mitigated header)',
    status: 403,
    headers: { 'cf-mitigated': 'challenge', server: 'cloudflare', 'content-type': 'text/html; charset=UTF-8' },
    body: `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title><meta http-equiv="refresh" content="390">
<style>*{box-sizing:border-box;margin:0;padding:0}</style></head><body><div class="main-wrapper" role="main">
<div class="main-content"><noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></noscript></div></div>
<script>(function(){window._cf_chl_opt={cvId: '3',cZone: "shop.example.com",cType: 'managed',cRay: '8f1a2b3c4d5e6f70'};
var cpo=document.createElement('script');cpo.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=8f1a2b3c4d5e6f70';
document.getElementsByTagName('head')[0].appendChild(cpo);}());</script></body></html>`,
    vendor: 'cloudflare',
  },
  {
    name: 'Cloudflare challenge body without the header (503, old "Checking your browser")',
    status: 503,
    headers: { server: 'cloudflare' },
    body: `<!DOCTYPE HTML><html lang="en-US"><head><meta charset="UTF-8" /><title>Just a moment...</title></head>
<body><table width="100%" height="100%" cellpadding="20"><tr><td align="center" valign="middle">
<div class="cf-browser-verification cf-im-under-attack"><noscript><h1>Please turn JavaScript on and reload the page.</h1></noscript>
<div id="cf-content"><h1><span class="cf-checking-browser">Checking your browser before accessing</span> shop.example.com.</h1>
<p>This process is automatic. Your browser will redirect to your requested content shortly.</p></div>
<form id="challenge-form" action="/?__cf_chl_jschl_tk__=abc" method="POST"><input type="hidden" name="jschl_vc" value="5b2e"/><input type="hidden" id="jschl-answer" name="jschl_answer"/></form>
</div></td></tr></table></body></html>`,
    vendor: 'cloudflare',
  },
  {
    name: 'Cloudflare challenge header with no body (HEAD-like)',
    status: 403,
    headers: { 'cf-mitigated': 'challenge' },
    body: null,
    vendor: 'cloudflare',
  },
  {
    name: 'Standalone Turnstile gate (200)',
    status: 200,
    body: `<!doctype html><html><head><title>Security check</title>
<script src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer></script></head>
<body><main><h1>Verify you are human</h1><p>Please complete the check below to continue to the site.</p>
<form method="post" action="/__gate"><div class="cf-turnstile" data-sitekey="0x4AAAAAAABkMYinukE8nzY"></div><button type="submit">Continue</button></form></main></body></html>`,
    vendor: 'turnstile',
  },
  {
    name: 'reCAPTCHA v2 interstitial (200)',
    status: 200,
    body: `<html><head><title>Are you a robot?</title><script src="https://www.google.com/recaptcha/api.js" async defer></script></head>
<body><div class="box"><h2>Please confirm that you are not a robot</h2><p>We have detected unusual activity from your IP address.</p>
<form action="/captcha/verify" method="POST"><input type="hidden" name="return" value="/products/42">
<div class="g-recaptcha" data-sitekey="6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI"></div><input type="submit" value="Submit"></form>
<p><a href="/help">Help</a> · <a href="/privacy">Privacy</a></p></div></body></html>`,
    vendor: 'recaptcha',
  },
  {
    name: 'hCaptcha challenge page (403)',
    status: 403,
    body: `<!DOCTYPE html><html><head><title>Human Verification</title><script src="https://js.hcaptcha.com/1/api.js" async defer></script></head>
<body><h1>One more step</h1><p>Please complete the security check to access forum.example.org</p>
<form method="POST"><div class="h-captcha" data-sitekey="10000000-ffff-ffff-ffff-000000000001"></div><button>Continue</button></form></body></html>`,
    vendor: 'hcaptcha',
  },
  {
    name: 'DataDome block page (403)',
    status: 403,
    headers: { 'x-datadome': 'protected', 'x-dd-b': '1' },
    body: `<html><head><title>example.com</title><style>#cmsg{animation: A 1.5s;}@keyframes A{0%{opacity:0;}99%{opacity:0;}100%{opacity:1;}}</style></head>
<body style="margin:0"><p id="cmsg">Please enable JS and disable any ad blocker</p>
<script data-cfasync="false">var dd={'rt':'c','cid':'AHrlqAAAAAMA1x','hsh':'2211F522B61E269B869FA6EAFFB5E1','t':'fe','s':17434,'e':'a1b2','host':'geo.captcha-delivery.com'}</script>
<script data-cfasync="false" src="https://ct.captcha-delivery.com/c.js"></script></body></html>`,
    vendor: 'datadome',
  },
  {
    name: 'PerimeterX / HUMAN press-and-hold (403)',
    status: 403,
    body: `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Access to this page has been denied.</title></head>
<body><div class="px-captcha-container"><div class="px-captcha-header">Before we continue...</div>
<div class="px-captcha-message">Press &amp; Hold to confirm you are<br>a human (and not a bot).</div><div id="px-captcha"></div></div>
<script>window._pxAppId = 'PXa1b2c3d4';window._pxJsClientSrc = '/a1b2c3d4/init.js';window._pxFirstPartyEnabled = true;
window._pxHostUrl = '/a1b2c3d4/xhr';window._pxreCaptchaTheme = 'light';</script>
<script src="https://captcha.px-cdn.net/PXa1b2c3d4/captcha.js?a=c&m=0"></script></body></html>`,
    vendor: 'perimeterx',
  },
  {
    name: 'AWS WAF captcha (405)',
    status: 405,
    headers: { 'x-amzn-waf-action': 'captcha' },
    body: `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title></title>
<script type="text/javascript" src="https://5a1b2c3d4e5f.edge.captcha-sdk.awswaf.com/5a1b2c3d4e5f/jsapi.js"></script></head>
<body><div id="captcha-container"></div><script>window.gokuProps = {"key":"AQIDAHjcYu/GjX+QlghicBg","iv":"CgAGVTNd","context":"abc"};
AwsWafIntegration.saveReferrer();CaptchaScript.renderCaptcha(document.getElementById('captcha-container'), {});</script></body></html>`,
    vendor: 'aws_waf',
  },
  {
    name: 'AWS WAF challenge interstitial detected from the body only (202)',
    status: 202,
    body: `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title></title></head><body>
<div id="challenge-container"></div><script>window.gokuProps = {"key":"AQIDAHjcYu","iv":"CgAGVTNd","context":"xyz"};</script>
<script src="https://a1b2c3.token.awswaf.com/a1b2c3/d4e5/challenge.js"></script><noscript><h1>JavaScript is disabled</h1></noscript></body></html>`,
    vendor: 'aws_waf',
  },
  {
    name: 'Akamai Bot Manager denial (403)',
    status: 403,
    headers: { server: 'AkamaiGHost' },
    body: `<HTML><HEAD>
<TITLE>Access Denied</TITLE>
</HEAD><BODY>
<H1>Access Denied</H1>

You don't have permission to access "http&#58;&#47;&#47;www&#46;example&#46;com&#47;product&#47;123" on this server.<P>
Reference&#32;&#35;18&#46;2f3c1002&#46;1732576123&#46;6a1b2c3
<P>https&#58;&#47;&#47;errors&#46;edgesuite&#46;net&#47;18&#46;2f3c1002&#46;1732576123&#46;6a1b2c3</P>
</BODY>
</HTML>`,
    vendor: 'akamai',
  },
  {
    name: 'Akamai sec-cpt challenge (200)',
    status: 200,
    body: `<!DOCTYPE html><html><head><title>Challenge Validation</title><link rel="stylesheet" href="/_sec/cpt/style.css"></head>
<body><div id="sec-if-cpt-container" class="sec-container"><div class="sec-header">Powered and protected by Akamai</div>
<iframe id="sec-cpt-if" class="crypto" data-key="" src="/_sec/cp_challenge/ak-challenge-4-3.htm"></iframe></div></body></html>`,
    vendor: 'akamai',
  },
  {
    name: 'Imperva / Incapsula iframe page (200)',
    status: 200,
    body: `<html style="height:100%"><head><META NAME="ROBOTS" CONTENT="NOINDEX, NOFOLLOW"><meta name="format-detection" content="telephone=no">
<meta name="viewport" content="initial-scale=1.0"><meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1"></head>
<body style="margin:0px;height:100%"><iframe id="main-iframe" src="/_Incapsula_Resource?CWUDNSAI=23&xinfo=9-12345678-0%200NNN&incident_id=123000340012345678-987654321&edet=15&cinfo=04000000&rpinfo=0&mth=GET" frameborder=0 width="100%" height="100%" marginheight="0px" marginwidth="0px">Request unsuccessful. Incapsula incident ID: 123000340012345678-987654321</iframe></body></html>`,
    vendor: 'imperva',
  },
  {
    name: 'Generic bot check without a vendor widget (200)',
    status: 200,
    body: `<!doctype html><html><head><title>Robot Check</title></head><body><div class="a-box">
<h4>Enter the characters you see below</h4><p>Sorry, we just need to make sure you're not a robot. Please verify you are a human.</p>
<img src="/captcha/Captcha_abcdef.jpg"><form method="get" action="/errors/validateCaptcha"><input type="hidden" name="amzn" value="x">
<button type="submit">Continue shopping</button></form></div></body></html>`,
    vendor: 'generic',
  },
  {
    name: 'Generic check with entity-encoded wording (200)',
    status: 200,
    body: `<html><head><title>Please wait</title></head><body><main><p>Verify you&#39;re human by completing the action below.</p>
<div id="challenge-stage"></div><button type="button">I&rsquo;m not a robot</button></main></body></html>`,
    vendor: 'generic',
  },
];

const NEGATIVE: Array<{ name: string; status: number; headers?: Record<string, string>; body: string | null }> = [
  {
    name: 'news article that discusses captchas at length',
    status: 200,
    body: article('Why CAPTCHAs are getting harder for humans', [
      'CAPTCHA puzzles, from distorted letters to reCAPTCHA image grids and hCaptcha, were built to verify you are human.',
      'Researchers found that bots now solve them faster than people; "Are you a robot?" prompts annoy readers.',
      `Cloudflare says its Turnstile and "Just a moment..." pages reduce friction. ${lorem}`,
      lorem.repeat(6),
      lorem.repeat(6),
    ]),
  },
  {
    name: 'shop page whose newsletter form embeds a reCAPTCHA widget',
    status: 200,
    body: article(
      'Trail Running Shoes – Summit Outfitters',
      [
        'Lightweight trail shoes with a grippy outsole and a rock plate. Free returns within 30 days.',
        lorem.repeat(4),
        `<ul>${Array.from({ length: 24 }, (_, i) => `<li><a href="/p/${i}">Model ${i}</a> – €${90 + i}</li>`).join('')}</ul>`,
      ],
      '<script src="https://www.google.com/recaptcha/api.js" async defer></script>',
      `<section class="newsletter"><h3>Join our newsletter</h3><form action="/subscribe" method="post">
<input type="email" name="email" placeholder="you@example.com"><div class="g-recaptcha" data-sitekey="6Lc_abc"></div>
<button type="submit">Subscribe</button></form></section>`,
    ),
  },
  {
    name: 'small login page with an hCaptcha widget',
    status: 200,
    body: `<!doctype html><html><head><title>Sign in · Example</title><script src="https://js.hcaptcha.com/1/api.js" async defer></script></head>
<body><form method="post" action="/session"><h1>Sign in</h1><label>Email <input type="email" name="email"></label>
<label>Password <input type="password" name="password"></label><div class="h-captcha" data-sitekey="10000000-ffff"></div>
<p>Please verify you are human before signing in.</p><button type="submit">Sign in</button></form></body></html>`,
  },
  {
    name: 'normal page behind Cloudflare with its injected challenge-platform sensor script',
    status: 200,
    headers: { server: 'cloudflare', 'cf-ray': '8f1a2b3c4d5e6f70-FRA' },
    body: article('Opening hours', [`We are open from 9 to 5. ${lorem.repeat(3)}`], '',
      `<script>(function(){function c(){var b=a.contentDocument||a.contentWindow.document;if(b){var d=b.createElement('script');d.innerHTML="window.__CF$cv$params={r:'8f1a',t:'MTcz'};var a=document.createElement('script');a.nonce='';a.src='/cdn-cgi/challenge-platform/scripts/jsd/main.js';document.getElementsByTagName('head')[0].appendChild(a);";b.getElementsByTagName('head')[0].appendChild(d)}}var a=document.createElement('iframe');a.height=1;a.width=1;a.style.display='none';document.body.appendChild(a);c()})();</script>`),
  },
  {
    name: 'normal page with an Incapsula resource script and an Incapsula header',
    status: 200,
    headers: { 'x-iinfo': '9-12345678-12345679 NNNN CT(0 0 0) RT(1732576123 0) q(0 0 0 -1) r(1 1) U6', 'x-cdn': 'Imperva' },
    body: article('Annual report 2025', [lorem.repeat(5)], '<script type="text/javascript" src="/_Incapsula_Resource?SWJIYLWA=719d34d31c8e3a6e6fffd425f7e032f3"></script>'),
  },
  {
    name: 'normal page with DataDome and PerimeterX sensors',
    status: 200,
    headers: { 'x-datadome': 'protected' },
    body: article('Flights to Lisbon', [lorem.repeat(5)],
      `<script>window.ddjskey='ABCDEF0123456789';window.ddoptions={};</script><script src="https://js.datadome.co/tags.js" async></script>
<script>window._pxAppId='PXa1b2c3d4';</script><script src="//client.perimeterx.net/PXa1b2c3d4/main.min.js" async></script>`),
  },
  {
    name: 'blog post quoting Cloudflare challenge source in a code block',
    status: 200,
    body: article('How the Cloudflare interstitial works', [
      'Open the developer tools on the interstitial and you will see <code>window._cf_chl_opt={cType: \'managed\'}</code>.',
      lorem.repeat(8),
    ]),
  },
  {
    name: 'short explainer page titled "What is CAPTCHA?"',
    status: 200,
    body: `<!doctype html><html><head><title>What is CAPTCHA?</title></head><body><h1>What is CAPTCHA?</h1>
<p>CAPTCHAs are small puzzles that ask you to prove you are human, such as reCAPTCHA or hCaptcha.</p><p><a href="/">Home</a></p></body></html>`,
  },
  {
    name: 'contact page with a reCAPTCHA and a textarea',
    status: 200,
    body: `<html><head><title>Contact us</title><script src="https://www.google.com/recaptcha/api.js"></script></head><body>
<h1>Contact us</h1><p>Are you a robot? Please verify you are a human.</p><form method="post"><textarea name="message"></textarea>
<div class="g-recaptcha" data-sitekey="6Lc_abc"></div><button>Send</button></form></body></html>`,
  },
  {
    name: 'small page with invisible reCAPTCHA v3 scoring',
    status: 200,
    body: `<html><head><title>Thank you</title><script src="https://www.google.com/recaptcha/api.js?render=6Lc_v3key"></script></head>
<body><h1>Thank you for your order</h1><p>Your order 1234 ships tomorrow.</p></body></html>`,
  },
  {
    name: 'long help article with few links that quotes the challenge wording',
    status: 200,
    body: `<html><head><title>Help: the verification page</title></head><body><h1>Why am I asked to verify?</h1>
<p>Sometimes the site shows a page that says "Please verify you are a human" and asks you to press &amp; hold a button.</p>
${`<p>${lorem}</p>`.repeat(12)}<p><a href="/help">Back to help</a></p></body></html>`,
  },
  { name: 'plain 404 page', status: 404, body: '<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The page does not exist.</p></body></html>' },
  { name: '503 maintenance page', status: 503, headers: { 'retry-after': '120' }, body: '<html><head><title>Down for maintenance</title></head><body><h1>We will be back soon</h1></body></html>' },
  { name: '500 error with no body', status: 500, body: null },
  { name: '301 redirect', status: 301, headers: { location: 'https://example.com/' }, body: null },
  { name: '401 unauthorized', status: 401, body: '<html><head><title>Login required</title></head><body>Please sign in.</body></html>' },
];

describe('detectBlock: captcha and challenge pages', () => {
  for (const c of POSITIVE) {
    it(`${c.name} → captcha/${c.vendor}`, () => {
      assert.ok(CAPTCHA_VENDORS.includes(c.vendor as never), 'test vendor is in the fixed set');
      assert.deepEqual(detectBlock({ status: c.status, headers: c.headers ?? {}, body: c.body }), { kind: 'captcha', vendor: c.vendor });
    });
  }
});

describe('detectBlock: ordinary pages are not flagged', () => {
  for (const c of NEGATIVE) {
    it(c.name, () => assert.equal(detectBlock({ status: c.status, headers: c.headers ?? {}, body: c.body }), null));
  }
});

describe('detectBlock: blocks and rate limits', () => {
  it('429 → rate_limited with Retry-After seconds', () => {
    assert.deepEqual(detectBlock({ status: 429, headers: { 'retry-after': '30' }, body: 'slow down' }), { kind: 'rate_limited', retryAfterMs: 30_000 });
  });
  it('429 → rate_limited with an HTTP-date Retry-After relative to now', () => {
    const now = Date.parse('Wed, 26 Nov 2026 10:00:00 GMT');
    assert.deepEqual(
      detectBlock({ status: 429, headers: { 'retry-after': 'Wed, 26 Nov 2026 10:00:05 GMT' }, body: null, now }),
      { kind: 'rate_limited', retryAfterMs: 5_000 },
    );
  });
  it('429 without Retry-After → retryAfterMs null', () => {
    assert.deepEqual(detectBlock({ status: 429, headers: {}, body: null }), { kind: 'rate_limited', retryAfterMs: null });
  });
  it('403 without captcha markers → blocked', () => {
    const body = '<html><head><title>403 Forbidden</title></head><body><center><h1>403 Forbidden</h1></center><hr><center>nginx</center></body></html>';
    assert.deepEqual(detectBlock({ status: 403, headers: {}, body }), { kind: 'blocked' });
  });
  it('Cloudflare WAF "you have been blocked" (no challenge to solve) → blocked', () => {
    const body = `<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body><div id="cf-wrapper">
<div id="cf-error-details"><h1>Sorry, you have been blocked</h1><h2>You are unable to access example.com</h2>
<h2>Why have I been blocked?</h2><p>This website is using a security service to protect itself from online attacks.</p>
<span>Cloudflare Ray ID: <strong>8f1a2b3c4d5e6f70</strong></span></div></div></body></html>`;
    assert.deepEqual(detectBlock({ status: 403, headers: { server: 'cloudflare' }, body }), { kind: 'blocked' });
  });
  it('403 with a null body → blocked', () => {
    assert.deepEqual(detectBlock({ status: 403, headers: {}, body: null }), { kind: 'blocked' });
  });
  it('503 with a challenge → captcha; 503 without → null', () => {
    const challenge = POSITIVE[1]!;
    assert.equal(detectBlock({ status: 503, headers: {}, body: challenge.body })?.kind, 'captcha');
    assert.equal(detectBlock({ status: 503, headers: {}, body: '<html><body>Service Unavailable</body></html>' }), null);
  });
  it('200 ordinary page → null', () => {
    assert.equal(detectBlock({ status: 200, headers: {}, body: article('Hello', [lorem]) }), null);
  });
});

describe('detectBlock: scan window', () => {
  it('markers beyond the first 64 KB are not seen', () => {
    const pad = `<!-- ${'x'.repeat(SCAN_LIMIT)} -->`;
    const late = `<html><head></head><body>${pad}<div id="px-captcha"></div></body></html>`;
    assert.deepEqual(detectBlock({ status: 403, headers: {}, body: late }), { kind: 'blocked' });
    const early = `<html><head></head><body><div id="px-captcha"></div>${pad}</body></html>`;
    assert.deepEqual(detectBlock({ status: 403, headers: {}, body: early }), { kind: 'captcha', vendor: 'perimeterx' });
  });
  it('a 2xx page larger than the window is never challenge-shaped', () => {
    const big = `<html><head><title>Are you a robot?</title></head><body><p>Please verify you are a human.</p>${'<script>var x=1;</script>'.repeat(4000)}</body></html>`;
    assert.ok(big.length > SCAN_LIMIT);
    assert.equal(detectBlock({ status: 200, headers: {}, body: big }), null);
  });
});

describe('detectBlockInDom', () => {
  it('Turnstile frame on a small verification page → turnstile', () => {
    const html = '<html><head><title>Just a moment...</title></head><body><h1>Verify you are human</h1><div id="cf-turnstile-wrapper"><input type="hidden" name="cf-turnstile-response"></div></body></html>';
    assert.deepEqual(
      detectBlockInDom({ status: 200, html, frameUrls: ['https://challenges.cloudflare.com/cdn-cgi/challenge-platform/h/g/turnstile/if/ov2/av0/rcv0/0/abc/0x4AAA/light/normal'] }),
      { kind: 'captcha', vendor: 'cloudflare' },
    );
    const plain = '<html><head><title>Checking</title></head><body><h1>Verify you are human</h1><input type="hidden" name="cf-turnstile-response"></body></html>';
    assert.deepEqual(
      detectBlockInDom({ status: 200, html: plain, frameUrls: ['https://challenges.cloudflare.com/cdn-cgi/challenge-platform/h/g/turnstile/if/ov2'] }),
      { kind: 'captcha', vendor: 'turnstile' },
    );
  });
  it('DataDome captcha frame decides on its own', () => {
    assert.deepEqual(
      detectBlockInDom({ status: 200, html: '<html><body><iframe></iframe></body></html>', frameUrls: ['https://geo.captcha-delivery.com/captcha/?initialCid=abc&cid=def'] }),
      { kind: 'captcha', vendor: 'datadome' },
    );
  });
  it('reCAPTCHA frames on a checkout page with fields → null', () => {
    const html = article('Checkout', [lorem.repeat(2)], '', '<form><input name="card"><input name="name"></form>');
    assert.equal(detectBlockInDom({ status: 200, html, frameUrls: ['https://www.google.com/recaptcha/api2/anchor?ar=1&k=6Lc&size=invisible'] }), null);
  });
  it('reCAPTCHA challenge frames on a bare verification page → recaptcha', () => {
    const html = '<html><head><title>Security check</title></head><body><p>Please verify you are a human</p><div id="rc"></div><textarea id="g-recaptcha-response" name="g-recaptcha-response" style="display:none"></textarea></body></html>';
    assert.deepEqual(
      detectBlockInDom({ status: 200, html, frameUrls: ['https://www.google.com/recaptcha/api2/bframe?hl=en&v=abc&k=6Lc'] }),
      { kind: 'captcha', vendor: 'recaptcha' },
    );
  });
  it('403 and 429 in the browser', () => {
    assert.deepEqual(detectBlockInDom({ status: 403, html: '<html><body>Forbidden</body></html>', frameUrls: [] }), { kind: 'blocked' });
    assert.deepEqual(detectBlockInDom({ status: 429, html: '', frameUrls: [] }), { kind: 'rate_limited', retryAfterMs: null });
    assert.equal(detectBlockInDom({ status: 200, html: article('Hello', [lorem]), frameUrls: ['https://www.youtube.com/embed/abc'] }), null);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 26 Nov 2026 10:00:00 GMT');
  it('delta-seconds', () => {
    assert.equal(parseRetryAfter('0', now), 0);
    assert.equal(parseRetryAfter(' 120 ', now), 120_000);
  });
  it('HTTP-date in the future, past (→ 0) and obsolete forms', () => {
    assert.equal(parseRetryAfter('Wed, 26 Nov 2026 10:01:00 GMT', now), 60_000);
    assert.equal(parseRetryAfter('Wed, 26 Nov 2026 09:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('Wednesday, 26-Nov-26 10:00:10 GMT', now), 10_000);
    assert.notEqual(parseRetryAfter('Wed Nov 26 10:00:30 2026', now), null);
  });
  it('absent or invalid → null', () => {
    for (const v of [undefined, '', 'soon', '-5', '1.5', '5.5', '1e3', 'Mon, garbage', '99999999999999999999']) {
      assert.equal(parseRetryAfter(v, now), null, String(v));
    }
  });
});
