/**
 * The 5-field extraction both owl and Crawlee run on the bench site's pages (bench/site.ts): the
 * heading, the first link (resolved), every link target, the first paragraph and the page language.
 */
export const BENCH_EXTRACT = {
  fields: {
    heading: 'header h1',
    next: { selector: 'nav a.l0', attr: 'href', type: 'url' },
    links: { selector: 'nav a', attr: 'href', all: true },
    intro: 'main p',
    lang: { selector: 'html', attr: 'lang' },
  },
} as const;
