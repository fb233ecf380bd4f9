export * from './definitions.ts';
export * from './registry.ts';
export * from './site-label.ts';
