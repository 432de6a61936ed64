import { describe, expect, it } from 'vitest';
import { assertListedApprover, isListedApprover } from './approvers.js';

const ann = { memberId: 'm-ann', email: 'Ann@Example.com', role: 'reviewer' };
const bob = { memberId: 'm-bob', email: 'bob@example.com', role: 'admin' };

describe('approval step approvers', () => {
  it('lists members by id or by e-mail address in any case', () => {
    expect(isListedApprover({ members: ['m-ann'] }, ann)).toBe(true);
    expect(isListedApprover({ members: ['ann@example.COM'] }, ann)).toBe(true);
    expect(isListedApprover({ members: ['m-ann', 'carol@example.com'] }, bob)).toBe(false);
  });

  it('lets holders of the role decide besides the listed members', () => {
    expect(isListedApprover({ role: 'admin', members: ['m-ann'] }, bob)).toBe(true);
    expect(isListedApprover({ role: 'finance', members: ['m-ann'] }, bob)).toBe(false);
  });

  it('refuses an unlisted person with REVIEW_NOT_APPROVER, and no one without a list', () => {
    expect(() => assertListedApprover('t1', { members: ['m-ann'] }, bob)).toThrow(
      expect.objectContaining({ code: 'REVIEW_NOT_APPROVER' }),
    );
    expect(() => assertListedApprover('t1', { members: ['m-ann'] }, ann)).not.toThrow();
    expect(() => assertListedApprover('t1', { role: 'finance' }, bob)).not.toThrow();
    expect(() => assertListedApprover('t1', null, bob)).not.toThrow();
  });
});
