import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalize } from './canonical-json.js';
import { appendToChain, checkLink, GENESIS_HASH, genesisHead, hashEvent, headOf } from './chain.js';
import type { AuditEvent, AuditEventDraft } from './event.js';

function draft(i: number, overrides: Partial<AuditEventDraft> = {}): AuditEventDraft {
  return {
    id: `evt-${i}`,
    tenantId: 'tenant-a',
    occurredAt: `2025-03-01T10:00:0${i}.000Z`,
    actor: { type: 'member', id: 'm-1' },
    action: 'workflow.update',
    subject: { type: 'workflow', id: 'wf-1' },
    traceId: null,
    data: { step: i },
    ...overrides,
  };
}

function chainOf(n: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  let head = genesisHead('tenant-a');
  for (let i = 1; i <= n; i++) {
    const event = appendToChain(head, draft(i));
    events.push(event);
    head = headOf(event);
  }
  return events;
}

describe('appendToChain', () => {
  it('starts at seq 1 from the genesis hash and hashes the canonical JSON of the event', () => {
    const event = appendToChain(
      genesisHead('tenant-a'),
      draft(1, { before: { v: 1 }, after: { v: 2 } }),
    );
    expect(event.seq).toBe(1);
    expect(event.prevHash).toBe(GENESIS_HASH);
    const { hash, ...body } = event;
    expect(hash).toBe(createHash('sha256').update(canonicalize(body)).digest('hex'));
  });

  it('links each event to the one before with gapless seqs', () => {
    const events = chainOf(4);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.prevHash).toBe(events[i - 1]!.hash);
    }
    expect(new Set(events.map((e) => e.hash)).size).toBe(4);
  });

  it('leaves out undefined before/after so the event round-trips through JSON', () => {
    const event = appendToChain(genesisHead('tenant-a'), draft(1, { before: undefined }));
    expect('before' in event).toBe(false);
    const parsed = JSON.parse(JSON.stringify(event)) as AuditEvent;
    expect(hashEvent(parsed, parsed.prevHash)).toBe(event.hash);
  });

  it('refuses an event of another tenant', () => {
    expect(() => appendToChain(genesisHead('tenant-b'), draft(1))).toThrowError(
      expect.objectContaining({ code: 'AUDIT_INVALID_EVENT' }),
    );
  });

  it.each([
    ['an action that is not dotted', { action: 'create' }],
    ['a timestamp without a zone', { occurredAt: '2025-03-01T10:00:00' }],
    ['an unknown actor type', { actor: { type: 'robot', id: 'x' } }],
    ['a missing subject id', { subject: { type: 'workflow', id: '' } }],
    ['missing data', { data: undefined }],
    ['a misspelt field', { befor: {} }],
  ])('refuses a draft with %s', (_name, overrides) => {
    expect(() =>
      appendToChain(genesisHead('tenant-a'), draft(1, overrides as Partial<AuditEventDraft>)),
    ).toThrowError(expect.objectContaining({ code: 'AUDIT_INVALID_EVENT' }));
  });

  it('refuses data that JSON cannot hold exactly', () => {
    expect(() =>
      appendToChain(genesisHead('tenant-a'), draft(1, { data: { at: Number.NaN } })),
    ).toThrowError(expect.objectContaining({ code: 'AUDIT_NOT_JSON' }));
  });
});

describe('checkLink', () => {
  const [first, second, third] = chainOf(3) as [AuditEvent, AuditEvent, AuditEvent];

  it('accepts an untouched chain', () => {
    expect(checkLink(genesisHead('tenant-a'), first)).toBeNull();
    expect(checkLink(headOf(first), second)).toBeNull();
  });

  it('reports an edited field as a hash mismatch', () => {
    expect(checkLink(headOf(first), { ...second, data: { step: 99 } })?.code).toBe('HASH_MISMATCH');
  });

  it('reports an edit whose hash was recomputed at the next event', () => {
    const edited = { ...second, action: 'workflow.delete' };
    edited.hash = hashEvent(edited, edited.prevHash);
    expect(checkLink(headOf(first), edited)).toBeNull();
    expect(checkLink(headOf(edited), third)?.code).toBe('PREV_HASH_MISMATCH');
  });

  it('reports a skipped event and another tenant', () => {
    expect(checkLink(headOf(first), third)?.code).toBe('SEQ_NOT_CONTIGUOUS');
    expect(checkLink({ ...headOf(first), tenantId: 'tenant-b' }, second)?.code).toBe(
      'TENANT_MISMATCH',
    );
  });
});
