/** The console's list of webhook event types is the API's. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WEBHOOK_EVENTS } from '../../console/src/webhooks.ts';
import { SUBSCRIBABLE_EVENT_TYPES } from '../../src/webhooks/publish.ts';

describe('console webhooks view', () => {
  it('offers exactly the event types POST /webhooks accepts', () => {
    assert.deepEqual([...WEBHOOK_EVENTS].sort(), [...SUBSCRIBABLE_EVENT_TYPES].sort());
  });
});
